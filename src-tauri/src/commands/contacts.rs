//! An account's contacts.

use crate::clock::now;
use rapport_client::Store;
use rapport_domain::{Contact, ContactInput};
use tauri::State;

use super::parse_id;
use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(account_id = %account_id))]
pub async fn contact_create(
    store: State<'_, Store>,
    account_id: String,
    input: ContactInput,
) -> Result<Contact, IpcError> {
    Ok(store
        .contact_create(parse_id(&account_id)?, input, now())
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn contact_update(
    store: State<'_, Store>,
    id: String,
    input: ContactInput,
) -> Result<Contact, IpcError> {
    Ok(store.contact_update(parse_id(&id)?, input, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn contact_delete(store: State<'_, Store>, id: String) -> Result<(), IpcError> {
    Ok(store.contact_delete(parse_id(&id)?, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn contact_get(store: State<'_, Store>, id: String) -> Result<Contact, IpcError> {
    Ok(store.contact_get(parse_id(&id)?).await?)
}
