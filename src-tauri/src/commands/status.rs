//! The status bar: local writes waiting to be pushed, and the last write.

use rapport_client::Store;
use rapport_client::views::StoreStatus;
use tauri::State;

use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn status_get(store: State<'_, Store>) -> Result<StoreStatus, IpcError> {
    Ok(store.status_get().await?)
}
