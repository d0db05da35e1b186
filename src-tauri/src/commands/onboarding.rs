//! Onboarding sessions: the board, the session page, the week calendar, Today's sessions,
//! slots, booking, the calendar export and the settings. Outcomes and agendas are never
//! logged: only ids.

use crate::clock::now;
use chrono::NaiveDate;
use rapport_client::Store;
use rapport_client::onboarding::{
    AccountOnboarding, IcsFile, NewSession, OnboardingBoard, OnboardingSettings, SessionDetail,
    SessionRow, SlotQuery, WeekView,
};
use rapport_domain::onboarding::{OnboardingSession, OnboardingSessionInput, OnboardingStatus};
use rapport_domain::schedule::Slot;
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use super::parse_id;
use crate::error::IpcError;

/// Where an exported calendar file was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ExportedFile {
    /// The absolute path, shown to the user (with "Copy path").
    pub path: String,
    /// The file's name alone.
    pub file_name: String,
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn onboarding_board(store: State<'_, Store>) -> Result<OnboardingBoard, IpcError> {
    Ok(store.onboarding_board().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn onboarding_session_get(
    store: State<'_, Store>,
    id: String,
) -> Result<SessionDetail, IpcError> {
    Ok(store.onboarding_session_get(parse_id(&id)?).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%account_id))]
pub async fn onboarding_for_account(
    store: State<'_, Store>,
    account_id: String,
) -> Result<AccountOnboarding, IpcError> {
    Ok(store.onboarding_for_account(parse_id(&account_id)?).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn onboarding_week(
    store: State<'_, Store>,
    day: Option<NaiveDate>,
) -> Result<WeekView, IpcError> {
    Ok(store.onboarding_week(day, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn onboarding_today(store: State<'_, Store>) -> Result<Vec<SessionRow>, IpcError> {
    Ok(store.onboarding_today(now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%account_id))]
pub async fn onboarding_slots(
    store: State<'_, Store>,
    account_id: String,
    query: SlotQuery,
) -> Result<Vec<Slot>, IpcError> {
    Ok(store
        .onboarding_slots(parse_id(&account_id)?, query, now())
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%account_id))]
pub async fn onboarding_session_create(
    store: State<'_, Store>,
    account_id: String,
    input: NewSession,
) -> Result<OnboardingSession, IpcError> {
    let s = store
        .onboarding_session_create(parse_id(&account_id)?, input, now())
        .await?;
    tracing::info!(id = %s.id, "onboarding session booked");
    Ok(s)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn onboarding_session_update(
    store: State<'_, Store>,
    id: String,
    input: OnboardingSessionInput,
) -> Result<OnboardingSession, IpcError> {
    Ok(store
        .onboarding_session_update(parse_id(&id)?, input, now())
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id, ?status))]
pub async fn onboarding_session_set_status(
    store: State<'_, Store>,
    id: String,
    status: OnboardingStatus,
) -> Result<OnboardingSession, IpcError> {
    let s = store
        .onboarding_session_set_status(parse_id(&id)?, status, now())
        .await?;
    tracing::info!(
        status = s.status.as_str(),
        "onboarding session status changed"
    );
    Ok(s)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn onboarding_session_export<R: Runtime>(
    app: AppHandle<R>,
    store: State<'_, Store>,
    id: String,
) -> Result<ExportedFile, IpcError> {
    let file = store.onboarding_session_ics(parse_id(&id)?, now()).await?;
    write_export(&app, &store, &file)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn onboarding_week_export<R: Runtime>(
    app: AppHandle<R>,
    store: State<'_, Store>,
    day: Option<NaiveDate>,
) -> Result<ExportedFile, IpcError> {
    let file = store.onboarding_week_ics(day, now()).await?;
    write_export(&app, &store, &file)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn onboarding_invite_text(
    store: State<'_, Store>,
    id: String,
) -> Result<String, IpcError> {
    Ok(store.onboarding_invite_text(parse_id(&id)?).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn onboarding_settings_get(
    store: State<'_, Store>,
) -> Result<OnboardingSettings, IpcError> {
    Ok(store.onboarding_settings_get().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn onboarding_settings_set(
    store: State<'_, Store>,
    settings: OnboardingSettings,
) -> Result<OnboardingSettings, IpcError> {
    Ok(store.onboarding_settings_set(settings).await?)
}

/// Writes an invitation by the one export policy ([`crate::exports`]); review
/// invitations go the same way. Answers where, and the name the file got.
pub(crate) fn write_export<R: Runtime>(
    app: &AppHandle<R>,
    store: &Store,
    file: &IcsFile,
) -> Result<ExportedFile, IpcError> {
    let path = crate::exports::export(
        app,
        store,
        "calendar",
        &file.file_name,
        file.content.as_bytes(),
    )?;
    let file_name = path.file_name().map_or_else(
        || file.file_name.clone(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(ExportedFile {
        path: path.display().to_string(),
        file_name,
    })
}
