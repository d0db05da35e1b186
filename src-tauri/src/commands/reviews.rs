//! Quarterly use-case reviews & health checks: the quarter board, booking, the health check,
//! and the account health score.

use crate::clock::now;
use chrono::{DateTime, Utc};
use rapport_client::Store;
use rapport_client::health::HealthView;
use rapport_client::reviews::{
    BoardFilter, BoardRow, HealthCheckInput, QuarterBoard, ReviewOutcome, ReviewView,
};
use rapport_domain::health::HealthWeights;
use rapport_domain::schedule::Slot;
use tauri::{AppHandle, Runtime, State};

use super::onboarding::{ExportedFile, write_export};
use super::parse_id;
use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(offset))]
pub async fn quarter_board(
    store: State<'_, Store>,
    offset: i32,
    filter: BoardFilter,
) -> Result<QuarterBoard, IpcError> {
    Ok(store.quarter_board(offset, &filter, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn reviews_overdue_mine(store: State<'_, Store>) -> Result<Vec<BoardRow>, IpcError> {
    Ok(store.reviews_overdue_mine(now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(account_id = %account_id, offset))]
pub async fn review_create(
    store: State<'_, Store>,
    account_id: String,
    offset: i32,
) -> Result<ReviewView, IpcError> {
    Ok(store
        .review_create(parse_id(&account_id)?, offset, now())
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn review_get(store: State<'_, Store>, id: String) -> Result<ReviewView, IpcError> {
    Ok(store.review_get(parse_id(&id)?, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn review_slots(store: State<'_, Store>, id: String) -> Result<Vec<Slot>, IpcError> {
    Ok(store.review_slots(parse_id(&id)?, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn review_book(
    store: State<'_, Store>,
    id: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    meeting_link: Option<String>,
) -> Result<ReviewView, IpcError> {
    Ok(store
        .review_book(parse_id(&id)?, start, end, meeting_link, now())
        .await?)
}

/// Writes the review's invitation by the one export policy ([`crate::exports`], as
/// onboarding invitations; a readable name: `review-<account>-<day>.ics`) and answers where.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn review_ics<R: Runtime>(
    app: AppHandle<R>,
    store: State<'_, Store>,
    id: String,
) -> Result<ExportedFile, IpcError> {
    let file = store.review_ics(parse_id(&id)?, now()).await?;
    write_export(&app, &store, &file)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn review_save(
    store: State<'_, Store>,
    id: String,
    input: HealthCheckInput,
) -> Result<ReviewView, IpcError> {
    Ok(store.review_save(parse_id(&id)?, input, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn review_complete(
    store: State<'_, Store>,
    id: String,
    held: Option<Slot>,
) -> Result<ReviewView, IpcError> {
    Ok(store.review_complete(parse_id(&id)?, held, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id, ?outcome))]
pub async fn review_set_outcome(
    store: State<'_, Store>,
    id: String,
    outcome: ReviewOutcome,
) -> Result<ReviewView, IpcError> {
    Ok(store
        .review_set_outcome(parse_id(&id)?, outcome, now())
        .await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(account_id = %account_id))]
pub async fn health_get(
    store: State<'_, Store>,
    account_id: String,
) -> Result<HealthView, IpcError> {
    Ok(store.health_get(parse_id(&account_id)?, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn health_weights_get(store: State<'_, Store>) -> Result<HealthWeights, IpcError> {
    Ok(store.health_weights_get().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn health_weights_set(
    store: State<'_, Store>,
    weights: HealthWeights,
) -> Result<HealthWeights, IpcError> {
    Ok(store.health_weights_set(weights, now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn review_reminder_get(store: State<'_, Store>) -> Result<u32, IpcError> {
    Ok(store.review_reminder_minutes().await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(minutes))]
pub async fn review_reminder_set(store: State<'_, Store>, minutes: u32) -> Result<u32, IpcError> {
    Ok(store.review_reminder_minutes_set(minutes).await?)
}
