//! Load bench of the central service's pull endpoint: against an earlier build of the service
//! and against PostgreSQL running the pull's own SQL (pgbench), alone and under attack.
//!
//! The *compare* run (issue 16) builds the service of an earlier commit (`--baseline`,
//! default f64abff) in a git worktree under `--baseline-dir` (`cargo build --release` there,
//! once), runs it as a child process on its own port and its own fresh database, seeds both
//! services alike through their own APIs (the same 9,000 mutations), and then, interleaved
//! A B A B at each concurrency, runs closed-loop catch-up pulls against this build (A), the
//! earlier one (B) and pgbench running this build's pull SQL (`src/db/pull.sql` and the
//! sign-in check, the two statements one pull executes) on A's database (P). It prints
//! pulls/s, p50, p99, A/B and A/P, the machine and the load average.
//!
//! The *load* run (below) is the earlier table of this bench:
//! Creates a fresh database on the PostgreSQL named by `--database-url`/`DATABASE_URL`
//! (dropped at the end), starts the server as a child process of this one (this binary run
//! with `--serve`, on 127.0.0.1 port 0) so that its memory is its own, seeds one team's
//! accounts and notes through `/v1/sync/push`, then runs closed-loop clients over
//! loopback for a bounded time at each concurrency and prints pulls/s and latency
//! percentiles, with the machine it ran on.
//!
//! The *hardening* run then compares, interleaved in the same process and database, the
//! signed-in pulls of `--load-clients` clients alone and while `--flood` clients send
//! failed sign-ins (unknown emails, each one a full argon2 check) and `--pushers` clients
//! push maximal records (100,000-character notes, accounts with every tag), and reports the
//! p99 ratio and the server process's peak resident memory (VmHWM, reset before each run).
//!
//! `cargo run --release -p rapport-server --bin rapport-server-bench -- --database-url postgres://postgres@127.0.0.1:5432/postgres`
//! (`--runs compare` or `--runs load` for one of the two).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use clap::Parser;
use rapport_domain::Role;
use rapport_server::bench_common::{
    Database, PASSWORD, machine, proc_kb, seed_team, with_fresh_database,
};
use rapport_server::{AppState, MIGRATOR, Settings, state::system_clock};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(about = "Pull throughput and latency of rapport-server at 50 and 200 concurrent clients")]
struct Args {
    #[command(flatten)]
    db: Database,
    /// Accounts to seed (each with two notes).
    #[arg(long, default_value_t = 3000)]
    accounts: usize,
    /// Concurrent clients, one run each.
    #[arg(long, value_delimiter = ',', default_value = "50,200")]
    clients: Vec<usize>,
    /// Seconds each run lasts.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Page size of a catch-up pull.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Pulling clients of the hardening run.
    #[arg(long, default_value_t = 200)]
    load_clients: usize,
    /// Clients flooding failed sign-ins in the hardening run.
    #[arg(long, default_value_t = 60)]
    flood: usize,
    /// Clients pushing maximal records in the hardening run.
    #[arg(long, default_value_t = 2)]
    pushers: usize,
    /// Which runs: `compare` (this build against `--baseline` and pgbench), `load` (pull
    /// table, edit delay, hardening).
    #[arg(long, value_delimiter = ',', default_value = "compare,load")]
    runs: Vec<String>,
    /// The commit whose service the compare run measures this build against.
    #[arg(long, default_value = "f64abff")]
    baseline: String,
    /// Where the baseline's worktree (`src`) and build (`target`) live; default
    /// `$CARGO_TARGET_DIR/rapport-baseline-<commit>` (or `target/...`).
    #[arg(long)]
    baseline_dir: Option<std::path::PathBuf>,
    /// Rounds of the compare run (each runs A, B and P once at every concurrency).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Print EXPLAIN (ANALYZE, BUFFERS) of the pull statement on the seeded data (a
    /// catch-up page from the middle of the log, and the first page) before the compare run.
    #[arg(long)]
    explain: bool,
    /// The pgbench binary.
    #[arg(long, default_value = "/usr/bin/pgbench")]
    pgbench: String,
    /// Internal: serve the database at this URL on 127.0.0.1:0 and print the address (the
    /// bench runs its server as a child process this way).
    #[arg(long, hide = true)]
    serve: Option<String>,
}

const USERS: usize = 20;

/// One closed-loop run: `clients` tasks pull until the deadline; returns (pulls, errors, latencies µs).
async fn run(
    http: &reqwest::Client,
    base: &str,
    tokens: &[String],
    cursors: &Arc<Vec<String>>,
    clients: usize,
    limit: u32,
    seconds: u64,
) -> (usize, usize, Vec<u64>, Duration) {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        let token = tokens[c % tokens.len()].clone();
        let cursors = cursors.clone();
        let base = base.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            // xorshift: a cheap, seeded choice of where each pull starts.
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1);
            while Instant::now() < deadline {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let cursor = &cursors[usize::try_from(x % cursors.len() as u64).unwrap_or(0)];
                let t0 = Instant::now();
                let ok = match http
                    .get(format!("{base}/v1/sync/pull?cursor={cursor}&limit={limit}"))
                    .bearer_auth(&token)
                    .header("rapport-protocol", "1")
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                if ok {
                    lat.push(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX));
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.expect("a client task panicked");
        all.extend(lat);
        errors += e;
    }
    let elapsed = start.elapsed();
    (all.len(), errors, all, elapsed)
}

/// The id of the first account in the log.
async fn catch_up_first_account(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<String> {
    let page: Value = http
        .get(format!("{base}/v1/sync/pull?limit=1"))
        .bearer_auth(token)
        .header("rapport-protocol", "1")
        .send()
        .await?
        .json()
        .await?;
    let changes = page["changes"].as_array().context("no changes")?;
    let acct = changes
        .iter()
        .find(|c| c["entity"] == "account")
        .context("no account in the first page")?;
    Ok(acct["entity_id"].as_str().context("no id")?.to_owned())
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    #[allow(clippy::cast_precision_loss)]
    let ms = sorted[i] as f64 / 1000.0;
    ms
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(url) = &args.serve {
        return serve_child(url).await;
    }
    let a = &args;
    with_fresh_database(&args.db.database_url, "rapport_bench", |url| async move {
        bench(a, &url).await
    })
    .await
}

/// The bench's mutations: `accounts` accounts, each with two notes (fresh ids each run, the
/// same list for every service of the run).
fn seed_mutations(accounts: usize) -> Vec<Value> {
    let mut mutations = Vec::new();
    for i in 0..accounts {
        let account = Uuid::now_v7();
        let m = |entity: &str, id: Uuid, fields: Value| json!({"id": Uuid::now_v7(), "entity": entity, "entity_id": id, "op": "upsert", "fields": fields, "client_time": "2026-11-26T09:00:00Z"});
        mutations.push(m("account", account, json!({"name": format!("Customer {i}"), "plan": "professional_support",
            "time_zone": "Europe/Berlin", "fiscal_year_start_month": 1, "stage": "active", "tags": ["bench"]})));
        for n in 0..2 {
            mutations.push(m("note", Uuid::now_v7(), json!({"account_id": account, "body": format!("Note {n} about customer {i}: onboarding went well, next review in Q3.")})));
        }
    }
    mutations
}

/// Signs each of `emails` in at `base`; their tokens.
async fn login_all(
    http: &reqwest::Client,
    base: &str,
    emails: &[String],
) -> anyhow::Result<Vec<String>> {
    let mut tokens = Vec::new();
    for e in emails {
        let r: Value = http
            .post(format!("{base}/v1/auth/login"))
            .json(&json!({"email": e, "password": PASSWORD}))
            .send()
            .await?
            .json()
            .await?;
        tokens.push(
            r["token"]
                .as_str()
                .context("login gave no token")?
                .to_owned(),
        );
    }
    Ok(tokens)
}

/// Pushes `mutations` in batches of 300 and checks every one applied; the seconds it took.
async fn push_all(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    mutations: &[Value],
) -> anyhow::Result<f64> {
    let seed_start = Instant::now();
    for chunk in mutations.chunks(300) {
        let r: Value = http
            .post(format!("{base}/v1/sync/push"))
            .bearer_auth(token)
            .header("rapport-protocol", "1")
            .json(&json!({ "mutations": chunk }))
            .send()
            .await?
            .json()
            .await?;
        let applied = r["results"]
            .as_array()
            .map_or(0, |a| a.iter().filter(|x| x["status"] == "applied").count());
        ensure!(
            applied == chunk.len(),
            "seeding: not every mutation applied: {r}"
        );
    }
    Ok(seed_start.elapsed().as_secs_f64())
}

/// Cursors spread over the log: every page boundary of a full pull, from the start ("")
/// to the head.
async fn page_cursors(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    limit: u32,
) -> anyhow::Result<Vec<String>> {
    let mut cursors = vec![String::new()];
    let mut cursor = String::new();
    loop {
        let page: Value = http
            .get(format!("{base}/v1/sync/pull?cursor={cursor}&limit={limit}"))
            .bearer_auth(token)
            .header("rapport-protocol", "1")
            .send()
            .await?
            .json()
            .await?;
        cursor = page["cursor"].as_str().context("no cursor")?.to_owned();
        cursors.push(cursor.clone());
        if page["has_more"] != true {
            break;
        }
    }
    Ok(cursors)
}

fn roles() -> Vec<Role> {
    (0..USERS)
        .map(|i| [Role::Csm, Role::AccountRep, Role::SupportLead, Role::Admin][i % 4])
        .collect()
}

async fn bench(args: &Args, url: &str) -> anyhow::Result<()> {
    let pool = PgPoolOptions::new()
        .max_connections(32)
        .connect(url)
        .await?;
    MIGRATOR.run(&pool).await?;
    let state = AppState::new(pool.clone(), system_clock(), Settings::default()).await?;
    let (_team, emails) = seed_team(&state, &roles()).await?;
    drop(state);
    let mut server = Server::start(url).await?;
    let base = server.base.clone();

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()?;
    let tokens = login_all(&http, &base, &emails).await?;
    let mutations = seed_mutations(args.accounts);
    let total = mutations.len();
    let seed_secs = push_all(&http, &base, &tokens[0], &mutations).await?;
    let cursors = page_cursors(&http, &base, &tokens[0], args.limit).await?;

    println!("rapport-server pull bench");
    println!("machine: {}", machine());
    #[allow(clippy::cast_precision_loss)]
    let rate = total as f64 / seed_secs;
    println!(
        "seeded {total} records ({} accounts + 2 notes each) through push in {seed_secs:.1} s ({rate:.0} mutations/s)",
        args.accounts
    );
    println!(
        "server and clients share this machine; loopback HTTP/1.1 with keep-alive; {} s per run\n",
        args.seconds
    );

    if args.runs.iter().any(|r| r == "compare") {
        let a = Side {
            base: base.clone(),
            tokens: tokens.clone(),
            cursors: Arc::new(cursors.clone()),
        };
        let (db, http, emails, mutations) = (&args.db.database_url, &http, &emails, &mutations);
        with_fresh_database(db, "rapport_bench_base", |base_url| async move {
            compare(args, http, &a, url, &base_url, emails, mutations).await
        })
        .await?;
    }
    if args.runs.iter().any(|r| r == "load") {
        load(args, &http, &base, &tokens, cursors, &server).await?;
    }
    server.stop();
    pool.close().await;
    Ok(())
}

/// The pull table, the edit-to-event delay and the hardening run, on this build.
async fn load(
    args: &Args,
    http: &reqwest::Client,
    base: &str,
    tokens: &[String],
    cursors: Vec<String>,
    server: &Server,
) -> anyhow::Result<()> {
    let (http, base) = (http.clone(), base.to_owned());
    let tokens = tokens.to_vec();
    let head = cursors.last().cloned().unwrap_or_default();
    let catch_up = Arc::new(cursors);
    let idle = Arc::new(vec![head]);

    println!("| pull | clients | pulls/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|---|");
    for (name, cursors) in [
        (format!("catch-up page (limit {})", args.limit), &catch_up),
        ("up to date (empty page)".to_owned(), &idle),
    ] {
        let side = Side {
            base: base.clone(),
            tokens: tokens.clone(),
            cursors: Arc::clone(cursors),
        };
        for &clients in &args.clients {
            let f = measure(args, &http, &side, clients).await;
            println!(
                "| {name} | {clients} | {:.0} | {:.1} | {:.1} | {} |",
                f.per_sec, f.p50, f.p99, f.errors
            );
        }
    }

    // Edit-to-wake-up delay: B holds an event stream, A pushes an edit, B's stream says
    // `changes`. 50 edits, one at a time.
    let shared = Uuid::parse_str(
        catch_up_first_account(&http, &base, &tokens[0])
            .await?
            .as_str(),
    )?;
    let mut stream = http
        .get(format!("{base}/v1/sync/events"))
        .bearer_auth(&tokens[1])
        .header("rapport-protocol", "1")
        .send()
        .await?;
    let first = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
        .await??
        .unwrap_or_default();
    ensure!(
        String::from_utf8_lossy(&first).contains("event: ready"),
        "the stream did not start"
    );
    let mut delays = Vec::new();
    for i in 0..50 {
        let edit = json!({"mutations": [{"id": Uuid::now_v7(), "entity": "account", "entity_id": shared, "op": "upsert",
            "fields": {"name": format!("Edited {i}")}, "client_time": "2026-11-26T09:00:00Z"}]});
        let t0 = Instant::now();
        let r = http
            .post(format!("{base}/v1/sync/push"))
            .bearer_auth(&tokens[0])
            .header("rapport-protocol", "1")
            .json(&edit)
            .send()
            .await?;
        ensure!(r.status().is_success(), "edit push failed");
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
                .await??
                .unwrap_or_default();
            if String::from_utf8_lossy(&chunk).contains("event: changes") {
                break;
            }
        }
        delays.push(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX));
    }
    delays.sort_unstable();
    println!(
        "\nfrom A sending an edit (push) to `changes` on B's event stream, 50 edits: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        pct(&delays, 0.5),
        pct(&delays, 0.95),
        pct(&delays, 1.0)
    );

    hardening(args, &http, &base, &tokens, &catch_up, server).await
}

/// The child: the real service on the bench's database, with the service's own default
/// settings and pool size, until its parent kills it.
async fn serve_child(url: &str) -> anyhow::Result<()> {
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .connect_with(rapport_server::db::session_settings(options))
        .await?;
    let state = AppState::new(pool, system_clock(), Settings::default()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening http://{}", listener.local_addr()?);
    rapport_server::serve(listener, state, std::future::pending()).await?;
    Ok(())
}

/// The server child process (std's: the service's tokio has no `process` feature).
struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    async fn start(url: &str) -> anyhow::Result<Self> {
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .arg("--serve")
            .arg(url)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("starting the server process")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let line = tokio::time::timeout(
            Duration::from_secs(30),
            tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
                    .map(|_| line)
            }),
        )
        .await
        .context("the server did not start within 30 s")???;
        let Some(base) = line.trim().strip_prefix("listening ") else {
            let _ = child.kill();
            anyhow::bail!("the server exited before listening: {line:?}");
        };
        Ok(Server {
            base: base.to_owned(),
            child,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Forgets the peak resident set size (`VmHWM`) so the next reading covers one run.
    fn reset_peak(&self) {
        // Writing 5 to clear_refs resets the peak RSS (proc(5)); a failure only leaves the
        // earlier peak in the reading, which the report then overstates.
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5");
    }

    /// Peak resident memory since the last reset, MiB.
    fn peak_mib(&self) -> f64 {
        let kb = proc_kb(&format!("/proc/{}/status", self.pid()), "VmHWM");
        #[allow(clippy::cast_precision_loss)]
        let mib = kb as f64 / 1024.0;
        mib
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Attackers of the hardening run, until `deadline`: failed sign-ins and maximal pushes.
/// Returns (sign-in answers by status, pushes applied, push errors).
async fn attack(
    http: &reqwest::Client,
    base: &str,
    tokens: &[String],
    flood: usize,
    pushers: usize,
    deadline: Instant,
) -> (std::collections::BTreeMap<u16, usize>, usize, usize) {
    let mut logins = Vec::new();
    for c in 0..flood {
        let http = http.clone();
        let base = base.to_owned();
        logins.push(tokio::spawn(async move {
            let mut seen = std::collections::BTreeMap::<u16, usize>::new();
            let mut i = 0usize;
            while Instant::now() < deadline {
                i += 1;
                // A new unknown email each time: no rate limit spares the argon2 check.
                let status = http
                    .post(format!("{base}/v1/auth/login"))
                    .json(&json!({"email": format!("nobody{c}x{i}@flood.example.com"), "password": "wrong password 123"}))
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16());
                *seen.entry(status).or_default() += 1;
            }
            seen
        }));
    }
    let mut pushes = Vec::new();
    for p in 0..pushers {
        let http = http.clone();
        let base = base.to_owned();
        let token = tokens[p % tokens.len()].clone();
        pushes.push(tokio::spawn(async move {
            let (mut applied, mut errors) = (0usize, 0usize);
            let body = "x".repeat(rapport_domain::limits::MAX_NOTE_LEN);
            let tags: Vec<String> = (0..rapport_domain::limits::MAX_TAGS)
                .map(|t| format!("{t:0>width$}", width = rapport_domain::limits::MAX_TAG_LEN))
                .collect();
            while Instant::now() < deadline {
                let account = Uuid::now_v7();
                let mut batch = vec![json!({"id": Uuid::now_v7(), "entity": "account", "entity_id": account, "op": "upsert",
                    "fields": {"name": "N".repeat(rapport_domain::limits::MAX_NAME_LEN), "plan": "professional_support",
                        "time_zone": "Europe/Berlin", "fiscal_year_start_month": 1, "stage": "active", "tags": tags},
                    "client_time": "2026-11-26T09:00:00Z"})];
                // 30 notes of 100,000 characters: a push just under the 4 MiB body limit.
                for _ in 0..30 {
                    batch.push(json!({"id": Uuid::now_v7(), "entity": "note", "entity_id": Uuid::now_v7(), "op": "upsert",
                        "fields": {"account_id": account, "body": body}, "client_time": "2026-11-26T09:00:00Z"}));
                }
                match http
                    .post(format!("{base}/v1/sync/push"))
                    .bearer_auth(&token)
                    .header("rapport-protocol", "1")
                    .json(&json!({ "mutations": batch }))
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => applied += batch.len(),
                    _ => errors += 1,
                }
            }
            (applied, errors)
        }));
    }
    let mut statuses = std::collections::BTreeMap::new();
    for t in logins {
        for (k, v) in t.await.unwrap_or_default() {
            *statuses.entry(k).or_default() += v;
        }
    }
    let (mut applied, mut errors) = (0, 0);
    for t in pushes {
        let (a, e) = t.await.unwrap_or((0, 1));
        applied += a;
        errors += e;
    }
    (statuses, applied, errors)
}

/// Signed-in pulls alone, then under the flood, three times interleaved; p99 ratio and the
/// server's peak memory of each run.
async fn hardening(
    args: &Args,
    http: &reqwest::Client,
    base: &str,
    tokens: &[String],
    catch_up: &Arc<Vec<String>>,
    server: &Server,
) -> anyhow::Result<()> {
    println!(
        "\nhardening: {} clients pulling catch-up pages (limit {}), alone and while {} clients flood failed sign-ins and {} push maximal records; {} s per run, server process only for memory\n",
        args.load_clients, args.limit, args.flood, args.pushers, args.seconds
    );
    println!(
        "| run | pulls/s | p50 ms | p99 ms | pull errors | server peak MiB | sign-ins (status: count) | records pushed |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut alone_p99 = Vec::new();
    let mut flood_p99 = Vec::new();
    let mut peaks = Vec::new();
    for round in 0..3 {
        for flooded in [false, true] {
            server.reset_peak();
            let deadline = Instant::now() + Duration::from_secs(args.seconds);
            let attackers = flooded.then(|| {
                let (http, base, tokens) = (http.clone(), base.to_owned(), tokens.to_vec());
                let (flood, pushers) = (args.flood, args.pushers);
                tokio::spawn(async move {
                    attack(&http, &base, &tokens, flood, pushers, deadline).await
                })
            });
            let (n, errors, mut lat, elapsed) = run(
                http,
                base,
                tokens,
                catch_up,
                args.load_clients,
                args.limit,
                args.seconds,
            )
            .await;
            let (logins, pushed) = match attackers {
                Some(t) => {
                    let (statuses, applied, push_errors) = t.await?;
                    let logins = statuses
                        .iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    (logins, format!("{applied} ({push_errors} failed pushes)"))
                }
                None => ("—".to_owned(), "—".to_owned()),
            };
            let peak = server.peak_mib();
            lat.sort_unstable();
            let p99 = pct(&lat, 0.99);
            if flooded {
                flood_p99.push(p99);
            } else {
                alone_p99.push(p99);
            }
            peaks.push(peak);
            #[allow(clippy::cast_precision_loss)]
            let per_sec = n as f64 / elapsed.as_secs_f64();
            println!(
                "| {} {} | {per_sec:.0} | {:.1} | {p99:.1} | {errors} | {peak:.0} | {logins} | {pushed} |",
                if flooded { "flood" } else { "alone" },
                round + 1,
                pct(&lat, 0.5),
            );
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (a, f) = (median(&mut alone_p99), median(&mut flood_p99));
    let peak = peaks.iter().copied().fold(0.0, f64::max);
    println!(
        "\npull p99, median of 3: alone {a:.1} ms, under the flood {f:.1} ms = {:.2}x (goal: at most 3x); server peak resident memory {peak:.0} MiB (goal: under 300 MiB)",
        f / a
    );
    Ok(())
}

/// One service under test: where it listens, its users' tokens, its page cursors.
struct Side {
    base: String,
    tokens: Vec<String>,
    cursors: Arc<Vec<String>>,
}

/// One run's figures.
#[derive(Debug, Clone, Copy)]
struct Figures {
    per_sec: f64,
    p50: f64,
    p99: f64,
    errors: usize,
}

async fn measure(args: &Args, http: &reqwest::Client, side: &Side, clients: usize) -> Figures {
    let (n, errors, mut lat, elapsed) = run(
        http,
        &side.base,
        &side.tokens,
        &side.cursors,
        clients,
        args.limit,
        args.seconds,
    )
    .await;
    lat.sort_unstable();
    #[allow(clippy::cast_precision_loss)]
    let per_sec = n as f64 / elapsed.as_secs_f64();
    Figures {
        per_sec,
        p50: pct(&lat, 0.5),
        p99: pct(&lat, 0.99),
        errors,
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// This build (A) against the baseline's service (B) and pgbench running A's pull SQL (P),
/// interleaved round by round at each concurrency.
async fn compare(
    args: &Args,
    http: &reqwest::Client,
    a: &Side,
    a_url: &str,
    b_url: &str,
    emails: &[String],
    mutations: &[Value],
) -> anyhow::Result<()> {
    let bin = build_baseline(args)?;
    let baseline = Baseline::start(&bin, b_url).await?;
    baseline.seed_team(emails)?;
    let b_tokens = login_all(http, &baseline.base, emails).await?;
    let b_secs = push_all(http, &baseline.base, &b_tokens[0], mutations).await?;
    let b = Side {
        cursors: Arc::new(page_cursors(http, &baseline.base, &b_tokens[0], args.limit).await?),
        base: baseline.base.clone(),
        tokens: b_tokens,
    };
    // Both databases planned from statistics, as a service's database is once autovacuum has
    // been by (a fresh bench database would otherwise be planned blind for its first minute).
    for url in [a_url, b_url] {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
        sqlx::query("ANALYZE").execute(&mut conn).await?;
    }
    let scripts = PgbenchScripts::write(args, a_url, a).await?;
    if args.explain {
        explain(a_url, a, args.limit).await?;
    }

    println!(
        "compare: A = this build, B = the service of {} (built in {}), P = pgbench on A's database running A's pull SQL (src/db/pull.sql after the sign-in check: the two statements of one pull; -M prepared, the service's session settings); B seeded alike in {b_secs:.1} s; {} rounds, each A, B, P at every concurrency; {} s per run, catch-up pages (limit {}) from {} cursors\n",
        args.baseline,
        bin.display(),
        args.rounds,
        args.seconds,
        args.limit,
        a.cursors.len(),
    );
    println!("| round | clients | run | pulls/s | p50 ms | p99 ms | errors | load average |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut results: Vec<(usize, char, Figures)> = Vec::new();
    for round in 1..=args.rounds {
        for &clients in &args.clients {
            for (name, side) in [('A', a), ('B', &b)] {
                let f = measure(args, http, side, clients).await;
                println!(
                    "| {round} | {clients} | {name} | {:.0} | {:.1} | {:.1} | {} | {} |",
                    f.per_sec,
                    f.p50,
                    f.p99,
                    f.errors,
                    load_average()
                );
                results.push((clients, name, f));
            }
            let max_pg = pg_connections_free(a_url).await?;
            let pg_clients = clients.min(max_pg);
            for (name, script) in [('P', &scripts.auth_and_pull), ('S', &scripts.pull_only)] {
                let f = scripts.run(args, a_url, script, pg_clients)?;
                println!(
                    "| {round} | {clients}{} | {name} | {:.0} | — | {:.1} (avg) | {} | {} |",
                    if pg_clients < clients {
                        format!(" (pgbench: {pg_clients})")
                    } else {
                        String::new()
                    },
                    f.per_sec,
                    f.p50,
                    f.errors,
                    load_average()
                );
                results.push((clients, name, f));
            }
        }
    }
    println!(
        "\nS = pgbench running the pull statement alone. pgbench's concurrency is capped by PostgreSQL's free connections (max_connections less those open, less 10; shown where it bit); the services hold at most 20 each.\n"
    );
    println!(
        "| clients | A pulls/s | B pulls/s | A/B | A p99 ms | B p99 ms | P tps | A/P | S tps | A/S |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mean = |clients: usize, name: char, pick: fn(&Figures) -> f64| {
        let v: Vec<f64> = results
            .iter()
            .filter(|(c, n, _)| *c == clients && *n == name)
            .map(|(_, _, f)| pick(f))
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
        m
    };
    for &clients in &args.clients {
        let rate = |n| mean(clients, n, |f| f.per_sec);
        let p99 = |n| mean(clients, n, |f| f.p99);
        println!(
            "| {clients} | {:.0} | {:.0} | {:.2}x | {:.1} | {:.1} | {:.0} | {:.0} % | {:.0} | {:.0} % |",
            rate('A'),
            rate('B'),
            rate('A') / rate('B'),
            p99('A'),
            p99('B'),
            rate('P'),
            100.0 * rate('A') / rate('P'),
            rate('S'),
            100.0 * rate('A') / rate('S'),
        );
    }
    println!(
        "(means over the rounds; goals of issue 16: A/B >= 3x at 50 and 200 clients, A p99 <= 50 ms at 50, A/P >= 70 %)"
    );
    drop(baseline);
    Ok(())
}

/// EXPLAIN (ANALYZE, BUFFERS) of the pull statement as the service runs it (its session
/// settings, generic plan), for the first user at the middle cursor and at the start.
async fn explain(url: &str, a: &Side, limit: u32) -> anyhow::Result<()> {
    use sqlx::Connection;
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    let mut conn =
        sqlx::PgConnection::connect_with(&rapport_server::db::session_settings(options)).await?;
    let hash = rapport_server::auth::token_hash(&a.tokens[0]);
    let user: Uuid = sqlx::query_scalar("SELECT user_id FROM auth_tokens WHERE token_hash = $1")
        .bind(&hash)
        .fetch_one(&mut conn)
        .await?;
    let middle = &a.cursors[a.cursors.len() / 2];
    for c in [middle.as_str(), ""] {
        let cursor = rapport_domain::sync::Cursor::parse(c).context("a cursor")?;
        let sql = format!("EXPLAIN (ANALYZE, BUFFERS) {PULL_SQL}");
        let max_bytes = i64::try_from(rapport_domain::limits::MAX_PULL_PAGE_BYTES)?;
        let from_start = cursor == rapport_domain::sync::Cursor::START;
        // Six runs first: the plan is the one a connection of the service keeps; the seventh
        // is printed.
        let mut plan: Vec<(String,)> = Vec::new();
        for _ in 0..7 {
            plan = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(user)
                .bind(cursor.position)
                .bind(cursor.seq)
                .bind(i64::from(limit) + 1)
                .bind(max_bytes)
                .bind(from_start)
                .fetch_all(&mut conn)
                .await?;
        }
        println!("EXPLAIN (ANALYZE, BUFFERS) of src/db/pull.sql, cursor {c:?} (limit {limit}):");
        for (line,) in plan {
            println!("    {line}");
        }
        println!();
    }
    Ok(())
}

/// Builds the service of `args.baseline` in its own worktree and target dir (a no-op when
/// built already); the binary.
fn build_baseline(args: &Args) -> anyhow::Result<std::path::PathBuf> {
    let dir = args.baseline_dir.clone().unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| std::path::PathBuf::from("target"), Into::into);
        target.join(format!("rapport-baseline-{}", args.baseline))
    });
    let src = dir.join("src");
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if !src.exists() {
        std::fs::create_dir_all(&dir)?;
        let ok = std::process::Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["worktree", "add", "--detach"])
            .arg(&src)
            .arg(&args.baseline)
            .status()
            .context("running git worktree add")?
            .success();
        ensure!(ok, "git worktree add of {} failed", args.baseline);
    }
    eprintln!(
        "building the service of {} in {} (release; once)",
        args.baseline,
        src.display()
    );
    let ok = std::process::Command::new(env!("CARGO"))
        .current_dir(&src)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "rapport-server",
            "--bin",
            "rapport-server",
        ])
        .status()
        .context("running cargo build for the baseline")?
        .success();
    ensure!(ok, "building the baseline {} failed", args.baseline);
    Ok(dir.join("target/release/rapport-server"))
}

/// The baseline's service, run as `rapport-server serve` on its own port and database.
struct Baseline {
    child: std::process::Child,
    bin: std::path::PathBuf,
    url: String,
    base: String,
}

impl Baseline {
    async fn start(bin: &std::path::Path, url: &str) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = std::process::Command::new(bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", url)
            .env("RAPPORT_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("starting the baseline service")?;
        let me = Baseline {
            child,
            bin: bin.to_owned(),
            url: url.to_owned(),
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let health = format!("{}/healthz", me.base);
        loop {
            if let Ok(r) = reqwest::get(&health).await
                && r.status().is_success()
            {
                return Ok(me);
            }
            ensure!(
                Instant::now() < deadline,
                "the baseline service did not answer {health} within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The team and users of [`seed_team`], made with the baseline's own admin commands.
    fn seed_team(&self, emails: &[String]) -> anyhow::Result<()> {
        let admin = |args: &[&str]| -> anyhow::Result<()> {
            let out = std::process::Command::new(&self.bin)
                .arg("admin")
                .args(args)
                .env("DATABASE_URL", &self.url)
                .env("RAPPORT_PASSWORD", PASSWORD)
                .env("RAPPORT_LOG", "warn")
                .output()
                .context("running the baseline's admin command")?;
            ensure!(
                out.status.success(),
                "baseline admin {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Ok(())
        };
        admin(&["create-team", "--name", "Bench"])?;
        for (i, (email, role)) in emails.iter().zip(roles()).enumerate() {
            let name = format!("Bench {i}");
            admin(&[
                "create-user",
                "--email",
                email,
                "--name",
                &name,
                "--role",
                role.as_str(),
                "--time-zone",
                "UTC",
            ])?;
            admin(&["add-member", "--team", "Bench", "--email", email])?;
        }
        Ok(())
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// PostgreSQL connections a pgbench run may open: `max_connections` less those in use and
/// a margin of 10 for everything else on the machine.
async fn pg_connections_free(url: &str) -> anyhow::Result<usize> {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
    let (max, used): (String, i64) = sqlx::query_as(
        "SELECT current_setting('max_connections'), (SELECT count(*) FROM pg_stat_activity)",
    )
    .fetch_one(&mut conn)
    .await?;
    let max: i64 = max.parse()?;
    Ok(usize::try_from(max - used - 10).unwrap_or(1).max(1))
}

/// pgbench scripts of A's pull, one per user (pgbench picks one at random per transaction),
/// each choosing one of the HTTP run's cursors at random.
struct PgbenchScripts {
    dir: std::path::PathBuf,
    auth_and_pull: Vec<std::path::PathBuf>,
    pull_only: Vec<std::path::PathBuf>,
}

/// The sign-in check every request runs first (`auth.rs`, `AuthUser`).
const AUTH_SQL: &str = "SELECT u.id, u.role FROM auth_tokens t JOIN users u ON u.id = t.user_id
 WHERE t.token_hash = :token_hash AND t.revoked_at IS NULL AND t.expires_at > now() AND NOT u.disabled;";

/// The service's pull statement, run by pgbench as the service runs it.
const PULL_SQL: &str = include_str!("../db/pull.sql");

impl PgbenchScripts {
    async fn write(args: &Args, url: &str, a: &Side) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("rapport-pgbench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
        // Which cursor: `k` picks one of the HTTP run's cursors, as its clients do.
        let cursors: Vec<rapport_domain::sync::Cursor> = a
            .cursors
            .iter()
            .map(|c| rapport_domain::sync::Cursor::parse(c).context("a cursor the service made"))
            .collect::<anyhow::Result<_>>()?;
        let pick = |f: fn(&rapport_domain::sync::Cursor) -> i64| {
            let arms: String = cursors
                .iter()
                .enumerate()
                .map(|(i, c)| format!(" when :k = {i} then {}", f(c)))
                .collect();
            format!("case{arms} else 0 end")
        };
        let prologue = format!(
            "\\set k random(0, {})\n\\set position {}\n\\set seq {}\n\\set start {}\n\\set page {}\n\\set max_bytes {}\n",
            cursors.len() - 1,
            pick(|c| c.position),
            pick(|c| c.seq),
            pick(|c| i64::from(*c == rapport_domain::sync::Cursor::START)),
            i64::from(args.limit) + 1,
            rapport_domain::limits::MAX_PULL_PAGE_BYTES,
        );
        // $n of the statement as pgbench variables (a user id and a token hash are literals:
        // pgbench variables are numbers).
        let pull = |user: Uuid| {
            let mut sql = PULL_SQL.to_owned();
            for (n, var) in [
                ("$1", format!("'{user}'::uuid")),
                ("$2", ":position".into()),
                ("$3", ":seq".into()),
                ("$4", ":page".into()),
                ("$5", ":max_bytes".into()),
                ("$6", ":start".into()),
            ] {
                sql = sql.replace(n, &var);
            }
            // pgbench ends a statement at a semicolon; the file's comments are not SQL it needs.
            let body: Vec<&str> = sql.lines().filter(|l| !l.starts_with("--")).collect();
            format!("{};\n", body.join("\n").trim_end().trim_end_matches(';'))
        };
        let (mut auth_and_pull, mut pull_only) = (Vec::new(), Vec::new());
        for (i, token) in a.tokens.iter().enumerate() {
            let hash = rapport_server::auth::token_hash(token);
            let user: Uuid =
                sqlx::query_scalar("SELECT user_id FROM auth_tokens WHERE token_hash = $1")
                    .bind(&hash)
                    .fetch_one(&mut conn)
                    .await?;
            let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
            let auth = AUTH_SQL.replace(":token_hash", &format!("'\\x{hex}'::bytea"));
            let both = dir.join(format!("auth_pull_{i}.sql"));
            std::fs::write(&both, format!("{prologue}{auth}\n{}", pull(user)))?;
            let alone = dir.join(format!("pull_{i}.sql"));
            std::fs::write(&alone, format!("{prologue}{}", pull(user)))?;
            auth_and_pull.push(both);
            pull_only.push(alone);
        }
        Ok(PgbenchScripts {
            dir,
            auth_and_pull,
            pull_only,
        })
    }
}

impl Drop for PgbenchScripts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl PgbenchScripts {
    /// One pgbench run: transactions/s and the mean latency (as `p50`; pgbench gives no
    /// percentiles without a log).
    fn run(
        &self,
        args: &Args,
        url: &str,
        scripts: &[std::path::PathBuf],
        clients: usize,
    ) -> anyhow::Result<Figures> {
        let mut cmd = std::process::Command::new(&args.pgbench);
        cmd.args(["-n", "-M", "prepared", "-j", "2"])
            .arg("-c")
            .arg(clients.to_string())
            .arg("-T")
            .arg(args.seconds.to_string())
            .env("PGOPTIONS", "-c plan_cache_mode=force_generic_plan");
        for s in scripts {
            cmd.arg("-f").arg(s);
        }
        let out = cmd.arg(url).output().context("running pgbench")?;
        let text = String::from_utf8_lossy(&out.stdout);
        ensure!(
            out.status.success(),
            "pgbench failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let number_after = |key: &str| -> f64 {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(key))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
                .unwrap_or(0.0)
        };
        let failed = number_after("number of failed transactions:");
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let errors = failed as usize;
        let avg = number_after("latency average =");
        Ok(Figures {
            per_sec: number_after("tps ="),
            p50: avg,
            p99: avg,
            errors,
        })
    }
}
