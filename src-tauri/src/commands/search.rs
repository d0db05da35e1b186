//! Full-text search over accounts, contacts and notes. The query text is not logged.

use rapport_client::Store;
use rapport_client::views::SearchResults;
use tauri::State;

use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(limit))]
pub async fn search(
    store: State<'_, Store>,
    query: String,
    limit: u32,
) -> Result<SearchResults, IpcError> {
    Ok(store.search(&query, limit).await?)
}
