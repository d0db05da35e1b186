//! What intake reads and writes in PostgreSQL beside the synced records: finding a
//! customer's account, the Unmatched queue, a request's timeline.

use chrono::{DateTime, Utc};
use rapport_domain::request::{Channel, RequestEvent};
use rapport_domain::triage::{SenderMatch, account_for_sender};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Incoming, Placement};

async fn accounts_with_domains(
    conn: &mut PgConnection,
) -> Result<Vec<(Uuid, Uuid, Vec<String>)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, team_id, fields->'support_email_domains' AS "domains?: Json<Value>" FROM records
           WHERE entity = 'account' AND NOT deleted"#,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let domains = r
                .domains
                .and_then(|d| serde_json::from_value::<Vec<String>>(d.0).ok())
                .unwrap_or_default();
            (r.id, r.team_id, domains)
        })
        .collect())
}

fn by_domain(sender: &str, accounts: &[(Uuid, Uuid, Vec<String>)]) -> Option<Placement> {
    let list: Vec<(Uuid, Vec<String>)> =
        accounts.iter().map(|(id, _, d)| (*id, d.clone())).collect();
    match account_for_sender(sender, &list) {
        SenderMatch::Account { account_id } => {
            accounts
                .iter()
                .find(|a| a.0 == account_id)
                .map(|a| Placement {
                    account_id,
                    team_id: a.1,
                    contact_id: None,
                })
        }
        SenderMatch::Ambiguous { .. } | SenderMatch::Unknown => None,
    }
}

/// The account of a customer: the account of a contact with this address; else the one the
/// hint names (an account id, or a support email domain); else the one whose support email
/// domains claim the address's domain. `None` when nothing matches or two accounts claim
/// the domain equally (a person decides, in the Unmatched queue).
pub async fn find_account(
    conn: &mut PgConnection,
    email: &str,
    hint: Option<&str>,
) -> Result<Option<Placement>, sqlx::Error> {
    let contact = sqlx::query!(
        "SELECT c.id AS contact_id, a.id AS account_id, a.team_id FROM records c
         JOIN records a ON a.entity = 'account' AND a.id = c.account_id AND NOT a.deleted
         WHERE c.entity = 'contact' AND NOT c.deleted AND lower(c.fields->>'email') = lower($1)
         ORDER BY c.created_at, c.id LIMIT 1",
        email.trim()
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(c) = contact {
        return Ok(Some(Placement {
            account_id: c.account_id,
            team_id: c.team_id,
            contact_id: Some(c.contact_id),
        }));
    }
    if let Some(hint) = hint.map(str::trim).filter(|h| !h.is_empty()) {
        if let Ok(id) = Uuid::parse_str(hint) {
            let team = sqlx::query_scalar!(
                "SELECT team_id FROM records WHERE entity = 'account' AND id = $1 AND NOT deleted",
                id
            )
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(team_id) = team {
                return Ok(Some(Placement {
                    account_id: id,
                    team_id,
                    contact_id: None,
                }));
            }
        } else {
            let accounts = accounts_with_domains(conn).await?;
            let domain = hint.trim_start_matches('@');
            if let Some(p) = by_domain(&format!("hint@{domain}"), &accounts) {
                return Ok(Some(p));
            }
            return Ok(by_domain(email, &accounts));
        }
    }
    let accounts = accounts_with_domains(conn).await?;
    Ok(by_domain(email, &accounts))
}

/// A request record locked for an append, with its timeline.
pub struct LockedRequest {
    pub placement: Placement,
    pub thread_keys: Vec<String>,
    pub events: Vec<RequestEvent>,
    pub contact_id: Option<Uuid>,
}

/// A timeline entry from its record's fields (what [`super::write_events`] writes).
pub(crate) fn event_of(id: Uuid, f: &Value) -> Option<RequestEvent> {
    Some(RequestEvent {
        id,
        at: serde_json::from_value(f.get("at")?.clone()).ok()?,
        actor: serde_json::from_value(f.get("by")?.clone()).ok()?,
        kind: serde_json::from_value(f.get("kind")?.clone()).ok()?,
    })
}

/// The live request `id`, locked until the transaction ends, and its timeline.
pub async fn lock_request(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<LockedRequest>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT team_id, account_id, fields AS "fields: Json<Value>" FROM records
           WHERE entity = 'request' AND id = $1 AND NOT deleted FOR UPDATE"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some((team_id, Some(account_id), fields)) =
        row.map(|r| (r.team_id, r.account_id, r.fields))
    else {
        return Ok(None);
    };
    let events = sqlx::query!(
        r#"SELECT id, fields AS "fields: Json<Value>" FROM records
           WHERE entity = 'request_event' AND account_id = $1 AND NOT deleted
             AND fields->>'request_id' = $2"#,
        account_id,
        id.to_string()
    )
    .fetch_all(&mut *conn)
    .await?;
    let contact_id = fields
        .0
        .get("contact_id")
        .and_then(|v| serde_json::from_value::<Option<Uuid>>(v.clone()).ok())
        .flatten();
    let thread_keys = fields
        .0
        .get("thread_keys")
        .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
        .unwrap_or_default();
    Ok(Some(LockedRequest {
        placement: Placement {
            account_id,
            team_id,
            contact_id,
        },
        thread_keys,
        events: events
            .iter()
            .filter_map(|e| event_of(e.id, &e.fields.0))
            .collect(),
        contact_id,
    }))
}

/// An Unmatched request.
#[derive(Debug, Clone)]
pub struct Unmatched {
    pub id: Uuid,
    pub channel: Channel,
    pub title: String,
    pub thread_keys: Vec<String>,
    pub events: Vec<RequestEvent>,
}

pub async fn insert_unmatched(
    conn: &mut PgConnection,
    id: Uuid,
    inc: &Incoming,
    events: &[RequestEvent],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO intake_unmatched (id, channel, customer_email, customer_name, account_hint,
           title, severity, needs_triage, opened_at, thread_keys, events, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        id,
        channel_str(inc.channel),
        inc.sender_email,
        inc.sender_name.as_deref(),
        inc.account_hint.as_deref(),
        inc.title,
        inc.severity.as_str(),
        inc.needs_triage,
        inc.at,
        Json(&inc.thread_keys) as _,
        Json(events) as _,
        now
    )
    .execute(&mut *conn)
    .await?;
    index_threads(conn, id, &inc.thread_keys).await
}

/// Files the Unmatched request `id` under its thread keys, so a reply finds it.
async fn index_threads(
    conn: &mut PgConnection,
    id: Uuid,
    thread_keys: &[String],
) -> Result<(), sqlx::Error> {
    for k in thread_keys {
        sqlx::query!(
            "INSERT INTO intake_unmatched_threads (message_id, unmatched_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
            k,
            id
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn channel_str(c: Channel) -> &'static str {
    match c {
        Channel::Chat => "chat",
        Channel::Email => "email",
    }
}

/// The waiting (not yet assigned) Unmatched request `id`, locked.
pub async fn lock_unmatched(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Unmatched>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id, channel, title, thread_keys AS "thread_keys: Json<Vec<String>>",
                  events AS "events: Json<Vec<RequestEvent>>"
           FROM intake_unmatched WHERE id = $1 AND assigned_at IS NULL FOR UPDATE"#,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Unmatched {
        id: r.id,
        channel: if r.channel == "chat" {
            Channel::Chat
        } else {
            Channel::Email
        },
        title: r.title,
        thread_keys: r.thread_keys.0,
        events: r.events.0,
    }))
}

pub async fn update_unmatched(conn: &mut PgConnection, u: &Unmatched) -> Result<(), sqlx::Error> {
    let summary = rapport_domain::request::RequestHistory::new(u.events.clone())
        .ok()
        .map(|h| h.summary());
    sqlx::query!(
        "UPDATE intake_unmatched SET events = $2, thread_keys = $3,
           severity = coalesce($4, severity), needs_triage = coalesce($5, needs_triage)
         WHERE id = $1",
        u.id,
        Json(&u.events) as _,
        Json(&u.thread_keys) as _,
        summary.as_ref().map(|s| s.severity.as_str()),
        summary.as_ref().map(|s| s.needs_triage)
    )
    .execute(&mut *conn)
    .await?;
    index_threads(conn, u.id, &u.thread_keys).await
}

pub async fn mark_assigned(
    conn: &mut PgConnection,
    id: Uuid,
    account_id: Uuid,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE intake_unmatched SET assigned_at = $2, assigned_by = $3, assigned_account = $4
         WHERE id = $1",
        id,
        now,
        by,
        account_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An Unmatched request as support leads see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, ToSchema)]
pub struct UnmatchedItem {
    pub id: Uuid,
    /// `chat` or `email`.
    pub channel: String,
    pub customer_email: String,
    pub customer_name: Option<String>,
    pub account_hint: Option<String>,
    pub title: String,
    /// `p1`..`p4`.
    pub severity: String,
    pub needs_triage: bool,
    /// When the customer wrote: the SLA clock runs from here once assigned.
    pub opened_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// How many timeline entries wait with it.
    pub entries: i64,
}

/// The Unmatched requests still waiting, most severe first, then oldest first.
pub async fn list_unmatched(conn: &mut PgConnection) -> Result<Vec<UnmatchedItem>, sqlx::Error> {
    sqlx::query_as!(
        UnmatchedItem,
        r#"SELECT id, channel, customer_email, customer_name, account_hint, title, severity,
                  needs_triage, opened_at, received_at,
                  jsonb_array_length(events)::bigint AS "entries!"
           FROM intake_unmatched WHERE assigned_at IS NULL ORDER BY severity, opened_at, id"#,
    )
    .fetch_all(conn)
    .await
}

/// An open request of a possible thread: (id, account, opened_at, title, thread keys).
pub type ThreadRow = (Uuid, Uuid, DateTime<Utc>, String, Vec<String>);

/// The open requests of `account_id` an email may continue.
pub async fn open_requests_of(
    conn: &mut PgConnection,
    account_id: Uuid,
) -> Result<Vec<ThreadRow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id, fields AS "fields: Json<Value>" FROM records
           WHERE entity = 'request' AND account_id = $1 AND NOT deleted
             AND fields->>'status' IN ('open', 'acknowledged', 'mitigated')"#,
        account_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let (id, f) = (r.id, r.fields.0);
            Some((
                id,
                account_id,
                serde_json::from_value(f.get("opened_at")?.clone()).ok()?,
                f.get("title")?.as_str()?.to_owned(),
                serde_json::from_value(f.get("thread_keys")?.clone()).unwrap_or_default(),
            ))
        })
        .collect())
}

/// The request (a record, or a still-waiting Unmatched one) an email with these referenced
/// Message-IDs continues, found through the Unmatched queue's Message-IDs.
pub async fn unmatched_thread(
    conn: &mut PgConnection,
    referenced: &[String],
) -> Result<Option<Uuid>, sqlx::Error> {
    if referenced.is_empty() {
        return Ok(None);
    }
    sqlx::query_scalar!(
        "SELECT t.unmatched_id FROM intake_unmatched_threads t
         JOIN intake_unmatched u ON u.id = t.unmatched_id
         WHERE t.message_id = ANY($1) ORDER BY u.opened_at DESC LIMIT 1",
        referenced
    )
    .fetch_optional(conn)
    .await
}

/// A message intake could not take in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, ToSchema)]
pub struct IntakeErrorRow {
    pub id: Uuid,
    /// The mailbox's name (or `chat`).
    pub source: String,
    pub uid: Option<i64>,
    pub message_id: Option<String>,
    pub reason: String,
    pub at: DateTime<Utc>,
    /// Size of the raw message kept with it.
    pub raw_bytes: Option<i64>,
}

pub async fn record_error(
    conn: &mut PgConnection,
    source: &str,
    uid: Option<i64>,
    message_id: Option<&str>,
    reason: &str,
    raw: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO intake_errors (id, source, uid, message_id, reason, raw, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        id,
        source,
        uid,
        message_id,
        reason,
        raw,
        now
    )
    .execute(conn)
    .await?;
    tracing::warn!(%id, source, uid, reason, "intake error recorded");
    Ok(id)
}

/// The latest intake errors, newest first.
pub async fn list_errors(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<IntakeErrorRow>, sqlx::Error> {
    sqlx::query_as!(
        IntakeErrorRow,
        r#"SELECT id, source, uid, message_id, reason, at,
                  octet_length(raw)::bigint AS "raw_bytes?"
           FROM intake_errors ORDER BY at DESC, id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The key a mailbox remembers a message by across UIDVALIDITY changes: its Message-ID, or
/// when it has none a SHA-256 of the message as the IMAP server holds it.
pub fn mailbox_message_key(message_id: Option<&str>, raw: &[u8]) -> String {
    match message_id.map(str::trim).filter(|id| !id.is_empty()) {
        Some(id) => format!("message-id:{id}"),
        None => {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(raw);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            format!("sha256:{hex}")
        }
    }
}

/// Records that mailbox `mailbox` took in the message with `key` (as UID `uid` of
/// `uid_validity`): `false` when it had taken it in already, under any UIDVALIDITY.
pub async fn remember_mailbox_message(
    conn: &mut PgConnection,
    mailbox: &str,
    key: &str,
    uid_validity: i64,
    uid: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "INSERT INTO intake_mailbox_messages (mailbox, dedupe_key, uid_validity, uid, taken_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        mailbox,
        key,
        uid_validity,
        uid,
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
