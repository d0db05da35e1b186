//! The sync bench (docs/BENCHMARKS.md):
//!
//! 1. Initial sync: the real server (in-process, TCP on 127.0.0.1, a fresh PostgreSQL
//!    database from `DATABASE_URL`) holds N accounts (100,000 by default, seeded straight into
//!    its tables); a fresh client pulls them all (pages of 1,000, each page applied in one
//!    SQLite transaction with its cursor). Reported: records/s, and the ratio to inserting the
//!    same rows straight into a fresh cache in one transaction in the same run.
//! 2. Edit delay A→B over 100 edits: client A edits an account's name and pushes; client B,
//!    woken by the server's event stream, pulls; the delay ends when B's cache holds the new
//!    name. Reported: p50 and p95.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p rapport-tests --bin sync-bench [-- --records N --edits N]
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rapport_client::Store;
use rapport_client::sync::{HttpTransport, SyncClient};
use rapport_domain::{AccountInput, Plan, Role};
use rapport_tests::syncenv::{Client, Server, now};
use sqlx::Connection;
use uuid::Uuid;

fn arg(name: &str, default: usize) -> Result<usize> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => Ok(args
            .get(i + 1)
            .context("a number after the flag")?
            .parse()?),
        None => Ok(default),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!("{cpu}, {cores} cores")
}

#[tokio::main]
async fn main() -> Result<()> {
    let records = arg("--records", 100_000)?;
    let edits = arg("--edits", 100)?;
    println!("machine: {}", machine());
    let server = Server::start().await?;
    let team = server.team("Bench").await?;
    let email = server.user(Role::Csm, &[team]).await?;

    // Seed the server: N accounts in the team, numbered by the server's sequence.
    let seed_start = Instant::now();
    let mut tx = server.pool.begin().await?;
    let n = i64::try_from(records)?;
    let (last,): (i64,) =
        sqlx::query_as("UPDATE sync_clock SET last_seq = last_seq + $1 RETURNING last_seq")
            .bind(n)
            .fetch_one(&mut *tx)
            .await?;
    let (user,): (Uuid,) = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO records (entity, id, team_id, account_id, fields, deleted, version, seq, created_at, updated_at, updated_by)
         SELECT 'account', gen_random_uuid(), $1, NULL,
                jsonb_build_object('team_id', $1::text, 'name', 'Account ' || lpad(g::text, 6, '0'),
                  'plan', CASE WHEN g % 3 = 0 THEN 'professional_support' ELSE 'standard' END,
                  'time_zone', 'Europe/Berlin', 'fiscal_year_start_month', 1 + g % 12,
                  'owner_csm_id', NULL, 'account_rep_id', NULL, 'slack_channel', '#acct-' || g,
                  'support_email_domains', jsonb_build_array('c' || g || '.example.com'),
                  'stage', 'active', 'tags', jsonb_build_array('tier' || (g % 4))),
                false, 1, $2 + g, now(), now(), $3
         FROM generate_series(0, $4 - 1) g",
    )
    .bind(team)
    .bind(last - n + 1)
    .bind(user)
    .bind(n)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    println!(
        "seeded {records} accounts on the server in {:.1} s",
        seed_start.elapsed().as_secs_f64()
    );

    // 1. Initial sync into a fresh cache.
    let token = server.token(&email).await?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path()).await?;
    store
        .profile_create(rapport_tests::syncenv::local_profile("Bench"), now())
        .await?;
    let http = Arc::new(HttpTransport::new(&server.url)?);
    let me = rapport_client::sync::me(&*http, &token).await?;
    store.sync_signed_in(&server.url, &me).await?;
    let mut engine = SyncClient::new(store.clone(), http, token);
    engine.page_limit = 1000;
    let t = Instant::now();
    let received = engine.pull(now(), &|_, _| {}).await?;
    let sync_s = t.elapsed().as_secs_f64();
    let in_cache = store.accounts_list(&Default::default()).await?.len();
    anyhow::ensure!(
        in_cache == records,
        "all {records} accounts arrived ({in_cache})"
    );

    // The same rows straight into a fresh cache (same schema, triggers and indexes).
    let rows = store.sync_snapshot().await?;
    let dir2 = tempfile::tempdir()?;
    Store::open(dir2.path()).await?.close().await;
    let url = format!(
        "sqlite://{}",
        dir2.path().join(rapport_client::CACHE_FILE).display()
    );
    let mut c = sqlx::SqliteConnection::connect(&url).await?;
    let t = Instant::now();
    let mut tx = c.begin().await?;
    for ((_, id), f) in &rows {
        let s = |k: &str| f.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let name = s("name").unwrap_or_default();
        sqlx::query(
            "INSERT INTO accounts (id, name, name_key, plan, time_zone, fiscal_year_start_month, \
             owner_csm_id, account_rep_id, slack_channel, support_email_domains, stage, tags, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL, ?7, ?8, ?9, ?10, ?11, ?11)",
        )
        .bind(id.to_string())
        .bind(&name)
        .bind(name.to_lowercase())
        .bind(s("plan"))
        .bind(s("time_zone"))
        .bind(f.get("fiscal_year_start_month").and_then(serde_json::Value::as_i64))
        .bind(s("slack_channel"))
        .bind(f["support_email_domains"].to_string())
        .bind(s("stage"))
        .bind(f["tags"].to_string())
        .bind("2026-11-26T00:00:00.000000Z")
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let direct_s = t.elapsed().as_secs_f64();
    println!(
        "initial sync: {received} records in {sync_s:.2} s = {:.0} records/s; straight SQLite insert of the same rows: {direct_s:.2} s = {:.0} rows/s; sync/insert time ratio {:.2}",
        received as f64 / sync_s,
        records as f64 / direct_s,
        sync_s / direct_s
    );

    // 2. Edit delay A -> B.
    // In a team of their own, so the two clients do not first pull the N accounts.
    let small = server.team("Edits").await?;
    let email_a = server.user(Role::Csm, &[small]).await?;
    let a = Client::with_token(&server, &server.token(&email_a).await?).await?;
    let email_b = server.user(Role::AccountRep, &[small]).await?;
    let b = Client::with_token(&server, &server.token(&email_b).await?).await?;
    let account = a
        .store
        .account_create(
            AccountInput::active("Edit target", Plan::ProfessionalSupport, "UTC"),
            now(),
        )
        .await?;
    a.engine.push(now()).await?;
    a.engine.pull(now(), &|_, _| {}).await?;
    b.engine.pull(now(), &|_, _| {}).await?;

    let waiting: Arc<Mutex<Option<(String, Instant)>>> = Arc::new(Mutex::new(None));
    let (tx_done, mut rx_done) = tokio::sync::mpsc::unbounded_channel::<Duration>();
    let b_engine = b.engine.clone();
    let b_store = b.store.clone();
    let w = waiting.clone();
    let events_http = HttpTransport::new(&server.url)?;
    let b_token = server.token(&email_b).await?;
    tokio::spawn(async move {
        let Ok(mut events) = events_http.events(&b_token).await else {
            return;
        };
        while let Some(name) = events.next().await {
            if name != "changes" {
                continue;
            }
            if b_engine.pull(now(), &|_, _| {}).await.is_err() {
                continue;
            }
            let want = w.lock().ok().and_then(|g| g.clone());
            if let Some((name, started)) = want
                && let Ok(d) = b_store.account_get(account.id).await
                && d.account.name == name
            {
                if let Ok(mut g) = w.lock() {
                    *g = None;
                }
                let _ = tx_done.send(started.elapsed());
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut delays = Vec::new();
    for i in 0..edits {
        let name = format!("Edit target {i}");
        let started = Instant::now();
        if let Ok(mut g) = waiting.lock() {
            *g = Some((name.clone(), started));
        }
        let input = AccountInput::active(name.clone(), Plan::ProfessionalSupport, "UTC");
        a.store.account_update(account.id, input, now()).await?;
        a.engine.push(now()).await?;
        let d = tokio::time::timeout(Duration::from_secs(10), rx_done.recv())
            .await
            .context("B did not see the edit within 10 s")?
            .context("B's listener ended")?;
        delays.push(d);
    }
    delays.sort();
    println!(
        "edit delay A->B over {edits} edits (local write + push, server event, pull, applied): p50 {:.1} ms, p95 {:.1} ms",
        percentile(&delays, 0.5).as_secs_f64() * 1000.0,
        percentile(&delays, 0.95).as_secs_f64() * 1000.0
    );
    server.drop_db().await?;
    Ok(())
}
