//! A client SIGKILLed while it applies pull pages: on restart the cache is consistent (each
//! page and its cursor were committed together, or not at all) and the pull resumes from
//! the last committed cursor instead of starting over.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use rapport_client::Store;
use rapport_client::sync::{HttpTransport, SyncClient};
use rapport_domain::{AccountInput, LifecycleStage, Plan, Role};
use rapport_tests::syncenv::{Client, Server, local_profile, now};
use std::sync::Arc;

const ACCOUNTS: u32 = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_pull_leaves_a_consistent_cache_that_resumes() {
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let writer = Client::new(&server, &server.user(Role::Csm, &[team]).await.unwrap())
        .await
        .unwrap();
    for i in 0..ACCOUNTS {
        writer
            .store
            .account_create(
                AccountInput {
                    name: format!("Account {i:05}"),
                    plan: Plan::Standard,
                    time_zone: "UTC".into(),
                    fiscal_year_start_month: 1,
                    owner_csm_id: None,
                    account_rep_id: None,
                    slack_channel: None,
                    support_email_domains: vec![],
                    stage: LifecycleStage::Active,
                    tags: vec![format!("t{}", i % 7)],
                },
                now(),
            )
            .await
            .unwrap();
    }
    writer.sync().await.unwrap();

    let reader_email = server.user(Role::Csm, &[team]).await.unwrap();
    let token = server.token(&reader_email).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).await.unwrap();
        store
            .profile_create(local_profile("Reader"), now())
            .await
            .unwrap();
        let me = rapport_client::sync::me(&HttpTransport::new(&server.url).unwrap(), &token)
            .await
            .unwrap();
        store.sync_signed_in(&server.url, &me).await.unwrap();
        store.close().await;
    }

    let bin = env!("CARGO_BIN_EXE_sync-kill-child");
    let mut cursors = Vec::new();
    for (round, delay_ms) in [0u64, 7, 23].into_iter().enumerate() {
        let mut child = Command::new(bin)
            .args([dir.path().to_str().unwrap(), &server.url, "100"])
            .env("RAPPORT_TEST_TOKEN", &token)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Let a page or two land, then kill it in the middle of the next one.
        let first = lines.next().unwrap().unwrap();
        assert!(first.starts_with("received"), "round {round}: {first}");
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let store = Store::open(dir.path()).await.unwrap();
        let info = store.sync_info().await.unwrap();
        let cursor = store.sync_cursor().await.unwrap();
        assert!(
            !cursor.is_empty(),
            "round {round}: a committed page left its cursor"
        );
        let snap = store.sync_snapshot().await.unwrap();
        let versions = count(
            dir.path(),
            "SELECT count(*) FROM sync_versions WHERE entity = 'account'",
        )
        .await;
        assert_eq!(
            snap.len() as i64,
            versions,
            "round {round}: every account row came with its page's bookkeeping, and only those"
        );
        assert_eq!(
            count(dir.path(), "SELECT count(*) FROM accounts_fts").await,
            versions,
            "round {round}: the search index matches"
        );
        assert!(
            info.received >= snap.len() as u64,
            "round {round}: progress counts what was applied"
        );
        store.close().await;
        cursors.push((cursor, snap.len()));
    }
    assert!(
        cursors.windows(2).all(|w| w[0].1 <= w[1].1),
        "each restart resumed, never went back: {cursors:?}"
    );

    // Restart for good: the pull resumes from the committed cursor and completes.
    let store = Store::open(dir.path()).await.unwrap();
    let before = store.sync_snapshot().await.unwrap().len() as u64;
    let engine = SyncClient::new(
        store.clone(),
        Arc::new(HttpTransport::new(&server.url).unwrap()),
        token,
    );
    let received = engine.pull(now(), &|_, _| {}).await.unwrap();
    let after = store.sync_snapshot().await.unwrap();
    assert_eq!(
        after.len() as u64,
        u64::from(ACCOUNTS),
        "every account arrived"
    );
    assert!(
        received < u64::from(ACCOUNTS) + 10 && received + before >= u64::from(ACCOUNTS),
        "resumed from the cursor ({before} already there, {received} pulled now), not from the start"
    );
    let integrity = count_text(dir.path(), "PRAGMA integrity_check").await;
    assert_eq!(integrity, "ok");
    assert_eq!(server.snapshot(team).await.unwrap().len(), after.len());
    store.close().await;
    server.drop_db().await.unwrap();
}

async fn count(dir: &std::path::Path, sql: &str) -> i64 {
    let url = format!(
        "sqlite://{}?mode=ro",
        dir.join(rapport_client::CACHE_FILE).display()
    );
    let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut c)
        .await
        .unwrap()
}

async fn count_text(dir: &std::path::Path, sql: &str) -> String {
    let url = format!(
        "sqlite://{}?mode=ro",
        dir.join(rapport_client::CACHE_FILE).display()
    );
    let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut c)
        .await
        .unwrap()
}
