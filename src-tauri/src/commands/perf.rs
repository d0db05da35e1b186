//! `startup_mark`: how long after the process started the UI reached a milestone (the
//! launch bench reads `today_first_paint`). The first mark also tells the background loops
//! that the start page is on screen, so they start then rather than compete with it.

use std::sync::Arc;
use std::time::Instant;

use tauri::State;
use tokio::sync::Notify;

use crate::error::IpcError;

/// When the process started (taken first thing in `main`), and the signal of the first paint.
pub struct Launched {
    pub at: Instant,
    /// Notified at the first `startup_mark` (the start page painted its data).
    pub painted: Arc<Notify>,
}

impl Launched {
    pub fn new(at: Instant) -> Self {
        Launched {
            at,
            painted: Arc::new(Notify::new()),
        }
    }
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub fn startup_mark(launched: State<'_, Launched>, label: String) -> Result<u64, IpcError> {
    if label.is_empty() || label.len() > 64 || !label.chars().all(|c| c.is_ascii_graphic()) {
        return Err(IpcError::invalid_input(
            "label",
            "use 1 to 64 visible ASCII characters",
        ));
    }
    let ms = u64::try_from(launched.at.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(label, ms, "startup mark");
    // A stored permit: the waiter wakes even when it starts waiting after this.
    launched.painted.notify_one();
    Ok(ms)
}
