//! Bench of the on-call watcher: how long a tick takes with 10,000 open requests, how many
//! pages per second it sends, and the delay from intake to page.
//!
//! Creates a fresh database on the PostgreSQL named by `--database-url`/`DATABASE_URL`
//! (dropped at the end), opens `--requests` requests through intake (`--p1` of them P1, the
//! rest P3, which page in the app only), and runs the watcher against a webhook receiver on
//! loopback. Time is the bench's own `now`, as in the tests; the figures are wall time.
//!
//! `cargo run --release -p rapport-server --bin rapport-oncall-bench`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{TimeDelta, TimeZone, Utc};
use clap::Parser;
use rapport_domain::Role;
use rapport_domain::request::{Channel, Severity};
use rapport_server::bench_common::{Database, machine, seed_team, with_fresh_database};
use rapport_server::intake::{self, Incoming};
use rapport_server::oncall::OnCallSettings;
use rapport_server::oncall::watcher::Watcher;
use rapport_server::{AppState, MIGRATOR, Settings, state::system_clock};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(
    about = "On-call watcher: tick time with many open requests, pages/s, intake-to-page delay"
)]
struct Args {
    #[command(flatten)]
    db: Database,
    /// Open requests.
    #[arg(long, default_value_t = 10_000)]
    requests: usize,
    /// Of which P1 (paged); the rest P3.
    #[arg(long, default_value_t = 500)]
    p1: usize,
    /// Ticks timed when nothing is due.
    #[arg(long, default_value_t = 10)]
    idle_ticks: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let a = &args;
    with_fresh_database(
        &args.db.database_url,
        "rapport_oncall_bench",
        |url| async move { bench(a, &url).await },
    )
    .await
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn bench(args: &Args, url: &str) -> anyhow::Result<()> {
    let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
    MIGRATOR.run(&pool).await?;
    let state = AppState::new(pool.clone(), system_clock(), Settings::default()).await?;
    let (team, _) = seed_team(&state, &[Role::SupportLead, Role::SupportLead, Role::Admin]).await?;
    // One account whose customers write from bench.example (a record as a push leaves it).
    let account = Uuid::now_v7();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
    sqlx::query!(
        "WITH s AS (UPDATE sync_clock SET last_seq = last_seq + 1 RETURNING last_seq)
         INSERT INTO records (entity, id, team_id, account_id, fields, version, seq, created_at, updated_at)
         SELECT 'account', $1::uuid, $2::uuid, NULL, $3::jsonb, 1, s.last_seq, $4::timestamptz, $4 FROM s",
        account,
        team,
        json!({
            "name": "Bench Co", "plan": "professional_support", "time_zone": "UTC",
            "fiscal_year_start_month": 1, "stage": "live", "team_id": team,
            "support_email_domains": ["bench.example"],
        }),
        t0
    )
    .execute(&pool)
    .await?;

    println!("rapport-server on-call watcher bench");
    println!("machine: {}", machine());
    let started = Instant::now();
    for i in 0..args.requests {
        let severity = if i < args.p1 {
            Severity::P1
        } else {
            Severity::P3
        };
        open(&pool, severity, i, t0).await?;
    }
    println!(
        "seeded {} open requests ({} P1, the rest P3) through intake in {:.1} s",
        args.requests,
        args.p1,
        started.elapsed().as_secs_f64()
    );

    // The webhook receiver: counts posts.
    let got = Arc::new(AtomicUsize::new(0));
    let counter = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let c = counter.clone();
            async move {
                c.fetch_add(1, Ordering::Relaxed);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    sqlx::query!(
        "INSERT INTO oncall_webhooks (team_id, url, format, secret, updated_at, updated_by)
         VALUES ($1, $2, 'signed_json', 'bench secret', $3, $4)",
        team,
        hook,
        t0,
        Uuid::nil()
    )
    .execute(&pool)
    .await?;

    let watcher = Watcher::new(pool.clone(), Arc::new(OnCallSettings::default()))?;
    for (label, at) in [
        ("first pages (on call)", t0),
        ("escalation to leads", t0 + TimeDelta::minutes(5)),
    ] {
        let before = got.load(Ordering::Relaxed);
        let s = Instant::now();
        let r = watcher.tick(at).await?;
        let took = s.elapsed();
        let posts = got.load(Ordering::Relaxed) - before;
        #[allow(clippy::cast_precision_loss)]
        let rate = r.sent as f64 / took.as_secs_f64();
        println!(
            "{label}: {} pages claimed and sent ({posts} webhook posts) in {:.0} ms: {rate:.0} pages/s",
            r.sent,
            ms(took)
        );
    }
    let mut idle = Vec::new();
    for k in 0..args.idle_ticks {
        let s = Instant::now();
        let r = watcher
            .tick(t0 + TimeDelta::minutes(6) + TimeDelta::seconds(i64::try_from(k)?))
            .await?;
        idle.push(ms(s.elapsed()));
        anyhow::ensure!(r.claimed == 0, "nothing is due between the steps");
    }
    idle.sort_by(f64::total_cmp);
    println!(
        "tick with {} open requests and nothing due: median {:.0} ms, max {:.0} ms ({} ticks)",
        args.requests,
        idle[idle.len() / 2],
        idle[idle.len() - 1],
        idle.len()
    );
    // Intake to page: a new P1 opened, then the next tick (the wait for that tick, up to
    // `oncall.tick_seconds`, comes on top).
    let at = t0 + TimeDelta::minutes(7);
    let before = got.load(Ordering::Relaxed);
    let s = Instant::now();
    open(&pool, Severity::P1, args.requests, at).await?;
    let r = watcher.tick(at).await?;
    let took = s.elapsed();
    anyhow::ensure!(
        r.sent == 1 && got.load(Ordering::Relaxed) == before + 1,
        "{r:?}"
    );
    println!(
        "intake to page (open a P1, next tick delivers its webhook): {:.0} ms + the wait for the tick (≤ 5 s by default)",
        ms(took)
    );
    state.shutdown_handle().trigger();
    Ok(())
}

async fn open(
    pool: &sqlx::PgPool,
    severity: Severity,
    i: usize,
    at: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let inc = Incoming {
        channel: Channel::Chat,
        sender_email: format!("customer{i}@bench.example"),
        sender_name: None,
        account_hint: None,
        severity,
        needs_triage: false,
        title: format!("Request {i}"),
        text: "Something is wrong.".into(),
        at,
        thread_keys: Vec::new(),
    };
    let mut tx = pool.begin().await?;
    let opened = intake::open(&mut tx, Uuid::now_v7(), &inc, at).await?;
    anyhow::ensure!(
        matches!(opened, intake::Opened::Account(_)),
        "the bench account takes the request"
    );
    tx.commit().await?;
    Ok(())
}
