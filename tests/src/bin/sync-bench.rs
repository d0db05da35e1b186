//! The sync bench (docs/BENCHMARKS.md, "Sync: initial sync and edit delay between two
//! clients"):
//!
//! 1. Initial sync: the real server (in-process, TCP on 127.0.0.1, a fresh PostgreSQL
//!    database from `DATABASE_URL`) holds N accounts (100,000 by default, seeded straight into
//!    its tables); a fresh client pulls them all (pages of 1,000, each applied in one SQLite
//!    transaction with its cursor). Interleaved with it, round after round (A B A B ...), its
//!    physical baselines: the same rows by one prepared insert each, in one transaction,
//!    into (a) a plain table (same columns, no index, no trigger), (b) the cache's `accounts`
//!    with its indexes (its triggers dropped), (c) the cache's `accounts` as it is (with its
//!    FTS triggers). Also per round: the pull alone (HTTP, the server's query, JSON decode,
//!    no apply), and with `--ordinary` the first sync with the bulk path off (every record
//!    through the ordinary apply). Reported: each figure per round, medians, the ratios to
//!    the plain insert, the machine and the load average.
//! 2. Edit delay A→B over 100 edits: client A edits an account's name and pushes; client B,
//!    woken by the server's event stream, pulls; the delay ends when B's cache holds the new
//!    name. Reported: p50 and p95.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p rapport-tests --bin sync-bench \
//!   [-- --records N --rounds N --edits N --ordinary] [--only bulk|ordinary|pull]
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rapport_client::Store;
use rapport_client::sync::transport::{HttpRequest, Method};
use rapport_client::sync::{HttpTransport, SyncClient, Transport};
use rapport_domain::sync::PullResponse;
use rapport_domain::{AccountInput, Plan, Role};
use rapport_tests::syncenv::{Client, Server, now};
use sqlx::{Connection, SqliteConnection};
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

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or_else(
            || "unknown memory".into(),
            |kb| format!("{:.1} GiB", kb as f64 / 1048576.0),
        );
    format!("{cpu}, {cores} cores, {mem}")
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// One account row as the cache stores it (what the baselines insert).
struct Row {
    id: String,
    name: String,
    name_key: String,
    plan: &'static str,
    month: i64,
    slack: String,
    domains: String,
    tags: String,
}

/// The rows the server holds (its ids, in its order: what the sync inserts), built before
/// any timing.
async fn rows(server: &Server) -> Result<Vec<Row>> {
    let records: Vec<(Uuid, sqlx::types::Json<serde_json::Value>)> =
        sqlx::query_as("SELECT id, fields FROM records WHERE entity = 'account' ORDER BY seq")
            .fetch_all(&server.pool)
            .await?;
    Ok(records
        .into_iter()
        .map(|(id, f)| {
            let s = |k: &str| {
                f.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let name = s("name");
            Row {
                id: id.to_string(),
                name_key: name.to_lowercase(),
                name,
                plan: if s("plan") == "standard" {
                    "standard"
                } else {
                    "professional_support"
                },
                month: f
                    .get("fiscal_year_start_month")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(1),
                slack: s("slack_channel"),
                domains: f["support_email_domains"].to_string(),
                tags: f["tags"].to_string(),
            }
        })
        .collect())
}

/// A plain table with the accounts' columns: no index, no constraint, no trigger.
const PLAIN_TABLE: &str = "CREATE TABLE accounts (seq INTEGER PRIMARY KEY, id TEXT, name TEXT, \
    name_key TEXT, plan TEXT, time_zone TEXT, fiscal_year_start_month INTEGER, \
    owner_csm_id TEXT, account_rep_id TEXT, slack_channel TEXT, support_email_domains TEXT, \
    stage TEXT, tags TEXT, created_at TEXT, updated_at TEXT, contact_count INTEGER NOT NULL DEFAULT 0, \
    note_count INTEGER NOT NULL DEFAULT 0) STRICT";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Baseline {
    Plain,
    Indexes,
    Fts,
}

/// Inserts `rows` by one prepared statement each in one transaction into a fresh database
/// (WAL, synchronous NORMAL, as the cache). Returns rows/s.
async fn baseline(kind: Baseline, rows: &[Row]) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join(rapport_client::CACHE_FILE);
    if kind == Baseline::Plain {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let mut c = SqliteConnection::connect_with(&opts).await?;
        sqlx::query(PLAIN_TABLE).execute(&mut c).await?;
        c.close().await?;
    } else {
        Store::open(dir.path()).await?.close().await;
    }
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
    let mut c = SqliteConnection::connect_with(&opts).await?;
    if kind == Baseline::Indexes {
        for t in ["accounts_ai", "accounts_au", "accounts_ad"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {t}")))
                .execute(&mut c)
                .await?;
        }
    }
    let t = Instant::now();
    let mut tx = c.begin().await?;
    for r in rows {
        sqlx::query(
            "INSERT INTO accounts (id, name, name_key, plan, time_zone, fiscal_year_start_month, \
             owner_csm_id, account_rep_id, slack_channel, support_email_domains, stage, tags, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL, ?7, ?8, ?9, ?10, ?11, ?11)",
        )
        .bind(&r.id)
        .bind(&r.name)
        .bind(&r.name_key)
        .bind(r.plan)
        .bind("Europe/Berlin")
        .bind(r.month)
        .bind(&r.slack)
        .bind(&r.domains)
        .bind("active")
        .bind(&r.tags)
        .bind("2026-11-26T00:00:00.000000Z")
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len() as f64 / t.elapsed().as_secs_f64())
}

/// A fresh cache's first sync of everything. Returns (records/s, the cache's folder).
async fn first_sync(
    server: &Server,
    token: &str,
    bulk: bool,
    records: usize,
) -> Result<(f64, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path()).await?;
    store
        .profile_create(rapport_tests::syncenv::local_profile("Bench"), now())
        .await?;
    let http = Arc::new(HttpTransport::new(&server.url)?);
    let me = rapport_client::sync::me(&*http, token).await?;
    store.sync_signed_in(&server.url, &me).await?;
    let mut engine = SyncClient::new(store.clone(), http, token.to_owned());
    engine.page_limit = 1000;
    engine.bulk_first_sync = bulk;
    // Pages applied in groups of 10,000 records per transaction (not the engine's default).
    engine.first_sync_batch = 10_000;
    let t = Instant::now();
    let received = engine.pull(now(), &|_, _| {}).await?;
    let s = t.elapsed().as_secs_f64();
    let in_cache = store.accounts_list(&Default::default()).await?.len();
    anyhow::ensure!(
        in_cache == records,
        "all {records} accounts arrived ({in_cache})"
    );
    store.close().await;
    Ok((received as f64 / s, dir))
}

/// The pull alone: every page over HTTP and decoded, nothing applied. Returns (records/s,
/// the seconds spent decoding JSON).
async fn pull_only(server: &Server, token: &str) -> Result<(f64, f64)> {
    let http = HttpTransport::new(&server.url)?;
    let (mut cursor, mut n, mut decode) = (String::new(), 0usize, 0.0);
    let t = Instant::now();
    loop {
        let resp = http
            .send(HttpRequest {
                method: Method::Get,
                path: format!("/v1/sync/pull?cursor={cursor}&limit=1000"),
                token: Some(token.to_owned()),
                body: None,
            })
            .await?;
        anyhow::ensure!(resp.status == 200, "pull answered {}", resp.status);
        let d = Instant::now();
        let page: PullResponse = serde_json::from_slice(&resp.body)?;
        decode += d.elapsed().as_secs_f64();
        n += page.changes.len();
        cursor = page.cursor;
        if !page.has_more {
            break;
        }
    }
    Ok((n as f64 / t.elapsed().as_secs_f64(), decode))
}

/// What the search index of a synced cache finds: every fourth account is `tier1`.
async fn check_search(dir: &tempfile::TempDir, records: usize) -> Result<()> {
    let path = dir.path().join(rapport_client::CACHE_FILE);
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
    let mut c = SqliteConnection::connect_with(&opts).await?;
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM accounts_fts WHERE accounts_fts MATCH 'tier1'")
            .fetch_one(&mut c)
            .await?;
    anyhow::ensure!(
        usize::try_from(n)? == (0..records).filter(|g| g % 4 == 1).count(),
        "the search index finds every tier1 account ({n})"
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let records = arg("--records", 100_000)?;
    let rounds = arg("--rounds", 3)?.max(1);
    let edits = arg("--edits", 100)?;
    let ordinary = flag("--ordinary");
    println!("machine: {}", machine());
    println!("load average at start: {}", load());
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
    sqlx::query("ANALYZE records").execute(&server.pool).await?;
    println!(
        "seeded {records} accounts on the server in {:.1} s",
        seed_start.elapsed().as_secs_f64()
    );
    let token = server.token(&email).await?;
    // `--only bulk|ordinary|pull`: that one pass, nothing else (to run under a profiler).
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--only") {
        let what = args.get(i + 1).map(String::as_str).unwrap_or("");
        let t = Instant::now();
        match what {
            "bulk" | "ordinary" => {
                let (rate, _dir) = first_sync(&server, &token, what == "bulk", records).await?;
                println!("first sync ({what}): {rate:.0} records/s");
            }
            "pull" => {
                let (rate, decode) = pull_only(&server, &token).await?;
                println!("pull alone: {rate:.0} records/s, JSON decode {decode:.2} s");
            }
            _ => anyhow::bail!("--only bulk, ordinary or pull"),
        }
        println!(
            "{what}: {:.2} s, load {}",
            t.elapsed().as_secs_f64(),
            load()
        );
        server.drop_db().await?;
        return Ok(());
    }
    let rows = rows(&server).await?;
    anyhow::ensure!(
        rows.len() == records,
        "the baselines insert the server's rows"
    );

    // 1. Initial sync and its baselines, interleaved.
    let (mut sync, mut old, mut pulled, mut decode) = (vec![], vec![], vec![], vec![]);
    let (mut plain, mut indexed, mut fts) = (vec![], vec![], vec![]);
    for round in 1..=rounds {
        let (rate, dir) = first_sync(&server, &token, true, records).await?;
        check_search(&dir, records).await?;
        drop(dir);
        sync.push(rate);
        plain.push(baseline(Baseline::Plain, &rows).await?);
        indexed.push(baseline(Baseline::Indexes, &rows).await?);
        fts.push(baseline(Baseline::Fts, &rows).await?);
        let (p, d) = pull_only(&server, &token).await?;
        pulled.push(p);
        decode.push(d);
        let mut line = format!(
            "round {round}: first sync {:.0} records/s | plain insert {:.0} rows/s | with the cache's indexes {:.0} | with its FTS triggers {:.0} | pull alone (HTTP + server + JSON) {:.0} records/s, JSON decode {:.2} s",
            sync[round - 1],
            plain[round - 1],
            indexed[round - 1],
            fts[round - 1],
            p,
            d
        );
        if ordinary {
            let (rate, dir) = first_sync(&server, &token, false, records).await?;
            check_search(&dir, records).await?;
            old.push(rate);
            line.push_str(&format!(
                " | ordinary apply (bulk path off) {rate:.0} records/s"
            ));
        }
        println!("{line} | load {}", load());
    }
    let base = median(&plain);
    let ratio = |v: &[f64]| 100.0 * median(v) / base;
    println!(
        "initial sync of {records} records, medians of {rounds} interleaved rounds (pages of 1,000):"
    );
    println!(
        "  first sync (bulk path):              {:>8.0} records/s  {:>5.1} % of the plain insert (goal >= 30 %)",
        median(&sync),
        ratio(&sync)
    );
    if ordinary {
        println!(
            "  first sync, ordinary apply:          {:>8.0} records/s  {:>5.1} %",
            median(&old),
            ratio(&old)
        );
    }
    println!("  plain prepared insert, one tx:       {base:>8.0} rows/s     100.0 %");
    println!(
        "  same, with the cache's indexes:      {:>8.0} rows/s     {:>5.1} %",
        median(&indexed),
        ratio(&indexed)
    );
    println!(
        "  same, with its FTS triggers:         {:>8.0} rows/s     {:>5.1} %",
        median(&fts),
        ratio(&fts)
    );
    println!(
        "  the pull alone (HTTP+server+JSON):   {:>8.0} records/s  {:>5.1} % (JSON decode {:.2} s of it)",
        median(&pulled),
        ratio(&pulled),
        median(&decode)
    );
    println!("load average after the initial sync rounds: {}", load());

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
    println!("load average at the end: {}", load());
    server.drop_db().await?;
    Ok(())
}
