//! A client process SIGKILLed in the middle of a sync, at varied points, again and again.
//!
//! - **Mid-pull** ([`PULL_KILLS`] kills): on restart the cache is consistent (each page and
//!   its cursor were committed together, or not at all) and the pull resumes from the last
//!   committed cursor instead of starting over.
//! - **Mid-push** ([`PUSH_KILLS`] kills, while a request of one of the next batches is on the
//!   wire or its answer is being recorded): after each restart the cache is consistent (every
//!   local row is either still in the outbox or known as pushed), no acknowledged write is
//!   missing on the server, and the server applied each mutation at most once (every
//!   record's version equals the number of its mutations the server recorded as applied).
//!   A last, undisturbed sync applies each mutation exactly once and the cache converges
//!   with the server.
//!
//! The kill points come from a seeded RNG (`SYNC_KILL_SEED`, printed on failure).

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng, rngs::StdRng};
use rapport_client::Store;
use rapport_client::sync::{HttpTransport, SyncClient};
use rapport_domain::{AccountInput, Plan, Role};
use rapport_tests::syncenv::{Client, Server, local_profile, now};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};
use uuid::Uuid;

const ACCOUNTS: u32 = 4500;
const PULL_PAGE: u32 = 50;
const PULL_KILLS: usize = 20;

/// Accounts created in the pushing cache, each then renamed once: twice as many mutations.
const PUSH_ACCOUNTS: usize = 750;
const PUSH_BATCH: usize = 20;
const PUSH_KILLS: usize = 20;

// The acceptance: at least 20 kills mid-push and mid-pull.
const _: () = assert!(PULL_KILLS >= 20 && PUSH_KILLS >= 20);

fn seed() -> u64 {
    std::env::var("SYNC_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0012)
}

fn input(name: String, i: usize) -> AccountInput {
    AccountInput {
        tags: vec![format!("t{}", i % 7)],
        ..AccountInput::active(name, Plan::Standard, "UTC")
    }
}

/// A cache in `dir` signed in with `token` (a first start, then sign-in), closed again.
async fn signed_in_cache(server: &Server, dir: &std::path::Path, token: &str) -> Store {
    let store = Store::open(dir).await.unwrap();
    store
        .profile_create(local_profile("Killed"), now())
        .await
        .unwrap();
    let me = rapport_client::sync::me(&HttpTransport::new(&server.url).unwrap(), token)
        .await
        .unwrap();
    store.sync_signed_in(&server.url, &me).await.unwrap();
    store
}

/// Starts the child on `dir` in `mode` (`pull`/`push`) with `n` (page limit/batch size).
fn child(
    dir: &std::path::Path,
    server: &Server,
    token: &str,
    mode: &str,
    n: usize,
) -> (tokio::process::Child, Lines<BufReader<ChildStdout>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sync-kill-child"))
        .args([dir.to_str().unwrap(), &server.url, mode, &n.to_string()])
        .env("RAPPORT_TEST_TOKEN", token)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

/// Reads the child's lines until one starts with `want`; panics on `done` or its end.
async fn wait_for(lines: &mut Lines<BufReader<ChildStdout>>, want: &str, why: &str) {
    loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{why}: the child said nothing for a minute"))
            .unwrap();
        match line {
            Some(l) if l.starts_with(want) => return,
            Some(l) if l == "done" => panic!("{why}: the child finished before the kill point"),
            Some(_) => {}
            None => panic!("{why}: the child ended before the kill point"),
        }
    }
}

async fn sigkill(mut child: tokio::process::Child) {
    child.start_kill().unwrap(); // SIGKILL
    let status = child.wait().await.unwrap();
    assert!(!status.success(), "the child was killed, not finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_pull_leaves_a_consistent_cache_that_resumes() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let writer = Client::new(&server, &server.user(Role::Csm, &[team]).await.unwrap())
        .await
        .unwrap();
    for i in 0..ACCOUNTS as usize {
        writer
            .store
            .account_create(input(format!("Account {i:05}"), i), now())
            .await
            .unwrap();
    }
    writer.sync().await.unwrap();

    let reader_email = server.user(Role::Csm, &[team]).await.unwrap();
    let token = server.token(&reader_email).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    signed_in_cache(&server, dir.path(), &token)
        .await
        .close()
        .await;

    let mut cursors = Vec::new();
    for round in 0..PULL_KILLS {
        let why = format!("pull kill {round} (SYNC_KILL_SEED={seed})");
        let (child, mut lines) = child(dir.path(), &server, &token, "pull", PULL_PAGE as usize);
        // Let a page land, then kill it somewhere in one of the next.
        wait_for(&mut lines, "received", &why).await;
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..25))).await;
        sigkill(child).await;

        let store = Store::open(dir.path()).await.unwrap();
        let info = store.sync_info().await.unwrap();
        let cursor = store.sync_cursor().await.unwrap();
        assert!(
            !cursor.is_empty(),
            "{why}: a committed page left its cursor"
        );
        let snap = store.sync_snapshot().await.unwrap();
        assert!(
            snap.len() < ACCOUNTS as usize,
            "{why}: the kill came before the pull's end"
        );
        let versions = count(
            dir.path(),
            "SELECT count(*) FROM sync_versions WHERE entity = 'account'",
        )
        .await;
        assert_eq!(
            snap.len() as i64,
            versions,
            "{why}: every account row came with its page's bookkeeping, and only those"
        );
        assert_eq!(
            count(dir.path(), "SELECT count(*) FROM accounts_fts").await,
            versions,
            "{why}: the search index matches"
        );
        assert!(
            info.received >= snap.len() as u64,
            "{why}: progress counts what was applied"
        );
        assert_eq!(count_text(dir.path(), "PRAGMA integrity_check").await, "ok");
        store.close().await;
        cursors.push((cursor, snap.len()));
    }
    eprintln!(
        "pull kills: accounts after each restart {:?}",
        cursors.iter().map(|c| c.1).collect::<Vec<_>>()
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_push_loses_nothing_and_applies_each_write_once() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x9054);
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let email = server.user(Role::Csm, &[team]).await.unwrap();
    let token = server.token(&email).await.unwrap();
    let dir = tempfile::tempdir().unwrap();

    // A large outbox: creates, then a rename of each (so a mutation applied twice shows as
    // a version too many, and a rename applied without its create as a refusal).
    let store = signed_in_cache(&server, dir.path(), &token).await;
    let mut ids = Vec::new();
    for i in 0..PUSH_ACCOUNTS {
        let a = store
            .account_create(input(format!("Pushed {i:04}"), i), now())
            .await
            .unwrap();
        ids.push(a.id);
    }
    for (i, id) in ids.iter().enumerate() {
        store
            .account_update(*id, input(format!("Renamed {i:04}"), i), now())
            .await
            .unwrap();
    }
    let outbox: Vec<Uuid> = store.outbox().await.unwrap().iter().map(|m| m.id).collect();
    assert_eq!(outbox.len(), 2 * PUSH_ACCOUNTS);
    store.close().await;

    let mut remaining = Vec::new();
    for round in 0..PUSH_KILLS {
        let why = format!("push kill {round} (SYNC_KILL_SEED={seed})");
        let (child, mut lines) = child(dir.path(), &server, &token, "push", PUSH_BATCH);
        // One of the next batches: while the server is applying it, or while its answer is
        // being recorded.
        let batch = rng.random_range(1..=3);
        if rng.random_bool(0.5) {
            wait_for(&mut lines, &format!("request {batch}"), &why).await;
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..30))).await;
        } else {
            wait_for(&mut lines, &format!("response {batch}"), &why).await;
            if rng.random_bool(0.5) {
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..3))).await;
            }
        }
        sigkill(child).await;

        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(count_text(dir.path(), "PRAGMA integrity_check").await, "ok");
        let pending: std::collections::HashSet<Uuid> =
            store.outbox().await.unwrap().iter().map(|m| m.id).collect();
        assert!(
            !pending.is_empty(),
            "{why}: the kill came before the push's end"
        );
        for id in &outbox {
            if !pending.contains(id) {
                assert!(
                    server.applied(*id).await.unwrap(),
                    "{why}: mutation {id} left the outbox, so the server must have applied it"
                );
            }
        }
        assert_eq!(
            count(dir.path(), "SELECT count(*) FROM accounts").await,
            PUSH_ACCOUNTS as i64,
            "{why}: no local write is lost"
        );
        assert_eq!(
            count(
                dir.path(),
                "SELECT count(*) FROM accounts a WHERE NOT EXISTS \
                 (SELECT 1 FROM outbox o WHERE o.entity = 'account' AND o.entity_id = a.id) \
                 AND NOT EXISTS \
                 (SELECT 1 FROM sync_versions v WHERE v.entity = 'account' AND v.id = a.id)"
            )
            .await,
            0,
            "{why}: every row is either waiting in the outbox or known as pushed"
        );
        assert_eq!(
            store.attention_list().await.unwrap().len(),
            0,
            "{why}: nothing was refused"
        );
        assert_eq!(
            versions_off(&server, team).await,
            0,
            "{why}: every record's version counts its applied mutations: none applied twice"
        );
        store.close().await;
        remaining.push(pending.len());
    }
    eprintln!("push kills: outbox after each restart {remaining:?}");
    assert!(
        remaining.windows(2).all(|w| w[0] >= w[1]),
        "the outbox only shrank: {remaining:?}"
    );

    // Restart for good: the push completes, then the pull brings the echoes.
    let store = Store::open(dir.path()).await.unwrap();
    let mut engine = SyncClient::new(
        store.clone(),
        Arc::new(HttpTransport::new(&server.url).unwrap()),
        token,
    );
    engine.push_batch = PUSH_BATCH;
    let report = engine.sync(now(), &|_, _| {}).await.unwrap();
    assert_eq!(report.rejected, 0, "nothing was refused");
    assert_eq!(
        store.pending_changes().await.unwrap(),
        0,
        "the outbox drained"
    );
    for id in &outbox {
        assert!(
            server.applied(*id).await.unwrap(),
            "mutation {id} applied in the end"
        );
    }
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM applied_mutations WHERE entity_id = ANY($1)")
            .bind(&ids)
            .fetch_one(&server.pool)
            .await
            .unwrap();
    assert_eq!(applied, outbox.len() as i64, "each mutation recorded once");
    let twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM records WHERE team_id = $1 AND entity = 'account' AND version <> 2",
    )
    .bind(team)
    .fetch_one(&server.pool)
    .await
    .unwrap();
    assert_eq!(
        twice, 0,
        "each account was created once and renamed once: version 2, no more, no less"
    );
    let want = server.snapshot(team).await.unwrap();
    let got = store.sync_snapshot().await.unwrap();
    assert_eq!(want.len(), PUSH_ACCOUNTS, "every account is on the server");
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the cache holds the server's records"
    );
    for (k, fields) in &got {
        for (f, v) in fields {
            assert_eq!(Some(v), want[k].get(f), "{k:?}.{f} equals the server's");
        }
    }
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM accounts WHERE name LIKE 'Renamed %'"
        )
        .await,
        PUSH_ACCOUNTS as i64,
        "the cache shows every rename"
    );
    store.close().await;
    server.drop_db().await.unwrap();
}

/// Records of `team` whose version differs from the number of mutations of them the server
/// recorded as applied (every mutation here changes its record, so they must match).
async fn versions_off(server: &Server, team: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM records r WHERE r.team_id = $1 AND r.version <> \
         (SELECT count(*) FROM applied_mutations a WHERE a.entity = r.entity AND a.entity_id = r.id)",
    )
    .bind(team)
    .fetch_one(&server.pool)
    .await
    .unwrap()
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
