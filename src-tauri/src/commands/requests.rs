//! Urgent requests and incidents: intake, the board, the timeline, the incident call.
//! Texts of responses and emails are never logged: only ids, severities and counts.

use crate::clock::now;
use rapport_client::Store;
use rapport_client::requests::{
    CallSettings, EmailImportOutcome, LaunchedCall, RequestBoard, RequestDetail, RequestRow,
};
use rapport_domain::links::check_external_link;
use rapport_domain::request::{NewRequestInput, RequestStatus, Severity, Visibility};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use super::parse_id;
use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn requests_board(store: State<'_, Store>) -> Result<RequestBoard, IpcError> {
    Ok(store.requests_board(now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn request_get(store: State<'_, Store>, id: String) -> Result<RequestDetail, IpcError> {
    Ok(store.request_get(parse_id(&id)?, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%account_id))]
pub async fn account_requests(
    store: State<'_, Store>,
    account_id: String,
) -> Result<Vec<RequestRow>, IpcError> {
    Ok(store
        .account_requests(parse_id(&account_id)?, now())
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(severity = input.severity.as_str()))]
pub async fn request_create(
    store: State<'_, Store>,
    input: NewRequestInput,
) -> Result<String, IpcError> {
    Ok(store.request_create(input, now()).await?.to_string())
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(bytes = content.len()))]
pub async fn email_import(
    store: State<'_, Store>,
    content: Vec<u8>,
    account_id: Option<String>,
) -> Result<EmailImportOutcome, IpcError> {
    let account = account_id.as_deref().map(parse_id).transpose()?;
    let outcome = store.email_import(&content, account, now()).await?;
    tracing::info!(?outcome, "email imported");
    Ok(outcome)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id, ?visibility))]
pub async fn request_respond(
    store: State<'_, Store>,
    id: String,
    visibility: Visibility,
    text: String,
) -> Result<(), IpcError> {
    Ok(store
        .request_respond(parse_id(&id)?, visibility, &text, now())
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn request_add_update(
    store: State<'_, Store>,
    id: String,
    text: String,
) -> Result<(), IpcError> {
    Ok(store
        .request_add_update(parse_id(&id)?, &text, now())
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id, status = status.as_str()))]
pub async fn request_set_status(
    store: State<'_, Store>,
    id: String,
    status: RequestStatus,
) -> Result<(), IpcError> {
    Ok(store
        .request_set_status(parse_id(&id)?, status, now())
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id, severity = severity.as_str()))]
pub async fn request_set_severity(
    store: State<'_, Store>,
    id: String,
    severity: Severity,
) -> Result<(), IpcError> {
    Ok(store
        .request_set_severity(parse_id(&id)?, severity, now())
        .await?)
}

/// Launches the incident call: records it, then opens the link in the system browser.
/// A browser that cannot be started leaves the call recorded and the link shown.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn request_launch_call<R: Runtime>(
    app: AppHandle<R>,
    store: State<'_, Store>,
    id: String,
) -> Result<LaunchedCall, IpcError> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| {
        tracing::error!(error = %e, "the OS random generator failed");
        IpcError::invalid_input("link", "no room name could be generated")
    })?;
    let mut call = store
        .request_launch_call(parse_id(&id)?, random, now())
        .await?;
    match app.opener().open_url(call.link.as_str(), None::<&str>) {
        Ok(()) => call.opened = true,
        Err(e) => tracing::warn!(error = %e, "the system browser could not open the call link"),
    }
    tracing::info!(
        new_link = call.new_link,
        opened = call.opened,
        "incident call launched"
    );
    Ok(call)
}

/// Opens the request's account's Slack channel in the system browser.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn request_open_slack<R: Runtime>(
    app: AppHandle<R>,
    store: State<'_, Store>,
    id: String,
) -> Result<(), IpcError> {
    let detail = store.request_get(parse_id(&id)?, now()).await?;
    let Some(channel) = detail.slack_channel else {
        return Err(IpcError::invalid_input(
            "slack_channel",
            "the account has no Slack channel: add it on the account page",
        ));
    };
    let url = check_external_link("slack_channel", &channel).map_err(IpcError::from)?;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| {
            tracing::error!(error = %e, "the system could not open the Slack channel");
            IpcError::invalid_input("slack_channel", "the system has no program to open it")
        })
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn call_settings_get(store: State<'_, Store>) -> Result<CallSettings, IpcError> {
    Ok(store.call_settings_get().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn call_settings_set(
    store: State<'_, Store>,
    input: CallSettings,
) -> Result<CallSettings, IpcError> {
    Ok(store.call_settings_set(input).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id, assigned = assignee_id.is_some()))]
pub async fn request_assign(
    store: State<'_, Store>,
    id: String,
    assignee_id: Option<String>,
) -> Result<(), IpcError> {
    let to = assignee_id.as_deref().map(parse_id).transpose()?;
    Ok(store.request_assign(parse_id(&id)?, to, now()).await?)
}
