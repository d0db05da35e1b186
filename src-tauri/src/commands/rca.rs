//! Root-cause analyses: open (pre-filled), edit, move through review, export as Markdown.

use crate::clock::now;
use rapport_client::Store;
use rapport_client::rca::{RcaInput, RcaView};
use rapport_domain::rca::RcaState;
use tauri::{AppHandle, Runtime, State};

use super::parse_id;
use crate::error::IpcError;
use crate::exports;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%request_id))]
pub async fn rca_open(store: State<'_, Store>, request_id: String) -> Result<RcaView, IpcError> {
    Ok(store.rca_open(parse_id(&request_id)?, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn rca_get(store: State<'_, Store>, id: String) -> Result<RcaView, IpcError> {
    Ok(store.rca_get(parse_id(&id)?).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn rca_save(
    store: State<'_, Store>,
    id: String,
    input: RcaInput,
) -> Result<RcaView, IpcError> {
    Ok(store.rca_save(parse_id(&id)?, input, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id, state = state.as_str()))]
pub async fn rca_set_state(
    store: State<'_, Store>,
    id: String,
    state: RcaState,
) -> Result<RcaView, IpcError> {
    Ok(store.rca_set_state(parse_id(&id)?, state, now()).await?)
}

/// Writes the RCA as Markdown by the one export policy ([`crate::exports`]: Downloads,
/// never over an existing file) and answers the file's path.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn rca_export<R: Runtime>(
    app: AppHandle<R>,
    store: State<'_, Store>,
    id: String,
) -> Result<String, IpcError> {
    let export = store.rca_export(parse_id(&id)?).await?;
    let path = exports::export(
        &app,
        &store,
        "RCA",
        &export.file_name,
        export.markdown.as_bytes(),
    )?;
    Ok(path.display().to_string())
}
