//! Launch-to-first-paint of the start page (Today, or the accounts list where a start lands there), measured on the real app through
//! tauri-driver: N launches on one data folder, p50/p99 of
//! - `first paint (app clock)`: `document.body.dataset.firstPaintMs`, the app's own
//!   milliseconds from `main()` to two animation frames after the first page's data is on
//!   screen (the UI calls `startup_mark("today_first_paint")`, `ui/src/lib/firstPaint.ts`);
//! - `first paint (wall)`: from the WebDriver session request (which starts the app) until
//!   that attribute is seen, polled every 5 ms (so it includes WebDriver overhead).
//!
//! Usage (under a display, e.g. `xvfb-run -a`):
//!   RAPPORT_APP_BIN=/abs/path/rapport-desktop launch-bench --data-dir DIR [--runs N]
//! When DIR holds no cache yet, the large workspace (10,000 accounts, 250,000 notes;
//! `rapport_client::DemoSpec::large`) is generated there first.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rapport_client::{CACHE_FILE, DemoSpec, Store};
use rapport_tests::{App, Workspace};
use serde_json::Value;

struct Args {
    data_dir: PathBuf,
    runs: usize,
}

fn parse_args() -> Result<Args> {
    let mut data_dir = None;
    let mut runs = 20;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--data-dir" => {
                data_dir = Some(PathBuf::from(
                    it.next().context("--data-dir needs a folder")?,
                ));
            }
            "--runs" => {
                runs = it
                    .next()
                    .context("--runs needs a number")?
                    .parse()
                    .context("--runs")?;
            }
            "-h" | "--help" => {
                println!(
                    "launch-bench --data-dir DIR [--runs N]   (needs RAPPORT_APP_BIN and a display)"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    let data_dir = data_dir
        .context("--data-dir DIR is required (a folder with, or for, the large workspace)")?;
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    Ok(Args { data_dir, runs })
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

async fn ensure_workspace(dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    if dir.join(CACHE_FILE).exists() {
        return Ok(());
    }
    eprintln!(
        "{} has no cache: generating the large workspace there…",
        dir.display()
    );
    let started = Instant::now();
    let store = Store::open(dir).await?;
    let summary = store
        .load_demo(DemoSpec::large(), chrono::Utc::now())
        .await?;
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

/// One launch: (app-clock ms, wall ms, the page that painted first).
async fn one_launch(ws: &mut Workspace) -> Result<(f64, f64, String)> {
    let app = App::launch(ws, &[]).await?;
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
    app.quit().await?;
    Ok((
        app_ms,
        wall_ms,
        page.as_str().unwrap_or_default().to_owned(),
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = parse_args()?;
    rapport_tests::app_binary()?;
    ensure_workspace(&args.data_dir).await?;
    let mut ws = Workspace::with_data_dir(&args.data_dir)?;

    let mut app_ms = Vec::with_capacity(args.runs);
    let mut wall_ms = Vec::with_capacity(args.runs);
    let mut shown = String::new();
    for run in 1..=args.runs {
        let (a, w, page) = one_launch(&mut ws)
            .await
            .with_context(|| format!("launch {run}"))?;
        eprintln!(
            "launch {run:>3}: first paint {a:>7.1} ms (app clock), {w:>7.1} ms (wall), {page}"
        );
        app_ms.push(a);
        wall_ms.push(w);
        shown = page;
    }
    app_ms.sort_by(f64::total_cmp);
    wall_ms.sort_by(f64::total_cmp);

    println!(
        "launch to first paint of the start page ({} launches, painted first: {shown})",
        args.runs
    );
    println!("  data:    {}", args.data_dir.display());
    println!(
        "  app clock (main() -> 2 frames after the start page's data): p50 {:.0} ms, p99 {:.0} ms, min {:.0} ms, max {:.0} ms",
        percentile(&app_ms, 50.0),
        percentile(&app_ms, 99.0),
        app_ms.first().copied().unwrap_or(f64::NAN),
        app_ms.last().copied().unwrap_or(f64::NAN),
    );
    println!(
        "  wall (session request -> attribute seen):        p50 {:.0} ms, p99 {:.0} ms, min {:.0} ms, max {:.0} ms",
        percentile(&wall_ms, 50.0),
        percentile(&wall_ms, 99.0),
        wall_ms.first().copied().unwrap_or(f64::NAN),
        wall_ms.last().copied().unwrap_or(f64::NAN),
    );
    println!("  machine: {}", machine());
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
            (percentile(&v, 99.0) - 20.0).abs() < f64::EPSILON,
            "p99 of 20 values is the max"
        );
        assert!(
            (percentile(&[7.0], 50.0) - 7.0).abs() < f64::EPSILON,
            "one value is every percentile"
        );
    }
}
