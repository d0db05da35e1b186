//! Urgent requests and incidents: intake (chat and `.eml`), the timeline, status and
//! severity, the incident call, the live board and the desktop alerts.
//!
//! A request is its event history (`rapport_domain::request`): every action appends one
//! event. The `requests` row keeps what lists filter on (severity, status, triage, the
//! call link, the thread's Message-IDs) and travels as its own record, so the central
//! service can judge a severity change by role. The SLA clock is never stored: it is
//! computed from the events each time (`rapport_domain::sla::clock`).
//!
//! One user action may write two records (the request and its new event), each through
//! [`record`] with its one outbox mutation, in one transaction: both or neither. Both kinds
//! keep the [`Synced`] contract here.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rapport_domain::links::{LinkPolicy, check_meeting_link, jitsi_room_url};
use rapport_domain::rca::{RcaState, rca_due};
use rapport_domain::request::{
    Actor, Channel, NewRequestInput, RequestEvent, RequestEventKind, RequestHistory, RequestStatus,
    RequestSummary, Severity, Visibility, check_severity_change, check_status_transition,
    check_triage_confirmation,
};
use rapport_domain::sla::{self, SlaAlert, SlaClock};
use rapport_domain::sync::EntityKind;
use rapport_domain::triage::{
    IncomingEmail, SenderMatch, ThreadCandidate, ThreadMatch, account_for_sender,
    escalation_events, find_thread, initial_triage, title_from_subject,
};
use rapport_domain::{Plan, Role};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::accounts::{account_by_id, user_by_id};
use crate::entity::{Synced, found, record};
use crate::error::{Result, StoreError};
use crate::health::rescore;
use crate::store::{
    Store, fmt_time, json_col, one_by_id, opt_uuid_col, plan_col, stamp, time_col, to_json,
    uuid_col,
};

// ---------------------------------------------------------------------------------------
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
    fn event(&self) -> RequestEvent {
        RequestEvent {
            id: self.id,
            at: self.at,
            actor: self.by,
            kind: self.kind.clone(),
        }
    }
}

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

fn channel_str(c: Channel) -> &'static str {
    match c {
        Channel::Chat => "chat",
        Channel::Email => "email",
    }
}

const REQUEST_COLUMNS: &str = "r.id, r.account_id, r.contact_id, r.title, r.channel, \
    r.opened_at, r.opened_by, r.severity, r.needs_triage, r.status, r.thread_keys, \
    r.meeting_link, r.assignee_id";

fn request_from_row(row: &SqliteRow) -> Result<RequestRecord> {
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
fn bad_col(col: &str, value: &str) -> StoreError {
    StoreError::Database(sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: format!("unexpected value {value:?}").into(),
    })
}

fn event_from_row(row: &SqliteRow) -> Result<EventRecord> {
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
async fn shown_request(conn: &mut SqliteConnection, id: Uuid) -> Result<RequestRecord> {
    let r = request_by_id(&mut *conn, id).await?;
    if history_of(&mut *conn, id).await.is_err() {
        return Err(StoreError::NotFound {
            entity: "request",
            id,
        });
    }
    Ok(r)
}

async fn events_of(conn: &mut SqliteConnection, request_id: Uuid) -> Result<Vec<EventRecord>> {
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

// ---------------------------------------------------------------------------------------
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
        sqlx::query("UPDATE requests SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL")
            .bind(id.to_string())
            .bind(fmt_time(at))
            .execute(conn)
            .await?;
        Ok(())
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

// ---------------------------------------------------------------------------------------
// Views (docs/IPC.md).

/// One request on the live board, Today's urgent section, or an account page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub account_name: String,
    pub plan: Plan,
    pub title: String,
    pub channel: Channel,
    pub severity: Severity,
    pub status: RequestStatus,
    pub needs_triage: bool,
    /// The SLA clock at the moment of the query; the UI ticks it itself from its
    /// `at_risk_at` and `due_at` (the domain's instants) until the next query.
    pub clock: SlaClock,
    pub rca_state: Option<RcaState>,
    /// Resolved P1/P2 whose RCA is not published yet.
    pub rca_due: bool,
    /// Who works it; `None`: nobody has taken it.
    pub assignee_id: Option<Uuid>,
    /// The assignee's name ("A colleague" when their profile has not synced yet).
    pub assignee_name: Option<String>,
}

/// The live board: open requests by time to breach, then resolved ones awaiting an RCA.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestBoard {
    pub open: Vec<RequestRow>,
    pub rca_due: Vec<RequestRow>,
    /// The instant the clocks were computed at (the UI counts down from it).
    pub computed_at: DateTime<Utc>,
    /// The local profile's user id, for the "Mine" filter (`None` before a profile exists).
    pub me: Option<Uuid>,
}

/// One entry of a request's timeline, with who did it by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimelineItem {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub who: String,
    pub kind: RequestEventKind,
}

/// A request's page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestDetail {
    pub row: RequestRow,
    /// The requester: the contact who opened it (chosen at intake, or the email's sender
    /// when a contact of the account).
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub slack_channel: Option<String>,
    pub summary: RequestSummary,
    pub timeline: Vec<TimelineItem>,
    /// The local profile may change the severity (support lead, admin).
    pub can_set_severity: bool,
    /// The local profile may assign the request to others (support lead, admin); anyone
    /// may take an unassigned request and give back their own.
    pub can_assign_others: bool,
    /// The local profile's user id (`None` before a profile exists).
    pub me: Option<Uuid>,
    pub rca_id: Option<Uuid>,
}

/// What importing an email did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EmailImportOutcome {
    /// A new request (P1 needs triage when the subject says "urgent", else P3).
    Opened {
        request_id: Uuid,
        severity: Severity,
        urgent: bool,
    },
    /// An urgent email continued an open request: raised to P1, back to triage.
    Escalated {
        request_id: Uuid,
        matched_by: ThreadMatch,
    },
    /// A further email on an open request, added to its timeline.
    Added {
        request_id: Uuid,
        matched_by: ThreadMatch,
    },
    /// No account claims the sender (or several do): nothing was created; import again
    /// with the account chosen.
    ChooseAccount {
        sender: String,
        subject: String,
        /// Accounts claiming the sender's domain equally (empty when none does).
        candidates: Vec<Uuid>,
    },
}

/// The local call settings (Settings → Calls).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallSettings {
    /// My personal meeting link; `None`: generate a Jitsi room per incident.
    pub meeting_link: Option<String>,
    pub allowed_hosts: Vec<String>,
}

/// The call of an incident, as launched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LaunchedCall {
    pub link: String,
    /// False when the incident's existing link was reused.
    pub new_link: bool,
    /// The system browser was asked to open it (set by the shell).
    pub opened: bool,
}

/// A desktop notification to show now (the shell shows it, then records it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingAlert {
    pub request_id: Uuid,
    pub alert: SlaAlert,
    pub severity: Severity,
    pub title: String,
    pub account_name: String,
}

fn alert_str(a: SlaAlert) -> &'static str {
    match a {
        SlaAlert::Urgent => "urgent",
        SlaAlert::AtRisk => "at_risk",
        SlaAlert::Breached => "breached",
    }
}

// ---------------------------------------------------------------------------------------
// Loading rows.

struct Loaded {
    record: RequestRecord,
    assignee_name: Option<String>,
    account_name: String,
    plan: Plan,
    slack_channel: Option<String>,
    rca: Option<(Uuid, RcaState)>,
    events: Vec<EventRecord>,
    history: RequestHistory,
}

impl Loaded {
    fn row(&self, now: DateTime<Utc>) -> RequestRow {
        let summary = self.history.summary();
        let rca_state = self.rca.map(|r| r.1);
        let clock = sla::clock(&self.history, self.plan, now);
        RequestRow {
            id: self.record.id,
            account_id: self.record.account_id,
            account_name: self.account_name.clone(),
            plan: self.plan,
            title: summary.title.clone(),
            channel: summary.channel,
            severity: summary.severity,
            status: summary.status,
            needs_triage: summary.needs_triage,
            clock,
            rca_state,
            rca_due: rca_due(&summary, rca_state),
            assignee_id: self.record.assignee_id,
            assignee_name: self.record.assignee_id.map(|_| {
                self.assignee_name
                    .clone()
                    .unwrap_or_else(|| "A colleague".to_owned())
            }),
        }
    }
}

fn rca_state_parse(s: &str) -> Option<RcaState> {
    match s {
        "draft" => Some(RcaState::Draft),
        "in_review" => Some(RcaState::InReview),
        "published" => Some(RcaState::Published),
        _ => None,
    }
}

/// Requests matching `filter` (SQL over `r`), with their account and history.
async fn load(
    conn: &mut SqliteConnection,
    filter: &str,
    bind: Option<String>,
) -> Result<Vec<Loaded>> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS}, a.name AS account_name, a.plan, a.slack_channel, \
         x.id AS rca_id, x.state AS rca_state, u.name AS assignee_name FROM requests r \
         JOIN accounts a ON a.id = r.account_id \
         LEFT JOIN users u ON u.id = r.assignee_id \
         LEFT JOIN rcas x ON x.request_id = r.id AND x.deleted_at IS NULL \
         WHERE r.deleted_at IS NULL AND ({filter}) ORDER BY r.opened_at"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let record = request_from_row(row)?;
        let rca_id = opt_uuid_col(row, "rca_id")?;
        let rca_state: Option<String> = row.try_get("rca_state")?;
        let rca = rca_id.zip(rca_state.as_deref().and_then(rca_state_parse));
        let Ok((events, history)) = history_of(&mut *conn, record.id).await else {
            // The opening event has not arrived yet (sync in progress): nothing to show.
            continue;
        };
        out.push(Loaded {
            assignee_name: row.try_get("assignee_name")?,
            account_name: row.try_get("account_name")?,
            plan: plan_col(row)?,
            slack_channel: row.try_get("slack_channel")?,
            rca,
            record,
            events,
            history,
        });
    }
    Ok(out)
}

/// Every request's clock at `now`, with its account (id, name), for the reports.
pub(crate) async fn all_clocks(
    conn: &mut SqliteConnection,
    account_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, String, SlaClock)>> {
    let loaded = match account_id {
        Some(a) => load(conn, "r.account_id = ?1", Some(a.to_string())).await?,
        None => load(conn, "1 = 1", None).await?,
    };
    Ok(loaded
        .iter()
        .map(|l| {
            (
                l.record.account_id,
                l.account_name.clone(),
                sla::clock(&l.history, l.plan, now),
            )
        })
        .collect())
}

/// The health score's request parts for one account at `now`: its open requests by current
/// severity (`None`, no data, for an account that has never had a request), and the SLA
/// results that ended in the 90 days before `now` (`None` when none did).
pub(crate) async fn health_inputs(
    conn: &mut SqliteConnection,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(
    Option<rapport_domain::health::OpenRequestCounts>,
    Option<rapport_domain::health::SlaRecord>,
)> {
    use rapport_domain::health::{OpenRequestCounts, SlaRecord};
    use rapport_domain::sla::SlaState;
    let since = now - chrono::TimeDelta::days(90);
    let mut open = OpenRequestCounts::default();
    let mut record = SlaRecord::default();
    let requests = load(conn, "r.account_id = ?1", Some(account_id.to_string())).await?;
    let any_request = !requests.is_empty();
    for l in requests {
        let summary = l.history.summary();
        if !matches!(
            summary.status,
            RequestStatus::Resolved | RequestStatus::Closed
        ) {
            match summary.severity {
                Severity::P1 => open.p1 += 1,
                Severity::P2 => open.p2 += 1,
                Severity::P3 => open.p3 += 1,
                Severity::P4 => open.p4 += 1,
            }
        }
        let clock = sla::clock(&l.history, l.plan, now);
        // When the result became final: the response, or the due instant for a breach.
        let ended = match clock.state {
            Some(SlaState::Met | SlaState::Missed) => clock.stopped_at,
            Some(SlaState::Breached) => clock.due_at,
            _ => None,
        };
        if ended.is_some_and(|at| at > since && at <= now) {
            if clock.state == Some(SlaState::Met) {
                record.met += 1;
            } else {
                record.missed += 1;
            }
        }
    }
    let any = record.met + record.missed > 0;
    Ok((any_request.then_some(open), any.then_some(record)))
}

async fn load_one(conn: &mut SqliteConnection, id: Uuid) -> Result<Loaded> {
    load(conn, "r.id = ?1", Some(id.to_string()))
        .await?
        .pop()
        .ok_or(StoreError::NotFound {
            entity: "request",
            id,
        })
}

async fn names(
    conn: &mut SqliteConnection,
    events: &[EventRecord],
) -> Result<HashMap<Actor, String>> {
    let mut out = HashMap::new();
    for e in events {
        if out.contains_key(&e.by) {
            continue;
        }
        let name = match e.by {
            Actor::Staff { user_id } => user_by_id(&mut *conn, user_id)
                .await?
                .map_or_else(|| "A colleague".to_owned(), |u| u.name),
            Actor::Customer {
                contact_id: Some(c),
            } => {
                let n: Option<String> =
                    sqlx::query_scalar("SELECT name FROM contacts WHERE id = ?1")
                        .bind(c.to_string())
                        .fetch_optional(&mut *conn)
                        .await?;
                n.map_or_else(|| "Customer".to_owned(), |n| format!("{n} (customer)"))
            }
            Actor::Customer { contact_id: None } => "Customer".to_owned(),
            Actor::System => "Rapport".to_owned(),
        };
        out.insert(e.by, name);
    }
    Ok(out)
}

/// The name of an actor, for the RCA's timeline.
pub(crate) async fn actor_names(
    conn: &mut SqliteConnection,
    events: &[EventRecord],
) -> Result<HashMap<Actor, String>> {
    names(conn, events).await
}

async fn me_with_role(conn: &mut SqliteConnection) -> Result<(Uuid, Role)> {
    let me = Store::me(&mut *conn).await?;
    let role = user_by_id(&mut *conn, me)
        .await?
        .map_or(Role::Csm, |u| u.role);
    Ok((me, role))
}

// ---------------------------------------------------------------------------------------
// Parsing an email.

/// What intake reads from an `.eml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEmail {
    pub sender: String,
    pub sender_name: Option<String>,
    pub subject: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
    pub body: String,
}

/// Longest `.eml` accepted (bytes).
pub const MAX_EML_BYTES: usize = 25 * 1024 * 1024;

fn ids_of(v: &mail_parser::HeaderValue<'_>) -> Option<String> {
    if let Some(list) = v.as_text_list() {
        let ids: Vec<&str> = list.iter().map(AsRef::as_ref).collect();
        return (!ids.is_empty()).then(|| ids.join(" "));
    }
    v.as_text().map(str::to_owned)
}

/// Parses an `.eml` with mail-parser: subject (RFC 2047 decoded), sender, thread headers and
/// the plain-text body (the HTML part converted when there is no text part). A file that
/// is not an email (no header block with a sender address) is refused naming `file`.
pub fn parse_email(bytes: &[u8]) -> Result<ParsedEmail> {
    let bad = |why: &str| StoreError::invalid("file", format!("not an email message: {why}"));
    if bytes.is_empty() {
        return Err(bad("the file is empty"));
    }
    if bytes.len() > MAX_EML_BYTES {
        return Err(StoreError::invalid("file", "larger than 25 MB"));
    }
    if bytes.contains(&0) {
        return Err(bad("it is a binary file"));
    }
    let message = mail_parser::MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| bad("it has no headers"))?;
    let from = message
        .from()
        .and_then(|a| a.first())
        .ok_or_else(|| bad("it has no From: sender"))?;
    let sender = from
        .address()
        .map(str::trim)
        .filter(|a| a.contains('@'))
        .ok_or_else(|| bad("the From: header has no email address"))?
        .to_owned();
    let body = message
        .body_text(0)
        .map(|b| b.trim().to_owned())
        .unwrap_or_default();
    Ok(ParsedEmail {
        sender,
        sender_name: from.name().map(str::to_owned),
        subject: message.subject().unwrap_or("").trim().to_owned(),
        message_id: message.message_id().map(str::to_owned),
        in_reply_to: ids_of(message.in_reply_to()),
        references: ids_of(message.references()),
        body,
    })
}

// ---------------------------------------------------------------------------------------
// Writes.

struct Writer<'c> {
    conn: &'c mut SqliteConnection,
    now: DateTime<Utc>,
}

impl Writer<'_> {
    async fn event(
        &mut self,
        r: &RequestRecord,
        by: Actor,
        kind: RequestEventKind,
    ) -> Result<EventRecord> {
        let e = EventRecord {
            id: Uuid::now_v7(),
            account_id: r.account_id,
            request_id: r.id,
            at: self.now,
            by,
            kind,
        };
        record(&mut *self.conn, None, &e, self.now).await?;
        Ok(e)
    }

    /// One action on a request: its new timeline entry (after `events`), then the request
    /// as the grown history leaves it.
    async fn act(
        &mut self,
        r: &RequestRecord,
        events: &[EventRecord],
        by: Actor,
        kind: RequestEventKind,
    ) -> Result<()> {
        let e = self.event(r, by, kind).await?;
        let mut all: Vec<RequestEvent> = events.iter().map(EventRecord::event).collect();
        all.push(e.event());
        let history =
            RequestHistory::new(all).map_err(|e| StoreError::invalid("request", e.to_string()))?;
        let new = synced(r.clone(), &history);
        self.request(Some(r), &new).await
    }

    async fn request(&mut self, old: Option<&RequestRecord>, new: &RequestRecord) -> Result<()> {
        if old == Some(new) {
            return Ok(());
        }
        record(&mut *self.conn, old, new, self.now).await?;
        Ok(())
    }
}

/// The record as its history leaves it.
fn synced(mut r: RequestRecord, history: &RequestHistory) -> RequestRecord {
    let s = history.summary();
    r.severity = s.severity;
    r.status = s.status;
    r.needs_triage = s.needs_triage;
    r.meeting_link = s.call_link;
    r
}

impl Store {
    /// Opens a request taken in by chat (the customer chose the severity).
    pub async fn request_create(&self, input: NewRequestInput, now: DateTime<Utc>) -> Result<Uuid> {
        self.write(now, async |tx, me, now| {
            account_by_id(tx, input.account_id).await?;
            let contacts: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM contacts WHERE account_id = ?1 AND deleted_at IS NULL",
            )
            .bind(input.account_id.to_string())
            .fetch_all(&mut *tx)
            .await?;
            let contacts: Vec<Uuid> = contacts.iter().filter_map(|c| c.parse().ok()).collect();
            let input = input.normalize(&contacts)?;
            let id = open_request(tx, &input, Some(me), Vec::new(), now).await?;
            Ok(id)
        })
        .await
    }

    /// Imports an `.eml`: opens a request, escalates or adds to the open request it
    /// continues, or asks for the account when the sender's is unknown (then nothing is
    /// written). `account_id` is the account the user chose for an unknown sender.
    pub async fn email_import(
        &self,
        bytes: &[u8],
        account_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<EmailImportOutcome> {
        let now = stamp(now);
        let email = parse_email(bytes)?;
        let mut tx = self.writer.begin().await?;
        Store::me(&mut tx).await?;
        let sender_lower = email.sender.to_lowercase();
        let contact: Option<(String, String)> = sqlx::query_as(
            "SELECT id, account_id FROM contacts WHERE lower(email) = ?1 AND deleted_at IS NULL \
             ORDER BY created_at LIMIT 1",
        )
        .bind(&sender_lower)
        .fetch_optional(&mut *tx)
        .await?;
        let account_id = match account_id {
            Some(a) => {
                account_by_id(&mut tx, a).await?;
                a
            }
            None => {
                if let Some((_, a)) = &contact {
                    a.parse()
                        .map_err(|_| StoreError::invalid("account_id", "bad id"))?
                } else {
                    let rows: Vec<(String, String)> =
                        sqlx::query_as("SELECT id, support_email_domains FROM accounts")
                            .fetch_all(&mut *tx)
                            .await?;
                    let accounts: Vec<(Uuid, Vec<String>)> = rows
                        .into_iter()
                        .filter_map(|(id, d)| {
                            Some((id.parse().ok()?, serde_json::from_str(&d).ok()?))
                        })
                        .collect();
                    match account_for_sender(&email.sender, &accounts) {
                        SenderMatch::Account { account_id } => account_id,
                        SenderMatch::Ambiguous { account_ids } => {
                            return Ok(EmailImportOutcome::ChooseAccount {
                                sender: email.sender,
                                subject: email.subject,
                                candidates: account_ids,
                            });
                        }
                        SenderMatch::Unknown => {
                            return Ok(EmailImportOutcome::ChooseAccount {
                                sender: email.sender,
                                subject: email.subject,
                                candidates: Vec::new(),
                            });
                        }
                    }
                }
            }
        };
        let contact_id: Option<Uuid> = match &contact {
            Some((c, a)) if a.parse::<Uuid>().ok() == Some(account_id) => c.parse().ok(),
            _ => None,
        };
        let customer = Actor::Customer { contact_id };
        let triage = initial_triage(&email.subject);
        let body = if email.body.is_empty() {
            "(the email has no text)".to_owned()
        } else {
            email.body.clone()
        };

        // The open requests of this account the email may continue.
        let open = load(
            &mut tx,
            "r.account_id = ?1 AND r.status IN ('open', 'acknowledged', 'mitigated')",
            Some(account_id.to_string()),
        )
        .await?;
        let candidates: Vec<ThreadCandidate> = open
            .iter()
            .map(|l| ThreadCandidate {
                request_id: l.record.id,
                account_id: l.record.account_id,
                opened_at: l.record.opened_at,
                subject: l.record.title.clone(),
                message_ids: l.record.thread_keys.clone(),
            })
            .collect();
        let incoming = IncomingEmail {
            subject: email.subject.clone(),
            in_reply_to: email.in_reply_to.clone(),
            references: email.references.clone(),
        };
        if let Some((request_id, matched_by)) = find_thread(&incoming, account_id, &candidates) {
            let l = open.into_iter().find(|l| l.record.id == request_id).ok_or(
                StoreError::NotFound {
                    entity: "request",
                    id: request_id,
                },
            )?;
            let mut w = Writer { conn: &mut tx, now };
            let mut events: Vec<RequestEvent> = l.events.iter().map(EventRecord::event).collect();
            let e = w
                .event(&l.record, customer, RequestEventKind::Update { text: body })
                .await?;
            events.push(e.event());
            let escalate = if triage.urgent_alert {
                escalation_events(&l.history.summary())
            } else {
                Vec::new()
            };
            let escalated = !escalate.is_empty();
            for kind in escalate {
                let e = w.event(&l.record, Actor::System, kind).await?;
                events.push(e.event());
            }
            let history = RequestHistory::new(events)
                .map_err(|e| StoreError::invalid("request", e.to_string()))?;
            let mut new = synced(l.record.clone(), &history);
            if let Some(mid) = &email.message_id
                && !new.thread_keys.contains(mid)
            {
                new.thread_keys.push(mid.clone());
            }
            w.request(Some(&l.record), &new).await?;
            tx.commit().await?;
            tracing::info!(%request_id, ?matched_by, escalated, "email added to an open request");
            return Ok(if escalated {
                EmailImportOutcome::Escalated {
                    request_id,
                    matched_by,
                }
            } else {
                EmailImportOutcome::Added {
                    request_id,
                    matched_by,
                }
            });
        }

        let title = title_from_subject(&email.subject);
        let input = NewRequestInput {
            account_id,
            contact_id,
            channel: Channel::Email,
            severity: triage.severity,
            needs_triage: triage.needs_triage,
            title,
            details: body,
        }
        .normalize(&contact_id.into_iter().collect::<Vec<_>>())?;
        let keys = email.message_id.into_iter().collect();
        let request_id = open_request(&mut tx, &input, None, keys, now).await?;
        tx.commit().await?;
        Ok(EmailImportOutcome::Opened {
            request_id,
            severity: input.severity,
            urgent: triage.urgent_alert,
        })
    }

    /// The live board at `now`.
    pub async fn requests_board(&self, now: DateTime<Utc>) -> Result<RequestBoard> {
        let mut conn = self.reader.acquire().await?;
        let loaded = load(
            &mut conn,
            "r.status IN ('open', 'acknowledged', 'mitigated') OR \
             (r.status IN ('resolved', 'closed') AND r.severity IN ('p1', 'p2') AND \
              NOT EXISTS (SELECT 1 FROM rcas x2 WHERE x2.request_id = r.id \
                          AND x2.state = 'published' AND x2.deleted_at IS NULL))",
            None,
        )
        .await?;
        let mut open = Vec::new();
        let mut due = Vec::new();
        for l in &loaded {
            let row = l.row(now);
            if row.status.is_active() {
                open.push(row);
            } else if row.rca_due {
                due.push(row);
            }
        }
        open.sort_by(|a, b| sla::board_order(&a.clock, &b.clock));
        due.sort_by_key(|r| std::cmp::Reverse(r.clock.opened_at));
        let me = Store::me(&mut conn).await.ok();
        Ok(RequestBoard {
            open,
            rca_due: due,
            computed_at: now,
            me,
        })
    }

    /// An account's requests, newest first.
    pub async fn account_requests(
        &self,
        account_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<RequestRow>> {
        let mut conn = self.reader.acquire().await?;
        let mut rows: Vec<RequestRow> =
            load(&mut conn, "r.account_id = ?1", Some(account_id.to_string()))
                .await?
                .iter()
                .map(|l| l.row(now))
                .collect();
        rows.reverse();
        Ok(rows)
    }

    /// A request's page at `now`.
    pub async fn request_get(&self, id: Uuid, now: DateTime<Utc>) -> Result<RequestDetail> {
        let mut conn = self.reader.acquire().await?;
        let l = load_one(&mut conn, id).await?;
        let names = names(&mut conn, &l.events).await?;
        let contact: Option<(String, String)> = match l.record.contact_id {
            Some(c) => {
                sqlx::query_as("SELECT name, email FROM contacts WHERE id = ?1")
                    .bind(c.to_string())
                    .fetch_optional(&mut *conn)
                    .await?
            }
            None => None,
        };
        let (contact_name, contact_email) = match contact {
            Some((name, email)) => (Some(name), Some(email).filter(|e| !e.is_empty())),
            None => (None, None),
        };
        let me = Store::me(&mut conn).await.ok();
        let role = match me {
            Some(me) => user_by_id(&mut conn, me).await?.map(|u| u.role),
            None => None,
        };
        let timeline = l
            .history
            .events()
            .iter()
            .map(|e| TimelineItem {
                id: e.id,
                at: e.at,
                actor: e.actor,
                who: names.get(&e.actor).cloned().unwrap_or_default(),
                kind: e.kind.clone(),
            })
            .collect();
        Ok(RequestDetail {
            row: l.row(now),
            contact_name,
            contact_email,
            slack_channel: l.slack_channel.clone(),
            summary: l.history.summary(),
            timeline,
            can_set_severity: role.is_some_and(rapport_domain::request::may_set_severity),
            can_assign_others: role.is_some_and(rapport_domain::request::may_assign_others),
            me,
            rca_id: l.rca.map(|r| r.0),
        })
    }

    /// A response to the customer (public: stops the SLA clock) or an internal note.
    pub async fn request_respond(
        &self,
        id: Uuid,
        visibility: Visibility,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreError::invalid("text", "must not be empty"));
        }
        if text.chars().count() > rapport_domain::request::MAX_DETAILS_LEN {
            return Err(StoreError::invalid("text", "is too long"));
        }
        self.write(now, async |tx, _, now| {
            let (me, _) = me_with_role(tx).await?;
            let r = shown_request(tx, id).await?;
            let mut w = Writer { conn: tx, now };
            w.event(
                &r,
                Actor::Staff { user_id: me },
                RequestEventKind::Response {
                    visibility,
                    text: text.to_owned(),
                },
            )
            .await?;
            Ok(())
        })
        .await
    }

    /// A free update on the timeline.
    pub async fn request_add_update(&self, id: Uuid, text: &str, now: DateTime<Utc>) -> Result<()> {
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreError::invalid("text", "must not be empty"));
        }
        self.write(now, async |tx, _, now| {
            let (me, _) = me_with_role(tx).await?;
            let r = shown_request(tx, id).await?;
            Writer { conn: tx, now }
                .event(
                    &r,
                    Actor::Staff { user_id: me },
                    RequestEventKind::Update {
                        text: text.to_owned(),
                    },
                )
                .await?;
            Ok(())
        })
        .await
    }

    /// Sets who works the request: `Some(me)` takes it, `None` gives it back (or, for a
    /// lead, unassigns it), anyone else assigns it to them
    /// ([`rapport_domain::request::check_assignee_change`]). Writes the request record only:
    /// the timeline stays the customer's and the desk's words and actions.
    pub async fn request_assign(
        &self,
        id: Uuid,
        to: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(now, async |tx, _, now| {
            let (me, role) = me_with_role(tx).await?;
            let r = request_by_id(tx, id).await?;
            if let Some(user) = to
                && user_by_id(tx, user).await?.is_none()
            {
                return Err(StoreError::invalid(
                    "assignee_id",
                    "is not a member of your teams",
                ));
            }
            rapport_domain::request::check_assignee_change(r.assignee_id, to, me, role)
                .map_err(|e| StoreError::Validation(rapport_domain::ValidationErrors(vec![e])))?;
            let new = RequestRecord {
                assignee_id: to,
                ..r.clone()
            };
            Writer { conn: tx, now }.request(Some(&r), &new).await?;
            Ok(())
        })
        .await?;
        tracing::info!(%id, assigned = to.is_some(), "request assignee set");
        Ok(())
    }

    /// Moves the request along `open → acknowledged → mitigated → resolved → closed`.
    pub async fn request_set_status(
        &self,
        id: Uuid,
        to: RequestStatus,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(now, async |tx, _, now| {
            let (me, role) = me_with_role(tx).await?;
            let r = shown_request(tx, id).await?;
            let (events, history) = history_of(tx, id).await?;
            let from = history.summary().status;
            check_status_transition(from, to, role)
                .map_err(|e| StoreError::Validation(rapport_domain::ValidationErrors(vec![e])))?;
            let kind = RequestEventKind::StatusChanged { from, to };
            Writer { conn: tx, now }
                .act(&r, &events, Actor::Staff { user_id: me }, kind)
                .await
        })
        .await
    }

    /// Sets the severity (support leads and admins). On a request awaiting triage this
    /// confirms the triage (at any severity, the current one included).
    pub async fn request_set_severity(
        &self,
        id: Uuid,
        to: Severity,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(now, async |tx, _, now| {
            let (me, role) = me_with_role(tx).await?;
            let r = shown_request(tx, id).await?;
            let (events, history) = history_of(tx, id).await?;
            let summary = history.summary();
            let one = |e| StoreError::Validation(rapport_domain::ValidationErrors(vec![e]));
            let kind = if summary.needs_triage {
                check_triage_confirmation(&summary, role).map_err(one)?;
                RequestEventKind::TriageConfirmed { severity: to }
            } else {
                check_severity_change(&summary, to, role).map_err(one)?;
                RequestEventKind::SeverityChanged {
                    from: summary.severity,
                    to,
                }
            };
            Writer { conn: tx, now }
                .act(&r, &events, Actor::Staff { user_id: me }, kind)
                .await
        })
        .await
    }

    /// Launches the incident call: the incident's link when it has one, else my personal
    /// meeting link (checked against the allow-list), else a new Jitsi room from
    /// `random` (16 bytes of the OS generator). Records "call launched" on the timeline.
    pub async fn request_launch_call(
        &self,
        id: Uuid,
        random: [u8; 16],
        now: DateTime<Utc>,
    ) -> Result<LaunchedCall> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        let (me, _) = me_with_role(&mut tx).await?;
        let r = shown_request(&mut tx, id).await?;
        let (events, history) = history_of(&mut tx, id).await?;
        let summary = history.summary();
        if !summary.severity.is_critical() && !summary.urgent_alert {
            return Err(StoreError::invalid(
                "severity",
                "an incident call is for P1 and P2 requests",
            ));
        }
        let settings = call_settings(&mut tx).await?;
        let policy = LinkPolicy {
            allowed_hosts: settings.allowed_hosts.clone(),
        };
        let (link, new_link) = match summary.call_link {
            Some(l) => (l, false),
            None => match settings.meeting_link.as_deref() {
                Some(l) => (
                    check_meeting_link("meeting_link", l, &policy).map_err(|e| {
                        StoreError::Validation(rapport_domain::ValidationErrors(vec![e]))
                    })?,
                    true,
                ),
                None => (jitsi_room_url(random), true),
            },
        };
        let kind = RequestEventKind::CallLaunched { link: link.clone() };
        Writer { conn: &mut tx, now }
            .act(&r, &events, Actor::Staff { user_id: me }, kind)
            .await?;
        tx.commit().await?;
        Ok(LaunchedCall {
            link,
            new_link,
            opened: false,
        })
    }

    /// The local call settings (defaults: no personal link, the default allow-list).
    pub async fn call_settings_get(&self) -> Result<CallSettings> {
        let mut conn = self.reader.acquire().await?;
        call_settings(&mut conn).await
    }

    /// Saves the call settings: the allow-list checked and normalised, the personal link
    /// (optional) checked against it.
    pub async fn call_settings_set(&self, input: CallSettings) -> Result<CallSettings> {
        let one = |e| StoreError::Validation(rapport_domain::ValidationErrors(vec![e]));
        let policy = LinkPolicy {
            allowed_hosts: input.allowed_hosts,
        }
        .check("allowed_hosts")
        .map_err(one)?;
        let link = match input.meeting_link.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(l) => Some(check_meeting_link("meeting_link", l, &policy).map_err(one)?),
        };
        let out = CallSettings {
            meeting_link: link,
            allowed_hosts: policy.allowed_hosts,
        };
        let mut tx = self.writer.begin().await?;
        for (key, value) in [
            ("meeting_link", to_json(&out.meeting_link)),
            ("allowed_hosts", to_json(&out.allowed_hosts)),
        ] {
            sqlx::query(
                "INSERT INTO call_settings (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The desktop alerts due now that were never shown on this machine.
    pub async fn alerts_pending(&self, now: DateTime<Utc>) -> Result<Vec<PendingAlert>> {
        let mut conn = self.reader.acquire().await?;
        let loaded = load(
            &mut conn,
            "r.status IN ('open', 'acknowledged', 'mitigated')",
            None,
        )
        .await?;
        let mut out = Vec::new();
        for l in &loaded {
            let shown: Vec<String> =
                sqlx::query_scalar("SELECT alert FROM request_alerts WHERE request_id = ?1")
                    .bind(l.record.id.to_string())
                    .fetch_all(&mut *conn)
                    .await?;
            let shown: Vec<SlaAlert> = [SlaAlert::Urgent, SlaAlert::AtRisk, SlaAlert::Breached]
                .into_iter()
                .filter(|a| shown.iter().any(|s| s == alert_str(*a)))
                .collect();
            let summary = l.history.summary();
            let clock = sla::clock(&l.history, l.plan, now);
            for alert in sla::alerts_due(&summary, &clock, &shown) {
                out.push(PendingAlert {
                    request_id: l.record.id,
                    alert,
                    severity: summary.severity,
                    title: summary.title.clone(),
                    account_name: l.account_name.clone(),
                });
            }
        }
        Ok(out)
    }

    /// Records that `alert` was shown for the request (once: a second call is a no-op).
    /// Returns whether it was new.
    pub async fn alert_record(
        &self,
        request_id: Uuid,
        alert: SlaAlert,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO request_alerts (request_id, alert, sent_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(request_id.to_string())
        .bind(alert_str(alert))
        .bind(fmt_time(stamp(now)))
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The alerts recorded as shown for a request.
    pub async fn alerts_sent(&self, request_id: Uuid) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT alert FROM request_alerts WHERE request_id = ?1 ORDER BY sent_at, alert",
        )
        .bind(request_id.to_string())
        .fetch_all(&self.reader)
        .await?)
    }
}

async fn call_settings(conn: &mut SqliteConnection) -> Result<CallSettings> {
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

/// Writes a new request and its opening events.
async fn open_request(
    conn: &mut SqliteConnection,
    input: &NewRequestInput,
    opened_by: Option<Uuid>,
    thread_keys: Vec<String>,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let r = RequestRecord {
        id,
        account_id: input.account_id,
        contact_id: input.contact_id,
        title: input.title.clone(),
        channel: input.channel,
        opened_at: now,
        opened_by,
        severity: input.severity,
        needs_triage: input.needs_triage,
        status: RequestStatus::Open,
        thread_keys,
        meeting_link: None,
        assignee_id: None,
    };
    record(&mut *conn, None, &r, now).await?;
    for e in input.opening_events([Uuid::now_v7(), Uuid::now_v7()], now) {
        let e = EventRecord {
            id: e.id,
            account_id: r.account_id,
            request_id: id,
            at: e.at,
            by: e.actor,
            kind: e.kind,
        };
        record(&mut *conn, None, &e, now).await?;
    }
    tracing::info!(%id, severity = input.severity.as_str(), "request opened");
    Ok(id)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rapport_domain::sync::EntityKind;
    use rapport_domain::{AccountInput, WorkingHours};

    use super::*;

    fn at(m: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap() + chrono::Duration::minutes(m)
    }

    async fn store() -> Store {
        let s = Store::open_in_memory().await.unwrap();
        s.profile_create(
            crate::testing::user_input(
                "Tomás Silva",
                "tomas@rapport-vendor.com",
                Role::SupportLead,
                "Europe/Berlin",
            ),
            at(0),
        )
        .await
        .unwrap();
        s
    }

    #[tokio::test]
    async fn outbox_fields_applied_as_pulled_give_the_same_rows() {
        let a = store().await;
        let account = a
            .account_create(
                AccountInput {
                    support_email_domains: vec!["acme.com".into()],
                    ..crate::testing::account_input(
                        "Acme",
                        Plan::ProfessionalSupport,
                        "Europe/Berlin",
                    )
                },
                at(0),
            )
            .await
            .unwrap();
        let eml = b"From: Ana <ana@acme.com>\r\nSubject: URGENT db down\r\nMessage-ID: <x1@acme.com>\r\n\r\nDown.\r\n";
        let EmailImportOutcome::Opened { request_id: id, .. } =
            a.email_import(eml, None, at(0)).await.unwrap()
        else {
            panic!("opened")
        };
        a.request_set_severity(id, Severity::P2, at(5))
            .await
            .unwrap();
        a.request_launch_call(id, [3; 16], at(6)).await.unwrap();
        a.request_respond(id, Visibility::Public, "Looking", at(7))
            .await
            .unwrap();
        a.request_set_status(id, RequestStatus::Resolved, at(50))
            .await
            .unwrap();
        let rca = a.rca_open(id, at(60)).await.unwrap();

        let b = store().await;
        {
            let mut conn = b.writer.acquire().await.unwrap();
            crate::accounts::insert_accounts(&mut conn, &[&account])
                .await
                .unwrap();
            for m in a.outbox().await.unwrap() {
                if let Some(spec) = rapport_domain::sync::spec(m.entity) {
                    for k in m.fields.keys() {
                        assert!(
                            spec.fields.contains(&k.as_str())
                                || rapport_domain::sync::SERVER_FIELDS.contains(&k.as_str()),
                            "{:?} has no field {k}",
                            m.entity
                        );
                    }
                    (spec.normalize)(m.fields.clone()).unwrap_or_else(|e| {
                        panic!(
                            "the service would refuse {:?} {:?}: {e:?}",
                            m.entity, m.fields
                        )
                    });
                }
                match m.entity {
                    EntityKind::Request => {
                        crate::entity::apply_wire::<RequestRecord>(
                            &mut conn,
                            m.entity_id,
                            None,
                            &m.fields,
                            at(70),
                        )
                        .await
                        .unwrap();
                    }
                    EntityKind::RequestEvent => {
                        crate::entity::apply_wire::<EventRecord>(
                            &mut conn,
                            m.entity_id,
                            None,
                            &m.fields,
                            at(70),
                        )
                        .await
                        .unwrap();
                    }
                    EntityKind::Rca => {
                        crate::entity::apply_wire::<crate::rca::RcaRecord>(
                            &mut conn,
                            m.entity_id,
                            None,
                            &m.fields,
                            at(70),
                        )
                        .await
                        .unwrap();
                    }
                    _ => {}
                }
            }
        }
        let (x, y) = (
            a.request_get(id, at(70)).await.unwrap(),
            b.request_get(id, at(70)).await.unwrap(),
        );
        assert_eq!(x.row, y.row, "the same request, its clock included");
        assert_eq!(x.summary, y.summary);
        assert_eq!(
            x.timeline
                .iter()
                .map(|t| (t.id, t.at, &t.kind))
                .collect::<Vec<_>>(),
            y.timeline
                .iter()
                .map(|t| (t.id, t.at, &t.kind))
                .collect::<Vec<_>>(),
            "the same timeline"
        );
        let mut ca = a.writer.acquire().await.unwrap();
        let mut cb = b.writer.acquire().await.unwrap();
        assert_eq!(
            request_by_id(&mut ca, id).await.unwrap(),
            request_by_id(&mut cb, id).await.unwrap(),
            "the same row"
        );
        drop((ca, cb));
        assert_eq!(
            a.rca_get(rca.id).await.unwrap().rca,
            b.rca_get(rca.id).await.unwrap().rca,
            "the same RCA"
        );

        // Deletes from the wire.
        let mut conn = b.writer.acquire().await.unwrap();
        crate::entity::delete::<RequestRecord>(&mut conn, id, at(70), at(70))
            .await
            .unwrap();
        crate::entity::delete::<crate::rca::RcaRecord>(&mut conn, rca.id, at(70), at(70))
            .await
            .unwrap();
        let first = a.outbox().await.unwrap()[1].entity_id;
        crate::entity::delete::<EventRecord>(&mut conn, first, at(70), at(70))
            .await
            .unwrap();
        drop(conn);
        assert!(b.request_get(id, at(70)).await.is_err(), "deleted");
    }

    #[tokio::test]
    async fn taking_a_request_assigns_it_to_me_and_only_a_lead_reassigns_it() {
        let s = Store::open_in_memory().await.unwrap();
        s.profile_create(
            crate::testing::user_input(
                "Carla CSM",
                "carla@rapport-vendor.com",
                Role::Csm,
                "Europe/Berlin",
            ),
            at(0),
        )
        .await
        .unwrap();
        let colleague = rapport_domain::User {
            id: Uuid::from_u128(42),
            name: "Lee Lead".into(),
            email: "lee@rapport-vendor.com".into(),
            role: Role::SupportLead,
            time_zone: "Europe/Berlin".into(),
            working_hours: WorkingHours::default(),
        };
        crate::accounts::upsert_user(&mut s.writer.acquire().await.unwrap(), &colleague)
            .await
            .unwrap();
        s.account_create(
            AccountInput {
                support_email_domains: vec!["acme.com".into()],
                ..crate::testing::account_input("Acme", Plan::ProfessionalSupport, "Europe/Berlin")
            },
            at(0),
        )
        .await
        .unwrap();
        let eml = b"From: Ana <ana@acme.com>\r\nSubject: Fwd: Exports slow\r\n\r\nSlow.\r\n";
        let EmailImportOutcome::Opened { request_id: id, .. } =
            s.email_import(eml, None, at(0)).await.unwrap()
        else {
            panic!("opened")
        };
        let me = s.profile_get().await.unwrap().unwrap().id;
        let board = s.requests_board(at(1)).await.unwrap();
        assert_eq!(board.me, Some(me));
        assert_eq!(board.open[0].title, "Exports slow", "no forward prefix");
        assert_eq!(board.open[0].assignee_id, None, "a new request is nobody's");

        let refused = s.request_assign(id, Some(colleague.id), at(2)).await;
        assert!(
            matches!(&refused, Err(StoreError::Validation(v)) if v.0[0].field == "assignee_id"),
            "a CSM cannot hand a request to someone else: {refused:?}"
        );
        let before = s.outbox().await.unwrap().len();
        s.request_assign(id, Some(me), at(3)).await.unwrap();
        let outbox = s.outbox().await.unwrap();
        assert_eq!(outbox.len(), before + 1, "taking it is one write");
        let m = outbox.last().unwrap();
        assert_eq!(m.entity, EntityKind::Request);
        assert_eq!(
            m.fields.keys().collect::<Vec<_>>(),
            ["assignee_id"],
            "only the assignee travels, so a concurrent edit of another field is kept"
        );
        assert_eq!(m.fields["assignee_id"], serde_json::json!(me));
        let row = &s.requests_board(at(4)).await.unwrap().open[0];
        assert_eq!(
            (row.assignee_id, row.assignee_name.as_deref()),
            (Some(me), Some("Carla CSM"))
        );
        let detail = s.request_get(id, at(4)).await.unwrap();
        assert!(!detail.can_assign_others, "a CSM takes, a lead assigns");
        assert_eq!(
            (detail.contact_name, detail.me),
            (None, Some(me)),
            "the sender is no contact of the account"
        );
        assert!(
            s.request_assign(id, Some(me), at(5)).await.is_err(),
            "already mine"
        );
        s.request_assign(id, None, at(6)).await.unwrap();
        assert_eq!(
            s.requests_board(at(7)).await.unwrap().open[0].assignee_id,
            None,
            "given back"
        );
        let stranger = s.request_assign(id, Some(Uuid::from_u128(77)), at(8)).await;
        assert!(
            matches!(&stranger, Err(StoreError::Validation(v)) if v.0[0].field == "assignee_id"),
            "nobody outside the team: {stranger:?}"
        );
    }
}
