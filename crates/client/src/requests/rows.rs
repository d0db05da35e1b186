use rapport_domain::links::LinkPolicy;
use rapport_domain::rca::RcaState;
use rapport_domain::request::{Channel, RequestHistory, RequestStatus, Severity};
use rapport_domain::sla::SlaAlert;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::store::{fmt_time, json_col, one_by_id, opt_uuid_col, time_col, to_json, uuid_col};

use super::views::CallSettings;
use super::wire::{EventRecord, RequestRecord};

pub(crate) async fn write_request(conn: &mut SqliteConnection, r: &RequestRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO requests (id, account_id, contact_id, title, channel, opened_at, opened_by, \
         severity, needs_triage, status, thread_keys, meeting_link, assignee_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
         ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, \
         contact_id = excluded.contact_id, title = excluded.title, channel = excluded.channel, \
         opened_at = excluded.opened_at, opened_by = excluded.opened_by, \
         severity = excluded.severity, needs_triage = excluded.needs_triage, \
         status = excluded.status, thread_keys = excluded.thread_keys, \
         meeting_link = excluded.meeting_link, assignee_id = excluded.assignee_id, \
         deleted_at = NULL",
    )
    .bind(r.id.to_string())
    .bind(r.account_id.to_string())
    .bind(r.contact_id.map(|c| c.to_string()))
    .bind(&r.title)
    .bind(channel_str(r.channel))
    .bind(fmt_time(r.opened_at))
    .bind(r.opened_by.map(|u| u.to_string()))
    .bind(r.severity.as_str())
    .bind(r.needs_triage)
    .bind(r.status.as_str())
    .bind(to_json(&r.thread_keys))
    .bind(r.meeting_link.as_deref())
    .bind(r.assignee_id.map(|u| u.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn write_event(conn: &mut SqliteConnection, e: &EventRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO request_events (id, account_id, request_id, at, by, kind) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, \
         request_id = excluded.request_id, at = excluded.at, by = excluded.by, \
         kind = excluded.kind",
    )
    .bind(e.id.to_string())
    .bind(e.account_id.to_string())
    .bind(e.request_id.to_string())
    .bind(fmt_time(e.at))
    .bind(to_json(&e.by))
    .bind(to_json(&e.kind))
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) fn channel_str(c: Channel) -> &'static str {
    match c {
        Channel::Chat => "chat",
        Channel::Email => "email",
    }
}

pub(super) const REQUEST_COLUMNS: &str = "r.id, r.account_id, r.contact_id, r.title, r.channel, \
    r.opened_at, r.opened_by, r.severity, r.needs_triage, r.status, r.thread_keys, \
    r.meeting_link, r.assignee_id";

pub(super) fn request_from_row(row: &SqliteRow) -> Result<RequestRecord> {
    let channel: String = row.try_get("channel")?;
    let severity: String = row.try_get("severity")?;
    let status: String = row.try_get("status")?;
    Ok(RequestRecord {
        id: uuid_col(row, "id")?,
        account_id: uuid_col(row, "account_id")?,
        contact_id: opt_uuid_col(row, "contact_id")?,
        title: row.try_get("title")?,
        channel: match channel.as_str() {
            "email" => Channel::Email,
            "chat" => Channel::Chat,
            _ => return Err(bad_col("channel", &channel)),
        },
        opened_at: time_col(row, "opened_at")?,
        opened_by: opt_uuid_col(row, "opened_by")?,
        severity: Severity::parse(&severity).ok_or_else(|| bad_col("severity", &severity))?,
        needs_triage: row.try_get("needs_triage")?,
        status: RequestStatus::parse(&status).ok_or_else(|| bad_col("status", &status))?,
        thread_keys: json_col(row, "thread_keys")?,
        meeting_link: row.try_get("meeting_link")?,
        assignee_id: opt_uuid_col(row, "assignee_id")?,
    })
}

/// A stored value this version does not know (the schema's CHECKs make it unlikely).
pub(super) fn bad_col(col: &str, value: &str) -> StoreError {
    StoreError::Database(sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: format!("unexpected value {value:?}").into(),
    })
}

pub(super) fn event_from_row(row: &SqliteRow) -> Result<EventRecord> {
    Ok(EventRecord {
        id: uuid_col(row, "id")?,
        account_id: uuid_col(row, "account_id")?,
        request_id: uuid_col(row, "request_id")?,
        at: time_col(row, "at")?,
        by: json_col(row, "by")?,
        kind: json_col(row, "kind")?,
    })
}

pub(crate) async fn request_by_id(conn: &mut SqliteConnection, id: Uuid) -> Result<RequestRecord> {
    one_by_id(
        conn,
        format!(
            "SELECT {REQUEST_COLUMNS} FROM requests r WHERE r.id = ?1 AND r.deleted_at IS NULL"
        ),
        id,
        "request",
        request_from_row,
    )
    .await
}

/// The request as the user can see it: like [`request_by_id`], but "not found" while its
/// opening event has not arrived (a pull cut off between a request and its timeline), as
/// [`Store::request_get`] and the lists show it. A write needs a request the user can see.
pub(super) async fn shown_request(conn: &mut SqliteConnection, id: Uuid) -> Result<RequestRecord> {
    let r = request_by_id(&mut *conn, id).await?;
    if history_of(&mut *conn, id).await.is_err() {
        return Err(StoreError::NotFound {
            entity: "request",
            id,
        });
    }
    Ok(r)
}

pub(super) async fn events_of(
    conn: &mut SqliteConnection,
    request_id: Uuid,
) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query(
        "SELECT id, account_id, request_id, at, by, kind FROM request_events \
         WHERE request_id = ?1 ORDER BY at, seq",
    )
    .bind(request_id.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(event_from_row).collect()
}

pub(crate) async fn history_of(
    conn: &mut SqliteConnection,
    request_id: Uuid,
) -> Result<(Vec<EventRecord>, RequestHistory)> {
    let events = events_of(conn, request_id).await?;
    let history = RequestHistory::new(events.iter().map(EventRecord::event).collect())
        .map_err(|e| StoreError::invalid("request", format!("the timeline is incomplete: {e}")))?;
    Ok((events, history))
}

pub(super) fn alert_str(a: SlaAlert) -> &'static str {
    match a {
        SlaAlert::Urgent => "urgent",
        SlaAlert::AtRisk => "at_risk",
        SlaAlert::Breached => "breached",
    }
}

pub(super) fn rca_state_parse(s: &str) -> Option<RcaState> {
    match s {
        "draft" => Some(RcaState::Draft),
        "in_review" => Some(RcaState::InReview),
        "published" => Some(RcaState::Published),
        _ => None,
    }
}

pub(super) async fn call_settings(conn: &mut SqliteConnection) -> Result<CallSettings> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM call_settings")
        .fetch_all(conn)
        .await?;
    let mut s = CallSettings {
        meeting_link: None,
        allowed_hosts: LinkPolicy::default().allowed_hosts,
    };
    for (k, v) in rows {
        match k.as_str() {
            "meeting_link" => s.meeting_link = serde_json::from_str(&v).unwrap_or(None),
            "allowed_hosts" => {
                if let Ok(h) = serde_json::from_str(&v) {
                    s.allowed_hosts = h;
                }
            }
            _ => {}
        }
    }
    Ok(s)
}
