//! The cache bench: builds (or reuses) the 10,000-account workspace and prints p50/p99 of
//! the list and search queries the UI runs, with the machine it ran on.
//!
//! ```text
//! cargo run --release -p rapport-client --bin rapport-bench [-- --data-dir DIR] [--runs N]
//! ```
//! Without `--data-dir` it works in a fresh folder under the system temp dir and removes it
//! afterwards. With `--data-dir`, an existing workspace there is reused (the load is skipped).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use rapport_client::views::{AccountQuery, AccountSort};
use rapport_client::{DemoSpec, Store};
use rapport_domain::{LifecycleStage, Plan};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    data_dir: Option<PathBuf>,
    runs: usize,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        data_dir: None,
        runs: 300,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data-dir" => {
                args.data_dir = Some(it.next().ok_or("--data-dir needs a path")?.into());
            }
            "--runs" => args.runs = it.next().ok_or("--runs needs a number")?.parse()?,
            "-h" | "--help" => {
                println!("rapport-bench [--data-dir DIR] [--runs N]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let (dir, temporary) = match &args.data_dir {
        Some(d) => (d.clone(), false),
        None => {
            let d = std::env::temp_dir().join(format!("rapport-bench-{}", std::process::id()));
            (d, true)
        }
    };
    let result = run(&dir, args.runs).await;
    if temporary {
        // Best effort: the folder is ours, made above.
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn run(dir: &std::path::Path, runs: usize) -> Result<(), BoxError> {
    print_machine();
    println!("data dir: {}", dir.display());
    let store = Store::open(dir).await?;
    let empty = store
        .accounts_list(&AccountQuery::default())
        .await?
        .is_empty();
    if empty {
        let started = Instant::now();
        let s = store.load_demo(DemoSpec::large(), Utc::now()).await?;
        println!(
            "load DemoSpec::large(): {} accounts, {} contacts, {} notes, {} users in {:.2} s",
            s.accounts,
            s.contacts,
            s.notes,
            s.users,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("load: skipped (reusing the workspace in the data dir)");
    }
    store.close().await;

    // What the app does at launch: open the cache and list the accounts (cold connections).
    let started = Instant::now();
    let store = Store::open(dir).await?;
    let rows = store.accounts_list(&AccountQuery::default()).await?;
    println!(
        "open + first accounts list ({} rows): {:.1} ms",
        rows.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let some_account = rows[rows.len() / 2].id;
    let me = store
        .profile_get()
        .await?
        .ok_or("the workspace has no profile")?;
    println!("runs per figure: {runs}\n");
    println!(
        "{:<58} {:>10} {:>10} {:>8} {:>10}",
        "query", "p50", "p99", "rows", "cpu/run"
    );

    bench("accounts_list (name sort, no filter)", runs, || async {
        store
            .accounts_list(&AccountQuery::default())
            .await
            .map(|r| r.len())
    })
    .await?;
    bench("accounts_list (updated_at desc)", runs, || async {
        let q = AccountQuery {
            sort: AccountSort::UpdatedAt,
            descending: true,
            ..Default::default()
        };
        store.accounts_list(&q).await.map(|r| r.len())
    })
    .await?;
    for term in ["north", "logistics", "wind", "fintech"] {
        bench(
            &format!("accounts_list (search {term:?})"),
            runs,
            || async {
                let q = AccountQuery {
                    search: Some(term.into()),
                    ..Default::default()
                };
                store.accounts_list(&q).await.map(|r| r.len())
            },
        )
        .await?;
    }
    bench(
        "accounts_list (plan + stage + owner filters)",
        runs,
        || async {
            let q = AccountQuery {
                plan: Some(Plan::ProfessionalSupport),
                stage: Some(LifecycleStage::Active),
                owner_id: Some(me.id),
                sort: AccountSort::Owner,
                ..Default::default()
            };
            store.accounts_list(&q).await.map(|r| r.len())
        },
    )
    .await?;
    let mut all = Vec::new();
    for term in [
        "north",
        "Northwind",
        "kubernetes",
        "escalat",
        "renewal",
        "ingrid",
        "warehouse integ",
        "SAML single sign",
        "p1 outside business",
        "acme log",
        "support manager",
        "latency",
        "a",
    ] {
        let figures = bench(&format!("search({term:?}, 20)"), runs, || async {
            store
                .search(term, 20)
                .await
                .map(|r| r.accounts.len() + r.contacts.len() + r.notes.len())
        })
        .await?;
        all.extend(figures);
    }
    all.sort_unstable();
    println!(
        "{:<58} {:>10} {:>10}",
        "search, all terms together",
        fmt(percentile(&all, 50)),
        fmt(percentile(&all, 99))
    );
    bench("notes_list (one account)", runs, || async {
        store.notes_list(some_account, None).await.map(|r| r.len())
    })
    .await?;
    bench(
        "notes_list (one account, search \"renewal\")",
        runs,
        || async {
            store
                .notes_list(some_account, Some("renewal"))
                .await
                .map(|r| r.len())
        },
    )
    .await?;
    bench("account_get", runs, || async {
        store
            .account_get(some_account)
            .await
            .map(|d| d.contacts.len())
    })
    .await?;
    bench("today_get", runs, || async {
        store
            .today_get(Utc::now())
            .await
            .map(|t| t.my_accounts.len())
    })
    .await?;
    store.close().await;
    Ok(())
}

/// Runs `f` a few times to warm up, then `runs` times; prints and returns the timings.
async fn bench<F, Fut>(name: &str, runs: usize, f: F) -> Result<Vec<Duration>, BoxError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = rapport_client::Result<usize>>,
{
    let mut rows = 0;
    for _ in 0..3 {
        rows = f().await?;
    }
    let mut times = Vec::with_capacity(runs);
    let cpu_before = process_cpu();
    for _ in 0..runs {
        let started = Instant::now();
        rows = f().await?;
        times.push(started.elapsed());
    }
    let cpu = process_cpu().saturating_sub(cpu_before) / u32::try_from(runs.max(1)).unwrap_or(1);
    times.sort_unstable();
    println!(
        "{name:<58} {:>10} {:>10} {rows:>8} {:>10}",
        fmt(percentile(&times, 50)),
        fmt(percentile(&times, 99)),
        fmt(cpu)
    );
    Ok(times)
}

/// CPU time this process has used (user + system, all threads), from /proc/self/stat in
/// clock ticks (100 per second). Divided over hundreds of runs it shows the work a query
/// costs, which the wall-clock percentiles hide when other processes load the machine.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line: 11 and 12 counted from the state
    // field (3), the first one after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = (sorted.len() * p)
        .div_ceil(100)
        .saturating_sub(1)
        .min(sorted.len() - 1);
    sorted[i]
}

fn fmt(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}

fn print_machine() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown", |(_, v)| v.trim());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let os = os_release
        .lines()
        .find(|l| l.starts_with("PRETTY_NAME="))
        .map_or("unknown", |l| {
            l.trim_start_matches("PRETTY_NAME=").trim_matches('"')
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!("machine: {cpu}, {cores} cores available, {mem_gib:.1} GiB RAM");
    println!("os: {os}, Linux {}", kernel.trim());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!("load average (1/5/15 min) at start: {}", load.join(" "));
    println!(
        "build: {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
}
