//! Intake (issue 13): the Unmatched queue on the Requests board (support leads and admins)
//! and Settings → Intake (admins): keys, mailboxes, intake errors. These ask the central
//! service directly with the sign-in's token (rapport-client `intake`); nothing here is
//! cached. Signed out, offline and a refused role each answer `sync` with their own words;
//! a refused key name answers `invalid_input` on `name`.

use std::sync::Arc;

use rapport_client::Store;
use rapport_client::intake::{
    Assigned, CreatedIntakeKey, IntakeClient, IntakeError, IntakeErrorRow, IntakeKey, MailboxState,
    UnmatchedItem,
};
use tauri::State;

use super::parse_id;
use crate::error::{IpcError, IpcErrorCode};
use crate::sync_task::SyncRuntime;

/// How many intake errors Settings shows (newest first).
const ERRORS_SHOWN: u32 = 200;

fn intake_error(e: IntakeError) -> IpcError {
    match e {
        IntakeError::Invalid { field, message } => IpcError {
            code: IpcErrorCode::InvalidInput,
            message,
            field: Some(field),
        },
        IntakeError::NotFound(message) => IpcError {
            code: IpcErrorCode::NotFound,
            message,
            field: None,
        },
        other => IpcError {
            code: IpcErrorCode::Sync,
            message: other.to_string(),
            field: None,
        },
    }
}

async fn client(
    store: &Store,
    rt: &SyncRuntime,
    why: &'static str,
) -> Result<IntakeClient, IpcError> {
    let info = store.sync_info().await?;
    IntakeClient::connect(info.server_url.as_deref(), rt.current_token(), why).map_err(intake_error)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn intake_unmatched(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
) -> Result<Vec<UnmatchedItem>, IpcError> {
    let c = client(&store, &rt, "the Unmatched queue is on the service").await?;
    c.unmatched().await.map_err(intake_error)
}

/// Gives an Unmatched request its account, then syncs so it shows on the board.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn intake_assign(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
    id: String,
    account_id: String,
) -> Result<Assigned, IpcError> {
    let (id, account_id) = (parse_id(&id)?, parse_id(&account_id)?);
    let c = client(&store, &rt, "assigning happens on the service").await?;
    let done = c.assign(id, account_id).await.map_err(intake_error)?;
    rt.wake();
    Ok(done)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn intake_keys(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
) -> Result<Vec<IntakeKey>, IpcError> {
    let c = client(&store, &rt, "intake keys live on the service").await?;
    c.keys().await.map_err(intake_error)
}

/// A new key; its secret is in this answer only (never logged, never stored here).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn intake_key_create(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
    name: String,
) -> Result<CreatedIntakeKey, IpcError> {
    let c = client(&store, &rt, "intake keys live on the service").await?;
    c.create_key(&name).await.map_err(intake_error)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn intake_key_revoke(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
    id: String,
) -> Result<IntakeKey, IpcError> {
    let id = parse_id(&id)?;
    let c = client(&store, &rt, "intake keys live on the service").await?;
    c.revoke_key(id).await.map_err(intake_error)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn intake_mailboxes(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
) -> Result<Vec<MailboxState>, IpcError> {
    let c = client(&store, &rt, "the mailboxes are watched by the service").await?;
    c.mailboxes().await.map_err(intake_error)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn intake_errors(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
) -> Result<Vec<IntakeErrorRow>, IpcError> {
    let c = client(&store, &rt, "intake errors are kept on the service").await?;
    c.errors(ERRORS_SHOWN).await.map_err(intake_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_intake_error_has_its_code() {
        let e = intake_error(IntakeError::Invalid {
            field: "name".into(),
            message: "name: required".into(),
        });
        assert_eq!(
            (e.code, e.field.as_deref()),
            (IpcErrorCode::InvalidInput, Some("name"))
        );
        let e = intake_error(IntakeError::SignedOut("x"));
        assert_eq!(e.code, IpcErrorCode::Sync);
        assert!(e.message.contains("sign in"), "{}", e.message);
        let e = intake_error(IntakeError::Forbidden("only admins".into()));
        assert_eq!(
            (e.code, e.message.as_str()),
            (IpcErrorCode::Sync, "only admins")
        );
        assert_eq!(
            intake_error(IntakeError::NotFound("gone".into())).code,
            IpcErrorCode::NotFound
        );
    }
}
