//! The accounts list and the account page.

use crate::clock::now;
use rapport_client::views::{AccountDetail, AccountQuery};
use rapport_client::{DeletedAccount, Store};
use rapport_domain::{Account, AccountInput};
use tauri::State;
use tauri::ipc::{InvokeResponseBody, Response};

use super::parse_id;
use crate::error::IpcError;

/// Answers `AccountRow[]` (docs/IPC.md). The JSON text SQLite made is handed to the
/// webview as is: decoding ten thousand rows into Rust values only to serialise them
/// again was most of this command's time on a large workspace.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn accounts_list(
    store: State<'_, Store>,
    query: AccountQuery,
) -> Result<Response, IpcError> {
    let json = store.accounts_list_json(&query).await?;
    tracing::debug!(bytes = json.len(), "accounts listed");
    Ok(Response::new(InvokeResponseBody::Json(json)))
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn account_get(store: State<'_, Store>, id: String) -> Result<AccountDetail, IpcError> {
    Ok(store.account_get(parse_id(&id)?).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn account_create(
    store: State<'_, Store>,
    input: AccountInput,
) -> Result<Account, IpcError> {
    let account = store.account_create(input, now()).await?;
    tracing::info!(id = %account.id, "account created");
    Ok(account)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn account_update(
    store: State<'_, Store>,
    id: String,
    input: AccountInput,
) -> Result<Account, IpcError> {
    Ok(store.account_update(parse_id(&id)?, input, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn account_delete(
    store: State<'_, Store>,
    id: String,
) -> Result<DeletedAccount, IpcError> {
    let deleted = store.account_delete(parse_id(&id)?, now()).await?;
    tracing::info!(mutation = %deleted.mutation_id, "account deleted");
    Ok(deleted)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(id = %account.id))]
pub async fn account_restore(
    store: State<'_, Store>,
    account: Account,
) -> Result<Account, IpcError> {
    Ok(store.account_restore(&account, now()).await?)
}
