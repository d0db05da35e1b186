//! Launch to first paint, and idle memory, of Rapport against an empty Tauri 2 app measured
//! in the same run (docs/BENCHMARKS.md, "Launch to the first paint of the start page").
//!
//! Three variants, launched in turn (empty, demo, 10k, empty, demo, 10k, …) so load on the
//! machine hits each alike, each through its own tauri-driver:
//! - `empty`: `tests/empty-app`, one static page that reports its first paint as Rapport does;
//! - `demo`:  Rapport with `--demo` on the 48-account demo workspace (as `make run` opens it);
//! - `10k`:   Rapport on the large workspace (10,000 accounts, 250,000 notes).
//!
//! Each launch is timed by two clocks:
//! - *app clock*: `document.body.dataset.firstPaintMs`, the app's own milliseconds from
//!   `main()` to two animation frames after the start page's data is on screen (the page
//!   calls `startup_mark`: `ui/src/lib/firstPaint.ts`, `tests/empty-app/page/paint.js`);
//! - *wall*: from the WebDriver session request (which starts the app) until that attribute
//!   is seen, polled every 5 ms (so it includes WebDriver's own overhead, alike for all).
//!
//! With `--memory`, each launch instead waits 10 s after its first paint and sums the PSS
//! (/proc/PID/smaps_rollup) of the app process and every process below it (WebKit's network
//! and web processes).
//!
//! Usage (under a display, e.g. `xvfb-run -a`):
//!   RAPPORT_APP_BIN=/abs/rapport-desktop RAPPORT_EMPTY_APP_BIN=/abs/rapport-empty-app \
//!     launch-bench --data-dir DIR [--runs N] [--memory] [--only empty,demo,10k]
//! DIR holds the workspaces (`DIR/large`, `DIR/demo`), generated there on first use.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rapport_client::{CACHE_FILE, DemoSpec, Store};
use rapport_tests::{App, Workspace, proc};
use serde_json::Value;

/// How long after its first paint an app is left idle before its memory is read.
const IDLE: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Empty,
    Demo,
    Large,
}

impl Variant {
    const ALL: [Variant; 3] = [Variant::Empty, Variant::Demo, Variant::Large];

    fn name(self) -> &'static str {
        match self {
            Variant::Empty => "empty",
            Variant::Demo => "demo",
            Variant::Large => "10k",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Variant::Empty => "empty Tauri 2 app, one static page (baseline)",
            Variant::Demo => "Rapport --demo, 48 accounts",
            Variant::Large => "Rapport, 10,000 accounts / 250,000 notes",
        }
    }
}

struct Args {
    data_dir: PathBuf,
    runs: usize,
    memory: bool,
    variants: Vec<Variant>,
}

fn parse_args() -> Result<Args> {
    let mut data_dir = None;
    let mut runs = None;
    let mut memory = false;
    let mut variants = Variant::ALL.to_vec();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--data-dir" => {
                data_dir = Some(PathBuf::from(
                    it.next().context("--data-dir needs a folder")?,
                ));
            }
            "--runs" => {
                runs = Some(
                    it.next()
                        .context("--runs needs a number")?
                        .parse::<usize>()
                        .context("--runs")?,
                );
            }
            "--memory" => memory = true,
            "--only" => {
                let list = it.next().context("--only needs a list, e.g. empty,demo")?;
                variants = list
                    .split(',')
                    .map(|n| {
                        Variant::ALL
                            .into_iter()
                            .find(|v| v.name() == n)
                            .with_context(|| format!("unknown variant {n:?} (empty, demo, 10k)"))
                    })
                    .collect::<Result<_>>()?;
            }
            "-h" | "--help" => {
                println!(
                    "launch-bench --data-dir DIR [--runs N] [--memory] [--only empty,demo,10k]\n\
                     (needs RAPPORT_APP_BIN, RAPPORT_EMPTY_APP_BIN and a display)"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    let data_dir =
        data_dir.context("--data-dir DIR is required (a folder with, or for, the workspaces)")?;
    let runs = runs.unwrap_or(if memory { 5 } else { 20 });
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    Ok(Args {
        data_dir,
        runs,
        memory,
        variants,
    })
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil().max(1.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let index = (rank as usize).min(sorted.len()) - 1;
    sorted[index]
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// CPU model, cores, memory, OS and kernel of this machine.
fn machine() -> String {
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let os = read("/etc/os-release")
        .lines()
        .find_map(|l| {
            l.strip_prefix("PRETTY_NAME=")
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| "unknown OS".into());
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
    #[allow(clippy::cast_precision_loss)]
    let gib = mem_kib as f64 / 1024.0 / 1024.0;
    format!("{model}, {cores} cores available, {gib:.1} GiB RAM, {os}, Linux {kernel}")
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    read("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The workspace of `spec` in `dir`, generated there unless a cache already exists.
async fn ensure_workspace(dir: &Path, spec: DemoSpec) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    if dir.join(CACHE_FILE).exists() {
        return Ok(());
    }
    eprintln!(
        "{} has no cache: generating the workspace there…",
        dir.display()
    );
    let started = Instant::now();
    let store = Store::open(dir).await?;
    let summary = store.load_demo(spec, chrono::Utc::now()).await?;
    store.close().await;
    eprintln!(
        "generated {} accounts, {} contacts, {} notes in {:.1} s",
        summary.accounts,
        summary.contacts,
        summary.notes,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What one launch measured.
struct Launch {
    app_ms: f64,
    wall_ms: f64,
    page: String,
    /// PSS of the app and each process below it (name, KiB), with `--memory`.
    pss: Option<Vec<(String, u64)>>,
}

async fn one_launch(ws: &mut Workspace, bin: &Path, args: &[&str], memory: bool) -> Result<Launch> {
    let app = App::launch_binary(ws, bin, args).await?;
    let deadline = app.requested_at + Duration::from_secs(120);
    let (app_ms, wall_ms) = loop {
        let v = app
            .js("return document.body.dataset.firstPaintMs ?? null", vec![])
            .await?;
        if let Value::String(ms) = v {
            let wall = app.requested_at.elapsed().as_secs_f64() * 1000.0;
            break (ms.parse::<f64>().context("firstPaintMs is a number")?, wall);
        }
        if Instant::now() >= deadline {
            bail!("no first paint of the start page within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let page = app
        .js("return document.body.dataset.firstPaintPage ?? ''", vec![])
        .await?;
    let pss = if memory {
        tokio::time::sleep(IDLE).await;
        let pids = app.app_pids();
        let Some(&main) = pids.first() else {
            bail!("the app process is gone before its memory was read");
        };
        let each = proc::tree(main)
            .into_iter()
            .filter_map(|p| {
                let name = std::fs::read_to_string(format!("/proc/{p}/comm")).ok()?;
                Some((name.trim().to_owned(), proc::pss_kib(p)?))
            })
            .collect();
        Some(each)
    } else {
        None
    };
    app.quit().await?;
    Ok(Launch {
        app_ms,
        wall_ms,
        page: page.as_str().unwrap_or_default().to_owned(),
        pss,
    })
}

/// One variant's workspace, binary and what its launches measured.
struct Series {
    variant: Variant,
    ws: Workspace,
    bin: PathBuf,
    args: Vec<&'static str>,
    app_ms: Vec<f64>,
    wall_ms: Vec<f64>,
    pss_mib: Vec<f64>,
    processes: usize,
    page: String,
}

fn binary(var: &str) -> Result<PathBuf> {
    let path = PathBuf::from(
        std::env::var_os(var).with_context(|| format!("{var} is not set (see --help)"))?,
    );
    if !path.is_absolute() || !path.is_file() {
        bail!("{var}={} is not an absolute path to a file", path.display());
    }
    Ok(path)
}

#[allow(clippy::cast_precision_loss)]
fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let rapport = binary("RAPPORT_APP_BIN")?;
    let empty = binary("RAPPORT_EMPTY_APP_BIN")?;
    let mut series = Vec::new();
    for &variant in &args.variants {
        let (ws, bin, launch_args) = match variant {
            Variant::Empty => (Workspace::new()?, empty.clone(), vec![]),
            Variant::Demo => {
                let dir = args.data_dir.join("demo");
                ensure_workspace(&dir, DemoSpec::demo()).await?;
                (
                    Workspace::with_data_dir(&dir)?,
                    rapport.clone(),
                    vec!["--demo"],
                )
            }
            Variant::Large => {
                let dir = args.data_dir.join("large");
                ensure_workspace(&dir, DemoSpec::large()).await?;
                (Workspace::with_data_dir(&dir)?, rapport.clone(), vec![])
            }
        };
        series.push(Series {
            variant,
            ws,
            bin,
            args: launch_args,
            app_ms: Vec::new(),
            wall_ms: Vec::new(),
            pss_mib: Vec::new(),
            processes: 0,
            page: String::new(),
        });
    }

    let load_before = load_average();
    // Round 0 warms each variant up (the first launch after a build reads everything from
    // disk) and is not counted.
    for round in 0..=args.runs {
        for s in &mut series {
            let l = one_launch(&mut s.ws, &s.bin, &s.args, args.memory)
                .await
                .with_context(|| format!("{} launch {round}", s.variant.name()))?;
            let pss = l.pss.as_ref().map_or(String::new(), |each| {
                let parts: Vec<String> = each
                    .iter()
                    .map(|(name, kib)| format!("{name} {:.0}", mib(*kib)))
                    .collect();
                let total: u64 = each.iter().map(|(_, kib)| kib).sum();
                format!(", PSS {:.0} MiB ({})", mib(total), parts.join(", "))
            });
            eprintln!(
                "{}{:>5} {round:>3}: first paint {:>7.1} ms (app clock), {:>7.1} ms (wall), {}{pss}",
                if round == 0 { "warm-up " } else { "" },
                s.variant.name(),
                l.app_ms,
                l.wall_ms,
                l.page,
            );
            if round == 0 {
                continue;
            }
            s.app_ms.push(l.app_ms);
            s.wall_ms.push(l.wall_ms);
            if let Some(each) = &l.pss {
                s.pss_mib.push(mib(each.iter().map(|(_, kib)| kib).sum()));
                s.processes = each.len();
            }
            s.page = l.page;
        }
    }
    for s in &mut series {
        s.app_ms.sort_by(f64::total_cmp);
        s.wall_ms.sort_by(f64::total_cmp);
        s.pss_mib.sort_by(f64::total_cmp);
    }

    let base = series.iter().find(|s| s.variant == Variant::Empty);
    if args.memory {
        println!(
            "idle memory {} s after the first paint: PSS of the app + its WebKit processes ({} launches each, interleaved)",
            IDLE.as_secs(),
            args.runs
        );
    } else {
        println!(
            "launch to first paint of the start page ({} launches each, interleaved, after one warm-up each)",
            args.runs
        );
    }
    for s in &series {
        println!(
            "  {:<5} {} (painted: {})",
            s.variant.name(),
            s.variant.describe(),
            s.page
        );
        if args.memory {
            let p50 = percentile(&s.pss_mib, 50.0);
            let gap = base.map_or(String::new(), |b| {
                format!(
                    ", {:+.0} MiB over the empty app",
                    p50 - percentile(&b.pss_mib, 50.0)
                )
            });
            println!(
                "        PSS p50 {p50:.0} MiB, min {:.0}, max {:.0} ({} processes){gap}",
                s.pss_mib.first().copied().unwrap_or(f64::NAN),
                s.pss_mib.last().copied().unwrap_or(f64::NAN),
                s.processes,
            );
        }
        for (clock, values, of_base) in [
            ("wall", &s.wall_ms, base.map(|b| &b.wall_ms)),
            ("app clock", &s.app_ms, base.map(|b| &b.app_ms)),
        ] {
            let (p50, p90) = (percentile(values, 50.0), percentile(values, 90.0));
            let gap = of_base.map_or(String::new(), |b| {
                format!(
                    ", gap to the empty app p50 {:+.0} ms, p90 {:+.0} ms",
                    p50 - percentile(b, 50.0),
                    p90 - percentile(b, 90.0)
                )
            });
            println!(
                "        {clock:<9} p50 {p50:>5.0} ms, p90 {p90:>5.0} ms, min {:>5.0}, max {:>5.0}{gap}",
                values.first().copied().unwrap_or(f64::NAN),
                values.last().copied().unwrap_or(f64::NAN),
            );
        }
    }
    println!("  data:    {}", args.data_dir.display());
    println!("  machine: {}", machine());
    println!(
        "  load average (1, 5, 15 min): {load_before} before, {} after",
        load_average()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert!(
            (percentile(&v, 50.0) - 10.0).abs() < f64::EPSILON,
            "p50 of 1..=20 is 10"
        );
        assert!(
            (percentile(&v, 90.0) - 18.0).abs() < f64::EPSILON,
            "p90 of 1..=20 is 18"
        );
        assert!(
            (percentile(&v, 99.0) - 20.0).abs() < f64::EPSILON,
            "p99 of 20 values is the max"
        );
        assert!(
            (percentile(&[7.0], 50.0) - 7.0).abs() < f64::EPSILON,
            "one value is every percentile"
        );
    }
}
