use chrono::{DateTime, Utc};
use rapport_domain::request::{
    Actor, Channel, RequestEvent, RequestEventKind, RequestStatus, Severity,
};
use rapport_domain::sync::EntityKind;
use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;
use uuid::Uuid;

use crate::entity::{Synced, found};
use crate::error::Result;
use crate::health::rescore;

use super::rows::{event_from_row, request_by_id, write_event, write_request};

// The records as they travel (wire names of `REQUEST_SYNC` / `EVENT_SYNC`).

/// A request's row and its sync record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RequestRecord {
    pub id: Uuid,
    pub account_id: Uuid,
    pub contact_id: Option<Uuid>,
    pub title: String,
    pub channel: Channel,
    pub opened_at: DateTime<Utc>,
    pub opened_by: Option<Uuid>,
    pub severity: Severity,
    pub needs_triage: bool,
    pub status: RequestStatus,
    pub thread_keys: Vec<String>,
    pub meeting_link: Option<String>,
    /// Who works it (`None`: nobody has taken it). Absent from records written before the
    /// field existed.
    #[serde(default)]
    pub assignee_id: Option<Uuid>,
}

/// One timeline entry and its sync record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EventRecord {
    pub id: Uuid,
    pub account_id: Uuid,
    pub request_id: Uuid,
    pub at: DateTime<Utc>,
    pub by: Actor,
    pub kind: RequestEventKind,
}

impl EventRecord {
    pub(super) fn event(&self) -> RequestEvent {
        RequestEvent {
            id: self.id,
            at: self.at,
            actor: self.by,
            kind: self.kind.clone(),
        }
    }
}

// The contract of both kinds (`crate::entity`).

/// A request: the open requests and SLA results of the health score are read from the
/// requests the user can see, so a write of one re-scores its account once its timeline is
/// there (the request of a new incident is written before its opening event, which
/// re-scores). Kept as a soft-deleted row when deleted.
impl Synced for RequestRecord {
    const KIND: EntityKind = EntityKind::Request;

    crate::entity::id_field!();

    async fn load(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Self>> {
        found(request_by_id(conn, id).await)
    }

    async fn save(conn: &mut SqliteConnection, r: &Self, _now: DateTime<Utc>) -> Result<()> {
        write_request(conn, r).await
    }

    async fn remove(conn: &mut SqliteConnection, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        crate::entity::soft_delete(conn, "requests", id, at).await
    }

    async fn effects(conn: &mut SqliteConnection, r: &Self, now: DateTime<Utc>) -> Result<()> {
        let has_timeline: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM request_events WHERE request_id = ?1 LIMIT 1")
                .bind(r.id.to_string())
                .fetch_optional(&mut *conn)
                .await?;
        if has_timeline.is_some() {
            rescore(conn, r.account_id, now).await?;
        }
        Ok(())
    }
}

/// A timeline entry: written once, never edited; the SLA clock and the open requests of the
/// health score are computed from them, so each re-scores its account.
impl Synced for EventRecord {
    const KIND: EntityKind = EntityKind::RequestEvent;

    crate::entity::id_field!();

    async fn load(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Self>> {
        let row = sqlx::query(
            "SELECT id, account_id, request_id, at, by, kind FROM request_events WHERE id = ?1",
        )
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
        row.as_ref().map(event_from_row).transpose()
    }

    async fn save(conn: &mut SqliteConnection, e: &Self, _now: DateTime<Utc>) -> Result<()> {
        write_event(conn, e).await
    }

    async fn remove(conn: &mut SqliteConnection, id: Uuid, _at: DateTime<Utc>) -> Result<()> {
        sqlx::query("DELETE FROM request_events WHERE id = ?1")
            .bind(id.to_string())
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn effects(conn: &mut SqliteConnection, e: &Self, now: DateTime<Utc>) -> Result<()> {
        rescore(conn, e.account_id, now).await
    }
}
