//! The rule table of synced writes: per kind of record and per path of a write (create,
//! update, delete, re-create of a tombstone), which checks run, in which order, before the
//! write applies. The central service judges every mutation with [`decide`] and only then
//! touches its tables; the rules themselves live with their kinds (`authz` for roles,
//! `request` for the timeline, `rca` for the RCA states, `sync` for fields and versions).
//!
//! A re-create of a tombstone is judged like an update of the record the tombstone keeps
//! (its last fields), so deleting a record and pushing it again never skips a check.

use uuid::Uuid;

use crate::authz::{self, Denial};
use crate::sync::{self, EntityKind, Fields, MutationOp, RejectCode, Rejection};
use crate::user::Role;

/// Which way a write meets the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Path {
    /// An upsert of a record the service never had.
    Create,
    /// An upsert of a live record.
    Update,
    /// A delete of a record the service has (live, or a tombstone already).
    Delete,
    /// An upsert of a tombstone: the record comes back.
    Recreate,
}

impl Path {
    pub const ALL: [Path; 4] = [Path::Create, Path::Update, Path::Delete, Path::Recreate];

    pub fn as_str(self) -> &'static str {
        match self {
            Path::Create => "create",
            Path::Update => "update",
            Path::Delete => "delete",
            Path::Recreate => "re-create",
        }
    }

    /// The operation a write on this path carries.
    pub fn op(self) -> MutationOp {
        match self {
            Path::Delete => MutationOp::Delete,
            Path::Create | Path::Update | Path::Recreate => MutationOp::Upsert,
        }
    }

    /// The path of a write of `op` on a record stored as `stored_deleted` (`Some(true)`: a
    /// tombstone; `None`: never stored). `None` for a delete of nothing: nothing to judge.
    pub fn of(op: MutationOp, stored_deleted: Option<bool>) -> Option<Path> {
        match (op, stored_deleted) {
            (MutationOp::Upsert, None) => Some(Path::Create),
            (MutationOp::Upsert, Some(false)) => Some(Path::Update),
            (MutationOp::Upsert, Some(true)) => Some(Path::Recreate),
            (MutationOp::Delete, Some(_)) => Some(Path::Delete),
            (MutationOp::Delete, None) => None,
        }
    }
}

/// One check of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// The profile is the pusher's own.
    OwnProfile,
    /// The pusher's role may do the kind's action ([`authz::action_for`]).
    Role,
    /// The action the change needs given the record's current fields: a request's severity
    /// or triage (`change_severity`), publishing an RCA (`publish_rca`)
    /// ([`sync::extra_action`]).
    StateRole,
    /// The `base_version` rule ([`sync::check_base_version`]).
    Version,
    /// The account the record hangs off is live.
    AccountLive,
    /// Whatever names its author names the pusher: a note's `author_id` (filled in when
    /// left out), a request's `opened_by` (or nobody), a timeline entry's staff `by`; and
    /// a request's `assignee_id` changes to or from the pusher only, unless the pusher may
    /// assign others ([`crate::request::check_synced_assignee`]).
    Author,
    /// The fields merge into the record and pass its validation ([`sync::merge_fields`]).
    Fields,
    /// The timeline entry's actor and kind fit, with the role the kind needs
    /// ([`crate::request::check_event_kind`]).
    EventKind,
    /// Append-only: the write applies only when it changes nothing (a resend).
    Unchanged,
    /// The RCA state machine and its publish checks ([`crate::rca::check_synced_write`]).
    RcaStates,
    /// The `request_id` of a timeline entry or an RCA names a live request of the same
    /// account and team.
    Request,
}

impl Check {
    /// Checks that judge the merged record, and so come after [`Check::Fields`].
    pub fn needs_merged(self) -> bool {
        matches!(self, Check::EventKind | Check::Unchanged | Check::Request)
    }
}

/// What a path allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Never through sync; the reason, in words a user can act on.
    Refused(&'static str),
    /// Allowed when every check passes, in this order.
    Checks(&'static [Check]),
}

/// The rules of one kind.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub kind: EntityKind,
    /// The record belongs to a team: before anything else, on every path (the refused ones
    /// too), the pusher must be in it, so a stranger learns nothing about the record.
    pub team_scoped: bool,
    pub create: Rule,
    pub update: Rule,
    pub delete: Rule,
    pub recreate: Rule,
}

impl Row {
    pub fn rule(&self, path: Path) -> Rule {
        match path {
            Path::Create => self.create,
            Path::Update => self.update,
            Path::Delete => self.delete,
            Path::Recreate => self.recreate,
        }
    }
}

use Check as C;

const PLAIN_CREATE: Rule = Rule::Checks(&[C::Role, C::Version, C::Fields]);
const PLAIN_UPDATE: Rule = Rule::Checks(&[C::Role, C::Version, C::AccountLive, C::Fields]);
const PLAIN_DELETE: Rule = Rule::Checks(&[C::Role, C::Version]);
const AUTHORED_CREATE: Rule = Rule::Checks(&[C::Role, C::Version, C::Author, C::Fields]);
const PROFILE: Rule = Rule::Checks(&[C::OwnProfile, C::Role, C::Version, C::Fields]);
const REQUEST_UPDATE: Rule = Rule::Checks(&[
    C::Role,
    C::StateRole,
    C::Version,
    C::AccountLive,
    C::Author,
    C::Fields,
]);
const RCA_CREATE: Rule = Rule::Checks(&[
    C::Role,
    C::StateRole,
    C::Version,
    C::Fields,
    C::Request,
    C::RcaStates,
]);
const RCA_UPDATE: Rule = Rule::Checks(&[
    C::Role,
    C::StateRole,
    C::Version,
    C::AccountLive,
    C::Fields,
    C::Request,
    C::RcaStates,
]);

/// THE table: every kind × every path.
pub static TABLE: [Row; 9] = [
    Row {
        kind: EntityKind::Account,
        team_scoped: true,
        create: PLAIN_CREATE,
        update: PLAIN_UPDATE,
        delete: PLAIN_DELETE,
        recreate: PLAIN_UPDATE,
    },
    Row {
        kind: EntityKind::Contact,
        team_scoped: true,
        create: PLAIN_CREATE,
        update: PLAIN_UPDATE,
        delete: PLAIN_DELETE,
        recreate: PLAIN_UPDATE,
    },
    Row {
        kind: EntityKind::Note,
        team_scoped: true,
        create: AUTHORED_CREATE,
        // The author is a link field: it cannot change once the note exists.
        update: PLAIN_UPDATE,
        delete: PLAIN_DELETE,
        recreate: PLAIN_UPDATE,
    },
    Row {
        kind: EntityKind::User,
        team_scoped: false,
        create: Rule::Refused("users are created by an admin, not by a synced write"),
        update: PROFILE,
        delete: Rule::Refused("you can edit only your own profile; an admin manages the others"),
        recreate: Rule::Refused("users are created by an admin, not by a synced write"),
    },
    Row {
        kind: EntityKind::OnboardingSession,
        team_scoped: true,
        create: PLAIN_CREATE,
        update: PLAIN_UPDATE,
        delete: PLAIN_DELETE,
        recreate: PLAIN_UPDATE,
    },
    Row {
        kind: EntityKind::Review,
        team_scoped: true,
        create: PLAIN_CREATE,
        update: PLAIN_UPDATE,
        delete: PLAIN_DELETE,
        recreate: PLAIN_UPDATE,
    },
    Row {
        kind: EntityKind::Request,
        team_scoped: true,
        create: AUTHORED_CREATE,
        update: REQUEST_UPDATE,
        delete: Rule::Refused(
            "a request is kept with its timeline: close it instead of deleting it",
        ),
        recreate: REQUEST_UPDATE,
    },
    Row {
        kind: EntityKind::RequestEvent,
        team_scoped: true,
        create: Rule::Checks(&[
            C::Role,
            C::Version,
            C::Author,
            C::Fields,
            C::Request,
            C::EventKind,
        ]),
        update: Rule::Checks(&[C::Role, C::Version, C::AccountLive, C::Fields, C::Unchanged]),
        delete: Rule::Refused(
            "a request's timeline is append-only: an entry is never deleted (add a new one)",
        ),
        recreate: Rule::Refused(
            "a request's timeline is append-only: a deleted entry does not come back (add a new one)",
        ),
    },
    Row {
        kind: EntityKind::Rca,
        team_scoped: true,
        create: RCA_CREATE,
        update: RCA_UPDATE,
        delete: Rule::Checks(&[C::Role, C::Version, C::RcaStates]),
        recreate: RCA_UPDATE,
    },
];

/// The row of `kind`.
pub fn row(kind: EntityKind) -> &'static Row {
    TABLE.iter().find(|r| r.kind == kind).unwrap_or(&TABLE[0]) // every kind has a row (tested)
}

/// The rule of `kind` on `path`.
pub fn rule(kind: EntityKind, path: Path) -> Rule {
    row(kind).rule(path)
}

/// Whether `role` may take `path` on `kind` at all, as far as the role decides (the checks
/// that need the record's fields aside): what the desktop greys out.
pub fn role_may(role: Role, kind: EntityKind, path: Path) -> bool {
    match rule(kind, path) {
        Rule::Refused(_) => false,
        Rule::Checks(checks) => {
            !checks.contains(&Check::Role)
                || authz::allows(role, authz::action_for(kind, path.op()))
        }
    }
}

/// Who owns a record a create brings: the team itself (accounts) or the account it hangs
/// off (whose team the service looks up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Team(Uuid),
    Account(Uuid),
}

fn uuid_field(set: &Fields, field: &str) -> Result<Option<Uuid>, Rejection> {
    match set.get(field) {
        None => Ok(None),
        Some(v) => serde_json::from_value::<Uuid>(v.clone())
            .map(Some)
            .map_err(|_| {
                Rejection::field(
                    RejectCode::InvalidField,
                    field,
                    format!("{field}: expected a UUID"),
                )
            }),
    }
}

/// The owner of a new record from the fields it sets and the pusher's teams: an account's
/// `team_id`, or the pusher's only team when left out (the default team); any other
/// record's `account_id`.
pub fn owner_of_new(kind: EntityKind, set: &Fields, teams: &[Uuid]) -> Result<Owner, Rejection> {
    if kind == EntityKind::Account {
        return match (uuid_field(set, "team_id")?, teams) {
            (Some(team), _) => Ok(Owner::Team(team)),
            (None, [only]) => Ok(Owner::Team(*only)),
            (None, []) => Err(Rejection::new(
                RejectCode::ForbiddenTeam,
                "you are in no team yet: ask an admin",
            )),
            (None, _) => Err(Rejection::field(
                RejectCode::MissingField,
                "team_id",
                "team_id: you are in several teams, so say which team the account belongs to",
            )),
        };
    }
    match uuid_field(set, "account_id")? {
        Some(account) => Ok(Owner::Account(account)),
        None => Err(Rejection::field(
            RejectCode::MissingField,
            "account_id",
            format!("account_id: required to create a {}", kind.as_str()),
        )),
    }
}

/// A record as the service holds it; a tombstone keeps its last fields.
#[derive(Debug, Clone, Copy)]
pub struct Stored<'a> {
    pub fields: &'a Fields,
    pub deleted: bool,
    pub version: i64,
}

/// One write to judge, with the facts the service looked up.
#[derive(Debug, Clone, Copy)]
pub struct Proposal<'a> {
    pub kind: EntityKind,
    pub entity_id: Uuid,
    pub op: MutationOp,
    pub role: Role,
    pub pusher: Uuid,
    /// The record's team (stored, or resolved from its owner on a create).
    pub team_id: Uuid,
    /// The pusher is a member of `team_id`.
    pub in_team: bool,
    /// The account the record hangs off, when it does.
    pub account_id: Option<Uuid>,
    /// That account is live (true when the record hangs off no account).
    pub account_live: bool,
    /// The request the write's `request_id` names, as the service found it (`None`: no
    /// such request, or the write names none).
    pub request: Option<ParentRequest>,
    pub stored: Option<Stored<'a>>,
    /// The fields the mutation sets.
    pub set: &'a Fields,
    pub base_version: Option<i64>,
}

/// The request a timeline entry or an RCA hangs off, as the service holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParentRequest {
    pub id: Uuid,
    pub team_id: Uuid,
    pub account_id: Uuid,
    pub deleted: bool,
    /// Resolved or closed at P1 or P2 ([`request_needs_rca`]).
    pub needs_rca: bool,
}

/// A request's stored fields say it is resolved or closed at P1 or P2: only then is an RCA
/// written for it (as the desktop asks before opening one).
pub fn request_needs_rca(fields: &Fields) -> bool {
    use crate::request::{RequestStatus, Severity};
    let status: Option<RequestStatus> = fields
        .get("status")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let severity: Option<Severity> = fields
        .get("severity")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    matches!((status, severity), (Some(st), Some(sv)) if st >= RequestStatus::Resolved && sv.is_critical())
}

/// The `request_id` a write of `kind` names once merged with the stored record: what the
/// service looks up for [`Check::Request`]. `None` for kinds that hang off no request.
pub fn request_named(kind: EntityKind, stored: Option<&Fields>, set: &Fields) -> Option<Uuid> {
    if !matches!(kind, EntityKind::RequestEvent | EntityKind::Rca) {
        return None;
    }
    set.get("request_id")
        .or_else(|| stored.and_then(|s| s.get("request_id")))
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

fn check_request(p: &Proposal<'_>, path: Path, merged: &Fields) -> Result<(), Rejection> {
    let Some(id) = merged
        .get("request_id")
        .and_then(|v| serde_json::from_value::<Uuid>(v.clone()).ok())
    else {
        return Err(Rejection::field(
            RejectCode::MissingField,
            "request_id",
            format!("request_id: required for a {}", p.kind.as_str()),
        ));
    };
    match p.request {
        Some(r) if r.id == id && !r.deleted => {
            if r.team_id != p.team_id || Some(r.account_id) != p.account_id {
                Err(Rejection::field(
                    RejectCode::InvalidField,
                    "request_id",
                    format!("request_id: request {id} belongs to another account"),
                ))
            } else if p.kind == EntityKind::Rca && path == Path::Create && !r.needs_rca {
                Err(Rejection::field(
                    RejectCode::InvalidField,
                    "request_id",
                    "request_id: a root-cause analysis is written for a resolved P1 or P2 request",
                ))
            } else {
                Ok(())
            }
        }
        _ => Err(Rejection::field(
            RejectCode::NotFound,
            "request_id",
            format!("request_id: request {id} does not exist or was deleted"),
        )),
    }
}

/// What the service does after the rules said yes.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Nothing changes (a delete of nothing, an already deleted record, a resend).
    Nothing,
    /// The record becomes a tombstone (an account's contacts and the rest hanging off it
    /// go with it).
    Delete,
    /// The record's new fields, merged and normalised.
    Write(Fields),
}

fn author(p: &Proposal<'_>, path: Path, set: &mut Fields) -> Result<(), Rejection> {
    use serde_json::Value;
    match p.kind {
        EntityKind::Note if path == Path::Create => match uuid_field(set, "author_id")? {
            Some(a) if a != p.pusher => Err(Rejection::field(
                RejectCode::InvalidField,
                "author_id",
                "author_id: a note's author is the user who writes it",
            )),
            _ => {
                set.insert("author_id".into(), Value::String(p.pusher.to_string()));
                Ok(())
            }
        },
        EntityKind::Request => {
            let stored = p.stored.as_ref().map(|s| s.fields);
            crate::request::check_opened_by(stored, set, p.pusher)?;
            crate::request::check_synced_assignee(stored, set, p.pusher, p.role)
        }
        EntityKind::RequestEvent => {
            // An unreadable actor is refused by the field check, naming `by`.
            match set
                .get("by")
                .and_then(|v| serde_json::from_value::<crate::request::Actor>(v.clone()).ok())
            {
                Some(by) => crate::request::check_event_author(&by, p.pusher),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

fn event_kind(merged: &Fields, role: Role) -> Result<(), Rejection> {
    use crate::request::{Actor, RequestEventKind};
    let by: Option<Actor> = merged
        .get("by")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let kind: Option<RequestEventKind> = merged
        .get("kind")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    match (by, kind) {
        (Some(by), Some(kind)) => crate::request::check_event_kind(&by, &kind, role),
        _ => Err(Rejection::new(
            RejectCode::InvalidField,
            "a timeline entry needs who did it (by) and what (kind)",
        )),
    }
}

/// Judges one write by the table: the first check that fails refuses it; otherwise says
/// what the service writes.
pub fn decide(p: &Proposal<'_>) -> Result<Decision, Rejection> {
    let Some(path) = Path::of(p.op, p.stored.as_ref().map(|s| s.deleted)) else {
        return Ok(Decision::Nothing);
    };
    let row = row(p.kind);
    if row.team_scoped && !p.in_team {
        return Err(Denial::Team.rejection());
    }
    let checks = match row.rule(path) {
        Rule::Refused(why) => return Err(Rejection::new(RejectCode::ForbiddenRecord, why)),
        Rule::Checks(checks) => checks,
    };
    let stored = p.stored.as_ref().map(|s| s.fields);
    let mut set = p.set.clone();
    if path == Path::Create && p.kind == EntityKind::Account {
        set.insert(
            "team_id".into(),
            serde_json::Value::String(p.team_id.to_string()),
        );
    }
    let mut merged: Option<Fields> = None;
    let mut resend = false;
    for check in checks {
        match check {
            Check::OwnProfile => {
                if p.entity_id != p.pusher {
                    return Err(Rejection::new(
                        RejectCode::ForbiddenRecord,
                        "you can edit only your own profile; an admin manages the others",
                    ));
                }
            }
            Check::Role => {
                authz::check(p.role, authz::action_for(p.kind, p.op)).map_err(Denial::rejection)?;
            }
            Check::StateRole => {
                if let Some(action) = sync::extra_action(p.kind, stored, &set) {
                    authz::check(p.role, action).map_err(Denial::rejection)?;
                }
            }
            Check::Version => sync::check_base_version(
                sync::versioned_fields(p.kind),
                &set,
                p.base_version,
                p.stored.as_ref().map(|s| s.version),
            )?,
            Check::AccountLive => {
                if p.stored.is_some()
                    && !p.account_live
                    && let Some(account) = p.account_id
                {
                    return Err(Rejection::field(
                        RejectCode::NotFound,
                        "account_id",
                        format!("account_id: account {account} was deleted"),
                    ));
                }
            }
            Check::Author => author(p, path, &mut set)?,
            Check::Fields => merged = Some(sync::merge_fields(p.kind, stored, &set)?),
            Check::EventKind => {
                if let Some(m) = &merged {
                    event_kind(m, p.role)?;
                }
            }
            Check::Unchanged => {
                if merged.as_ref() == stored {
                    resend = true;
                } else {
                    return Err(Rejection::new(
                        RejectCode::ForbiddenRecord,
                        "a request's timeline is append-only: an entry is never edited (add a new one)",
                    ));
                }
            }
            Check::RcaStates => {
                crate::rca::check_synced_write(stored, merged.as_ref(), p.role)?;
            }
            Check::Request => {
                if let Some(m) = &merged {
                    check_request(p, path, m)?;
                }
            }
        }
    }
    Ok(match path {
        Path::Delete => {
            if p.stored.is_some_and(|s| !s.deleted) {
                Decision::Delete
            } else {
                Decision::Nothing
            }
        }
        Path::Create | Path::Update | Path::Recreate if resend => Decision::Nothing,
        Path::Create | Path::Update | Path::Recreate => match merged {
            Some(m) => Decision::Write(m),
            None => Decision::Write(sync::merge_fields(p.kind, stored, &set)?),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: serde_json::Value) -> Fields {
        match v {
            serde_json::Value::Object(m) => m,
            _ => Fields::new(),
        }
    }

    fn written(r: Rule) -> String {
        match r {
            Rule::Refused(_) => "refused".to_owned(),
            Rule::Checks(c) => c
                .iter()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// Every cell of the table written out, so a change to the rules shows here as a
    /// changed line.
    #[test]
    fn every_cell_of_the_rule_table() {
        let plain_update = "Role Version AccountLive Fields";
        let want: [(EntityKind, [&str; 4]); 9] = [
            (
                EntityKind::Account,
                [
                    "Role Version Fields",
                    plain_update,
                    "Role Version",
                    plain_update,
                ],
            ),
            (
                EntityKind::Contact,
                [
                    "Role Version Fields",
                    plain_update,
                    "Role Version",
                    plain_update,
                ],
            ),
            (
                EntityKind::Note,
                [
                    "Role Version Author Fields",
                    plain_update,
                    "Role Version",
                    plain_update,
                ],
            ),
            (
                EntityKind::User,
                [
                    "refused",
                    "OwnProfile Role Version Fields",
                    "refused",
                    "refused",
                ],
            ),
            (
                EntityKind::OnboardingSession,
                [
                    "Role Version Fields",
                    plain_update,
                    "Role Version",
                    plain_update,
                ],
            ),
            (
                EntityKind::Review,
                [
                    "Role Version Fields",
                    plain_update,
                    "Role Version",
                    plain_update,
                ],
            ),
            (
                EntityKind::Request,
                [
                    "Role Version Author Fields",
                    "Role StateRole Version AccountLive Author Fields",
                    "refused",
                    "Role StateRole Version AccountLive Author Fields",
                ],
            ),
            (
                EntityKind::RequestEvent,
                [
                    "Role Version Author Fields Request EventKind",
                    "Role Version AccountLive Fields Unchanged",
                    "refused",
                    "refused",
                ],
            ),
            (
                EntityKind::Rca,
                [
                    "Role StateRole Version Fields Request RcaStates",
                    "Role StateRole Version AccountLive Fields Request RcaStates",
                    "Role Version RcaStates",
                    "Role StateRole Version AccountLive Fields Request RcaStates",
                ],
            ),
        ];
        for (kind, cells) in want {
            for (path, cell) in Path::ALL.into_iter().zip(cells) {
                assert_eq!(
                    written(rule(kind, path)),
                    cell,
                    "{} {}",
                    kind.as_str(),
                    path.as_str()
                );
            }
        }
    }

    #[test]
    fn the_table_is_whole_and_well_ordered() {
        for kind in EntityKind::ALL {
            assert_eq!(
                TABLE.iter().filter(|r| r.kind == kind).count(),
                1,
                "{} has exactly one row",
                kind.as_str()
            );
            assert_eq!(
                row(kind).team_scoped,
                kind != EntityKind::User,
                "every record but a profile belongs to a team"
            );
            for path in Path::ALL {
                let Rule::Checks(checks) = rule(kind, path) else {
                    continue;
                };
                let fields = checks.iter().position(|c| *c == Check::Fields);
                if path.op() == MutationOp::Upsert {
                    assert!(fields.is_some(), "an upsert is validated");
                }
                for (i, c) in checks.iter().enumerate() {
                    if c.needs_merged() || (*c == Check::RcaStates && fields.is_some()) {
                        assert!(
                            fields.is_some_and(|f| f < i),
                            "{c:?} judges the merged record, after Fields"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn paths() {
        assert_eq!(Path::of(MutationOp::Upsert, None), Some(Path::Create));
        assert_eq!(
            Path::of(MutationOp::Upsert, Some(false)),
            Some(Path::Update)
        );
        assert_eq!(
            Path::of(MutationOp::Upsert, Some(true)),
            Some(Path::Recreate)
        );
        assert_eq!(Path::of(MutationOp::Delete, Some(true)), Some(Path::Delete));
        assert_eq!(
            Path::of(MutationOp::Delete, None),
            None,
            "nothing to delete"
        );
    }

    const ME: Uuid = Uuid::from_u128(1);
    const LEAD: Uuid = Uuid::from_u128(2);
    const ACCOUNT: Uuid = Uuid::from_u128(3);

    fn proposal<'a>(
        kind: EntityKind,
        op: MutationOp,
        role: Role,
        stored: Option<Stored<'a>>,
        set: &'a Fields,
    ) -> Proposal<'a> {
        Proposal {
            kind,
            entity_id: Uuid::from_u128(9),
            op,
            role,
            pusher: ME,
            team_id: Uuid::from_u128(4),
            in_team: true,
            account_id: Some(ACCOUNT),
            account_live: true,
            // The request the write names is live and of the same account.
            request: request_named(kind, stored.map(|s| s.fields), set).map(|id| ParentRequest {
                id,
                team_id: Uuid::from_u128(4),
                account_id: ACCOUNT,
                deleted: false,
                needs_rca: true,
            }),
            stored,
            set,
            base_version: None,
        }
    }

    fn request_fields(severity: &str) -> Fields {
        obj(json!({
            "account_id": ACCOUNT, "contact_id": null, "title": "Checkout down",
            "channel": "chat", "opened_at": "2026-11-26T09:00:00Z", "opened_by": null,
            "severity": severity, "needs_triage": false, "status": "open",
            "thread_keys": [], "meeting_link": null,
        }))
    }

    #[test]
    fn a_recreated_request_is_judged_like_an_update_of_its_tombstone() {
        let tomb = request_fields("p3");
        let stored = Stored {
            fields: &tomb,
            deleted: true,
            version: 2,
        };
        let set = request_fields("p1");
        let csm = proposal(
            EntityKind::Request,
            MutationOp::Upsert,
            Role::Csm,
            Some(stored),
            &set,
        );
        let r = decide(&csm).unwrap_err();
        assert_eq!(
            r.code,
            RejectCode::ForbiddenRole,
            "a CSM cannot change the severity by deleting and re-creating: {}",
            r.message
        );
        let lead = Proposal {
            role: Role::SupportLead,
            ..csm
        };
        assert!(matches!(decide(&lead), Ok(Decision::Write(_))));
        let delete = Proposal {
            op: MutationOp::Delete,
            set: &Fields::new(),
            stored: Some(Stored {
                deleted: false,
                ..stored
            }),
            ..lead
        };
        let r = decide(&delete).unwrap_err();
        assert_eq!(
            r.code,
            RejectCode::ForbiddenRecord,
            "requests are not deleted"
        );
    }

    fn event(by: serde_json::Value, kind: serde_json::Value) -> Fields {
        let mut e = obj(json!({
            "account_id": ACCOUNT, "request_id": Uuid::from_u128(7),
            "at": "2026-11-26T09:00:00Z",
        }));
        e.insert("by".into(), by);
        e.insert("kind".into(), kind);
        e
    }

    #[test]
    fn timeline_entries_by_kind_actor_and_author() {
        let me = json!({"kind": "staff", "user_id": ME});
        let lead = json!({"kind": "staff", "user_id": LEAD});
        let customer = json!({"kind": "customer", "contact_id": null});
        let system = json!({"kind": "system"});
        let sev = |to: &str| json!({"type": "severity_changed", "from": "p3", "to": to});
        let confirm = json!({"type": "triage_confirmed", "severity": "p2"});
        let response = json!({"type": "response", "visibility": "public", "text": "on it"});
        let status = json!({"type": "status_changed", "from": "open", "to": "acknowledged"});
        // (by, kind, role, refusal code or None when it applies)
        let cases = [
            (&me, &response, Role::Csm, None),
            (&me, &status, Role::AccountRep, None),
            (&lead, &response, Role::Csm, Some(RejectCode::InvalidField)),
            (
                &lead,
                &response,
                Role::Admin,
                Some(RejectCode::InvalidField),
            ),
            (&me, &sev("p2"), Role::Csm, Some(RejectCode::ForbiddenRole)),
            (&me, &sev("p2"), Role::SupportLead, None),
            (
                &me,
                &confirm,
                Role::AccountRep,
                Some(RejectCode::ForbiddenRole),
            ),
            (&me, &confirm, Role::Admin, None),
            (&system, &sev("p1"), Role::Csm, None),
            (
                &system,
                &sev("p4"),
                Role::Csm,
                Some(RejectCode::InvalidField),
            ),
            (
                &system,
                &confirm,
                Role::SupportLead,
                Some(RejectCode::InvalidField),
            ),
            (&customer, &response, Role::Csm, None),
            (
                &customer,
                &status,
                Role::Csm,
                Some(RejectCode::InvalidField),
            ),
        ];
        for (by, kind, role, want) in cases {
            let set = event(by.clone(), kind.clone());
            let p = proposal(
                EntityKind::RequestEvent,
                MutationOp::Upsert,
                role,
                None,
                &set,
            );
            let got = decide(&p).err().map(|r| r.code);
            assert_eq!(got, want, "{by} {kind} as {}", role.as_str());
        }
    }

    #[test]
    fn the_timeline_is_append_only() {
        let stored_fields = event(
            json!({"kind": "staff", "user_id": ME}),
            json!({"type": "update", "text": "looking"}),
        );
        let stored = Stored {
            fields: &stored_fields,
            deleted: false,
            version: 1,
        };
        let edit = obj(json!({"kind": {"type": "update", "text": "fixed already"}}));
        let p = proposal(
            EntityKind::RequestEvent,
            MutationOp::Upsert,
            Role::Admin,
            Some(stored),
            &edit,
        );
        assert_eq!(
            decide(&p).unwrap_err().code,
            RejectCode::ForbiddenRecord,
            "an entry is never edited, even by an admin"
        );
        let resend = Proposal {
            set: &stored_fields,
            ..p
        };
        assert_eq!(
            decide(&resend),
            Ok(Decision::Nothing),
            "sending the same entry again changes nothing and is no edit"
        );
        let delete = Proposal {
            op: MutationOp::Delete,
            set: &Fields::new(),
            ..p
        };
        assert_eq!(
            decide(&delete).unwrap_err().code,
            RejectCode::ForbiddenRecord
        );
    }

    fn rca(state: &str, summary: &str) -> Fields {
        obj(json!({
            "account_id": ACCOUNT, "request_id": Uuid::from_u128(7), "state": state,
            "summary": summary, "root_cause": "r", "contributing_factors": "", "resolution": "x",
            "impact": {"start": "2026-11-26T09:00:00Z", "end": "2026-11-26T10:00:00Z", "affected": "EU"},
            "sla_result": null, "timeline": [], "action_items": [],
        }))
    }

    #[test]
    fn rca_states_on_every_path() {
        let judge = |stored: Option<(&Fields, bool)>, set: &Fields, op, role| {
            let p = proposal(
                EntityKind::Rca,
                op,
                role,
                stored.map(|(fields, deleted)| Stored {
                    fields,
                    deleted,
                    version: 1,
                }),
                set,
            );
            decide(&p).map_err(|r| (r.code, r.field))
        };
        let published = rca("published", "s");
        let draft = rca("draft", "s");
        let empty_review = rca("in_review", " ");
        let to = |s: &str| obj(json!({ "state": s }));
        let invalid = |f: &str| Err((RejectCode::InvalidField, Some(f.to_owned())));
        use MutationOp::{Delete, Upsert};
        assert_eq!(
            judge(
                Some((&published, false)),
                &obj(json!({"summary": "new"})),
                Upsert,
                Role::Csm
            ),
            invalid("state"),
            "a published RCA is not edited"
        );
        assert_eq!(
            judge(Some((&published, false)), &to("draft"), Upsert, Role::Admin),
            invalid("state"),
            "nor moved back, even by an admin"
        );
        assert_eq!(
            judge(
                Some((&published, false)),
                &Fields::new(),
                Delete,
                Role::Admin
            ),
            invalid("state"),
            "nor deleted"
        );
        assert_eq!(
            judge(
                Some((&published, true)),
                &to("draft"),
                Upsert,
                Role::SupportLead
            ),
            invalid("state"),
            "nor brought back as a draft from a tombstone"
        );
        assert_eq!(
            judge(
                Some((&draft, false)),
                &to("published"),
                Upsert,
                Role::SupportLead
            ),
            invalid("state"),
            "publishing needs in_review first"
        );
        assert_eq!(
            judge(None, &published, Upsert, Role::SupportLead),
            invalid("state"),
            "a new RCA is not born published"
        );
        assert_eq!(
            judge(
                Some((&empty_review, false)),
                &to("published"),
                Upsert,
                Role::SupportLead
            ),
            invalid("summary"),
            "an empty summary is not published"
        );
        assert_eq!(
            judge(
                Some((&rca("in_review", "s"), false)),
                &to("published"),
                Upsert,
                Role::Csm
            ),
            Err((RejectCode::ForbiddenRole, None)),
            "a CSM does not publish"
        );
        assert!(
            judge(
                Some((&rca("in_review", "s"), false)),
                &to("published"),
                Upsert,
                Role::SupportLead
            )
            .is_ok()
        );
        assert!(judge(Some((&draft, false)), &to("in_review"), Upsert, Role::Csm).is_ok());
        assert!(
            judge(
                Some((&published, false)),
                &to("published"),
                Upsert,
                Role::SupportLead
            )
            .is_ok(),
            "a second publish of the same RCA (two leads offline) changes nothing and passes"
        );
    }

    #[test]
    fn authors_are_the_pusher() {
        let note = obj(json!({"account_id": ACCOUNT, "author_id": LEAD, "body": "hi"}));
        let p = proposal(EntityKind::Note, MutationOp::Upsert, Role::Csm, None, &note);
        assert_eq!(decide(&p).unwrap_err().field.as_deref(), Some("author_id"));
        let mut anon = note.clone();
        anon.remove("author_id");
        let p = Proposal { set: &anon, ..p };
        match decide(&p) {
            Ok(Decision::Write(f)) => assert_eq!(f["author_id"], json!(ME), "filled in"),
            other => panic!("{other:?}"),
        }
        let mut req = request_fields("p3");
        req.insert("opened_by".into(), json!(LEAD));
        let p = proposal(
            EntityKind::Request,
            MutationOp::Upsert,
            Role::Csm,
            None,
            &req,
        );
        assert_eq!(decide(&p).unwrap_err().field.as_deref(), Some("opened_by"));
        let mut mine = req.clone();
        mine.insert("opened_by".into(), json!(ME));
        let p = Proposal { set: &mine, ..p };
        assert!(decide(&p).is_ok(), "opened by the pusher");
    }

    #[test]
    fn owners_of_new_records() {
        let (a, b) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let none = Fields::new();
        assert_eq!(
            owner_of_new(EntityKind::Account, &none, &[a]),
            Ok(Owner::Team(a)),
            "the only team is the default"
        );
        assert_eq!(
            owner_of_new(EntityKind::Account, &none, &[a, b])
                .unwrap_err()
                .field
                .as_deref(),
            Some("team_id")
        );
        assert_eq!(
            owner_of_new(EntityKind::Account, &none, &[])
                .unwrap_err()
                .code,
            RejectCode::ForbiddenTeam
        );
        let set = obj(json!({"account_id": ACCOUNT}));
        assert_eq!(
            owner_of_new(EntityKind::Note, &set, &[]),
            Ok(Owner::Account(ACCOUNT))
        );
        assert_eq!(
            owner_of_new(EntityKind::Contact, &none, &[a])
                .unwrap_err()
                .code,
            RejectCode::MissingField
        );
    }

    #[test]
    fn what_the_desktop_greys_out() {
        assert!(!role_may(
            Role::SupportLead,
            EntityKind::OnboardingSession,
            Path::Create
        ));
        assert!(role_may(Role::AccountRep, EntityKind::Review, Path::Update));
        assert!(!role_may(
            Role::Admin,
            EntityKind::RequestEvent,
            Path::Delete
        ));
        assert!(!role_may(Role::Admin, EntityKind::Request, Path::Delete));
        assert!(role_may(Role::Csm, EntityKind::Request, Path::Update));
    }
}
