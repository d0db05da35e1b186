//! Who I am on this machine (the local profile) and the users the cache knows.

use crate::clock::now;
use rapport_client::Store;
use rapport_domain::{User, UserInput};
use tauri::State;

use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn profile_get(store: State<'_, Store>) -> Result<Option<User>, IpcError> {
    Ok(store.profile_get().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn profile_create(store: State<'_, Store>, input: UserInput) -> Result<User, IpcError> {
    Ok(store.profile_create(input, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn profile_update(store: State<'_, Store>, input: UserInput) -> Result<User, IpcError> {
    Ok(store.profile_update(input, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn users_list(store: State<'_, Store>) -> Result<Vec<User>, IpcError> {
    Ok(store.users_list().await?)
}
