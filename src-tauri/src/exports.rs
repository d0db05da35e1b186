//! Exports: the one policy every file the desktop writes for the user goes through
//! (calendar invitations, RCA Markdown, the SLA report's CSV). A command builds the bytes
//! and a readable name; this module picks the folder, picks a free name and writes.
//!
//! - **Folder**: the user's Downloads folder (XDG `DOWNLOAD` on Linux), else `exports/`
//!   in the data folder, else the system's temporary folder; created if missing.
//! - **Name**: the caller's, e.g. `review-bondi-analytics-2026-12-01.ics`. An existing file
//!   is never overwritten: the first free of `name (2).ext`, `name (3).ext`... is taken,
//!   claimed atomically (`create_new`), so two exports at once never share a file.
//! - **Errors**: one [`ExportError`], whose message says what the user can do; the cause
//!   goes to the log. The log names the path and the size, never the content.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use rapport_client::Store;
use tauri::{AppHandle, Manager, Runtime};

use crate::error::{IpcError, IpcErrorCode};

/// How many files of one name an export tries before it gives up.
const MAX_COPIES: u32 = 999;

/// The folder exports go to: `downloads` when the system names one (an absolute path),
/// else `exports/` in the data folder, else the temporary folder.
pub fn folder(downloads: Option<PathBuf>, data_dir: Option<&Path>) -> PathBuf {
    downloads
        .filter(|d| d.is_absolute())
        .or_else(|| data_dir.map(|d| d.join("exports")))
        .unwrap_or_else(std::env::temp_dir)
}

/// Why an export was not written. Its `Display` is for the user.
#[derive(Debug)]
pub enum ExportError {
    /// The name the caller gave is not a plain file name (a bug in Rapport, not the user's).
    Name { name: String },
    /// The folder could not be created.
    Folder {
        folder: PathBuf,
        source: std::io::Error,
    },
    /// The file could not be created or written.
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Every name up to `name (999).ext` is taken.
    NoFreeName { folder: PathBuf, name: String },
}

impl ExportError {
    fn folder(&self) -> Option<&Path> {
        match self {
            ExportError::Name { .. } => None,
            ExportError::Folder { folder, .. } | ExportError::NoFreeName { folder, .. } => {
                Some(folder)
            }
            ExportError::Write { path, .. } => path.parent(),
        }
    }

    fn cause(&self) -> Option<&std::io::Error> {
        match self {
            ExportError::Folder { source, .. } | ExportError::Write { source, .. } => Some(source),
            ExportError::Name { .. } | ExportError::NoFreeName { .. } => None,
        }
    }
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Name { .. } => f.write_str(
                "The file could not be named; this is a fault in Rapport: please report it \
                 with Rapport's log file (the logs folder inside the data folder).",
            ),
            ExportError::NoFreeName { folder, name } => write!(
                f,
                "{} already holds {MAX_COPIES} files named like {name}: move or delete some \
                 of them, then export again.",
                folder.display()
            ),
            ExportError::Folder { .. } | ExportError::Write { .. } => {
                let folder = self.folder().unwrap_or(Path::new("the folder")).display();
                match self.cause().map(std::io::Error::kind) {
                    Some(std::io::ErrorKind::PermissionDenied) => write!(
                        f,
                        "Rapport may not write in {folder}: check the folder's permissions, \
                         then export again."
                    ),
                    Some(std::io::ErrorKind::StorageFull) => write!(
                        f,
                        "The disk holding {folder} is full: free some space, then export again."
                    ),
                    _ => write!(
                        f,
                        "The file could not be saved in {folder}: check that the folder is \
                         writable and the disk is not full, then export again."
                    ),
                }
            }
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExportError::Folder { source, .. } | ExportError::Write { source, .. } => Some(source),
            ExportError::Name { .. } | ExportError::NoFreeName { .. } => None,
        }
    }
}

/// The disk failed or refused: `storage`, the message the user can act on.
impl From<ExportError> for IpcError {
    fn from(e: ExportError) -> Self {
        IpcError {
            code: IpcErrorCode::Storage,
            message: e.to_string(),
            field: None,
        }
    }
}

/// The `n`-th name for `name`: `name` itself, then `stem (n).ext`.
fn numbered(name: &str, n: u32) -> String {
    if n == 1 {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && Path::new(name).file_name() == Some(std::ffi::OsStr::new(name))
}

/// Writes `bytes` into `folder` (created if needed) under `name`, or the first free
/// `name (n).ext`; never over an existing file. Answers the file's path.
pub fn write_new(folder: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ExportError> {
    if !is_plain_file_name(name) {
        return Err(ExportError::Name {
            name: name.to_owned(),
        });
    }
    std::fs::create_dir_all(folder).map_err(|source| ExportError::Folder {
        folder: folder.to_owned(),
        source,
    })?;
    for n in 1..=MAX_COPIES {
        let path = folder.join(numbered(name, n));
        let mut file = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(ExportError::Write { path, source }),
        };
        return match file.write_all(bytes).and_then(|()| file.sync_all()) {
            Ok(()) => Ok(path),
            Err(source) => {
                // No half-written export is left behind under a name the user would trust.
                drop(file);
                let _ = std::fs::remove_file(&path);
                Err(ExportError::Write { path, source })
            }
        };
    }
    Err(ExportError::NoFreeName {
        folder: folder.to_owned(),
        name: name.to_owned(),
    })
}

/// Exports `bytes` as `name` by the policy above; `what` names the kind for the log
/// ("calendar", "RCA", "SLA report"). Answers the file's path.
pub fn export<R: Runtime>(
    app: &AppHandle<R>,
    store: &Store,
    what: &str,
    name: &str,
    bytes: &[u8],
) -> Result<PathBuf, IpcError> {
    let dir = folder(
        app.path().download_dir().ok(),
        store.path().and_then(Path::parent),
    );
    match write_new(&dir, name, bytes) {
        Ok(path) => {
            tracing::info!(what, path = %path.display(), bytes = bytes.len(), "exported");
            Ok(path)
        }
        Err(e) => {
            tracing::error!(
                what,
                folder = %dir.display(),
                name,
                error = ?e.cause(),
                "export failed"
            );
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_go_to_downloads_or_else_the_data_folder() {
        assert_eq!(
            folder(Some("/home/u/Downloads".into()), Some(Path::new("/d"))),
            PathBuf::from("/home/u/Downloads")
        );
        assert_eq!(
            folder(None, Some(Path::new("/d"))),
            PathBuf::from("/d/exports")
        );
        assert_eq!(
            folder(Some("Downloads".into()), Some(Path::new("/d"))),
            PathBuf::from("/d/exports"),
            "a relative Downloads is not a folder the user can find"
        );
        assert_eq!(folder(None, None), std::env::temp_dir());
    }

    #[test]
    fn a_taken_name_gets_the_next_free_number_and_nothing_is_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_new(dir.path(), "rca-outage.md", b"one").unwrap();
        let b = write_new(dir.path(), "rca-outage.md", b"two").unwrap();
        std::fs::remove_file(&b).unwrap();
        std::fs::write(dir.path().join("rca-outage (3).md"), b"by hand").unwrap();
        let c = write_new(dir.path(), "rca-outage.md", b"three").unwrap();
        let d = write_new(dir.path(), "rca-outage.md", b"four").unwrap();
        assert_eq!(a, dir.path().join("rca-outage.md"));
        assert_eq!(b, dir.path().join("rca-outage (2).md"));
        assert_eq!(c, b, "a freed name is free again");
        assert_eq!(d, dir.path().join("rca-outage (4).md"), "(3) is the user's");
        assert_eq!(std::fs::read(&a).unwrap(), b"one", "the first file is kept");
        assert_eq!(std::fs::read(&c).unwrap(), b"three");
        assert_eq!(
            std::fs::read(dir.path().join("rca-outage (3).md")).unwrap(),
            b"by hand"
        );
        assert_eq!(std::fs::read(&d).unwrap(), b"four");
    }

    #[test]
    fn numbers_go_before_the_extension() {
        assert_eq!(numbered("week.ics", 1), "week.ics");
        assert_eq!(numbered("week.ics", 2), "week (2).ics");
        assert_eq!(numbered("sla.report.csv", 3), "sla.report (3).csv");
        assert_eq!(numbered("notes", 2), "notes (2)");
    }

    #[test]
    fn the_folder_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("data").join("exports");
        let path = write_new(&nested, "sla-report.csv", b"a,b\n").unwrap();
        assert_eq!(path, nested.join("sla-report.csv"));
        assert_eq!(std::fs::read(path).unwrap(), b"a,b\n");
    }

    #[test]
    fn a_name_that_is_not_a_plain_file_name_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["", "../x.md", "a/b.md", ".hidden", ".."] {
            let e = write_new(dir.path(), name, b"x").unwrap_err();
            assert!(matches!(e, ExportError::Name { .. }), "{name:?}: {e:?}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn every_name_taken_is_an_error_the_user_can_act_on() {
        let dir = tempfile::tempdir().unwrap();
        for n in 1..=MAX_COPIES {
            std::fs::write(dir.path().join(numbered("a.md", n)), b"").unwrap();
        }
        let e = write_new(dir.path(), "a.md", b"x").unwrap_err();
        assert!(matches!(e, ExportError::NoFreeName { .. }), "{e:?}");
        let ipc = IpcError::from(e);
        assert_eq!(ipc.code, IpcErrorCode::Storage);
        assert!(
            ipc.message.contains("move or delete some") && ipc.message.contains("a.md"),
            "{}",
            ipc.message
        );
    }

    #[test]
    fn a_folder_that_cannot_be_made_maps_to_storage_with_advice_and_no_os_text() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("Downloads");
        std::fs::write(&blocker, b"a file, not a folder").unwrap();
        let e = write_new(&blocker.join("inner"), "a.md", b"x").unwrap_err();
        assert!(matches!(e, ExportError::Folder { .. }), "{e:?}");
        let os_text = e.cause().unwrap().to_string();
        let ipc = IpcError::from(e);
        assert_eq!(ipc.code, IpcErrorCode::Storage);
        assert_eq!(ipc.field, None);
        assert!(
            ipc.message
                .contains(&blocker.join("inner").display().to_string())
                && ipc.message.contains("then export again"),
            "{}",
            ipc.message
        );
        assert!(
            !ipc.message.contains(&os_text),
            "no OS error text: {}",
            ipc.message
        );
    }
}
