//! The IPC commands of docs/IPC.md, one file per area. Each takes the state, calls
//! rapport-client with the current time, and maps the error; no rules live here.
//!
//! Ids arrive as strings (`id: string` in docs/IPC.md) and are parsed here, so a malformed
//! id answers `not_found` like any other id that names no record, rather than a
//! deserialisation error the UI could not branch on.

pub mod accounts;
pub mod contacts;
pub mod demo;
pub mod intake;
pub mod links;
pub mod notes;
pub mod onboarding;
pub mod oncall;
pub mod perf;
pub mod profile;
pub mod rca;
pub mod reports;
pub mod requests;
pub mod reviews;
pub mod search;
pub mod status;
pub mod sync;
pub mod today;

use uuid::Uuid;

use crate::error::{IpcError, IpcErrorCode};

/// The id the UI sent, or `not_found` when it is not one.
pub(crate) fn parse_id(raw: &str) -> Result<Uuid, IpcError> {
    Uuid::parse_str(raw).map_err(|_| IpcError {
        code: IpcErrorCode::NotFound,
        message: format!("no record has the id {raw:?}"),
        field: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_ids_are_not_found() {
        let e = parse_id("not-a-uuid").unwrap_err();
        assert_eq!(e.code, IpcErrorCode::NotFound);
        assert_eq!(e.field, None);
        let id = Uuid::now_v7();
        assert_eq!(
            parse_id(&id.to_string()).unwrap(),
            id,
            "a real id parses back"
        );
    }
}
