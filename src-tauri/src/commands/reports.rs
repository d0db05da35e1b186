//! The SLA compliance report and its CSV export.

use crate::clock::now;
use rapport_client::Store;
use rapport_client::reports::SlaReport;
use tauri::{AppHandle, Runtime, State};

use super::parse_id;
use crate::error::IpcError;
use crate::exports;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(?account_id))]
pub async fn sla_report(
    store: State<'_, Store>,
    account_id: Option<String>,
) -> Result<SlaReport, IpcError> {
    let account = account_id.as_deref().map(parse_id).transpose()?;
    Ok(store.sla_report(account, now()).await?)
}

/// Writes the report as CSV by the one export policy ([`crate::exports`]); answers the
/// file's path.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(?account_id))]
pub async fn sla_report_export<R: Runtime>(
    app: AppHandle<R>,
    store: State<'_, Store>,
    account_id: Option<String>,
) -> Result<String, IpcError> {
    let account = account_id.as_deref().map(parse_id).transpose()?;
    let export = store.sla_report_csv(account, now()).await?;
    let path = exports::export(
        &app,
        &store,
        "SLA report",
        &export.file_name,
        export.csv.as_bytes(),
    )?;
    Ok(path.display().to_string())
}
