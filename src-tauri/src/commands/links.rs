//! `open_external`: links from notes and account pages open in the system browser (or mail
//! client), never inside the app window. Which links qualify is
//! `rapport_domain::links::check_external_link` (http, https and mailto only).

use rapport_domain::links::check_external_link;
use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;

use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub fn open_external<R: Runtime>(app: AppHandle<R>, url: String) -> Result<(), IpcError> {
    let url = check_external_link("url", &url).map_err(IpcError::from)?;
    tracing::info!(
        scheme = url.scheme(),
        "opening a link in the system browser"
    );
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| {
            tracing::error!(error = %e, "the system could not open a link");
            IpcError::invalid_input("url", "the system has no program to open this link")
        })
}
