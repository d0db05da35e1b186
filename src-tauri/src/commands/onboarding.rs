//! Onboarding sessions: the board, the session page, the week calendar, Today's sessions,
//! slots, booking, the calendar export and the settings. Outcomes and agendas are never
//! logged: only ids.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use rapport_client::Store;
use rapport_client::onboarding::{
    AccountOnboarding, IcsFile, NewSession, OnboardingBoard, OnboardingSettings, SessionDetail,
    SessionRow, SlotQuery, WeekView, write_ics,
};
use rapport_domain::onboarding::{OnboardingSession, OnboardingSessionInput, OnboardingStatus};
use rapport_domain::schedule::Slot;
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, State};
use ts_rs::TS;

use super::parse_id;
use crate::error::{IpcError, IpcErrorCode};

/// Where an exported calendar file was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ExportedFile {
    /// The absolute path, shown to the user (with "Copy path").
    pub path: String,
    /// The file's name alone.
    pub file_name: String,
}

/// The onboarding commands' "now": the desktop's one clock ([`crate::clock`]).
pub fn now() -> DateTime<Utc> {
    crate::clock::Clock::desktop().now()
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

/// Writes the file into the user's Downloads folder (XDG `DOWNLOAD` on Linux), or, when
/// the system names none, into `exports/` in the data folder. Review invitations go the
/// same way.
pub(crate) fn write_export<R: Runtime>(
    app: &AppHandle<R>,
    store: &Store,
    file: &IcsFile,
) -> Result<ExportedFile, IpcError> {
    let dir = export_dir(
        app.path().download_dir().ok(),
        store.path().and_then(Path::parent),
    );
    let path = write_ics(&dir, file).map_err(|e| {
        tracing::error!(dir = %dir.display(), error = %e, "calendar export failed");
        IpcError {
            code: IpcErrorCode::Storage,
            message: format!(
                "The calendar file could not be written to {}: {e}. Check that the folder is \
                 writable and the disk is not full.",
                dir.display()
            ),
            field: None,
        }
    })?;
    tracing::info!(path = %path.display(), "calendar exported");
    Ok(ExportedFile {
        path: path.display().to_string(),
        file_name: file.file_name.clone(),
    })
}

fn export_dir(downloads: Option<PathBuf>, data_dir: Option<&Path>) -> PathBuf {
    downloads
        .filter(|d| d.is_absolute())
        .or_else(|| data_dir.map(|d| d.join("exports")))
        .unwrap_or_else(std::env::temp_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_go_to_downloads_or_else_the_data_folder() {
        assert_eq!(
            export_dir(Some("/home/u/Downloads".into()), Some(Path::new("/d"))),
            PathBuf::from("/home/u/Downloads")
        );
        assert_eq!(
            export_dir(None, Some(Path::new("/d"))),
            PathBuf::from("/d/exports")
        );
    }
}
