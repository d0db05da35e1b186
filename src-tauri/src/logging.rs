//! Tracing for the app: daily log files in `<data folder>/logs/` plus stderr, filtered by
//! `RUST_LOG` (default: info for Rapport's crates, warnings for the rest), and a panic hook
//! that writes the panic to the log before the default hook runs.
//!
//! What is logged: command names, ids, counts, timings and errors. Never note bodies, never
//! tokens or other secrets (commands are instrumented with `skip_all`).

use std::path::Path;

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Used when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str =
    "warn,rapport_desktop=info,rapport_client=info,rapport_domain=info";

/// How many daily files are kept.
const KEEP_DAYS: usize = 14;

/// Starts logging to `log_dir` (created if missing) and stderr. Writes are synchronous so
/// nothing is lost when the process exits or panics; the app logs little.
pub fn init(log_dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(log_dir)
        .map_err(|e| format!("cannot create the log folder {}: {e}", log_dir.display()))?;
    let file = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("rapport")
        .filename_suffix("log")
        .max_log_files(KEEP_DAYS)
        .build(log_dir)
        .map_err(|e| format!("cannot open a log file in {}: {e}", log_dir.display()))?;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(file),
        )
        .try_init()
        .map_err(|e| format!("logging was already set up: {e}"))?;
    install_panic_hook();
    Ok(())
}

fn install_panic_hook() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let backtrace = std::backtrace::Backtrace::force_capture();
        tracing::error!(panic = %info, %backtrace, "Rapport panicked");
        default_hook(info);
    }));
}
