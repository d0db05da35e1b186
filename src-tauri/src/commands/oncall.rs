//! On call (Settings → On call, Today's card, the page alert): who is on call, overrides,
//! and acknowledging a page. Each command calls the central service with the signed-in
//! token (rapport-client `oncall`); signed out or offline, it answers a `sync` error whose
//! message says so, and the UI shows it.

use std::sync::Arc;

use rapport_client::Store;
use rapport_client::oncall::{self, Acknowledged, NewOverride, OnCallNow, OnCallOverride};
use rapport_client::sync::{HttpTransport, SyncError};
use tauri::State;

use super::parse_id;
use crate::error::{IpcError, IpcErrorCode};
use crate::sync_task::SyncRuntime;

fn sync(message: impl Into<String>) -> IpcError {
    IpcError {
        code: IpcErrorCode::Sync,
        message: message.into(),
        field: None,
    }
}

/// What the user reads when the service could not answer or refused.
pub(crate) fn oncall_error(e: SyncError) -> IpcError {
    match e {
        SyncError::Offline(why) => sync(format!(
            "on call needs the connection to the server, which cannot be reached now ({why})"
        )),
        SyncError::Unauthorized(_) => {
            sync("the server ended this sign-in: sign in again in Settings → Connection")
        }
        SyncError::Server { message, .. } => sync(message),
        SyncError::Store(s) => IpcError::from(s),
        other => sync(other.to_string()),
    }
}

/// The service and the token, or the error saying to sign in.
async fn connection(store: &Store, rt: &SyncRuntime) -> Result<(HttpTransport, String), IpcError> {
    let info = store.sync_info().await?;
    let (Some(url), Some(token)) = (info.server_url, rt.current_token()) else {
        return Err(sync(
            "on call is kept by your team's Rapport server: sign in to it in Settings → Connection",
        ));
    };
    let transport = HttpTransport::new(&url).map_err(|e| sync(e.0))?;
    Ok((transport, token))
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn oncall_get(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
) -> Result<OnCallNow, IpcError> {
    let (t, token) = connection(&store, &rt).await?;
    oncall::on_call_now(&t, &token).await.map_err(oncall_error)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn oncall_override_create(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
    input: NewOverride,
) -> Result<OnCallOverride, IpcError> {
    let (t, token) = connection(&store, &rt).await?;
    oncall::override_create(&t, &token, &input)
        .await
        .map_err(oncall_error)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn oncall_override_delete(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
    id: String,
) -> Result<(), IpcError> {
    let id = parse_id(&id)?;
    let (t, token) = connection(&store, &rt).await?;
    oncall::override_delete(&t, &token, id)
        .await
        .map_err(oncall_error)
}

/// Acknowledges a page; a sync follows at once so the request's timeline shows it.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn oncall_ack(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
    request_id: String,
) -> Result<Acknowledged, IpcError> {
    let id = parse_id(&request_id)?;
    let (t, token) = connection(&store, &rt).await?;
    let done = oncall::acknowledge(&t, &token, id)
        .await
        .map_err(oncall_error)?;
    tracing::info!(request_id = %id, "page acknowledged");
    rt.wake();
    Ok(done)
}
