//! The support mailboxes, watched over IMAP.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;

/// One mailbox's state as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct MailboxState {
    pub name: String,
    /// `starting`, `connecting`, `idle`, `importing`, `disconnected`.
    pub state: String,
    pub uid_validity: Option<i64>,
    /// The last UID imported (every message up to it is taken in).
    pub last_uid: i64,
    /// Messages taken in (requests opened, replies threaded, automatic mail skipped, errors).
    pub imported: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

pub async fn states(conn: &mut PgConnection) -> Result<Vec<MailboxState>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, state, uid_validity, last_uid, imported, last_error, last_error_at, updated_at
         FROM intake_mailboxes ORDER BY name",
    )
    .fetch_all(conn)
    .await
}
