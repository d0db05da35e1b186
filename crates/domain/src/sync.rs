//! Sync wire types shared by the desktop client and the central service.
//!
//! A write on the desktop becomes one [`Mutation`] in the local outbox, in the same SQLite
//! transaction as the row it changes. The mutation carries only the fields it set, so the
//! server can resolve concurrent edits per field.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Version of the sync protocol this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The kinds of record that sync. Later features add theirs here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Account,
    Contact,
    Note,
    /// A staff member's own profile (name, time zone, working hours), written on the desktop.
    User,
    /// A customer's onboarding session ([`crate::onboarding`]).
    OnboardingSession,
    /// A quarterly use-case review & health check ([`crate::review`]).
    Review,
    /// A support request or incident ([`crate::request`]); its history is `RequestEvent`s.
    Request,
    /// One entry of a request's timeline (append-only).
    RequestEvent,
    /// A root-cause analysis of a P1/P2 incident ([`crate::rca`]).
    Rca,
}

impl EntityKind {
    pub const ALL: [EntityKind; 9] = [
        EntityKind::Account,
        EntityKind::Contact,
        EntityKind::Note,
        EntityKind::User,
        EntityKind::OnboardingSession,
        EntityKind::Review,
        EntityKind::Request,
        EntityKind::RequestEvent,
        EntityKind::Rca,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Account => "account",
            EntityKind::Contact => "contact",
            EntityKind::Note => "note",
            EntityKind::User => "user",
            EntityKind::OnboardingSession => "onboarding_session",
            EntityKind::Review => "review",
            EntityKind::Request => "request",
            EntityKind::RequestEvent => "request_event",
            EntityKind::Rca => "rca",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MutationOp {
    /// Create the record, or set the given fields of it (a re-create after a delete too).
    Upsert,
    /// Delete the record: the server keeps a tombstone.
    Delete,
}

impl MutationOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MutationOp::Upsert => "upsert",
            MutationOp::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "upsert" => Some(MutationOp::Upsert),
            "delete" => Some(MutationOp::Delete),
            _ => None,
        }
    }
}

/// One client write. `id` is made by the client (UUIDv7) and makes the write idempotent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    pub id: Uuid,
    pub entity: EntityKind,
    pub entity_id: Uuid,
    pub op: MutationOp,
    /// The fields this write sets, by their wire names (empty for a delete).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// For writes checked against a version (a request's severity or status): the version
    /// the client based the change on. `None` for last-writer-wins fields.
    #[serde(default)]
    pub base_version: Option<i64>,
    /// When the user made the change, by the client's clock: shown to users, never used
    /// to order writes (the server orders them).
    pub client_time: DateTime<Utc>,
}

// ---------------------------------------------------------------------------------------
// The protocol between the desktop and the central service (issue 3).
// ---------------------------------------------------------------------------------------

/// The HTTP header in which a client states the protocol version it speaks.
pub const PROTOCOL_HEADER: &str = "rapport-protocol";
/// The oldest protocol version the server still serves; older clients get 426.
pub const MIN_PROTOCOL_VERSION: u32 = 1;
/// Most mutations one push may carry.
pub const MAX_PUSH_BATCH: usize = 500;
/// Page size of a pull when the client names none, and the most it may ask for.
pub const DEFAULT_PULL_LIMIT: u32 = 500;
pub const MAX_PULL_LIMIT: u32 = 1000;

/// Whether `next` belongs to the same user action as the request write `head`: a timeline
/// entry of that request written with it (the same use case stamps both with one client
/// time, and the outbox keeps them next to each other). Opening a request writes the request
/// and its opening events; a status or severity change writes the request and its entry.
/// Such a group travels in one push and the server applies it in one transaction, all or
/// nothing, so a request never exists on the server without the events written with it
/// (a request with no opening event is shown on no desktop).
pub fn written_with(head: &Mutation, next: &Mutation) -> bool {
    head.entity == EntityKind::Request
        && head.op == MutationOp::Upsert
        && next.entity == EntityKind::RequestEvent
        && next.op == MutationOp::Upsert
        && next.client_time == head.client_time
        && next
            .fields
            .get("request_id")
            .and_then(serde_json::Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            == Some(head.entity_id)
}

/// `mutations` cut into the groups that travel and apply together (see [`written_with`]):
/// contiguous ranges covering the whole slice in order, most of them one mutation long.
pub fn write_groups(mutations: &[Mutation]) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    while start < mutations.len() {
        let head = &mutations[start];
        let mut end = start + 1;
        while end < mutations.len() && written_with(head, &mutations[end]) {
            end += 1;
        }
        groups.push(start..end);
        start = end;
    }
    groups
}

/// Whether a client speaking `version` is served.
pub fn protocol_supported(version: u32) -> bool {
    (MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&version)
}

/// `POST /v1/sync/push`: the oldest pending mutations of the outbox, in outbox order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub mutations: Vec<Mutation>,
}

/// One result per mutation, in the order of the request. The batch itself is answered 200
/// even when some mutations were rejected, so one bad write never blocks the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub results: Vec<MutationResult>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MutationStatus {
    /// Committed (now, or by an earlier try of the same mutation id): drop it from the outbox.
    Applied,
    /// Refused for good: `code` says why; retrying the same mutation gets the same answer.
    Rejected,
}

/// Why a mutation was refused. The desktop branches on these, never on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// A field's value is refused by validation; `field` names it.
    InvalidField,
    /// `fields` names a field this entity does not have; `field` names it.
    UnknownField,
    /// A create lacks a required field; `field` names it.
    MissingField,
    /// A field that links the record to its owner (`team_id`, `account_id`, `author_id`)
    /// cannot change after the record was created.
    ImmutableField,
    /// The user's role may not do this (see `rapport_domain::authz`).
    ForbiddenRole,
    /// The record belongs to a team the user is not a member of (or the user has no team).
    ForbiddenTeam,
    /// The record is not the user's to change (another user's profile).
    ForbiddenRecord,
    /// The record a field points at (an account) does not exist or was deleted.
    NotFound,
    /// The change was based on `base_version`, but the record is at another version.
    VersionConflict,
}

impl RejectCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::InvalidField => "invalid_field",
            RejectCode::UnknownField => "unknown_field",
            RejectCode::MissingField => "missing_field",
            RejectCode::ImmutableField => "immutable_field",
            RejectCode::ForbiddenRole => "forbidden_role",
            RejectCode::ForbiddenTeam => "forbidden_team",
            RejectCode::ForbiddenRecord => "forbidden_record",
            RejectCode::NotFound => "not_found",
            RejectCode::VersionConflict => "version_conflict",
        }
    }
}

/// The outcome of one mutation of a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResult {
    /// The mutation's id.
    pub id: Uuid,
    pub status: MutationStatus,
    /// Set when rejected.
    pub code: Option<RejectCode>,
    /// Set when rejected: what was wrong, in words a user can act on.
    pub message: Option<String>,
    /// The field at fault, when one is.
    pub field: Option<String>,
}

impl MutationResult {
    pub fn applied(id: Uuid) -> Self {
        MutationResult {
            id,
            status: MutationStatus::Applied,
            code: None,
            message: None,
            field: None,
        }
    }

    pub fn rejected(id: Uuid, r: Rejection) -> Self {
        MutationResult {
            id,
            status: MutationStatus::Rejected,
            code: Some(r.code),
            message: Some(r.message),
            field: r.field,
        }
    }
}

/// A refused mutation before it is tied to its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: RejectCode,
    pub message: String,
    pub field: Option<String>,
}

impl Rejection {
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn field(code: RejectCode, field: &str, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }
}

/// Where a pull resumes. Made by the server only; clients store and send it back verbatim.
///
/// `position` orders the changes a user sees: it is the server sequence number of the
/// record's last change, or of the user's joining the record's team when that came later
/// (so a team's existing records arrive after the user joins it); `seq` breaks ties. Both
/// only grow, so a cursor is monotonic. `horizon` is the newest purged tombstone the server
/// had when it made the cursor: a purge after that may have taken a tombstone this cursor
/// still needs (`reset_required`), one before it cannot have (a pull from the start brings
/// no tombstones, and each earlier cursor was checked against the purges after it).
/// Written `"<position>.<seq>.<horizon>"` (`"<position>.<seq>"`, horizon 0, is read too);
/// `""`/`"0"` is the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cursor {
    pub position: i64,
    pub seq: i64,
    pub horizon: i64,
}

impl Cursor {
    pub const START: Cursor = Cursor {
        position: 0,
        seq: 0,
        horizon: 0,
    };

    /// Reads a cursor a client sent back; `None` when it is not one the server made.
    pub fn parse(s: &str) -> Option<Cursor> {
        let s = s.trim();
        if s.is_empty() || s == "0" {
            return Some(Cursor::START);
        }
        let mut parts = s.split('.');
        let position: i64 = parts.next()?.parse().ok()?;
        let seq: i64 = parts.next()?.parse().ok()?;
        let horizon: i64 = match parts.next() {
            Some(h) => h.parse().ok()?,
            None => 0,
        };
        (parts.next().is_none() && position >= 0 && seq >= 0 && seq <= position && horizon >= 0)
            .then_some(Cursor {
                position,
                seq,
                horizon,
            })
    }

    /// Whether a pull from this cursor must start over: a tombstone it may still need
    /// (changed after `position`) was purged after the cursor was made.
    pub fn needs_reset(&self, horizon_now: i64) -> bool {
        *self != Cursor::START && self.horizon < horizon_now && self.position < horizon_now
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.position, self.seq, self.horizon)
    }
}

/// `GET /v1/sync/pull`: one page of changes after the client's cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    /// Teams the user is no longer in: drop every record whose `team_id` is one of these
    /// (and the records hanging off their accounts) BEFORE applying `changes`.
    pub purge: Vec<Uuid>,
    /// The current state of each changed record, in cursor order; a record appears once
    /// per page, with its latest state. Users (team-mates' profiles) come with `team_id` null.
    pub changes: Vec<Change>,
    /// Store this (in the same transaction as the page) and send it with the next pull.
    pub cursor: String,
    /// More changes wait after `cursor`: pull again at once.
    pub has_more: bool,
    /// The cursor is older than the retained log: drop the synced cache (keep the outbox)
    /// and pull again from the start. `changes` is empty then.
    pub reset_required: bool,
    /// On a pull from the start (first sync, or after a reset): how many records the whole
    /// sync will bring (live records of the user's teams, plus the profiles), so a client
    /// can show "received n of total". `None` on later pulls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// The state of one record after its last change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub entity: EntityKind,
    pub entity_id: Uuid,
    /// The team owning the record (for a contact or note: its account's team).
    pub team_id: Option<Uuid>,
    /// A tombstone: the record was deleted; `fields` is empty.
    pub deleted: bool,
    /// Bumped by every applied change of this record; what `base_version` refers to.
    pub version: i64,
    /// Every field of the record by its wire name (see [`wire_fields`]).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Server time of the record's creation and of its last change.
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every error answer of the service (4xx and 5xx): `code` is stable, `message` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// The request field at fault, when one is.
    pub field: Option<String>,
}

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// A team as its members see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamRef {
    pub id: Uuid,
    pub name: String,
}

/// Who is signed in: answer of login and of `GET /v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub user: crate::user::User,
    pub teams: Vec<TeamRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// The bearer token: send as `Authorization: Bearer <token>`. Keep it in the OS keyring.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub me: Me,
}

// ---------------------------------------------------------------------------------------
// Fields of the synced entities, and how a mutation's fields merge into a record.
// ---------------------------------------------------------------------------------------

/// Wire names of the fields a mutation may set, per entity.
pub const ACCOUNT_FIELDS: &[&str] = &[
    "team_id",
    "name",
    "plan",
    "time_zone",
    "fiscal_year_start_month",
    "owner_csm_id",
    "account_rep_id",
    "slack_channel",
    "support_email_domains",
    "stage",
    "tags",
];
pub const CONTACT_FIELDS: &[&str] = &["account_id", "name", "email", "role", "time_zone"];
pub const NOTE_FIELDS: &[&str] = &["account_id", "author_id", "body", "pinned", "link"];
/// A user may set these of their own profile; `email` and `role` are an admin's to change
/// (they appear in pulled user records but a mutation setting them is refused).
pub const USER_FIELDS: &[&str] = &["name", "time_zone", "working_hours"];
/// Fields that tie a record to its owner: set when it is created, never changed after.
pub const LINK_FIELDS: &[&str] = &["team_id", "account_id", "author_id"];
/// Fields the server stamps itself (in server order) and so ignores in a mutation: a client
/// may send its whole record, timestamps included. A pull carries the server's values in
/// [`Change::created_at`] and [`Change::updated_at`].
pub const SERVER_FIELDS: &[&str] = &["created_at", "updated_at"];

pub fn wire_fields(kind: EntityKind) -> &'static [&'static str] {
    match kind {
        EntityKind::Account => ACCOUNT_FIELDS,
        EntityKind::Contact => CONTACT_FIELDS,
        EntityKind::Note => NOTE_FIELDS,
        EntityKind::User => USER_FIELDS,
        other => spec(other).map_or(&[], |s| s.fields),
    }
}

/// How a record kind that hangs off an account syncs, declared by the kind's own module so
/// its rules stay in one place: [`crate::onboarding::SYNC`], [`crate::review::SYNC`],
/// [`crate::request::REQUEST_SYNC`], [`crate::request::EVENT_SYNC`], [`crate::rca::SYNC`].
/// (Accounts, contacts, notes and users predate it and are spelled out in this module.)
pub struct EntitySpec {
    /// Wire names of the fields a mutation may set (`account_id` among them).
    pub fields: &'static [&'static str],
    /// Fields a create must end up with (after defaults).
    pub required: &'static [&'static str],
    /// Fields changed only with a matching `base_version` (see [`check_base_version`]).
    pub versioned: &'static [&'static str],
    /// Values a create may leave out.
    pub defaults: fn() -> Fields,
    /// Validates and normalises the merged fields (links already taken out), naming the
    /// field at fault.
    pub normalize: fn(Fields) -> Result<Fields, Rejection>,
    /// A further action the write needs beyond [`crate::authz::action_for`], judged from
    /// the record's current fields (`None` on a create) and the fields set: e.g. changing a
    /// request's severity needs `change_severity`.
    pub extra_action: fn(Option<&Fields>, &Fields) -> Option<crate::authz::Action>,
}

/// [`EntitySpec::defaults`] of a kind without defaults.
pub fn no_defaults() -> Fields {
    Fields::new()
}

/// [`EntitySpec::normalize`] of a kind whose fields need no normalising beyond their types.
#[allow(clippy::unnecessary_wraps)] // the signature of `EntitySpec::normalize`
pub fn keep_fields(fields: Fields) -> Result<Fields, Rejection> {
    Ok(fields)
}

/// [`EntitySpec::extra_action`] of a kind whose writes need only the entity's action.
pub fn no_extra_action(_current: Option<&Fields>, _set: &Fields) -> Option<crate::authz::Action> {
    None
}

/// The spec of a kind declared by its own module; `None` for the four built-in kinds.
pub fn spec(kind: EntityKind) -> Option<&'static EntitySpec> {
    match kind {
        EntityKind::Account | EntityKind::Contact | EntityKind::Note | EntityKind::User => None,
        EntityKind::OnboardingSession => Some(&crate::onboarding::SYNC),
        EntityKind::Review => Some(&crate::review::SYNC),
        EntityKind::Request => Some(&crate::request::REQUEST_SYNC),
        EntityKind::RequestEvent => Some(&crate::request::EVENT_SYNC),
        EntityKind::Rca => Some(&crate::rca::SYNC),
    }
}

/// Fields whose changes must carry the `base_version` they were based on and are refused on
/// a conflict instead of resolved by last-writer-wins (a request's severity and status).
pub fn versioned_fields(kind: EntityKind) -> &'static [&'static str] {
    spec(kind).map_or(&[], |s| s.versioned)
}

/// The action a write needs beyond the entity's own ([`crate::authz::action_for`]), given
/// the record's current fields and the fields the mutation sets.
pub fn extra_action(
    kind: EntityKind,
    current: Option<&Fields>,
    set: &Fields,
) -> Option<crate::authz::Action> {
    spec(kind).and_then(|s| (s.extra_action)(current, set))
}

/// The version rule. A mutation that names a `base_version` is applied only to a record at
/// that version (0 = "the record must not exist yet"); one that sets a versioned field must
/// name it.
pub fn check_base_version(
    versioned: &[&str],
    set: &serde_json::Map<String, serde_json::Value>,
    base_version: Option<i64>,
    current_version: Option<i64>,
) -> Result<(), Rejection> {
    match base_version {
        Some(base) => {
            let current = current_version.unwrap_or(0);
            if base == current {
                Ok(())
            } else {
                Err(Rejection::new(
                    RejectCode::VersionConflict,
                    format!(
                        "the record changed since you saw it (you edited version {base}, it is now at {current}): reload it and redo the change"
                    ),
                ))
            }
        }
        None => match (
            current_version,
            versioned.iter().find(|f| set.contains_key(**f)),
        ) {
            (Some(_), Some(f)) => Err(Rejection::field(
                RejectCode::MissingField,
                "base_version",
                format!("a change of {f} must say which version of the record it was based on"),
            )),
            _ => Ok(()),
        },
    }
}

/// A record's fields by wire name.
pub type Fields = serde_json::Map<String, serde_json::Value>;

fn type_check<T: serde::de::DeserializeOwned>(
    field: &str,
    v: &serde_json::Value,
    expected: &str,
) -> Result<(), Rejection> {
    serde_json::from_value::<T>(v.clone())
        .map(|_| ())
        .map_err(|e| {
            Rejection::field(
                RejectCode::InvalidField,
                field,
                format!("{field}: expected {expected} ({e})"),
            )
        })
}

/// Checks each set field's JSON type, naming the field when it is wrong.
fn check_types(kind: EntityKind, set: &Fields) -> Result<(), Rejection> {
    use crate::account::{LifecycleStage, Plan};
    use crate::note::NoteLink;
    use crate::user::WorkingHours;
    for (k, v) in set {
        let k = k.as_str();
        let checked = match (kind, k) {
            (_, "team_id" | "account_id" | "author_id") => type_check::<Uuid>(k, v, "a UUID"),
            (_, "name" | "email" | "body")
            | (EntityKind::Account | EntityKind::User, "time_zone") => {
                type_check::<String>(k, v, "a string")
            }
            (EntityKind::Contact, "role") => type_check::<String>(k, v, "a string"),
            (EntityKind::Contact, "time_zone") | (_, "slack_channel") => {
                type_check::<Option<String>>(k, v, "a string or null")
            }
            (_, "plan") => type_check::<Plan>(k, v, "one of professional_support, standard"),
            (_, "stage") => {
                type_check::<LifecycleStage>(k, v, "one of onboarding, active, at_risk, churned")
            }
            (_, "fiscal_year_start_month") => type_check::<u8>(k, v, "a month number 1-12"),
            (_, "owner_csm_id" | "account_rep_id") => {
                type_check::<Option<Uuid>>(k, v, "a UUID or null")
            }
            (_, "support_email_domains" | "tags") => {
                type_check::<Vec<String>>(k, v, "a list of strings")
            }
            (_, "pinned") => type_check::<bool>(k, v, "true or false"),
            (_, "link") => type_check::<Option<NoteLink>>(k, v, "null or {kind, id}"),
            (_, "working_hours") => {
                type_check::<WorkingHours>(k, v, "{days, start_minute, end_minute}")
            }
            _ => Ok(()),
        };
        checked?;
    }
    Ok(())
}

/// Defaults a create may leave out.
fn defaults(kind: EntityKind) -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::{Value, json};
    match kind {
        EntityKind::Account => vec![
            ("owner_csm_id", Value::Null),
            ("account_rep_id", Value::Null),
            ("slack_channel", Value::Null),
            ("support_email_domains", json!([])),
            ("tags", json!([])),
        ],
        EntityKind::Contact => vec![("role", json!("")), ("time_zone", Value::Null)],
        EntityKind::Note => vec![("pinned", json!(false)), ("link", Value::Null)],
        EntityKind::User => vec![],
        other => spec(other).map_or_else(Vec::new, |s| {
            (s.defaults)()
                .into_iter()
                .filter_map(|(k, v)| s.fields.iter().find(|f| **f == k).map(|f| (*f, v)))
                .collect()
        }),
    }
}

fn normalized<I, F>(form: Fields, normalize: F) -> Result<Fields, Rejection>
where
    I: serde::de::DeserializeOwned + Serialize,
    F: FnOnce(I) -> Result<I, crate::validation::ValidationErrors>,
{
    let input: I = serde_json::from_value(serde_json::Value::Object(form)).map_err(|e| {
        Rejection::new(
            RejectCode::InvalidField,
            format!("the record's fields do not fit together: {e}"),
        )
    })?;
    let out = normalize(input).map_err(|errs| {
        let first = errs.first();
        Rejection::field(RejectCode::InvalidField, &first.field, errs.to_string())
    })?;
    match serde_json::to_value(out) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        _ => Err(Rejection::new(
            RejectCode::InvalidField,
            "the record could not be encoded",
        )),
    }
}

/// Applies the fields a mutation sets to a record's current fields (`None`: a create) and
/// returns the record's new fields, validated and normalised by the entity's own rules
/// (`AccountInput::normalize` and the like). Only the fields the mutation sets change: the
/// others keep the value the last writer of each gave them (per-field last-writer-wins).
///
/// The caller has already put the link fields (`team_id`, `account_id`, `author_id`) it
/// resolved into `set` for a create.
pub fn merge_fields(
    kind: EntityKind,
    current: Option<&Fields>,
    set: &Fields,
) -> Result<Fields, Rejection> {
    let allowed = wire_fields(kind);
    let mut owned = Fields::new();
    for (k, v) in set {
        if SERVER_FIELDS.contains(&k.as_str()) {
            continue;
        }
        if kind == EntityKind::User && (k == "email" || k == "role") {
            // A client sending its whole profile repeats these; only a change is refused.
            if current.and_then(|c| c.get(k)) == Some(v) {
                continue;
            }
            return Err(Rejection::field(
                RejectCode::ForbiddenRole,
                k,
                format!("{k} is changed by an admin, not by a synced edit"),
            ));
        }
        owned.insert(k.clone(), v.clone());
    }
    let set = &owned;
    for k in set.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(Rejection::field(
                RejectCode::UnknownField,
                k,
                format!(
                    "{k}: a {} has no such field (it has: {})",
                    kind.as_str(),
                    allowed.join(", ")
                ),
            ));
        }
    }
    check_types(kind, set)?;
    let mut merged = match current {
        Some(c) => c.clone(),
        None => {
            let mut m = Fields::new();
            for (k, v) in defaults(kind) {
                m.insert(k.to_owned(), v);
            }
            m
        }
    };
    for (k, v) in set {
        if LINK_FIELDS.contains(&k.as_str())
            && let Some(old) = current.and_then(|c| c.get(k))
            && old != v
        {
            return Err(Rejection::field(
                RejectCode::ImmutableField,
                k,
                format!("{k} cannot change once the {} exists", kind.as_str()),
            ));
        }
        merged.insert(k.clone(), v.clone());
    }
    let required: &[&str] = match kind {
        EntityKind::Account => &[
            "team_id",
            "name",
            "plan",
            "time_zone",
            "fiscal_year_start_month",
            "stage",
        ],
        EntityKind::Contact => &["account_id", "name", "email"],
        EntityKind::Note => &["account_id", "author_id", "body"],
        EntityKind::User => &["name", "email", "role", "time_zone", "working_hours"],
        other => spec(other).map_or(&[], |s| s.required),
    };
    if let Some(missing) = required.iter().find(|f| !merged.contains_key(**f)) {
        return Err(Rejection::field(
            RejectCode::MissingField,
            missing,
            format!("{missing}: required to create a {}", kind.as_str()),
        ));
    }
    let mut links = Fields::new();
    for f in LINK_FIELDS {
        if let Some(v) = merged.remove(*f) {
            links.insert((*f).to_owned(), v);
        }
    }
    let mut out = match kind {
        EntityKind::Account => normalized(merged, crate::account::AccountInput::normalize)?,
        EntityKind::Contact => normalized(merged, crate::contact::ContactInput::normalize)?,
        EntityKind::Note => normalized(merged, crate::note::NoteInput::normalize)?,
        EntityKind::User => normalized(merged, crate::user::UserInput::normalize)?,
        other => match spec(other) {
            Some(s) => (s.normalize)(merged)?,
            None => merged,
        },
    };
    out.extend(links);
    Ok(out)
}

#[cfg(test)]
mod protocol_tests {
    use super::*;
    use serde_json::json;

    fn obj(v: serde_json::Value) -> Fields {
        match v {
            serde_json::Value::Object(m) => m,
            _ => Fields::new(),
        }
    }

    fn account() -> Fields {
        obj(json!({
            "team_id": Uuid::nil(), "name": " Acme ", "plan": "standard",
            "time_zone": "Europe/Berlin", "fiscal_year_start_month": 1, "stage": "active"
        }))
    }

    fn mutation(
        entity: EntityKind,
        entity_id: Uuid,
        fields: serde_json::Value,
        at: i64,
    ) -> Mutation {
        Mutation {
            id: Uuid::from_u128(u128::from(at.unsigned_abs()) << 64 | entity_id.as_u128()),
            entity,
            entity_id,
            op: MutationOp::Upsert,
            fields: obj(fields),
            base_version: None,
            client_time: DateTime::from_timestamp(at, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn a_request_and_the_entries_written_with_it_form_one_group() {
        let (r, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let ms = [
            mutation(EntityKind::Account, Uuid::from_u128(11), json!({}), 1),
            mutation(EntityKind::Request, r, json!({"title": "Down"}), 2),
            mutation(
                EntityKind::RequestEvent,
                Uuid::from_u128(12),
                json!({"request_id": r}),
                2,
            ),
            mutation(
                EntityKind::RequestEvent,
                Uuid::from_u128(13),
                json!({"request_id": r}),
                2,
            ),
            // A later answer to the same request is another action (another time).
            mutation(
                EntityKind::RequestEvent,
                Uuid::from_u128(14),
                json!({"request_id": r}),
                3,
            ),
            mutation(EntityKind::Request, r, json!({"status": "resolved"}), 4),
            // Another request's entry never joins, even at the same time.
            mutation(
                EntityKind::RequestEvent,
                Uuid::from_u128(15),
                json!({"request_id": other}),
                4,
            ),
        ];
        assert_eq!(
            write_groups(&ms),
            vec![0..1, 1..4, 4..5, 5..6, 6..7],
            "a request travels with the opening events written with it, nothing else"
        );
        assert!(write_groups(&[]).is_empty());
    }

    #[test]
    fn a_create_is_normalised_and_defaulted() {
        let out = merge_fields(EntityKind::Account, None, &account()).unwrap();
        assert_eq!(out["name"], json!("Acme"), "validation trims");
        assert_eq!(out["tags"], json!([]), "optional lists default to empty");
        assert_eq!(out["team_id"], json!(Uuid::nil()), "link fields are kept");
    }

    #[test]
    fn an_edit_changes_only_the_fields_it_sets() {
        let current = merge_fields(EntityKind::Account, None, &account()).unwrap();
        let mut other = current.clone();
        other.insert("stage".into(), json!("at_risk"));
        let out = merge_fields(
            EntityKind::Account,
            Some(&other),
            &obj(json!({"name": "Acme GmbH"})),
        )
        .unwrap();
        assert_eq!(out["name"], json!("Acme GmbH"));
        assert_eq!(
            out["stage"],
            json!("at_risk"),
            "a field another writer set is not clobbered"
        );
    }

    #[test]
    fn refusals_name_the_field() {
        let cases = [
            (json!({"nmae": "x"}), RejectCode::UnknownField, "nmae"),
            (json!({"name": 5}), RejectCode::InvalidField, "name"),
            (
                json!({"time_zone": "Mars/Base"}),
                RejectCode::InvalidField,
                "time_zone",
            ),
            (
                json!({"team_id": "not-a-uuid"}),
                RejectCode::InvalidField,
                "team_id",
            ),
            (
                json!({"team_id": Uuid::max()}),
                RejectCode::ImmutableField,
                "team_id",
            ),
            (
                json!({"fiscal_year_start_month": 13}),
                RejectCode::InvalidField,
                "fiscal_year_start_month",
            ),
        ];
        let current = merge_fields(EntityKind::Account, None, &account()).unwrap();
        for (set, code, field) in cases {
            let r =
                merge_fields(EntityKind::Account, Some(&current), &obj(set.clone())).unwrap_err();
            assert_eq!(
                (r.code, r.field.as_deref()),
                (code, Some(field)),
                "{set}: {}",
                r.message
            );
        }
        let r = merge_fields(
            EntityKind::Contact,
            None,
            &obj(json!({"account_id": Uuid::nil(), "name": "Ana"})),
        )
        .unwrap_err();
        assert_eq!(
            (r.code, r.field.as_deref()),
            (RejectCode::MissingField, Some("email"))
        );
    }

    #[test]
    fn a_whole_record_as_the_client_serialises_it_is_accepted() {
        let account = crate::account::Account::create(
            Uuid::nil(),
            crate::account::AccountInput {
                name: "Acme".into(),
                plan: crate::account::Plan::Standard,
                time_zone: "UTC".into(),
                fiscal_year_start_month: 4,
                owner_csm_id: None,
                account_rep_id: None,
                slack_channel: None,
                support_email_domains: vec![],
                stage: crate::account::LifecycleStage::Active,
                tags: vec![],
            },
            DateTime::UNIX_EPOCH,
        )
        .unwrap();
        let mut set = obj(serde_json::to_value(&account).unwrap());
        set.remove("id");
        set.insert("team_id".into(), json!(Uuid::nil()));
        let out = merge_fields(EntityKind::Account, None, &set).unwrap();
        assert!(
            !out.contains_key("created_at"),
            "server-stamped fields are not stored from the client"
        );
        assert_eq!(out["fiscal_year_start_month"], json!(4));
    }

    #[test]
    fn users_cannot_change_their_own_role() {
        let current = obj(
            json!({"name": "Ana", "email": "ana@acme.com", "role": "csm",
            "time_zone": "UTC", "working_hours": {"days": ["mon"], "start_minute": 540, "end_minute": 1020}}),
        );
        let r = merge_fields(
            EntityKind::User,
            Some(&current),
            &obj(json!({"role": "admin"})),
        )
        .unwrap_err();
        assert_eq!(r.code, RejectCode::ForbiddenRole);
        let ok = merge_fields(
            EntityKind::User,
            Some(&current),
            &obj(json!({"name": "Ana L.", "role": "csm", "email": "ana@acme.com"})),
        )
        .unwrap();
        assert_eq!(ok["name"], json!("Ana L."));
    }

    #[test]
    fn version_rule() {
        let set = obj(json!({"severity": "p1"}));
        assert!(check_base_version(&["severity"], &set, Some(3), Some(3)).is_ok());
        let conflict = check_base_version(&["severity"], &set, Some(2), Some(3)).unwrap_err();
        assert_eq!(
            conflict.code,
            RejectCode::VersionConflict,
            "a stale base is refused"
        );
        let missing = check_base_version(&["severity"], &set, None, Some(3)).unwrap_err();
        assert_eq!(
            missing.field.as_deref(),
            Some("base_version"),
            "a versioned change must name its base"
        );
        assert!(
            check_base_version(&["severity"], &set, None, None).is_ok(),
            "a create needs no base"
        );
        assert!(
            check_base_version(&[], &set, None, Some(3)).is_ok(),
            "ordinary fields are last-writer-wins"
        );
        assert!(
            check_base_version(&[], &set, Some(0), Some(1)).is_err(),
            "base 0 means 'must not exist yet'"
        );
    }

    #[test]
    fn a_cursor_starts_over_only_for_purges_made_after_it() {
        let at = |position, horizon| Cursor {
            position,
            seq: position,
            horizon,
        };
        assert!(
            !Cursor::START.needs_reset(50),
            "a pull from the start needs no tombstone"
        );
        assert!(
            !at(10, 50).needs_reset(50),
            "made mid-way through a pull from the start after the purge: nothing was lost"
        );
        assert!(
            at(10, 20).needs_reset(50),
            "a purge after the cursor, beyond it"
        );
        assert!(
            !at(60, 20).needs_reset(50),
            "a purge after the cursor, but of tombstones it has seen"
        );
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        assert_eq!(Cursor::parse(""), Some(Cursor::START));
        let c = Cursor {
            position: 12,
            seq: 7,
            horizon: 3,
        };
        assert_eq!(Cursor::parse(&c.to_string()), Some(c));
        assert_eq!(
            Cursor::parse("12.7"),
            Some(Cursor { horizon: 0, ..c }),
            "a cursor made before horizons is still read"
        );
        for bad in [
            "x",
            "1.",
            ".1",
            "-1.0",
            "3.4",
            "1.2.3.4",
            "1.1.-1",
            "'; drop table users; --",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad} is not a cursor");
        }
        assert!(
            Cursor {
                position: 5,
                seq: 1,
                horizon: 0,
            } > Cursor {
                position: 4,
                seq: 4,
                horizon: 9,
            },
            "position orders first"
        );
    }

    #[test]
    fn protocol_range() {
        assert!(protocol_supported(PROTOCOL_VERSION));
        assert!(!protocol_supported(0));
        assert!(!protocol_supported(PROTOCOL_VERSION + 1));
    }
}
