//! Sync with the central service: sign-in and sign-out (Settings → Connection), the sync
//! status of the status bar, "sync now", and the writes that need attention. The work runs
//! in the background task (src/sync_task.rs); these commands only read it or wake it.
//!
//! The password is sent to the server and forgotten; the token goes to the OS keyring
//! (src/token.rs) and the task's memory only. Commands here skip their arguments in logs.

use std::sync::Arc;

use rapport_client::Store;
use rapport_client::sync::{AttentionItem, HttpTransport, SyncError, login, logout};
use tauri::State;

use super::parse_id;
use crate::error::{IpcError, IpcErrorCode};
use crate::sync_task::{SyncRuntime, SyncStatus};

fn sync_error(e: SyncError) -> IpcError {
    match e {
        SyncError::Unauthorized(_) => IpcError::invalid_input(
            "password",
            "the email or the password is wrong (or the account is disabled)",
        ),
        SyncError::Store(s) => IpcError::from(s),
        SyncError::Server { code, message, .. }
            if code == "too_many_attempts" || code == "user_disabled" =>
        {
            IpcError {
                code: IpcErrorCode::Sync,
                message,
                field: None,
            }
        }
        other => IpcError {
            code: IpcErrorCode::Sync,
            message: other.to_string(),
            field: None,
        },
    }
}

/// A server URL the user typed: http(s), a host, no path beyond `/`.
pub fn check_server_url(raw: &str) -> Result<String, IpcError> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            IpcError::invalid_input("server_url", "must start with https:// or http://")
        })?;
    if rest.is_empty() || rest.contains(['/', ' ', '?', '#', '@']) {
        return Err(IpcError::invalid_input(
            "server_url",
            "must be the service's address only, like https://rapport.example.com",
        ));
    }
    Ok(url.to_owned())
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn sync_status(rt: State<'_, Arc<SyncRuntime>>) -> Result<SyncStatus, IpcError> {
    Ok(rt.status().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn sync_sign_in(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
    server_url: String,
    email: String,
    password: String,
) -> Result<SyncStatus, IpcError> {
    let url = check_server_url(&server_url)?;
    let email = email.trim().to_owned();
    if email.is_empty() {
        return Err(IpcError::invalid_input("email", "required"));
    }
    if password.is_empty() {
        return Err(IpcError::invalid_input("password", "required"));
    }
    store
        .profile_get()
        .await?
        .ok_or_else(|| IpcError::from(rapport_client::StoreError::NoProfile))?;
    let transport = HttpTransport::new(&url).map_err(|e| sync_error(SyncError::Offline(e.0)))?;
    let resp = login(&transport, &email, &password)
        .await
        .map_err(sync_error)?;
    drop(password);
    store.sync_signed_in(&url, &resp.me).await?;
    let (e2, u2, t2) = (resp.me.user.email.clone(), url.clone(), resp.token.clone());
    let saved = tokio::task::spawn_blocking(move || crate::token::save(&e2, &u2, &t2))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let warning = match saved {
        Ok(()) => None,
        Err(e) => {
            tracing::warn!(error = %e, "token kept in memory only");
            Some(format!("{e}: you stay signed in until Rapport closes"))
        }
    };
    tracing::info!(server = %url, "signed in");
    rt.signed_in(resp.token, warning);
    Ok(rt.status().await?)
}

/// Signs out: revokes the token on the server (best effort), removes it from the keyring,
/// and keeps (`keep_pending`) or discards the changes not yet synced.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn sync_sign_out(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
    keep_pending: bool,
) -> Result<SyncStatus, IpcError> {
    let info = store.sync_info().await?;
    if let (Some(url), Some(token)) = (info.server_url.clone(), rt.current_token())
        && let Ok(t) = HttpTransport::new(&url)
    {
        let revoke =
            tokio::time::timeout(std::time::Duration::from_secs(5), logout(&t, &token)).await;
        if !matches!(revoke, Ok(Ok(()))) {
            tracing::warn!(
                "the server could not be told of the sign-out; the token is removed here anyway"
            );
        }
    }
    if let (Some(url), Some(email)) = (info.server_url, info.email) {
        let removed = tokio::task::spawn_blocking(move || crate::token::delete(&email, &url))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        if let Err(e) = removed {
            tracing::warn!(error = %e, "the token could not be removed from the keyring");
        }
    }
    rt.signed_out();
    store.sync_signed_out(keep_pending).await?;
    tracing::info!(keep_pending, "signed out");
    Ok(rt.status().await?)
}

/// Starts a sync now (Retry); the status events tell how it went.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn sync_now(rt: State<'_, Arc<SyncRuntime>>) -> Result<SyncStatus, IpcError> {
    rt.wake();
    Ok(rt.status().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn attention_list(store: State<'_, Store>) -> Result<Vec<AttentionItem>, IpcError> {
    Ok(store.attention_list().await?)
}

/// Sends a refused write again, with the user's corrected fields (or as it was).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn attention_resend(
    store: State<'_, Store>,
    rt: State<'_, Arc<SyncRuntime>>,
    id: String,
    fields: Option<serde_json::Map<String, serde_json::Value>>,
) -> Result<(), IpcError> {
    let id = parse_id(&id)?;
    store.attention_resend(id, fields, rt.clock().now()).await?;
    rt.wake();
    Ok(())
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn attention_discard(store: State<'_, Store>, id: String) -> Result<(), IpcError> {
    let id = parse_id(&id)?;
    Ok(store.attention_discard(id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_checked_and_named() {
        assert_eq!(
            check_server_url(" https://rapport.example.com/ ").unwrap(),
            "https://rapport.example.com"
        );
        assert_eq!(
            check_server_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "rapport.example.com",
            "ftp://x",
            "https://",
            "https://a/b",
            "https://u@h",
        ] {
            assert_eq!(
                check_server_url(bad).unwrap_err().field.as_deref(),
                Some("server_url"),
                "{bad}"
            );
        }
    }
}
