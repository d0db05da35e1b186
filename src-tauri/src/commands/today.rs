//! The Today page.

use crate::clock::now;
use rapport_client::Store;
use rapport_client::views::TodayView;
use tauri::State;

use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn today_get(store: State<'_, Store>) -> Result<TodayView, IpcError> {
    Ok(store.today_get(now()).await?)
}
