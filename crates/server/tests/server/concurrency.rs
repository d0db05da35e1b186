//! 20 clients push to one team at once while others pull: no client's pull ever has a gap
//! or a duplicate.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rapport_domain::Role;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

use crate::common::{TestApp, account_in, assert_applied, mutation};

const PUSHERS: usize = 20;
const BATCHES: usize = 8;
const PER_BATCH: usize = 3;

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn twenty_concurrent_pushers_never_make_a_gap_or_duplicate(pool: PgPool) {
    // A pool with room for every pusher and reader at once.
    let opts = (*pool.connect_options()).clone();
    let big = PgPoolOptions::new()
        .max_connections(40)
        .connect_with(opts)
        .await
        .unwrap();
    let app = Arc::new(TestApp::new(big).await);
    let team = app.team("Busy").await;
    let mut pushers = Vec::new();
    for _ in 0..PUSHERS {
        pushers.push(app.user(Role::Csm, &[team]).await.1);
    }
    let mut readers = Vec::new();
    for _ in 0..4 {
        readers.push(app.user(Role::SupportLead, &[team]).await.1);
    }
    // One account every pusher also edits, so rows are rewritten while readers page.
    let shared = crate::common::seed_account(&app, &pushers[0], team, "Shared").await;
    let writing = Arc::new(AtomicBool::new(true));

    let reader_tasks: Vec<_> = readers
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let app = app.clone();
            let writing = writing.clone();
            tokio::spawn(async move {
                let limit = [1, 5, 7, 50][i];
                let mut cursor = String::new();
                let mut seen: Vec<String> = Vec::new();
                let mut shared_version = 0;
                loop {
                    // Read the flag before the pull: a pull that starts after every writer
                    // finished and ends with no more pages has seen everything.
                    let done_writing = !writing.load(Ordering::SeqCst);
                    let page = app.pull(&token, &cursor, limit).await;
                    for c in page["changes"].as_array().unwrap() {
                        if c["entity_id"] == serde_json::json!(shared) {
                            let v = c["version"].as_i64().unwrap();
                            assert!(v > shared_version, "a record's versions arrive in order");
                            shared_version = v;
                        } else if c["entity"] == "account" {
                            seen.push(c["entity_id"].as_str().unwrap().to_owned());
                        }
                    }
                    cursor = page["cursor"].as_str().unwrap().to_owned();
                    if done_writing && page["has_more"] == false {
                        return (seen, shared_version);
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();

    let push_tasks: Vec<_> = pushers
        .into_iter()
        .map(|token| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut made = Vec::new();
                for b in 0..BATCHES {
                    let batch: Vec<_> = (0..PER_BATCH)
                        .map(|i| {
                            let id = Uuid::now_v7();
                            made.push(id.to_string());
                            mutation(
                                "account",
                                id,
                                "upsert",
                                account_in(team, &format!("C{b}-{i}")),
                            )
                        })
                        .collect();
                    let mut batch = batch;
                    batch.push(mutation(
                        "account",
                        shared,
                        "upsert",
                        serde_json::json!({"name": format!("Shared {b}")}),
                    ));
                    let r = app.push(&token, batch).await;
                    for res in r.body["results"].as_array().unwrap() {
                        assert_applied(res, "a concurrent push");
                    }
                }
                made
            })
        })
        .collect();

    let mut all = HashSet::new();
    for t in push_tasks {
        all.extend(t.await.unwrap());
    }
    writing.store(false, Ordering::SeqCst);
    assert_eq!(all.len(), PUSHERS * BATCHES * PER_BATCH);
    for (i, t) in reader_tasks.into_iter().enumerate() {
        let (seen, shared_version) = t.await.unwrap();
        assert_eq!(
            shared_version,
            i64::try_from(1 + PUSHERS * BATCHES).unwrap(),
            "reader {i} ends at the shared account's last version"
        );
        let unique: HashSet<String> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "reader {i} got a record twice");
        assert_eq!(unique, all, "reader {i} missed a record (a gap)");
    }
    let (seqs,): (Vec<i64>,) = sqlx::query_as("SELECT array_agg(seq ORDER BY seq) FROM records")
        .fetch_one(&app.state.pool)
        .await
        .unwrap();
    assert!(
        seqs.windows(2).all(|w| w[1] > w[0]),
        "record sequence numbers are unique"
    );
    let count = |sql: &'static str| app.count(sql);
    let last = count("SELECT last_seq FROM sync_clock").await;
    let users = count("SELECT count(*) FROM users").await;
    let members = count("SELECT count(*) FROM team_members").await;
    let writes = i64::try_from(1 + PUSHERS * BATCHES * (PER_BATCH + 1)).unwrap();
    assert_eq!(
        last,
        users + members + writes,
        "every number handed out belongs to exactly one committed change: no holes"
    );
}
