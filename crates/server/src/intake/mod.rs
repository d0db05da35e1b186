//! Intake: requests that arrive by themselves. The vendor's chat backend calls a signed API
//! ([`routes`], [`keys`]). It ends here, in [`open`] and [`append`], which write ordinary synced records (a `request` and its
//! `request_event`s, through [`crate::db::sync::write_intake_record`]) so desktops receive
//! them by pull and event stream like any other change, or park the request in the
//! Unmatched queue when the customer is not recognised.

pub mod cli;
pub mod email;
pub mod keys;
pub mod mailbox;
pub mod routes;
pub mod store;
pub mod tls;

use chrono::{DateTime, Utc};
use rapport_domain::request::{
    Actor, Channel, NewRequestInput, RequestEvent, RequestEventKind, RequestHistory, Severity,
};
use rapport_domain::sync::{EntityKind, Rejection};
use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::sync::write_intake_record;

/// Where a customer's request belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub account_id: Uuid,
    pub team_id: Uuid,
    /// The contact whose address wrote, when the account has one.
    pub contact_id: Option<Uuid>,
}

/// A new request as a channel brings it in.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub channel: Channel,
    pub sender_email: String,
    pub sender_name: Option<String>,
    pub account_hint: Option<String>,
    pub severity: Severity,
    pub needs_triage: bool,
    pub title: String,
    pub text: String,
    /// When the customer wrote (chat: `sent_at`; mail: IMAP INTERNALDATE).
    pub at: DateTime<Utc>,
    /// Message-IDs of the email (empty for a chat).
    pub thread_keys: Vec<String>,
}

/// Where [`open`] put a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    Account(Placement),
    Unmatched,
}

/// What intake could not write: a record the entity's own rules refused. Logged and kept
/// as an intake error; never retried.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("{0}")]
    Db(#[from] sqlx::Error),
    #[error("refused by the record rules: {}", .0.message)]
    Refused(Rejection),
}

/// The object `v` is (a `json!` object), as a record's fields.
pub(crate) fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn event_fields(account_id: Uuid, request_id: Uuid, e: &RequestEvent) -> Map<String, Value> {
    obj(json!({
        "account_id": account_id,
        "request_id": request_id,
        "at": e.at,
        "by": e.actor,
        "kind": e.kind,
    }))
}

/// Writes one synced record of `p`'s account through the service's write plan; on call's
/// acknowledgements write through here too.
pub(crate) async fn write(
    conn: &mut PgConnection,
    entity: EntityKind,
    id: Uuid,
    p: Placement,
    set: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<(), IntakeError> {
    write_intake_record(conn, entity, id, p.team_id, p.account_id, set, now)
        .await?
        .map_err(IntakeError::Refused)
}

/// Writes timeline entries of request `request_id` as synced records of `p`'s account.
pub(crate) async fn write_events(
    conn: &mut PgConnection,
    p: Placement,
    request_id: Uuid,
    events: &[RequestEvent],
    now: DateTime<Utc>,
) -> Result<(), IntakeError> {
    for e in events {
        let fields = event_fields(p.account_id, request_id, e);
        write(conn, EntityKind::RequestEvent, e.id, p, &fields, now).await?;
    }
    Ok(())
}

/// The opening events of a request: `opened`, then the customer's text, both at `at`.
pub fn opening_events(inc: &Incoming, contact_id: Option<Uuid>) -> Vec<RequestEvent> {
    NewRequestInput {
        account_id: Uuid::nil(),
        contact_id,
        channel: inc.channel,
        severity: inc.severity,
        needs_triage: inc.needs_triage,
        title: inc.title.clone(),
        details: inc.text.clone(),
    }
    .opening_events([Uuid::now_v7(), Uuid::now_v7()], inc.at)
}

/// What a request record says beside what its timeline computes.
pub struct Head<'a> {
    pub title: &'a str,
    pub channel: Channel,
    pub thread_keys: &'a [String],
}

/// Writes a request with its timeline as synced records of `p`'s account.
pub async fn write_request(
    conn: &mut PgConnection,
    id: Uuid,
    p: Placement,
    head: &Head<'_>,
    events: &[RequestEvent],
    now: DateTime<Utc>,
) -> Result<(), IntakeError> {
    let Head {
        title,
        channel,
        thread_keys,
    } = *head;
    let history = RequestHistory::new(events.to_vec()).map_err(|e| {
        IntakeError::Refused(Rejection::new(
            rapport_domain::sync::RejectCode::InvalidField,
            e.to_string(),
        ))
    })?;
    let s = history.summary();
    let fields = obj(json!({
        "contact_id": p.contact_id,
        "title": title,
        "channel": channel,
        "opened_at": history.opened_at(),
        "opened_by": null,
        "severity": s.severity,
        "needs_triage": s.needs_triage,
        "status": s.status,
        "thread_keys": thread_keys,
        "meeting_link": null,
    }));
    write(conn, EntityKind::Request, id, p, &fields, now).await?;
    write_events(conn, p, id, events, now).await
}

/// Opens request `id` for `inc`: in its account when [`store::find_account`] recognises the
/// customer, else in the Unmatched queue.
pub async fn open(
    conn: &mut PgConnection,
    id: Uuid,
    inc: &Incoming,
    now: DateTime<Utc>,
) -> Result<Opened, IntakeError> {
    let placement =
        store::find_account(conn, &inc.sender_email, inc.account_hint.as_deref()).await?;
    match placement {
        Some(p) => {
            let events = opening_events(inc, p.contact_id);
            let head = Head {
                title: &inc.title,
                channel: inc.channel,
                thread_keys: &inc.thread_keys,
            };
            write_request(conn, id, p, &head, &events, now).await?;
            tracing::info!(%id, severity = inc.severity.as_str(), account = %p.account_id, "intake opened a request");
            Ok(Opened::Account(p))
        }
        None => {
            let events = opening_events(inc, None);
            store::insert_unmatched(conn, id, inc, &events, now).await?;
            tracing::info!(%id, severity = inc.severity.as_str(), "intake request waits in Unmatched");
            Ok(Opened::Unmatched)
        }
    }
}

/// What a further message adds to a request.
#[derive(Debug, Clone)]
pub struct Addition {
    pub text: String,
    pub at: DateTime<Utc>,
    /// An urgent email: raise to P1 and back to triage ([`rapport_domain::triage::escalation_events`]).
    pub urgent: bool,
    /// The email's Message-ID, kept for threading later replies.
    pub thread_key: Option<String>,
    /// The event's id (a chat message's is recorded for idempotency).
    pub event_id: Uuid,
}

/// What [`append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub escalated: bool,
}

fn new_events(
    history: &RequestHistory,
    contact_id: Option<Uuid>,
    add: &Addition,
) -> Vec<RequestEvent> {
    let mut out = vec![RequestEvent {
        id: add.event_id,
        at: add.at,
        actor: Actor::Customer { contact_id },
        kind: RequestEventKind::Update {
            text: add.text.clone(),
        },
    }];
    let summary = history.summary();
    if add.urgent && summary.status.is_active() {
        for kind in rapport_domain::triage::escalation_events(&summary) {
            out.push(RequestEvent {
                id: Uuid::now_v7(),
                at: add.at,
                actor: Actor::System,
                kind,
            });
        }
    }
    out
}

/// Adds a customer's message to request `request_id` (a record, or an Unmatched one).
/// `None` when there is no such request.
pub async fn append(
    conn: &mut PgConnection,
    request_id: Uuid,
    add: &Addition,
    now: DateTime<Utc>,
) -> Result<Option<Appended>, IntakeError> {
    if let Some(req) = store::lock_request(conn, request_id).await? {
        let history = RequestHistory::new(req.events.clone()).map_err(|e| {
            IntakeError::Refused(Rejection::new(
                rapport_domain::sync::RejectCode::InvalidField,
                e.to_string(),
            ))
        })?;
        let events = new_events(&history, req.contact_id, add);
        let escalated = events.len() > 1;
        let mut all = req.events.clone();
        all.extend(events.iter().cloned());
        let after = RequestHistory::new(all)
            .map_err(|e| {
                IntakeError::Refused(Rejection::new(
                    rapport_domain::sync::RejectCode::InvalidField,
                    e.to_string(),
                ))
            })?
            .summary();
        let p = req.placement;
        write_events(conn, p, request_id, &events, now).await?;
        let mut keys = req.thread_keys.clone();
        if let Some(k) = &add.thread_key
            && !keys.contains(k)
        {
            keys.push(k.clone());
        }
        let set = obj(json!({
            "severity": after.severity,
            "needs_triage": after.needs_triage,
            "thread_keys": keys,
        }));
        write(conn, EntityKind::Request, request_id, p, &set, now).await?;
        return Ok(Some(Appended { escalated }));
    }
    if let Some(mut u) = store::lock_unmatched(conn, request_id).await? {
        let history = RequestHistory::new(u.events.clone()).map_err(|e| {
            IntakeError::Refused(Rejection::new(
                rapport_domain::sync::RejectCode::InvalidField,
                e.to_string(),
            ))
        })?;
        let events = new_events(&history, None, add);
        let escalated = events.len() > 1;
        u.events.extend(events);
        if let Some(k) = &add.thread_key
            && !u.thread_keys.contains(k)
        {
            u.thread_keys.push(k.clone());
        }
        store::update_unmatched(conn, &u).await?;
        return Ok(Some(Appended { escalated }));
    }
    Ok(None)
}

/// Gives a waiting Unmatched request its account: it becomes a synced request of that
/// account's team, with its whole timeline. `by` is the support lead who decided (none
/// from the admin CLI, which runs on the server itself).
pub async fn assign(
    conn: &mut PgConnection,
    unmatched_id: Uuid,
    p: Placement,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<()>, IntakeError> {
    let Some(u) = store::lock_unmatched(conn, unmatched_id).await? else {
        return Ok(None);
    };
    let head = Head {
        title: &u.title,
        channel: u.channel,
        thread_keys: &u.thread_keys,
    };
    write_request(conn, unmatched_id, p, &head, &u.events, now).await?;
    store::mark_assigned(conn, unmatched_id, p.account_id, by, now).await?;
    Ok(Some(()))
}
