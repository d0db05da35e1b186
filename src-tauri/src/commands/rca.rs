//! Root-cause analyses: open (pre-filled), edit, move through review, export as Markdown.

use std::path::PathBuf;

use chrono::Utc;
use rapport_client::Store;
use rapport_client::rca::{RcaInput, RcaView};
use rapport_domain::rca::RcaState;
use tauri::{AppHandle, Manager, Runtime, State};

use super::parse_id;
use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%request_id))]
pub async fn rca_open(store: State<'_, Store>, request_id: String) -> Result<RcaView, IpcError> {
    Ok(store.rca_open(parse_id(&request_id)?, Utc::now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn rca_get(store: State<'_, Store>, id: String) -> Result<RcaView, IpcError> {
    Ok(store.rca_get(parse_id(&id)?).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn rca_save(
    store: State<'_, Store>,
    id: String,
    input: RcaInput,
) -> Result<RcaView, IpcError> {
    Ok(store.rca_save(parse_id(&id)?, input, Utc::now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id, state = state.as_str()))]
pub async fn rca_set_state(
    store: State<'_, Store>,
    id: String,
    state: RcaState,
) -> Result<RcaView, IpcError> {
    Ok(store
        .rca_set_state(parse_id(&id)?, state, Utc::now())
        .await?)
}

/// Writes the RCA as Markdown into the Downloads folder (or `exports` in the data folder
/// when the system has none) and answers the file's path. An existing file is never
/// overwritten: `-2`, `-3`... is added to the name.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"), fields(%id))]
pub async fn rca_export<R: Runtime>(
    app: AppHandle<R>,
    store: State<'_, Store>,
    id: String,
) -> Result<String, IpcError> {
    let export = store.rca_export(parse_id(&id)?).await?;
    let path = export_file(&app, &store, &export.file_name, export.markdown.as_bytes())?;
    tracing::info!(path = %path.display(), "RCA exported");
    Ok(path.display().to_string())
}

/// Writes an export into the Downloads folder (or `exports` in the data folder when the
/// system has none), never over an existing file.
pub(crate) fn export_file<R: Runtime>(
    app: &AppHandle<R>,
    store: &Store,
    name: &str,
    bytes: &[u8],
) -> Result<PathBuf, IpcError> {
    let folder = app
        .path()
        .download_dir()
        .ok()
        .filter(|d| d.is_dir())
        .or_else(|| {
            store
                .path()
                .and_then(|p| p.parent())
                .map(|d| d.join("exports"))
        })
        .ok_or_else(|| IpcError::invalid_input("folder", "no folder to export into"))?;
    write_new(&folder, name, bytes).map_err(|e| {
        tracing::error!(error = %e, folder = %folder.display(), "export failed");
        IpcError::invalid_input(
            "folder",
            format!(
                "the file could not be written in {} ({e})",
                folder.display()
            ),
        )
    })
}

fn write_new(folder: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(folder)?;
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, "md"));
    for n in 1..1000 {
        let file = if n == 1 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem}-{n}.{ext}")
        };
        let path = folder.join(file);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(bytes)?;
                f.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many files of that name"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_export_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let a = super::write_new(dir.path(), "rca.md", b"one").unwrap();
        let b = super::write_new(dir.path(), "rca.md", b"two").unwrap();
        assert_ne!(a, b);
        assert!(b.ends_with("rca-2.md"));
        assert_eq!(std::fs::read(a).unwrap(), b"one", "the first file is kept");
    }
}
