//! Support requests and incidents: severities, the event history a request is made of, and
//! the rules for who may move a request along.
//!
//! A request is its history of events. The history is ordered by the time each event
//! happened (`at`), never by the order it arrived in: a request opened offline and synced
//! later must read the same on every machine. Everything else (current severity, status,
//! the SLA clock in [`crate::sla`]) is computed from that history.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::user::Role;
use crate::validation::{self, Checker, FieldError, ValidationErrors};

/// How bad it is. `P1` is the most severe; the derived order puts it first (`P1 < P4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    P1,
    P2,
    P3,
    P4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::P1, Severity::P2, Severity::P3, Severity::P4];

    /// First-response target of the Professional Support SLA (24/7 calendar time).
    pub fn target(self) -> TimeDelta {
        match self {
            Severity::P1 => TimeDelta::minutes(30),
            Severity::P2 => TimeDelta::hours(2),
            Severity::P3 => TimeDelta::hours(12),
            Severity::P4 => TimeDelta::hours(24),
        }
    }

    /// True when `self` is `other` or more severe (P1 is at least as severe as anything).
    pub fn at_least(self, other: Severity) -> bool {
        self <= other
    }

    /// P1 and P2 raise the urgent alert and call for a video call and an RCA.
    pub fn is_critical(self) -> bool {
        self <= Severity::P2
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::P1 => "p1",
            Severity::P2 => "p2",
            Severity::P3 => "p3",
            Severity::P4 => "p4",
        }
    }

    /// What the package calls it ("P1 - Production system down").
    pub fn label(self) -> &'static str {
        match self {
            Severity::P1 => "P1 - Production system down",
            Severity::P2 => "P2 - Production system impaired",
            Severity::P3 => "P3 - Minor issue",
            Severity::P4 => "P4 - General guidance",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Where a request stands. The normal path is `open → acknowledged → mitigated → resolved →
/// closed`; see [`check_status_transition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Open,
    Acknowledged,
    Mitigated,
    Resolved,
    Closed,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 5] = [
        RequestStatus::Open,
        RequestStatus::Acknowledged,
        RequestStatus::Mitigated,
        RequestStatus::Resolved,
        RequestStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Acknowledged => "acknowledged",
            RequestStatus::Mitigated => "mitigated",
            RequestStatus::Resolved => "resolved",
            RequestStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Still being worked on (shown on the live board).
    pub fn is_active(self) -> bool {
        self < RequestStatus::Resolved
    }
}

/// How the request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Chat,
    Email,
}

/// Who did something on the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Actor {
    /// A Rapport user (support lead, CSM, ...).
    Staff { user_id: Uuid },
    /// Someone at the customer; `contact_id` is unknown for an unrecognised sender.
    Customer { contact_id: Option<Uuid> },
    /// Rapport itself (email intake, escalation of a matching urgent email).
    System,
}

/// Whether a response is seen by the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RequestEventKind {
    /// The first event of every request.
    Opened {
        severity: Severity,
        channel: Channel,
        needs_triage: bool,
        title: String,
    },
    SeverityChanged {
        from: Severity,
        to: Severity,
    },
    /// The request must be (re)triaged: an urgent email escalated it.
    TriageRequested,
    /// A support lead or admin confirmed the severity of a request that needed triage.
    TriageConfirmed {
        severity: Severity,
    },
    Response {
        visibility: Visibility,
        text: String,
    },
    StatusChanged {
        from: RequestStatus,
        to: RequestStatus,
    },
    CallLaunched {
        link: String,
    },
    Update {
        text: String,
    },
}

/// One entry of a request's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestEvent {
    /// Client-generated; breaks ties between events at the same instant.
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub kind: RequestEventKind,
}

impl RequestEvent {
    /// A response to the customer by a staff member: the event that stops the SLA clock.
    pub fn is_public_staff_response(&self) -> bool {
        matches!(self.actor, Actor::Staff { .. })
            && matches!(
                self.kind,
                RequestEventKind::Response {
                    visibility: Visibility::Public,
                    ..
                }
            )
    }
}

/// Why a list of events is not a request history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    #[error("a request history needs an `opened` event")]
    NotOpened,
    #[error("a request history has exactly one `opened` event, this one has {0}")]
    OpenedTwice(usize),
}

/// A request's events in the order they happened: one `Opened` first, the rest after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHistory {
    events: Vec<RequestEvent>,
}

impl RequestHistory {
    /// Orders the events by when they happened (`at`, then `Opened` first, then `id`), so
    /// every machine gets the same history whatever order the events arrived in.
    ///
    /// Nothing happens to a request before it is opened: an event stamped earlier (a
    /// machine's clock behind the one that opened it) is read as happening at the opening,
    /// rather than making the whole request unreadable.
    pub fn new(mut events: Vec<RequestEvent>) -> Result<Self, HistoryError> {
        let opened: Vec<DateTime<Utc>> = events
            .iter()
            .filter(|e| matches!(e.kind, RequestEventKind::Opened { .. }))
            .map(|e| e.at)
            .collect();
        let opened_at = match opened.as_slice() {
            [] => return Err(HistoryError::NotOpened),
            [at] => *at,
            more => return Err(HistoryError::OpenedTwice(more.len())),
        };
        for e in &mut events {
            e.at = e.at.max(opened_at);
        }
        events.sort_by(|a, b| {
            let rank =
                |e: &RequestEvent| u8::from(!matches!(e.kind, RequestEventKind::Opened { .. }));
            (a.at, rank(a), a.id).cmp(&(b.at, rank(b), b.id))
        });
        Ok(RequestHistory { events })
    }

    pub fn events(&self) -> &[RequestEvent] {
        &self.events
    }

    pub fn opened_at(&self) -> DateTime<Utc> {
        self.events[0].at
    }

    /// The severity the request was opened with.
    pub fn initial_severity(&self) -> Severity {
        match &self.events[0].kind {
            RequestEventKind::Opened { severity, .. } => *severity,
            _ => unreachable!("RequestHistory::new puts the opened event first"),
        }
    }

    /// Every moment the severity was set, in order: the opening, then each change or
    /// triage confirmation.
    pub fn severity_steps(&self) -> Vec<(DateTime<Utc>, Severity)> {
        self.events
            .iter()
            .filter_map(|e| match &e.kind {
                RequestEventKind::Opened { severity, .. }
                | RequestEventKind::SeverityChanged { to: severity, .. }
                | RequestEventKind::TriageConfirmed { severity } => Some((e.at, *severity)),
                _ => None,
            })
            .collect()
    }

    /// The first public response by staff, if any.
    pub fn first_public_response(&self) -> Option<&RequestEvent> {
        self.events.iter().find(|e| e.is_public_staff_response())
    }

    /// The request as the events leave it.
    pub fn summary(&self) -> RequestSummary {
        let RequestEventKind::Opened {
            severity,
            channel,
            needs_triage,
            title,
        } = &self.events[0].kind
        else {
            unreachable!("RequestHistory::new puts the opened event first")
        };
        let mut s = RequestSummary {
            opened_at: self.opened_at(),
            channel: *channel,
            title: title.clone(),
            severity: *severity,
            status: RequestStatus::Open,
            needs_triage: *needs_triage,
            urgent_alert: severity.is_critical(),
            worst_severity: *severity,
            first_public_response_at: None,
            resolved_at: None,
            call_link: None,
        };
        for e in &self.events[1..] {
            match &e.kind {
                RequestEventKind::Opened { .. } => {}
                RequestEventKind::SeverityChanged { to, .. } => s.severity = *to,
                RequestEventKind::TriageRequested => s.needs_triage = true,
                RequestEventKind::TriageConfirmed { severity } => {
                    s.severity = *severity;
                    s.needs_triage = false;
                }
                RequestEventKind::Response { .. } => {
                    if s.first_public_response_at.is_none() && e.is_public_staff_response() {
                        s.first_public_response_at = Some(e.at);
                    }
                }
                RequestEventKind::StatusChanged { to, .. } => {
                    s.status = *to;
                    if *to == RequestStatus::Resolved {
                        s.resolved_at = Some(e.at);
                    } else if *to < RequestStatus::Resolved {
                        s.resolved_at = None;
                    }
                }
                RequestEventKind::CallLaunched { link } => {
                    if s.call_link.is_none() {
                        s.call_link = Some(link.clone());
                    }
                }
                RequestEventKind::Update { .. } => {}
            }
            s.urgent_alert |= s.severity.is_critical();
            s.worst_severity = s.worst_severity.min(s.severity);
        }
        s
    }
}

/// What the events of a request add up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestSummary {
    pub opened_at: DateTime<Utc>,
    pub channel: Channel,
    pub title: String,
    pub severity: Severity,
    /// The most severe it has ever been.
    pub worst_severity: Severity,
    pub status: RequestStatus,
    pub needs_triage: bool,
    /// P1/P2 at some point (or an urgent email): the team was alerted.
    pub urgent_alert: bool,
    pub first_public_response_at: Option<DateTime<Utc>>,
    /// When it was last resolved; `None` while open or after a reopen.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The incident's one call link: re-launching reuses it.
    pub call_link: Option<String>,
}

/// Longest request details accepted (characters), the size of a long email body.
pub const MAX_DETAILS_LEN: usize = 100_000;

/// A new request as intake creates it: by chat (the customer chose the severity) or from
/// an email (severity from [`crate::triage::initial_triage`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewRequestInput {
    pub account_id: Uuid,
    /// `None` for an unknown sender.
    pub contact_id: Option<Uuid>,
    pub channel: Channel,
    pub severity: Severity,
    pub needs_triage: bool,
    pub title: String,
    /// The chat message or the email body: the first entry of the timeline.
    pub details: String,
}

impl NewRequestInput {
    /// Checks the form: a title, details of a sane size, a contact of this account.
    pub fn normalize(
        self,
        account_contact_ids: &[Uuid],
    ) -> Result<NewRequestInput, ValidationErrors> {
        let mut c = Checker::new();
        let title = c.check(validation::required_text("title", &self.title));
        let details = self.details.trim().to_owned();
        if details.chars().count() > MAX_DETAILS_LEN {
            c.push(FieldError::new(
                "details",
                format!("must be at most {MAX_DETAILS_LEN} characters"),
            ));
        }
        if let Some(id) = self.contact_id
            && !account_contact_ids.contains(&id)
        {
            c.push(FieldError::new(
                "contact_id",
                "is not a contact of this account",
            ));
        }
        c.finish()?;
        Ok(NewRequestInput {
            title: title.unwrap_or_default(),
            details,
            ..self
        })
    }

    /// The events that open the request: `opened`, then the details as the first update
    /// (when there are any), both by the customer at `at`. `ids` are client-generated.
    pub fn opening_events(&self, ids: [Uuid; 2], at: DateTime<Utc>) -> Vec<RequestEvent> {
        let actor = Actor::Customer {
            contact_id: self.contact_id,
        };
        let mut events = vec![RequestEvent {
            id: ids[0],
            at,
            actor,
            kind: RequestEventKind::Opened {
                severity: self.severity,
                channel: self.channel,
                needs_triage: self.needs_triage,
                title: self.title.clone(),
            },
        }];
        if !self.details.is_empty() {
            events.push(RequestEvent {
                id: ids[1],
                at,
                actor,
                kind: RequestEventKind::Update {
                    text: self.details.clone(),
                },
            });
        }
        events
    }
}

/// Whether `role` may move a request from `from` to `to`.
///
/// Decided: any staff role may move a request forward, skipping steps (a P4 question can
/// be resolved without being "mitigated"); a resolved request may be reopened (back to
/// `open`) when the fix did not hold; `closed` is final; staying put is not a transition.
pub fn check_status_transition(
    from: RequestStatus,
    to: RequestStatus,
    _role: Role,
) -> Result<(), FieldError> {
    use RequestStatus::{Closed, Open, Resolved};
    let ok = match (from, to) {
        (Closed, _) => false,
        (Resolved, Open) => true,
        _ => to > from,
    };
    if ok {
        Ok(())
    } else if from == Closed {
        Err(FieldError::new(
            "status",
            "a closed request cannot change status",
        ))
    } else if from == to {
        Err(FieldError::new(
            "status",
            format!("the request is already {}", to.as_str()),
        ))
    } else {
        Err(FieldError::new(
            "status",
            format!(
                "a request cannot go from {} back to {}",
                from.as_str(),
                to.as_str()
            ),
        ))
    }
}

/// Only support leads and admins set a request's severity once it is in (triage
/// confirmations and later changes alike): the customer chose it, or the email rule did.
pub fn may_set_severity(role: Role) -> bool {
    crate::authz::allows(role, crate::authz::Action::ChangeSeverity)
}

/// Whether `role` may change the severity of the request to `to`.
pub fn check_severity_change(
    summary: &RequestSummary,
    to: Severity,
    role: Role,
) -> Result<(), FieldError> {
    if !may_set_severity(role) {
        return Err(FieldError::new(
            "severity",
            "only a support lead or an admin can change the severity",
        ));
    }
    if summary.status == RequestStatus::Closed {
        return Err(FieldError::new(
            "severity",
            "a closed request keeps its severity",
        ));
    }
    if summary.severity == to {
        return Err(FieldError::new(
            "severity",
            format!("the request is already {}", to.as_str()),
        ));
    }
    Ok(())
}

/// Whether `role` may confirm the triage of the request (at any severity, the current one
/// included).
pub fn check_triage_confirmation(summary: &RequestSummary, role: Role) -> Result<(), FieldError> {
    if !may_set_severity(role) {
        return Err(FieldError::new(
            "severity",
            "only a support lead or an admin can confirm triage",
        ));
    }
    if !summary.needs_triage {
        return Err(FieldError::new(
            "severity",
            "the request does not need triage",
        ));
    }
    Ok(())
}

/// Who may assign a request to someone other than themselves, or take it from its assignee:
/// whoever directs the desk, the roles that set severities (support leads and admins,
/// `change_severity`).
pub fn may_assign_others(role: Role) -> bool {
    may_set_severity(role)
}

/// Whether `me` (of `role`) may change a request's assignee from `from` to `to`.
///
/// Decided: anyone on the desk may **take** an unassigned request (assign it to
/// themselves) and **give back** one assigned to them; assigning it to someone else,
/// taking it from its assignee or unassigning someone else is for those who
/// [`may_assign_others`]. Two people taking the same request offline: the first to reach
/// the service has it, the second's take is refused (it is someone else's by then) and shows
/// in that person's Needs attention.
pub fn check_assignee_change(
    from: Option<Uuid>,
    to: Option<Uuid>,
    me: Uuid,
    role: Role,
) -> Result<(), FieldError> {
    if from == to {
        return Err(FieldError::new(
            "assignee_id",
            match to {
                Some(u) if u == me => "the request is already yours".to_owned(),
                Some(_) => "the request is already assigned to that person".to_owned(),
                None => "the request is not assigned to anyone".to_owned(),
            },
        ));
    }
    let own = matches!((from, to), (None, Some(t)) if t == me)
        || matches!((from, to), (Some(f), None) if f == me);
    if own || may_assign_others(role) {
        Ok(())
    } else if from.is_some() {
        Err(FieldError::new(
            "assignee_id",
            "the request is someone else's: only a support lead or an admin can reassign it",
        ))
    } else {
        Err(FieldError::new(
            "assignee_id",
            "only a support lead or an admin can assign a request to someone else; take it yourself",
        ))
    }
}

// ---------------------------------------------------------------------------------------
// Sync: how requests and their timelines travel (see `crate::sync::EntitySpec`).

/// A request syncs as one record hanging off its account. Its truth is its timeline
/// ([`EVENT_SYNC`] records, append-only, so they never conflict); these fields are what
/// lists filter on, recomputed from the events by each write. Decided: no field is
/// versioned. A severity or status set offline by two people is not a conflict to refuse
/// (both changes are on the timeline, which every machine orders the same way); refusing
/// the second would drop an acknowledged action from the record the lists read.
pub static REQUEST_SYNC: crate::sync::EntitySpec = crate::sync::EntitySpec {
    fields: &[
        "account_id",
        "contact_id",
        "title",
        "channel",
        "opened_at",
        "opened_by",
        "severity",
        "needs_triage",
        "status",
        "thread_keys",
        "meeting_link",
        "assignee_id",
    ],
    required: &[
        "account_id",
        "title",
        "channel",
        "opened_at",
        "severity",
        "needs_triage",
        "status",
        "thread_keys",
    ],
    versioned: &[],
    defaults: request_defaults,
    normalize: normalize_request_fields,
    extra_action: request_extra_action,
};

/// One timeline entry of a request: written once, never edited.
pub static EVENT_SYNC: crate::sync::EntitySpec = crate::sync::EntitySpec {
    fields: &["account_id", "request_id", "at", "by", "kind"],
    required: &["account_id", "request_id", "at", "by", "kind"],
    versioned: &[],
    defaults: crate::sync::no_defaults,
    normalize: normalize_event_fields,
    extra_action: crate::sync::no_extra_action,
};

/// Most Message-IDs kept on one request, and the longest one (RFC 5322 line limit).
const MAX_THREAD_KEYS: usize = 500;
const MAX_MESSAGE_ID_LEN: usize = 998;

fn request_defaults() -> crate::sync::Fields {
    let mut f = crate::sync::Fields::new();
    f.insert("needs_triage".into(), serde_json::Value::Bool(false));
    f.insert("thread_keys".into(), serde_json::Value::Array(Vec::new()));
    f.insert("contact_id".into(), serde_json::Value::Null);
    f.insert("opened_by".into(), serde_json::Value::Null);
    f.insert("meeting_link".into(), serde_json::Value::Null);
    f.insert("assignee_id".into(), serde_json::Value::Null);
    f
}

/// The value of `name` as a `T`, or a refusal naming the field.
pub(crate) fn wire_field<T: serde::de::DeserializeOwned>(
    fields: &crate::sync::Fields,
    name: &str,
    what: &str,
) -> Result<Option<T>, crate::sync::Rejection> {
    match fields.get(name) {
        None => Ok(None),
        Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(|_| {
            crate::sync::Rejection::field(
                crate::sync::RejectCode::InvalidField,
                name,
                format!("{name} must be {what}"),
            )
        }),
    }
}

fn refuse(e: &FieldError) -> crate::sync::Rejection {
    crate::sync::Rejection::field(
        crate::sync::RejectCode::InvalidField,
        &e.field,
        format!("{}: {}", e.field, e.reason),
    )
}

/// A call link on the wire: an https link (the allow-list is each user's own setting, so
/// the service checks only what every allow-list shares).
fn check_https_link(field: &str, link: &str) -> Result<String, crate::sync::Rejection> {
    let url = crate::links::check_external_link(field, link).map_err(|e| refuse(&e))?;
    if url.scheme() != "https" || !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(&FieldError::new(
            field,
            "must be an https link without a user name",
        )));
    }
    Ok(url.to_string())
}

/// Checks and normalises a request record's merged fields: the enums, the instants, the
/// ids, a non-empty title, the Message-IDs, an https call link.
pub fn normalize_request_fields(
    mut fields: crate::sync::Fields,
) -> Result<crate::sync::Fields, crate::sync::Rejection> {
    use serde_json::Value;
    if let Some(title) = wire_field::<String>(&fields, "title", "a text")? {
        let t = validation::required_text("title", &title).map_err(|e| refuse(&e))?;
        fields.insert("title".into(), Value::String(t));
    }
    wire_field::<Channel>(&fields, "channel", "chat or email")?;
    wire_field::<Severity>(&fields, "severity", "one of p1, p2, p3, p4")?;
    wire_field::<RequestStatus>(
        &fields,
        "status",
        "one of open, acknowledged, mitigated, resolved, closed",
    )?;
    wire_field::<bool>(&fields, "needs_triage", "true or false")?;
    wire_field::<DateTime<Utc>>(&fields, "opened_at", "an RFC 3339 instant")?;
    wire_field::<Option<Uuid>>(&fields, "contact_id", "a contact id or null")?;
    wire_field::<Option<Uuid>>(&fields, "opened_by", "a user id or null")?;
    wire_field::<Option<Uuid>>(&fields, "assignee_id", "a user id or null")?;
    let keys = wire_field::<Vec<String>>(&fields, "thread_keys", "a list of Message-IDs")?;
    let bad_key = |k: &String| {
        k.is_empty() || k.len() > MAX_MESSAGE_ID_LEN || k.contains(char::is_whitespace)
    };
    if let Some(keys) = keys
        && (keys.len() > MAX_THREAD_KEYS || keys.iter().any(bad_key))
    {
        return Err(refuse(&FieldError::new(
            "thread_keys",
            "must be Message-IDs without spaces, at most 500 of them",
        )));
    }
    if let Some(Some(link)) =
        wire_field::<Option<String>>(&fields, "meeting_link", "a link or null")?
    {
        let link = check_https_link("meeting_link", &link)?;
        fields.insert("meeting_link".into(), Value::String(link));
    }
    Ok(fields)
}

/// Checks a timeline entry: its instant, who did it, and what (texts of a sane size, an
/// https call link).
pub fn normalize_event_fields(
    fields: crate::sync::Fields,
) -> Result<crate::sync::Fields, crate::sync::Rejection> {
    wire_field::<DateTime<Utc>>(&fields, "at", "an RFC 3339 instant")?;
    wire_field::<Uuid>(&fields, "request_id", "a request id")?;
    wire_field::<Actor>(&fields, "by", "a staff member, a customer or the system")?;
    if let Some(kind) = wire_field::<RequestEventKind>(&fields, "kind", "a timeline entry")? {
        match &kind {
            RequestEventKind::Response { text, .. } | RequestEventKind::Update { text }
                if text.chars().count() > MAX_DETAILS_LEN =>
            {
                return Err(refuse(&FieldError::new(
                    "kind",
                    format!("the text must be at most {MAX_DETAILS_LEN} characters"),
                )));
            }
            RequestEventKind::Opened { title, .. } if title.trim().is_empty() => {
                return Err(refuse(&FieldError::new(
                    "kind",
                    "the title must not be empty",
                )));
            }
            RequestEventKind::CallLaunched { link } => {
                check_https_link("kind", link)?;
            }
            _ => {}
        }
    }
    Ok(fields)
}

/// Setting the severity of an existing request, or confirming its triage, is a support
/// lead's (`change_severity`). The one exception is the urgent-email rule itself: raising
/// to P1 *needs triage* is what any importer's Rapport does when an urgent email continues
/// an open request.
pub fn request_extra_action(
    current: Option<&crate::sync::Fields>,
    set: &crate::sync::Fields,
) -> Option<crate::authz::Action> {
    let current = current?;
    let sev = |f: &crate::sync::Fields| {
        f.get("severity")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let triage =
        |f: &crate::sync::Fields| f.get("needs_triage").and_then(serde_json::Value::as_bool);
    let severity_changed = set.contains_key("severity") && sev(set) != sev(current);
    let triage_confirmed = triage(set) == Some(false) && triage(current) == Some(true);
    let escalation = sev(set).as_deref() == Some("p1")
        && triage(set).or(triage(current)) == Some(true)
        && !triage_confirmed;
    ((severity_changed && !escalation) || triage_confirmed)
        .then_some(crate::authz::Action::ChangeSeverity)
}

/// The timeline's rule per event kind: who may be the actor of a new entry, and which
/// action it needs of the pusher's `role` beyond writing requests.
///
/// | kind | staff (the pusher: [`check_event_author`]) | customer | Rapport (system) |
/// |---|---|---|---|
/// | opened, update, response | yes | yes | no |
/// | severity_changed | `change_severity` | no | only up to P1 (the urgent-email rule) |
/// | triage_requested | yes | no | yes |
/// | triage_confirmed | `change_severity` | no | no |
/// | status_changed, call_launched | yes | no | no |
///
/// The desktop writes customers' words (chat and email intake) as the customer's, and the
/// urgent-email escalation as Rapport's; everything else as the signed-in user's.
pub fn check_event_kind(
    by: &Actor,
    kind: &RequestEventKind,
    role: Role,
) -> Result<(), crate::sync::Rejection> {
    use crate::authz::{Action, Denial};
    use crate::sync::{RejectCode, Rejection};
    use RequestEventKind as K;
    let actor_ok = match (by, kind) {
        (Actor::Staff { .. }, _)
        | (Actor::Customer { .. }, K::Opened { .. } | K::Update { .. } | K::Response { .. })
        | (Actor::System, K::TriageRequested) => true,
        (Actor::System, K::SeverityChanged { to, .. }) => *to == Severity::P1,
        _ => false,
    };
    if !actor_ok {
        let who = match by {
            Actor::Staff { .. } => "staff",
            Actor::Customer { .. } => "the customer",
            Actor::System => "Rapport",
        };
        return Err(Rejection::field(
            RejectCode::InvalidField,
            "by",
            format!(
                "by: a {} entry cannot be written as by {who}",
                event_kind_name(kind)
            ),
        ));
    }
    if matches!(by, Actor::Staff { .. })
        && matches!(kind, K::SeverityChanged { .. } | K::TriageConfirmed { .. })
    {
        crate::authz::check(role, Action::ChangeSeverity).map_err(Denial::rejection)?;
    }
    Ok(())
}

/// A timeline entry by staff is by the user who pushes it: nobody writes in someone else's
/// name (a public response by staff stops the SLA clock).
pub fn check_event_author(by: &Actor, pusher: Uuid) -> Result<(), crate::sync::Rejection> {
    match by {
        Actor::Staff { user_id } if *user_id != pusher => Err(crate::sync::Rejection::field(
            crate::sync::RejectCode::InvalidField,
            "by",
            "by: an entry by staff is written by that person only, not in someone else's name",
        )),
        _ => Ok(()),
    }
}

/// The wire name of an event kind (`severity_changed`, ...).
pub fn event_kind_name(kind: &RequestEventKind) -> &'static str {
    match kind {
        RequestEventKind::Opened { .. } => "opened",
        RequestEventKind::SeverityChanged { .. } => "severity_changed",
        RequestEventKind::TriageRequested => "triage_requested",
        RequestEventKind::TriageConfirmed { .. } => "triage_confirmed",
        RequestEventKind::Response { .. } => "response",
        RequestEventKind::StatusChanged { .. } => "status_changed",
        RequestEventKind::CallLaunched { .. } => "call_launched",
        RequestEventKind::Update { .. } => "update",
    }
}

/// `opened_by` names who opened a request by chat (`null` for intake by email): on a create
/// it is the pusher or nobody, and it never changes after.
pub fn check_opened_by(
    stored: Option<&crate::sync::Fields>,
    set: &crate::sync::Fields,
    pusher: Uuid,
) -> Result<(), crate::sync::Rejection> {
    use crate::sync::{RejectCode, Rejection};
    let Some(given) = set.get("opened_by") else {
        return Ok(());
    };
    match stored {
        None => {
            let ok = given.is_null()
                || serde_json::from_value::<Uuid>(given.clone()).is_ok_and(|u| u == pusher);
            if ok {
                Ok(())
            } else {
                Err(Rejection::field(
                    RejectCode::InvalidField,
                    "opened_by",
                    "opened_by: a request is opened by the user who pushes it, or by nobody (email intake)",
                ))
            }
        }
        Some(stored) => {
            if stored.get("opened_by").unwrap_or(&serde_json::Value::Null) == given {
                Ok(())
            } else {
                Err(Rejection::field(
                    RejectCode::ImmutableField,
                    "opened_by",
                    "opened_by cannot change once the request exists",
                ))
            }
        }
    }
}

/// A synced change of a request's `assignee_id` by `pusher` follows
/// [`check_assignee_change`] (on a create, from nobody); a value that is not a user id is
/// left to the field check, which names it.
pub fn check_synced_assignee(
    stored: Option<&crate::sync::Fields>,
    set: &crate::sync::Fields,
    pusher: Uuid,
    role: Role,
) -> Result<(), crate::sync::Rejection> {
    use crate::sync::{RejectCode, Rejection};
    let Some(given) = set.get("assignee_id") else {
        return Ok(());
    };
    let Ok(to) = serde_json::from_value::<Option<Uuid>>(given.clone()) else {
        return Ok(());
    };
    let from = stored
        .and_then(|f| f.get("assignee_id"))
        .and_then(|v| serde_json::from_value::<Option<Uuid>>(v.clone()).ok())
        .flatten();
    if from == to {
        return Ok(());
    }
    check_assignee_change(from, to, pusher, role).map_err(|e| {
        Rejection::field(
            RejectCode::ForbiddenRole,
            "assignee_id",
            format!("assignee_id: {}", e.reason),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rstest::rstest;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).unwrap()
    }

    fn ev(n: u128, at: DateTime<Utc>, actor: Actor, kind: RequestEventKind) -> RequestEvent {
        RequestEvent {
            id: Uuid::from_u128(n),
            at,
            actor,
            kind,
        }
    }

    fn opened(sev: Severity, at: DateTime<Utc>) -> RequestEvent {
        ev(
            1,
            at,
            Actor::Customer { contact_id: None },
            RequestEventKind::Opened {
                severity: sev,
                channel: Channel::Email,
                needs_triage: true,
                title: "db down".into(),
            },
        )
    }

    const LEAD: Actor = Actor::Staff {
        user_id: Uuid::from_u128(99),
    };

    #[test]
    fn severity_order_and_targets() {
        assert!(
            Severity::P1.at_least(Severity::P3),
            "P1 is more severe than P3"
        );
        assert!(!Severity::P4.at_least(Severity::P3));
        assert_eq!(Severity::P2.target(), TimeDelta::hours(2));
        assert_eq!(Severity::parse(" P3 "), Some(Severity::P3));
        assert!(Severity::P2.is_critical() && !Severity::P3.is_critical());
    }

    #[test]
    fn history_orders_by_event_time_not_arrival() {
        let late_arrival = vec![
            ev(
                3,
                t(14, 20),
                LEAD,
                RequestEventKind::Update { text: "b".into() },
            ),
            opened(Severity::P3, t(14, 0)),
            ev(
                2,
                t(14, 10),
                LEAD,
                RequestEventKind::Update { text: "a".into() },
            ),
        ];
        let h = RequestHistory::new(late_arrival).unwrap();
        let ids: Vec<u128> = h.events().iter().map(|e| e.id.as_u128()).collect();
        assert_eq!(
            ids,
            vec![1, 2, 3],
            "events are ordered by when they happened"
        );
    }

    #[test]
    fn opened_wins_a_tie_at_the_same_instant() {
        let h = RequestHistory::new(vec![
            ev(
                0,
                t(14, 0),
                LEAD,
                RequestEventKind::Update { text: "x".into() },
            ),
            opened(Severity::P3, t(14, 0)),
        ])
        .unwrap();
        assert!(matches!(
            h.events()[0].kind,
            RequestEventKind::Opened { .. }
        ));
    }

    #[test]
    fn histories_without_exactly_one_opening_are_refused() {
        assert_eq!(RequestHistory::new(vec![]), Err(HistoryError::NotOpened));
        let two = vec![opened(Severity::P3, t(1, 0)), opened(Severity::P3, t(2, 0))];
        assert_eq!(RequestHistory::new(two), Err(HistoryError::OpenedTwice(2)));
    }

    #[test]
    fn an_event_stamped_before_the_opening_counts_as_at_the_opening() {
        let skewed = vec![
            opened(Severity::P3, t(14, 0)),
            ev(
                7,
                t(13, 0),
                LEAD,
                RequestEventKind::Update { text: "x".into() },
            ),
        ];
        let h = RequestHistory::new(skewed).unwrap();
        assert!(
            matches!(h.events()[0].kind, RequestEventKind::Opened { .. }),
            "opening first"
        );
        assert_eq!(
            h.events()[1].at,
            t(14, 0),
            "a skewed clock cannot put it before the opening"
        );
    }

    #[test]
    fn summary_follows_the_events() {
        let h = RequestHistory::new(vec![
            opened(Severity::P1, t(14, 0)),
            ev(
                2,
                t(14, 5),
                LEAD,
                RequestEventKind::TriageConfirmed {
                    severity: Severity::P3,
                },
            ),
            ev(
                3,
                t(14, 6),
                LEAD,
                RequestEventKind::Response {
                    visibility: Visibility::Internal,
                    text: "looking".into(),
                },
            ),
            ev(
                4,
                t(14, 7),
                LEAD,
                RequestEventKind::Response {
                    visibility: Visibility::Public,
                    text: "on it".into(),
                },
            ),
            ev(
                5,
                t(14, 8),
                LEAD,
                RequestEventKind::CallLaunched {
                    link: "https://meet.jit.si/a".into(),
                },
            ),
            ev(
                6,
                t(14, 9),
                LEAD,
                RequestEventKind::CallLaunched {
                    link: "https://meet.jit.si/b".into(),
                },
            ),
            ev(
                7,
                t(15, 0),
                LEAD,
                RequestEventKind::StatusChanged {
                    from: RequestStatus::Open,
                    to: RequestStatus::Resolved,
                },
            ),
        ])
        .unwrap();
        let s = h.summary();
        assert_eq!(s.severity, Severity::P3);
        assert_eq!(s.worst_severity, Severity::P1, "it was opened as P1");
        assert!(s.urgent_alert, "an urgent email alerted the team");
        assert!(!s.needs_triage, "the lead confirmed it");
        assert_eq!(
            s.first_public_response_at,
            Some(t(14, 7)),
            "internal responses do not count"
        );
        assert_eq!(
            s.call_link.as_deref(),
            Some("https://meet.jit.si/a"),
            "one link per incident"
        );
        assert_eq!(s.status, RequestStatus::Resolved);
        assert_eq!(s.resolved_at, Some(t(15, 0)));
    }

    #[test]
    fn a_new_request_is_checked_and_opens_its_history() {
        let contact = Uuid::from_u128(5);
        let input = NewRequestInput {
            account_id: Uuid::from_u128(1),
            contact_id: Some(contact),
            channel: Channel::Chat,
            severity: Severity::P2,
            needs_triage: false,
            title: "  Replication lag ".into(),
            details: " Lag grows since 09:00. ".into(),
        };
        let ok = input.clone().normalize(&[contact]).unwrap();
        assert_eq!(
            (ok.title.as_str(), ok.details.as_str()),
            ("Replication lag", "Lag grows since 09:00.")
        );
        let h = RequestHistory::new(
            ok.opening_events([Uuid::from_u128(10), Uuid::from_u128(11)], t(9, 5)),
        )
        .unwrap();
        let s = h.summary();
        assert_eq!(
            (s.severity, s.urgent_alert, s.title.as_str()),
            (Severity::P2, true, "Replication lag")
        );
        assert!(
            matches!(&h.events()[1].kind, RequestEventKind::Update { text } if text == "Lag grows since 09:00.")
        );
        let bad = NewRequestInput {
            title: " ".into(),
            contact_id: Some(Uuid::from_u128(6)),
            ..input
        };
        let fields: Vec<String> = bad
            .normalize(&[contact])
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["title", "contact_id"]);
    }

    #[rstest]
    #[case(RequestStatus::Open, RequestStatus::Acknowledged, true)]
    #[case(RequestStatus::Open, RequestStatus::Resolved, true)]
    #[case(RequestStatus::Mitigated, RequestStatus::Resolved, true)]
    #[case(RequestStatus::Resolved, RequestStatus::Closed, true)]
    #[case(RequestStatus::Resolved, RequestStatus::Open, true)]
    #[case(RequestStatus::Mitigated, RequestStatus::Acknowledged, false)]
    #[case(RequestStatus::Open, RequestStatus::Open, false)]
    #[case(RequestStatus::Closed, RequestStatus::Open, false)]
    #[case(RequestStatus::Resolved, RequestStatus::Mitigated, false)]
    fn status_transitions(
        #[case] from: RequestStatus,
        #[case] to: RequestStatus,
        #[case] ok: bool,
    ) {
        let r = check_status_transition(from, to, Role::Csm);
        assert_eq!(r.is_ok(), ok, "{from:?} -> {to:?}: {r:?}");
        if let Err(e) = r {
            assert_eq!(e.field, "status");
        }
    }

    #[rstest]
    #[case(Role::SupportLead, true)]
    #[case(Role::Admin, true)]
    #[case(Role::Csm, false)]
    #[case(Role::AccountRep, false)]
    fn only_leads_and_admins_set_severity(#[case] role: Role, #[case] ok: bool) {
        let s = RequestHistory::new(vec![opened(Severity::P1, t(14, 0))])
            .unwrap()
            .summary();
        assert_eq!(
            check_severity_change(&s, Severity::P2, role).is_ok(),
            ok,
            "{role:?}"
        );
        assert_eq!(check_triage_confirmation(&s, role).is_ok(), ok, "{role:?}");
    }

    #[test]
    fn severity_change_refusals_name_the_field() {
        let s = RequestHistory::new(vec![opened(Severity::P1, t(14, 0))])
            .unwrap()
            .summary();
        let same = check_severity_change(&s, Severity::P1, Role::Admin).unwrap_err();
        assert_eq!(same.field, "severity");
        let closed = RequestSummary {
            status: RequestStatus::Closed,
            ..s.clone()
        };
        assert!(check_severity_change(&closed, Severity::P2, Role::Admin).is_err());
        let triaged = RequestSummary {
            needs_triage: false,
            ..s
        };
        let e = check_triage_confirmation(&triaged, Role::Admin).unwrap_err();
        assert!(e.reason.contains("does not need triage"), "{e}");
    }

    fn wire(pairs: &[(&str, serde_json::Value)]) -> crate::sync::Fields {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn request_records_are_checked_naming_the_field() {
        use serde_json::json;
        let ok = wire(&[
            ("account_id", json!(Uuid::from_u128(1))),
            ("title", json!("  DB down ")),
            ("channel", json!("email")),
            ("opened_at", json!("2026-11-26T09:00:00Z")),
            ("severity", json!("p1")),
            ("needs_triage", json!(true)),
            ("status", json!("open")),
            ("thread_keys", json!(["a1@acme.com"])),
            ("meeting_link", json!("https://meet.jit.si/rapport-abc")),
        ]);
        let n = normalize_request_fields(ok.clone()).unwrap();
        assert_eq!(n["title"], json!("DB down"), "trimmed");
        for (field, bad) in [
            ("severity", json!("p0")),
            ("status", json!("done")),
            ("channel", json!("fax")),
            ("title", json!("  ")),
            ("opened_at", json!("yesterday")),
            ("thread_keys", json!(["has space"])),
            ("meeting_link", json!("javascript:alert(1)")),
            ("meeting_link", json!("http://zoom.us/j/1")),
            (
                "meeting_link",
                json!("https://meet.google.com@evil.example/x"),
            ),
        ] {
            let mut f = ok.clone();
            f.insert(field.into(), bad.clone());
            let e = normalize_request_fields(f).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{field} = {bad}");
        }
    }

    #[test]
    fn timeline_records_are_checked() {
        use serde_json::json;
        let ok = wire(&[
            ("request_id", json!(Uuid::from_u128(2))),
            ("at", json!("2026-11-26T09:00:00Z")),
            (
                "by",
                json!({"kind": "staff", "user_id": Uuid::from_u128(3)}),
            ),
            (
                "kind",
                json!({"type": "response", "visibility": "public", "text": "on it"}),
            ),
        ]);
        assert!(normalize_event_fields(ok.clone()).is_ok());
        for (field, bad) in [
            ("by", json!({"kind": "robot"})),
            (
                "kind",
                json!({"type": "call_launched", "link": "data:text/html,x"}),
            ),
            ("kind", json!({"type": "teleported"})),
            ("at", json!(5)),
        ] {
            let mut f = ok.clone();
            f.insert(field.into(), bad.clone());
            let e = normalize_event_fields(f).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{bad}");
        }
    }

    #[rstest]
    #[case(None, &[("severity", "p2")], None)]
    #[case(Some(("p3", false)), &[("severity", "p2")], Some(crate::authz::Action::ChangeSeverity))]
    #[case(Some(("p1", true)), &[("needs_triage", "false")], Some(crate::authz::Action::ChangeSeverity))]
    #[case(Some(("p3", true)), &[("severity", "p1")], None)]
    #[case(Some(("p3", false)), &[("severity", "p1"), ("needs_triage", "true")], None)]
    #[case(Some(("p3", false)), &[("status", "resolved")], None)]
    fn changing_severity_needs_the_change_severity_action(
        #[case] current: Option<(&str, bool)>,
        #[case] set: &[(&str, &str)],
        #[case] want: Option<crate::authz::Action>,
    ) {
        use serde_json::json;
        let current =
            current.map(|(s, t)| wire(&[("severity", json!(s)), ("needs_triage", json!(t))]));
        let set: crate::sync::Fields = set
            .iter()
            .map(|(k, v)| {
                let v = match *v {
                    "true" => json!(true),
                    "false" => json!(false),
                    s => json!(s),
                };
                ((*k).to_owned(), v)
            })
            .collect();
        assert_eq!(
            request_extra_action(current.as_ref(), &set),
            want,
            "{set:?}"
        );
    }

    const ME: Uuid = Uuid::from_u128(7);
    const OTHER: Uuid = Uuid::from_u128(8);

    #[rstest]
    #[case(None, Some(ME), Role::Csm, true)]
    #[case(Some(ME), None, Role::AccountRep, true)]
    #[case(None, Some(OTHER), Role::Csm, false)]
    #[case(Some(OTHER), Some(ME), Role::Csm, false)]
    #[case(Some(OTHER), None, Role::AccountRep, false)]
    #[case(Some(ME), Some(OTHER), Role::Csm, false)]
    #[case(None, Some(OTHER), Role::SupportLead, true)]
    #[case(Some(OTHER), Some(ME), Role::SupportLead, true)]
    #[case(Some(OTHER), None, Role::Admin, true)]
    #[case(Some(ME), Some(ME), Role::Admin, false)]
    #[case(None, None, Role::SupportLead, false)]
    fn taking_and_giving_back_are_anyones_assigning_others_a_leads(
        #[case] from: Option<Uuid>,
        #[case] to: Option<Uuid>,
        #[case] role: Role,
        #[case] ok: bool,
    ) {
        let r = check_assignee_change(from, to, ME, role);
        assert_eq!(r.is_ok(), ok, "{from:?} -> {to:?} by a {role:?}: {r:?}");
        if let Err(e) = r {
            assert_eq!(e.field, "assignee_id", "the refusal names the field");
        }
    }

    #[test]
    fn a_synced_assignee_change_is_judged_against_the_stored_record() {
        use serde_json::json;
        let stored = wire(&[("assignee_id", json!(OTHER))]);
        let take_theirs = wire(&[("assignee_id", json!(ME))]);
        let e = check_synced_assignee(Some(&stored), &take_theirs, ME, Role::Csm).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (crate::sync::RejectCode::ForbiddenRole, Some("assignee_id")),
            "a CSM cannot take a request someone else holds: {e:?}"
        );
        assert!(
            check_synced_assignee(Some(&stored), &take_theirs, ME, Role::SupportLead).is_ok(),
            "a lead may"
        );
        assert!(
            check_synced_assignee(
                Some(&stored),
                &wire(&[("assignee_id", json!(OTHER))]),
                ME,
                Role::Csm
            )
            .is_ok(),
            "resending the stored value changes nothing and passes"
        );
        assert!(
            check_synced_assignee(None, &take_theirs, ME, Role::Csm).is_ok(),
            "a request opened as mine"
        );
        assert!(
            check_synced_assignee(None, &wire(&[("assignee_id", json!(OTHER))]), ME, Role::Csm)
                .is_err(),
            "a request opened as someone else's by a CSM"
        );
        assert!(
            check_synced_assignee(
                Some(&stored),
                &wire(&[("title", json!("x"))]),
                ME,
                Role::Csm
            )
            .is_ok(),
            "a write that leaves the assignee alone"
        );
        let mut f = wire(&[("assignee_id", json!("not-a-uuid"))]);
        assert!(
            check_synced_assignee(None, &f, ME, Role::Csm).is_ok(),
            "left to the field check"
        );
        f.insert("account_id".into(), json!(Uuid::from_u128(1)));
        let e = normalize_request_fields(f).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("assignee_id"), "which names it");
    }
}
