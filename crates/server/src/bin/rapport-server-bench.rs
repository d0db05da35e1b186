//! Load bench of the central service's pull endpoint, alone and under attack.
//!
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

async fn bench(args: &Args, url: &str) -> anyhow::Result<()> {
    let pool = PgPoolOptions::new()
        .max_connections(32)
        .connect(url)
        .await?;
    MIGRATOR.run(&pool).await?;
    let state = AppState::new(pool.clone(), system_clock(), Settings::default()).await?;
    let roles: Vec<Role> = (0..USERS)
        .map(|i| [Role::Csm, Role::AccountRep, Role::SupportLead, Role::Admin][i % 4])
        .collect();
    let (_team, emails) = seed_team(&state, &roles).await?;
    drop(state);
    let mut server = Server::start(url).await?;
    let base = server.base.clone();

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()?;
    let mut tokens = Vec::new();
    for e in &emails {
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

    // Seed through the API: accounts, each with two notes, in batches of 300 mutations.
    let seed_start = Instant::now();
    let mut mutations = Vec::new();
    for i in 0..args.accounts {
        let account = Uuid::now_v7();
        let m = |entity: &str, id: Uuid, fields: Value| json!({"id": Uuid::now_v7(), "entity": entity, "entity_id": id, "op": "upsert", "fields": fields, "client_time": "2026-11-26T09:00:00Z"});
        mutations.push(m("account", account, json!({"name": format!("Customer {i}"), "plan": "professional_support",
            "time_zone": "Europe/Berlin", "fiscal_year_start_month": 1, "stage": "active", "tags": ["bench"]})));
        for n in 0..2 {
            mutations.push(m("note", Uuid::now_v7(), json!({"account_id": account, "body": format!("Note {n} about customer {i}: onboarding went well, next review in Q3.")})));
        }
    }
    let total = mutations.len();
    for chunk in mutations.chunks(300) {
        let r: Value = http
            .post(format!("{base}/v1/sync/push"))
            .bearer_auth(&tokens[0])
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
    let seed_secs = seed_start.elapsed().as_secs_f64();

    // Cursors spread over the log: every page boundary of a full pull.
    let mut cursors = vec![String::new()];
    let mut cursor = String::new();
    loop {
        let page: Value = http
            .get(format!(
                "{base}/v1/sync/pull?cursor={cursor}&limit={}",
                args.limit
            ))
            .bearer_auth(&tokens[0])
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
    let head = cursors.last().cloned().unwrap_or_default();
    let catch_up = Arc::new(cursors);
    let idle = Arc::new(vec![head]);

    println!("rapport-server pull bench");
    println!("machine: {}", machine());
    #[allow(clippy::cast_precision_loss)]
    let rate = total as f64 / seed_secs;
    println!(
        "seeded {total} records ({} accounts + 2 notes each) through push in {seed_secs:.1} s ({rate:.0} mutations/s)",
        args.accounts
    );
    println!(
        "server and clients share this machine; loopback HTTP/1.1; {} s per run\n",
        args.seconds
    );
    println!("| pull | clients | pulls/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|---|");
    for (name, cursors) in [
        (format!("catch-up page (limit {})", args.limit), &catch_up),
        ("up to date (empty page)".to_owned(), &idle),
    ] {
        for &clients in &args.clients {
            let (n, errors, mut lat, elapsed) = run(
                &http,
                &base,
                &tokens,
                cursors,
                clients,
                args.limit,
                args.seconds,
            )
            .await;
            lat.sort_unstable();
            #[allow(clippy::cast_precision_loss)]
            let per_sec = n as f64 / elapsed.as_secs_f64();
            println!(
                "| {name} | {clients} | {per_sec:.0} | {:.1} | {:.1} | {errors} |",
                pct(&lat, 0.5),
                pct(&lat, 0.99)
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

    hardening(args, &http, &base, &tokens, &catch_up, &server).await?;

    server.stop();
    pool.close().await;
    Ok(())
}

/// The child: the real service on the bench's database, with the service's own default
/// settings and pool size, until its parent kills it.
async fn serve_child(url: &str) -> anyhow::Result<()> {
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .connect(url)
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
