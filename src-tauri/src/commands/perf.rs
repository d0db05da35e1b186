//! `startup_mark`: how long after the process started the UI reached a milestone (the
//! launch bench reads `today_first_paint`).

use std::time::Instant;

use tauri::State;

use crate::error::IpcError;

/// When the process started (taken first thing in `main`).
pub struct Launched(pub Instant);

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub fn startup_mark(launched: State<'_, Launched>, label: String) -> Result<u64, IpcError> {
    if label.is_empty() || label.len() > 64 || !label.chars().all(|c| c.is_ascii_graphic()) {
        return Err(IpcError::invalid_input(
            "label",
            "use 1 to 64 visible ASCII characters",
        ));
    }
    let ms = u64::try_from(launched.0.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(label, ms, "startup mark");
    Ok(ms)
}
