//! The accounts list and the account page.

use chrono::Utc;
use rapport_client::Store;
use rapport_client::views::{AccountDetail, AccountQuery, AccountRow};
use rapport_domain::{Account, AccountInput};
use tauri::State;

use super::parse_id;
use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn accounts_list(
    store: State<'_, Store>,
    query: AccountQuery,
) -> Result<Vec<AccountRow>, IpcError> {
    let rows = store.accounts_list(&query).await?;
    tracing::debug!(rows = rows.len(), "accounts listed");
    Ok(rows)
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
    let account = store.account_create(input, Utc::now()).await?;
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
    Ok(store
        .account_update(parse_id(&id)?, input, Utc::now())
        .await?)
}
