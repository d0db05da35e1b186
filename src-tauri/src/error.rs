//! `IpcError`: the one error every command answers with (docs/IPC.md). The UI branches on
//! `code`, never on `message`.

use std::fmt;

use rapport_client::StoreError;
use rapport_domain::FieldError;
use serde::Serialize;
use ts_rs::TS;

/// What went wrong, as the UI branches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IpcErrorCode {
    /// The input was refused; `field` names the first refused field when there is one.
    InvalidInput,
    /// The id names no live record.
    NotFound,
    /// A write needs the local profile before it exists.
    NoProfile,
    /// The local cache failed; `message` says what the user can do.
    Storage,
    /// The central service could not be reached, or refused the request; `message` says why.
    Sync,
}

/// The error of every IPC command: `{ code, message, field }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct IpcError {
    pub code: IpcErrorCode,
    /// For the user to read; `"<field>: <reason>"` for `invalid_input`.
    pub message: String,
    /// The first refused field of an `invalid_input`; otherwise null.
    pub field: Option<String>,
}

impl IpcError {
    /// Input refused by the shell itself (e.g. a link scheme `open_external` does not open).
    pub fn invalid_input(field: &str, reason: impl fmt::Display) -> Self {
        IpcError {
            code: IpcErrorCode::InvalidInput,
            message: format!("{field}: {reason}"),
            field: Some(field.to_owned()),
        }
    }
}

impl fmt::Display for IpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IpcError {}

/// What the user reads when the cache fails; the cause goes to the log, not to the UI.
const STORAGE_ADVICE: &str = "check that the disk is not full and that the data folder is \
     writable, then try again; the details are in Rapport's log file (the logs folder inside \
     the data folder)";

/// A refused field: `invalid_input`, the message `"<field>: <reason>"`, the field named.
impl From<&FieldError> for IpcError {
    fn from(e: &FieldError) -> Self {
        IpcError::invalid_input(&e.field, &e.reason)
    }
}

impl From<FieldError> for IpcError {
    fn from(e: FieldError) -> Self {
        IpcError::from(&e)
    }
}

impl From<StoreError> for IpcError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Validation(errors) => IpcError::from(errors.first()),
            StoreError::NotFound { .. } => IpcError {
                code: IpcErrorCode::NotFound,
                message: e.to_string(),
                field: None,
            },
            StoreError::NoProfile => IpcError {
                code: IpcErrorCode::NoProfile,
                message: e.to_string(),
                field: None,
            },
            // docs/IPC.md has no code of its own for this: the request (load the demo) is
            // refused because of the cache's state, not because the disk failed.
            StoreError::NotEmpty => IpcError {
                code: IpcErrorCode::InvalidInput,
                message: e.to_string(),
                field: None,
            },
            StoreError::Database(cause) => {
                tracing::error!(error = %cause, "local cache read/write failed");
                storage(format!(
                    "The local cache could not be read or written: {STORAGE_ADVICE}."
                ))
            }
            StoreError::Migration(cause) => {
                tracing::error!(error = %cause, "local cache migration failed");
                storage(
                    "The local cache could not be upgraded; it may have been written by a newer \
                     version of Rapport: update the app, or move the data folder aside to start \
                     fresh."
                        .to_owned(),
                )
            }
            StoreError::DataDir { path, source } => {
                tracing::error!(path = %path.display(), error = %source, "data folder unusable");
                storage(format!(
                    "The data folder {} could not be created: check its permissions.",
                    path.display()
                ))
            }
        }
    }
}

fn storage(message: String) -> IpcError {
    IpcError {
        code: IpcErrorCode::Storage,
        message,
        field: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_domain::{FieldError, ValidationErrors};
    use uuid::Uuid;

    fn code_of(e: StoreError) -> (IpcErrorCode, Option<String>) {
        let ipc = IpcError::from(e);
        (ipc.code, ipc.field)
    }

    #[test]
    fn validation_names_the_first_refused_field() {
        let e = StoreError::Validation(ValidationErrors(vec![
            FieldError::new("email", "\"ana\" is not an email address: it has no @"),
            FieldError::new("time_zone", "unknown time zone \"Mars/Base\""),
        ]));
        let ipc = IpcError::from(e);
        assert_eq!(ipc.code, IpcErrorCode::InvalidInput);
        assert_eq!(
            ipc.field.as_deref(),
            Some("email"),
            "the first refused field is reported"
        );
        assert_eq!(
            ipc.message, "email: \"ana\" is not an email address: it has no @",
            "the message is `<field>: <reason>` of the first field only"
        );
    }

    #[test]
    fn each_store_error_has_its_code() {
        let id = Uuid::nil();
        assert_eq!(
            code_of(StoreError::NotFound {
                entity: "account",
                id
            }),
            (IpcErrorCode::NotFound, None)
        );
        assert_eq!(
            code_of(StoreError::NoProfile),
            (IpcErrorCode::NoProfile, None)
        );
        assert_eq!(
            code_of(StoreError::NotEmpty),
            (IpcErrorCode::InvalidInput, None)
        );
        assert_eq!(
            code_of(StoreError::Database(sqlx_error())),
            (IpcErrorCode::Storage, None),
            "SQLite failures are `storage`"
        );
        let dir = StoreError::DataDir {
            path: "/nowhere/rapport".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(code_of(dir), (IpcErrorCode::Storage, None));
        let migration = StoreError::Migration(sqlx::migrate::MigrateError::VersionMissing(1));
        assert_eq!(code_of(migration), (IpcErrorCode::Storage, None));
    }

    #[test]
    fn storage_message_is_actionable_and_hides_the_cause() {
        let ipc = IpcError::from(StoreError::Database(sqlx_error()));
        assert!(ipc.message.contains("disk is not full"), "{}", ipc.message);
        assert!(
            !ipc.message.contains("pool"),
            "internal causes stay in the log: {}",
            ipc.message
        );
    }

    #[test]
    fn serialises_as_the_contract_says() {
        let json = serde_json::to_value(IpcError::invalid_input("url", "bad")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "code": "invalid_input", "message": "url: bad", "field": "url" })
        );
        let json = serde_json::to_value(IpcError::from(StoreError::NoProfile)).unwrap();
        assert_eq!(json["code"], "no_profile");
        assert_eq!(
            json["field"],
            serde_json::Value::Null,
            "field is null, not absent"
        );
    }

    fn sqlx_error() -> sqlx::Error {
        sqlx::Error::PoolTimedOut
    }
}
