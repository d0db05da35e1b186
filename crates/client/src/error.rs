//! `StoreError`: what can go wrong reading or writing the local cache, said so that a user
//! (or the shell mapping it to an IPC error code) can act on it.

use rapport_domain::ValidationErrors;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The input was refused; nothing was saved. Each error names the field.
    #[error("{0}")]
    Validation(#[from] ValidationErrors),

    /// The id names no live record (it never existed here, or it was deleted).
    #[error("no {entity} with id {id} (it may have been deleted)")]
    NotFound { entity: &'static str, id: Uuid },

    /// A write that needs the local profile was attempted before the profile exists.
    #[error("create your profile first (who you are) before making changes")]
    NoProfile,

    /// The demo workspace can only be loaded into an empty cache.
    #[error(
        "the demo workspace can only be loaded into an empty cache; this one already holds data \
         (start with a new data folder to try the demo)"
    )]
    NotEmpty,

    /// SQLite failed.
    #[error(
        "the local cache could not be read or written ({0}); check that the disk is not full \
         and that the data folder is writable, then try again"
    )]
    Database(#[from] sqlx::Error),

    /// The cache's schema could not be brought up to date.
    #[error(
        "the local cache could not be upgraded ({0}); it may have been written by a newer \
         version of Rapport: update the app, or move the data folder aside to start fresh"
    )]
    Migration(#[from] sqlx::migrate::MigrateError),

    /// The data folder could not be created.
    #[error("the data folder {path} could not be created ({source}); check its permissions")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl StoreError {
    /// The first refused field, for an `invalid_input` answer.
    pub fn field(&self) -> Option<&str> {
        match self {
            StoreError::Validation(e) => Some(e.first().field.as_str()),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        StoreError::Validation(ValidationErrors(vec![rapport_domain::FieldError::new(
            field, reason,
        )]))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
