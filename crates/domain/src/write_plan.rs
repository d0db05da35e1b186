//! The central service's write plan: what one pushed mutation (or one intake write) does to
//! the stored records, decided here from what the service read, so `db::sync` in the server
//! only reads, calls [`plan_write`] (or [`plan_profile`], [`plan_intake`]) and carries the
//! plan out. Every rule of a write lives here or in what it calls: the owner of a new record
//! (the default team, the account it hangs off), the rule table ([`rules::decide`]: role,
//! team, author, version, validation), and the version and time the write leaves behind.
//!
//! The service reads in a fixed order (the record, then what [`lookups`] names: the account,
//! then the request), so writers of related records always lock them in the same order.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::limits;
use crate::rules::{self, Decision, Owner, ParentRequest, Proposal, Stored};
use crate::sync::{
    EntityKind, Fields, Mutation, MutationOp, MutationResult, RejectCode, Rejection,
};
use crate::user::{Role, User};

/// A record as the service holds it (a tombstone keeps its last fields).
#[derive(Debug, Clone, Copy)]
pub struct StoredRecord<'a> {
    pub team_id: Uuid,
    pub account_id: Option<Uuid>,
    pub fields: &'a Fields,
    pub deleted: bool,
    pub version: i64,
}

/// What the service reads, after the record itself, before it asks for the plan: first the
/// account, then the request ([`Lookups::request_once`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lookups {
    /// The account whose liveness (and team) the write depends on.
    pub account: Option<Uuid>,
    /// The request the write's `request_id` names.
    pub request: Option<Uuid>,
    /// The account is the owner of a new record: when it is not live, the plan refuses the
    /// write for it and nothing more is read.
    pub account_owns_new: bool,
}

impl Lookups {
    /// The request to read once the account was read (`live_account_team`: its team when
    /// live).
    pub fn request_once(&self, live_account_team: Option<Uuid>) -> Option<Uuid> {
        if self.account_owns_new && live_account_team.is_none() {
            None
        } else {
            self.request
        }
    }
}

/// What the service must read for `m` given the stored record and the pusher's teams.
/// Nothing for a delete of nothing or a create whose owner is refused (the plan refuses it
/// without them); the account for an upsert of a record hanging off one, and for a create
/// naming one; the request for a timeline entry or an RCA.
pub fn lookups(m: &Mutation, stored: Option<&StoredRecord<'_>>, teams: &[Uuid]) -> Lookups {
    let account = match stored {
        Some(s) if m.op == MutationOp::Upsert => s.account_id,
        Some(_) => None,
        None if m.op == MutationOp::Delete => return Lookups::default(),
        None => match rules::owner_of_new(m.entity, &m.fields, teams) {
            Err(_) => return Lookups::default(),
            Ok(Owner::Team(_)) => None,
            Ok(Owner::Account(a)) => Some(a),
        },
    };
    Lookups {
        account,
        request: rules::request_named(m.entity, stored.map(|s| s.fields), &m.fields),
        account_owns_new: stored.is_none() && account.is_some(),
    }
}

/// Everything the service read for one mutation.
#[derive(Debug, Clone, Copy)]
pub struct Read<'a> {
    pub mutation: &'a Mutation,
    /// The pusher and their role as signed in.
    pub pusher: Uuid,
    pub role: Role,
    /// The teams the pusher is in.
    pub teams: &'a [Uuid],
    pub stored: Option<StoredRecord<'a>>,
    /// The team of the account [`Lookups::account`] named, when that account is live.
    pub live_account_team: Option<Uuid>,
    /// The request [`Lookups::request`] named, as stored (`None`: none named, or none such).
    pub request: Option<ParentRequest>,
}

/// One record written with exactly these values.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordWrite {
    pub team_id: Uuid,
    pub account_id: Option<Uuid>,
    /// The whole record, merged and normalised.
    pub fields: Fields,
    /// 1 for a new record, the stored version + 1 otherwise.
    pub version: i64,
    /// `updated_at` (and `created_at` of a new record).
    pub at: DateTime<Utc>,
}

/// What the service does with one write.
#[derive(Debug, Clone, PartialEq)]
pub enum WritePlan {
    /// Refused: nothing changes, and the refusal names the field when one is at fault.
    Refuse(Rejection),
    /// Nothing changes, and the mutation counts as applied (a delete of nothing or of a
    /// tombstone, a resend of a timeline entry).
    Nothing,
    /// The record becomes a tombstone (version + 1, stamped `at`); with `children`, the live
    /// records hanging off it (an account's contacts, notes and the rest) too.
    Tombstone {
        team_id: Uuid,
        children: bool,
        at: DateTime<Utc>,
    },
    /// Insert or update the record with exactly these values.
    Write(RecordWrite),
}

/// The team and account the record belongs to: stored, or resolved from its owner on a
/// create (an account's `team_id` or the pusher's only team; any other record's live
/// account). `Err` carries the plan when there is nothing more to judge.
fn owner(r: &Read<'_>) -> Result<(Uuid, Option<Uuid>), WritePlan> {
    let m = r.mutation;
    match &r.stored {
        Some(s) => Ok((s.team_id, s.account_id)),
        None if m.op == MutationOp::Delete => Err(WritePlan::Nothing), // nothing to delete
        None => match rules::owner_of_new(m.entity, &m.fields, r.teams) {
            Err(e) => Err(WritePlan::Refuse(e)),
            Ok(Owner::Team(team)) => Ok((team, None)),
            Ok(Owner::Account(account)) => match r.live_account_team {
                Some(team) => Ok((team, Some(account))),
                None => Err(WritePlan::Refuse(Rejection::field(
                    RejectCode::NotFound,
                    "account_id",
                    format!("account_id: account {account} does not exist or was deleted"),
                ))),
            },
        },
    }
}

/// The plan of one mutation of a team's record (every kind but a profile: [`plan_profile`]).
pub fn plan_write(r: &Read<'_>, now: DateTime<Utc>) -> WritePlan {
    let m = r.mutation;
    let (team_id, account_id) = match owner(r) {
        Ok(o) => o,
        Err(plan) => return plan,
    };
    // Only an upsert of a stored record hanging off an account asks whether it is live.
    let account_live = match (&r.stored, account_id) {
        (Some(_), Some(_)) if m.op == MutationOp::Upsert => r.live_account_team.is_some(),
        _ => true,
    };
    let decision = rules::decide(&Proposal {
        kind: m.entity,
        entity_id: m.entity_id,
        op: m.op,
        role: r.role,
        pusher: r.pusher,
        team_id,
        in_team: r.teams.contains(&team_id),
        account_id,
        account_live,
        request: r.request,
        stored: r.stored.as_ref().map(|s| Stored {
            fields: s.fields,
            deleted: s.deleted,
            version: s.version,
        }),
        set: &m.fields,
        base_version: m.base_version,
    });
    match decision {
        Err(e) => WritePlan::Refuse(e),
        Ok(Decision::Nothing) => WritePlan::Nothing,
        Ok(Decision::Delete) => WritePlan::Tombstone {
            team_id,
            children: m.entity == EntityKind::Account,
            at: now,
        },
        Ok(Decision::Write(fields)) => WritePlan::Write(RecordWrite {
            team_id,
            account_id,
            fields,
            version: r.stored.map_or(1, |s| s.version + 1),
            at: now,
        }),
    }
}

/// A profile's fields as synced: the user without their id.
pub fn profile_fields(u: &User) -> Fields {
    match serde_json::to_value(u) {
        Ok(serde_json::Value::Object(mut m)) => {
            m.remove("id");
            m
        }
        _ => Fields::new(),
    }
}

/// A user's own profile written with exactly these values.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileWrite {
    pub user: User,
    /// The stored version + 1.
    pub version: i64,
    pub at: DateTime<Utc>,
}

/// What the service does with a write of a profile (`User`).
#[derive(Debug, Clone, PartialEq)]
pub enum ProfilePlan {
    Refuse(Rejection),
    Nothing,
    Write(ProfileWrite),
}

/// The plan of a mutation of a profile by `pusher`, whose stored user (and its version) is
/// `stored` (`None`: the pusher's user is gone). The stored user is the record judged: a
/// write naming another user is refused by the rules (an admin manages the others), and
/// the role judged is the stored one.
pub fn plan_profile(
    m: &Mutation,
    pusher: Uuid,
    stored: Option<(&User, i64)>,
    now: DateTime<Utc>,
) -> ProfilePlan {
    let Some((user, version)) = stored else {
        return ProfilePlan::Refuse(Rejection::new(
            RejectCode::NotFound,
            "your user no longer exists",
        ));
    };
    let current = profile_fields(user);
    let decision = rules::decide(&Proposal {
        kind: EntityKind::User,
        entity_id: m.entity_id,
        op: m.op,
        role: user.role,
        pusher,
        team_id: Uuid::nil(),
        in_team: true,
        account_id: None,
        account_live: true,
        request: None,
        stored: Some(Stored {
            fields: &current,
            deleted: false,
            version,
        }),
        set: &m.fields,
        base_version: m.base_version,
    });
    let mut merged = match decision {
        Err(e) => return ProfilePlan::Refuse(e),
        Ok(Decision::Write(f)) => f,
        Ok(Decision::Nothing | Decision::Delete) => return ProfilePlan::Nothing,
    };
    merged.insert("id".into(), serde_json::Value::String(pusher.to_string()));
    match serde_json::from_value::<User>(serde_json::Value::Object(merged)) {
        Ok(user) => ProfilePlan::Write(ProfileWrite {
            user,
            version: version + 1,
            at: now,
        }),
        Err(e) => ProfilePlan::Refuse(Rejection::new(
            RejectCode::InvalidField,
            format!("the profile does not fit: {e}"),
        )),
    }
}

/// The plan of a write intake makes on its own (no user) to a record of `team_id` hanging
/// off `account_id`: the record stays with its account, and the fields merge and pass the
/// kind's validation as a mutation's do.
pub fn plan_intake(
    entity: EntityKind,
    stored: Option<StoredRecord<'_>>,
    team_id: Uuid,
    account_id: Uuid,
    set: &Fields,
    now: DateTime<Utc>,
) -> WritePlan {
    if let Some(s) = &stored
        && (s.team_id != team_id || s.account_id != Some(account_id))
    {
        return WritePlan::Refuse(Rejection::field(
            RejectCode::ImmutableField,
            "account_id",
            format!("the {} belongs to another account", entity.as_str()),
        ));
    }
    let mut set = set.clone();
    set.insert(
        "account_id".into(),
        serde_json::Value::String(account_id.to_string()),
    );
    match crate::sync::merge_fields(entity, stored.map(|s| s.fields), &set) {
        Ok(fields) => WritePlan::Write(RecordWrite {
            team_id,
            account_id: Some(account_id),
            fields,
            version: stored.map_or(1, |s| s.version + 1),
            at: now,
        }),
        Err(e) => WritePlan::Refuse(e),
    }
}

/// The refusal of a mutation refused because `cause`, written with it, was refused.
pub fn refused_with(cause: &Mutation, why: &Rejection) -> Rejection {
    Rejection {
        code: why.code,
        message: format!(
            "refused with the {} written with it: {}",
            cause.entity.as_str().replace('_', " "),
            why.message
        ),
        field: None,
    }
}

/// A group written together ([`crate::sync::write_groups`]) with a value over its size
/// limit is refused as a whole before anything reads it: the oversized mutation for its
/// size, the others as refused with it. `None` when every value fits.
pub fn refuse_oversized(group: &[Mutation]) -> Option<Vec<MutationResult>> {
    // One linear pass: nothing else reads an oversized value.
    let (bad, why) = group.iter().find_map(|m| {
        limits::check_fields(m.entity, &m.fields)
            .err()
            .map(|r| (m, r))
    })?;
    Some(
        group
            .iter()
            .map(|m| {
                let r = if m.id == bad.id {
                    why.clone()
                } else {
                    refused_with(bad, &why)
                };
                MutationResult::rejected(m.id, r)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    const ME: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);
    const TEAM: Uuid = Uuid::from_u128(10);
    const TEAM_B: Uuid = Uuid::from_u128(11);
    const ACCOUNT: Uuid = Uuid::from_u128(20);
    const RECORD: Uuid = Uuid::from_u128(30);

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap()
    }

    fn obj(v: serde_json::Value) -> Fields {
        match v {
            serde_json::Value::Object(m) => m,
            _ => Fields::new(),
        }
    }

    fn mutation(entity: EntityKind, op: MutationOp, fields: serde_json::Value) -> Mutation {
        Mutation {
            id: Uuid::from_u128(99),
            entity,
            entity_id: RECORD,
            op,
            fields: obj(fields),
            base_version: None,
            client_time: now(),
        }
    }

    fn account_fields() -> serde_json::Value {
        json!({"name": "Acme", "plan": "professional_support", "time_zone": "Europe/Berlin",
               "fiscal_year_start_month": 1, "stage": "onboarding"})
    }

    fn read<'a>(m: &'a Mutation, teams: &'a [Uuid], stored: Option<StoredRecord<'a>>) -> Read<'a> {
        Read {
            mutation: m,
            pusher: ME,
            role: Role::Csm,
            teams,
            stored,
            live_account_team: Some(TEAM),
            request: None,
        }
    }

    fn refusal(plan: &WritePlan) -> (RejectCode, Option<&str>) {
        match plan {
            WritePlan::Refuse(r) => (r.code, r.field.as_deref()),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn written(plan: WritePlan) -> RecordWrite {
        match plan {
            WritePlan::Write(w) => w,
            other => panic!("expected a write, got {other:?}"),
        }
    }

    #[test]
    fn an_account_without_a_team_goes_to_the_pushers_only_team() {
        let m = mutation(EntityKind::Account, MutationOp::Upsert, account_fields());
        let w = written(plan_write(&read(&m, &[TEAM], None), now()));
        assert_eq!(w.team_id, TEAM, "the only team is the default");
        assert_eq!(
            w.fields["team_id"],
            json!(TEAM),
            "and is stored on the account"
        );
        assert_eq!(
            (w.version, w.at),
            (1, now()),
            "a new record starts at version 1"
        );
        assert_eq!(w.account_id, None, "an account hangs off no account");
    }

    #[test]
    fn an_account_without_a_team_is_refused_when_the_team_is_not_clear() {
        let m = mutation(EntityKind::Account, MutationOp::Upsert, account_fields());
        assert_eq!(
            refusal(&plan_write(&read(&m, &[TEAM, TEAM_B], None), now())),
            (RejectCode::MissingField, Some("team_id")),
            "in several teams the pusher says which"
        );
        assert_eq!(
            refusal(&plan_write(&read(&m, &[], None), now())),
            (RejectCode::ForbiddenTeam, None),
            "in no team there is nowhere to put it"
        );
        assert_eq!(
            lookups(&m, None, &[]),
            Lookups::default(),
            "nothing to read"
        );
    }

    #[test]
    fn an_account_in_another_team_is_refused_as_forbidden_team() {
        let mut f = account_fields();
        f["team_id"] = json!(TEAM_B);
        let m = mutation(EntityKind::Account, MutationOp::Upsert, f);
        assert_eq!(
            refusal(&plan_write(&read(&m, &[TEAM], None), now())),
            (RejectCode::ForbiddenTeam, None)
        );
    }

    #[test]
    fn a_note_is_written_by_its_pusher_on_a_live_account() {
        let m = mutation(
            EntityKind::Note,
            MutationOp::Upsert,
            json!({"account_id": ACCOUNT, "body": "hello"}),
        );
        assert_eq!(
            lookups(&m, None, &[TEAM]),
            Lookups {
                account: Some(ACCOUNT),
                request: None,
                account_owns_new: true,
            },
            "a create reads the account it names"
        );
        let w = written(plan_write(&read(&m, &[TEAM], None), now()));
        assert_eq!(w.fields["author_id"], json!(ME), "the author is filled in");
        assert_eq!((w.team_id, w.account_id), (TEAM, Some(ACCOUNT)));

        let theirs = mutation(
            EntityKind::Note,
            MutationOp::Upsert,
            json!({"account_id": ACCOUNT, "author_id": OTHER, "body": "hello"}),
        );
        assert_eq!(
            refusal(&plan_write(&read(&theirs, &[TEAM], None), now())),
            (RejectCode::InvalidField, Some("author_id")),
            "a note is never written in another's name"
        );

        let dead = Read {
            live_account_team: None,
            ..read(&m, &[TEAM], None)
        };
        assert_eq!(
            refusal(&plan_write(&dead, now())),
            (RejectCode::NotFound, Some("account_id")),
            "a note on a deleted account is refused"
        );
    }

    #[test]
    fn a_create_without_its_account_is_refused_naming_the_field() {
        let m = mutation(
            EntityKind::Contact,
            MutationOp::Upsert,
            json!({"name": "Ann"}),
        );
        assert_eq!(
            refusal(&plan_write(&read(&m, &[TEAM], None), now())),
            (RejectCode::MissingField, Some("account_id"))
        );
    }

    #[test]
    fn updates_bump_the_version_and_keep_the_owner() {
        let stored_fields = obj(
            json!({"account_id": ACCOUNT, "author_id": ME, "body": "old",
                                       "pinned": false, "link": null}),
        );
        let stored = StoredRecord {
            team_id: TEAM,
            account_id: Some(ACCOUNT),
            fields: &stored_fields,
            deleted: false,
            version: 4,
        };
        let m = mutation(EntityKind::Note, MutationOp::Upsert, json!({"body": "new"}));
        assert_eq!(
            lookups(&m, Some(&stored), &[TEAM]).account,
            Some(ACCOUNT),
            "an update asks whether its account is live"
        );
        let w = written(plan_write(&read(&m, &[TEAM], Some(stored)), now()));
        assert_eq!(w.version, 5, "one more than stored");
        assert_eq!((w.team_id, w.account_id), (TEAM, Some(ACCOUNT)));
        assert_eq!(w.fields["body"], json!("new"));
        assert_eq!(
            w.fields["author_id"],
            json!(ME),
            "merged over the stored record"
        );

        let dead = Read {
            live_account_team: None,
            ..read(&m, &[TEAM], Some(stored))
        };
        assert_eq!(
            refusal(&plan_write(&dead, now())),
            (RejectCode::NotFound, Some("account_id")),
            "a record of a deleted account is not edited"
        );
        let stranger = read(&m, &[TEAM_B], Some(stored));
        assert_eq!(
            refusal(&plan_write(&stranger, now())),
            (RejectCode::ForbiddenTeam, None),
            "the team is the stored record's"
        );
    }

    #[test]
    fn deletes() {
        let m = mutation(EntityKind::Account, MutationOp::Delete, json!({}));
        assert_eq!(
            plan_write(&read(&m, &[TEAM], None), now()),
            WritePlan::Nothing,
            "a delete of nothing applies and changes nothing"
        );
        assert_eq!(lookups(&m, None, &[TEAM]), Lookups::default());
        let fields = obj(json!({"team_id": TEAM}));
        let live = StoredRecord {
            team_id: TEAM,
            account_id: None,
            fields: &fields,
            deleted: false,
            version: 2,
        };
        assert_eq!(
            lookups(&m, Some(&live), &[TEAM]),
            Lookups::default(),
            "a delete never asks after the account"
        );
        let admin = Read {
            role: Role::Admin,
            ..read(&m, &[TEAM], Some(live))
        };
        assert_eq!(
            plan_write(&admin, now()),
            WritePlan::Tombstone {
                team_id: TEAM,
                children: true,
                at: now()
            },
            "an account's records go with it"
        );
        let tomb = Read {
            stored: Some(StoredRecord {
                deleted: true,
                ..live
            }),
            ..admin
        };
        assert_eq!(
            plan_write(&tomb, now()),
            WritePlan::Nothing,
            "deleted already"
        );

        let contact_fields = obj(json!({"account_id": ACCOUNT}));
        let contact = StoredRecord {
            account_id: Some(ACCOUNT),
            fields: &contact_fields,
            ..live
        };
        let m = mutation(EntityKind::Contact, MutationOp::Delete, json!({}));
        assert_eq!(
            plan_write(&read(&m, &[TEAM], Some(contact)), now()),
            WritePlan::Tombstone {
                team_id: TEAM,
                children: false,
                at: now()
            },
            "a contact has nothing hanging off it"
        );
    }

    #[test]
    fn a_timeline_entry_reads_its_request() {
        let request = Uuid::from_u128(40);
        let m = mutation(
            EntityKind::RequestEvent,
            MutationOp::Upsert,
            json!({"account_id": ACCOUNT, "request_id": request}),
        );
        let needs = lookups(&m, None, &[TEAM]);
        assert_eq!(
            needs,
            Lookups {
                account: Some(ACCOUNT),
                request: Some(request),
                account_owns_new: true,
            }
        );
        assert_eq!(
            needs.request_once(Some(TEAM)),
            Some(request),
            "read after a live account"
        );
        assert_eq!(
            needs.request_once(None),
            None,
            "a create on a deleted account is refused for it before the request is read"
        );
        let stored_fields = obj(json!({"account_id": ACCOUNT, "request_id": request}));
        let stored = StoredRecord {
            team_id: TEAM,
            account_id: Some(ACCOUNT),
            fields: &stored_fields,
            deleted: false,
            version: 1,
        };
        let resend = lookups(&m, Some(&stored), &[TEAM]);
        assert_eq!(
            resend.request_once(None),
            Some(request),
            "an update reads its request whatever the account (the plan refuses it after)"
        );
        let bad = mutation(EntityKind::RequestEvent, MutationOp::Upsert, json!({}));
        assert_eq!(
            lookups(&bad, None, &[TEAM]),
            Lookups::default(),
            "a create refused for its owner reads nothing more"
        );
    }

    fn user(id: Uuid) -> User {
        User {
            id,
            name: "Mia".into(),
            email: "mia@example.com".into(),
            role: Role::Csm,
            time_zone: "Europe/Berlin".into(),
            working_hours: crate::WorkingHours::default(),
        }
    }

    #[test]
    fn profiles() {
        let me = user(ME);
        let mut m = mutation(
            EntityKind::User,
            MutationOp::Upsert,
            json!({"name": "Mia K"}),
        );
        m.entity_id = ME;
        match plan_profile(&m, ME, Some((&me, 3)), now()) {
            ProfilePlan::Write(w) => {
                assert_eq!(w.user.name, "Mia K");
                assert_eq!(w.user.id, ME);
                assert_eq!((w.version, w.at), (4, now()));
            }
            other => panic!("{other:?}"),
        }
        let ProfilePlan::Refuse(r) = plan_profile(&m, ME, None, now()) else {
            panic!("a gone user writes nothing");
        };
        assert_eq!(r.code, RejectCode::NotFound);
        let mut theirs = m.clone();
        theirs.entity_id = OTHER;
        let ProfilePlan::Refuse(r) = plan_profile(&theirs, ME, Some((&me, 3)), now()) else {
            panic!("another's profile is an admin's");
        };
        assert_eq!(r.code, RejectCode::ForbiddenRecord);
        let mut delete = m.clone();
        delete.op = MutationOp::Delete;
        assert!(matches!(
            plan_profile(&delete, ME, Some((&me, 3)), now()),
            ProfilePlan::Refuse(_)
        ));
        assert!(
            !profile_fields(&me).contains_key("id"),
            "the id is the record's key"
        );
    }

    #[test]
    fn intake_keeps_a_record_with_its_account() {
        let set = obj(json!({"name": "Ann", "email": "ann@acme.example", "role": "CTO"}));
        let w = written(plan_intake(
            EntityKind::Contact,
            None,
            TEAM,
            ACCOUNT,
            &set,
            now(),
        ));
        assert_eq!(w.fields["account_id"], json!(ACCOUNT));
        assert_eq!((w.version, w.account_id), (1, Some(ACCOUNT)));
        let stored_fields = w.fields.clone();
        let stored = StoredRecord {
            team_id: TEAM,
            account_id: Some(ACCOUNT),
            fields: &stored_fields,
            deleted: false,
            version: 1,
        };
        let again = written(plan_intake(
            EntityKind::Contact,
            Some(stored),
            TEAM,
            ACCOUNT,
            &set,
            now(),
        ));
        assert_eq!(again.version, 2);
        assert_eq!(
            refusal(&plan_intake(
                EntityKind::Contact,
                Some(stored),
                TEAM,
                Uuid::from_u128(21),
                &set,
                now()
            )),
            (RejectCode::ImmutableField, Some("account_id"))
        );
    }

    #[test]
    fn an_oversized_group_is_refused_as_a_whole() {
        let fine = mutation(
            EntityKind::Request,
            MutationOp::Upsert,
            json!({"title": "t"}),
        );
        let mut big = mutation(
            EntityKind::Note,
            MutationOp::Upsert,
            json!({"body": "x".repeat(limits::MAX_NOTE_LEN + 1)}),
        );
        big.id = Uuid::from_u128(100);
        assert_eq!(refuse_oversized(std::slice::from_ref(&fine)), None);
        let rs = refuse_oversized(&[fine.clone(), big.clone()]).expect("refused");
        assert_eq!(rs.len(), 2, "one result per mutation");
        assert_eq!(
            rs[1].field.as_deref(),
            Some("body"),
            "the oversized one names its field"
        );
        assert_eq!(
            rs[0].code, rs[1].code,
            "the other is refused with the same code"
        );
        assert!(
            rs[0]
                .message
                .as_deref()
                .unwrap_or("")
                .starts_with("refused with the note"),
            "and says why"
        );
    }
}
