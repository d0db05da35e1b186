//! Account notes. Bodies are never logged: only ids and counts.

use crate::clock::now;
use rapport_client::Store;
use rapport_client::views::NoteView;
use rapport_domain::NoteInput;
use tauri::State;

use super::parse_id;
use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(account_id = %account_id))]
pub async fn notes_list(
    store: State<'_, Store>,
    account_id: String,
    search: Option<String>,
) -> Result<Vec<NoteView>, IpcError> {
    Ok(store
        .notes_list(parse_id(&account_id)?, search.as_deref())
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(account_id = %account_id))]
pub async fn note_create(
    store: State<'_, Store>,
    account_id: String,
    input: NoteInput,
) -> Result<NoteView, IpcError> {
    let note = store
        .note_create(parse_id(&account_id)?, input, now())
        .await?;
    tracing::info!(id = %note.id, "note created");
    Ok(note)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn note_update(
    store: State<'_, Store>,
    id: String,
    body: String,
) -> Result<NoteView, IpcError> {
    Ok(store.note_update(parse_id(&id)?, &body, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id, pinned))]
pub async fn note_set_pinned(
    store: State<'_, Store>,
    id: String,
    pinned: bool,
) -> Result<NoteView, IpcError> {
    Ok(store.note_set_pinned(parse_id(&id)?, pinned, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn note_delete(store: State<'_, Store>, id: String) -> Result<(), IpcError> {
    Ok(store.note_delete(parse_id(&id)?, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn note_restore(store: State<'_, Store>, id: String) -> Result<NoteView, IpcError> {
    Ok(store.note_restore(parse_id(&id)?, now()).await?)
}
