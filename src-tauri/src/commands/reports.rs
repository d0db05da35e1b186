//! The SLA compliance report and its CSV export.

use chrono::Utc;
use rapport_client::Store;
use rapport_client::reports::SlaReport;
use tauri::{AppHandle, Runtime, State};

use super::parse_id;
use super::rca::export_file;
use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(?account_id))]
pub async fn sla_report(
    store: State<'_, Store>,
    account_id: Option<String>,
) -> Result<SlaReport, IpcError> {
    let account = account_id.as_deref().map(parse_id).transpose()?;
    Ok(store.sla_report(account, Utc::now()).await?)
}

/// Writes the report as CSV into Downloads; answers the file's path.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(?account_id))]
pub async fn sla_report_export<R: Runtime>(
    app: AppHandle<R>,
    store: State<'_, Store>,
    account_id: Option<String>,
) -> Result<String, IpcError> {
    let account = account_id.as_deref().map(parse_id).transpose()?;
    let export = store.sla_report_csv(account, Utc::now()).await?;
    let path = export_file(&app, &store, &export.file_name, export.csv.as_bytes())?;
    tracing::info!(path = %path.display(), "SLA report exported");
    Ok(path.display().to_string())
}
