//! rapport-domain's rule table against the real server on PostgreSQL: every kind × every
//! path (create, update, delete, re-create of a tombstone) × every role, and a stranger
//! from another team; then the holes the table closes (issue 11, points 1-3), each shown
//! with the mutation that got through before.

use rapport_domain::Role;
use rapport_domain::authz::{self, Action};
use rapport_domain::rules::{self, Check, Path, Rule};
use rapport_domain::sync::EntityKind;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{
    TestApp, account_in, assert_applied, assert_refused_field, assert_rejected, mutation,
};

struct World {
    app: TestApp,
    team: Uuid,
    account: Uuid,
    admin: (Uuid, String),
    /// One user per role, in the team.
    staff: Vec<(Role, Uuid, String)>,
    /// An admin of another team: whatever the role allows, the team refuses.
    stranger: (Uuid, String),
}

async fn world(pool: PgPool) -> World {
    let app = TestApp::new(pool).await;
    let team = app.team("Support").await;
    let elsewhere = app.team("Elsewhere").await;
    let (admin, admin_token) = app.user(Role::Admin, &[team]).await;
    let account = crate::common::seed_account(&app, &admin_token, team, "Acme").await;
    let mut staff = Vec::new();
    for role in Role::ALL {
        let (u, token) = app.user(role, &[team]).await;
        staff.push((role, u.id, token));
    }
    let (stranger, stranger_token) = app.user(Role::Admin, &[elsewhere]).await;
    // The request the timeline entries and RCAs below hang off: a resolved P1, which needs
    // an RCA.
    let mut resolved = request(account, admin.id, "p1", false);
    resolved["status"] = json!("resolved");
    let r = app.upsert(&admin_token, "request", REQUEST, resolved).await;
    assert_applied(&r, "the request the entries hang off");
    World {
        app,
        team,
        account,
        admin: (admin.id, admin_token),
        staff,
        stranger: (stranger.id, stranger_token),
    }
}

const REQUEST: Uuid = Uuid::from_u128(0x0123);

/// A whole new record of `kind` as the desktop's outbox sends it, written by `who`.
fn new_record(kind: EntityKind, w: &World, who: Uuid) -> Value {
    let account = w.account;
    match kind {
        EntityKind::Account => account_in(w.team, "New Co"),
        EntityKind::Contact => {
            json!({"account_id": account, "name": "Kim", "email": "kim@cust.com", "role": "", "time_zone": null})
        }
        EntityKind::Note => {
            json!({"account_id": account, "author_id": who, "body": "Call went well", "pinned": false, "link": null})
        }
        EntityKind::User => json!({"name": "Me"}),
        EntityKind::OnboardingSession => json!({
            "account_id": account, "facilitator_id": who, "attendee_ids": [],
            "starts_at": "2026-12-01T10:00:00Z", "ends_at": "2026-12-01T11:00:00Z",
            "time_zone": "Europe/Berlin", "meeting_link": null,
            "agenda": [{"title": "Support channels", "done": false}], "status": "planned",
            "outcome": "", "follow_ups": [], "sequence": 0,
        }),
        EntityKind::Review => json!({
            "account_id": account, "fiscal_year": 2026, "quarter": 4, "fy_start_month": 1,
            "state": "requested", "time_zone": "Europe/Berlin",
        }),
        EntityKind::Request => request(account, who, "p3", false),
        EntityKind::RequestEvent => staff_event(
            account,
            who,
            json!({"type": "update", "text": "Looking into it"}),
        ),
        EntityKind::Rca => rca(account, "draft", "Checkout failed for EU customers"),
    }
}

/// A request opened by chat by `who` (`Uuid::nil()`: by email, nobody).
fn request(account: Uuid, who: Uuid, severity: &str, needs_triage: bool) -> Value {
    let opened_by = if who.is_nil() {
        Value::Null
    } else {
        json!(who)
    };
    json!({
        "account_id": account, "contact_id": null, "title": "Checkout down", "channel": "chat",
        "opened_at": "2026-11-26T09:00:00Z", "opened_by": opened_by, "severity": severity,
        "needs_triage": needs_triage, "status": "open", "thread_keys": [], "meeting_link": null,
    })
}

fn event(account: Uuid, by: Value, kind: Value) -> Value {
    let mut e = json!({"account_id": account, "request_id": REQUEST, "at": "2026-11-26T09:05:00Z"});
    e["by"] = by;
    e["kind"] = kind;
    e
}

/// A timeline entry written by staff member `me`.
fn staff_event(account: Uuid, me: Uuid, kind: Value) -> Value {
    event(account, json!({"kind": "staff", "user_id": me}), kind)
}

fn rca(account: Uuid, state: &str, summary: &str) -> Value {
    json!({
        "account_id": account, "request_id": REQUEST, "state": state, "summary": summary,
        "impact": {"start": "2026-11-26T09:00:00Z", "end": "2026-11-26T10:00:00Z", "affected": "EU"},
        "sla_result": "met", "timeline": [], "root_cause": "An expired certificate",
        "contributing_factors": "", "resolution": "Rotated the certificate", "action_items": [],
        "updated_at": "2026-11-26T11:00:00Z",
    })
}

/// An ordinary edit: it needs no more than the kind's own action.
fn edit(kind: EntityKind) -> Value {
    match kind {
        EntityKind::Account => json!({"tags": ["edited"]}),
        EntityKind::Contact => json!({"name": "Kim Lee"}),
        EntityKind::Note => json!({"body": "Edited"}),
        EntityKind::User => json!({"name": "Renamed Me"}),
        EntityKind::OnboardingSession => json!({"outcome": "Went well"}),
        EntityKind::Review => json!({"findings": "Healthy"}),
        EntityKind::Request => json!({"title": "Checkout slow"}),
        EntityKind::RequestEvent => json!({"kind": {"type": "update", "text": "Rewritten"}}),
        EntityKind::Rca => json!({"summary": "Edited summary"}),
    }
}

/// (version, deleted, fields) of a stored record.
async fn stored(app: &TestApp, kind: EntityKind, id: Uuid) -> Option<(i64, bool, Value)> {
    let row: Option<(i64, bool, sqlx::types::Json<Value>)> = sqlx::query_as(
        "SELECT version, deleted, fields FROM records WHERE entity = $1 AND id = $2",
    )
    .bind(kind.as_str())
    .bind(id)
    .fetch_optional(&app.state.pool)
    .await
    .unwrap();
    row.map(|(v, d, f)| (v, d, f.0))
}

/// Writes `fields` as the admin (who may), then leaves the record on `path`'s footing: live
/// for an update or a delete, a tombstone for a re-create. Tombstones are made in the table
/// directly, as a delete through an earlier service left them: some kinds refuse deletes now.
async fn prepare(w: &World, kind: EntityKind, id: Uuid, path: Path, fields: Value) {
    if path == Path::Create {
        return;
    }
    let r = w.app.upsert(&w.admin.1, kind.as_str(), id, fields).await;
    assert_applied(&r, "seeding the record as an admin");
    if path == Path::Recreate {
        sqlx::query(
            "UPDATE records SET deleted = true, version = version + 1 WHERE entity = $1 AND id = $2",
        )
        .bind(kind.as_str())
        .bind(id)
        .execute(&w.app.state.pool)
        .await
        .unwrap();
    }
}

/// What the table says of an ordinary write on `path` by `role` (a stranger when
/// `stranger`): `None` when it applies, else the refusal's code.
fn expected(kind: EntityKind, path: Path, role: Role, stranger: bool) -> Option<&'static str> {
    let row = rules::row(kind);
    if stranger && row.team_scoped {
        return Some("forbidden_team");
    }
    match row.rule(path) {
        Rule::Refused(_) => Some("forbidden_record"),
        Rule::Checks(checks) => {
            if checks.contains(&Check::Role)
                && !authz::allows(role, authz::action_for(kind, path.op()))
            {
                Some("forbidden_role")
            } else if checks.contains(&Check::Unchanged) {
                Some("forbidden_record") // the matrix's write is an edit
            } else {
                None
            }
        }
    }
}

/// Pushes one write and checks its result and its effect against `want`.
async fn attempt(
    w: &World,
    token: &str,
    (kind, id, path): (EntityKind, Uuid, Path),
    fields: Value,
    want: Option<&str>,
    what: &str,
) {
    let before = stored(&w.app, kind, id).await;
    let op = path.op().as_str();
    let fields = if path == Path::Delete {
        json!({})
    } else {
        fields
    };
    let r = w
        .app
        .push_one(token, mutation(kind.as_str(), id, op, fields))
        .await;
    let after = stored(&w.app, kind, id).await;
    match want {
        None => {
            assert_applied(&r, what);
            let (version, deleted, _) = after.clone().unwrap_or_else(|| panic!("{what}: stored"));
            assert!(
                version > before.as_ref().map_or(0, |b| b.0),
                "{what}: an applied write is a new version"
            );
            assert_eq!(deleted, path == Path::Delete, "{what}: deleted or live");
        }
        Some(code) => {
            assert_rejected(&r, code, what);
            assert_eq!(after, before, "{what}: a refused write changes nothing");
        }
    }
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn every_kind_path_and_role_of_the_rule_table_holds_on_the_server(pool: PgPool) {
    let w = world(pool).await;
    let mut users: Vec<(Role, Uuid, String, bool)> = w
        .staff
        .iter()
        .map(|(r, u, t)| (*r, *u, t.clone(), false))
        .collect();
    users.push((Role::Admin, w.stranger.0, w.stranger.1.clone(), true));
    let mut walked = 0;
    for kind in EntityKind::ALL {
        for path in Path::ALL {
            for (role, uid, token, stranger) in &users {
                let who = if *stranger {
                    "a stranger"
                } else {
                    role.as_str()
                };
                let what = format!("{who}: {} of a {}", path.as_str(), kind.as_str());
                if kind == EntityKind::User {
                    // Every user's profile is on the service from the start: a profile write
                    // is an update (or a delete) of one's own, never a create.
                    match path {
                        Path::Create | Path::Recreate => assert!(
                            matches!(rules::rule(kind, path), Rule::Refused(_)),
                            "no synced write creates a user"
                        ),
                        Path::Update | Path::Delete => {
                            let want = expected(kind, path, *role, false);
                            let fields = if path == Path::Delete {
                                json!({})
                            } else {
                                edit(kind)
                            };
                            let r = w
                                .app
                                .push_one(token, mutation("user", *uid, path.op().as_str(), fields))
                                .await;
                            match want {
                                None => assert_applied(&r, &what),
                                Some(code) => assert_rejected(&r, code, &what),
                            }
                            walked += 1;
                        }
                    }
                    continue;
                }
                let id = Uuid::now_v7();
                prepare(&w, kind, id, path, new_record(kind, &w, w.admin.0)).await;
                let fields = match path {
                    Path::Create => new_record(kind, &w, *uid),
                    _ => edit(kind),
                };
                let want = expected(kind, path, *role, *stranger);
                attempt(&w, token, (kind, id, path), fields, want, &what).await;
                walked += 1;
            }
        }
    }
    assert_eq!(
        walked,
        (EntityKind::ALL.len() - 1) * 4 * 5 + 2 * 5,
        "every cell was walked"
    );
}

/// A write whose right depends on what it changes: it needs `action` beyond the kind's own.
struct Privileged {
    what: &'static str,
    kind: EntityKind,
    paths: &'static [Path],
    /// The record before (by the admin), from the account.
    before: fn(Uuid) -> Value,
    /// The write, by the pusher.
    write: fn(Uuid, Uuid) -> Value,
    action: Action,
    /// The check of the table that carries the rule.
    check: Check,
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn writes_that_need_more_than_the_kinds_action_follow_the_role_on_every_path(pool: PgPool) {
    let w = world(pool).await;
    let cases = [
        Privileged {
            what: "changing a request's severity",
            kind: EntityKind::Request,
            paths: &[Path::Update, Path::Recreate],
            before: |a| request(a, Uuid::nil(), "p3", false),
            write: |_, _| json!({"severity": "p2"}),
            action: Action::ChangeSeverity,
            check: Check::StateRole,
        },
        Privileged {
            what: "confirming a request's triage",
            kind: EntityKind::Request,
            paths: &[Path::Update, Path::Recreate],
            before: |a| request(a, Uuid::nil(), "p1", true),
            write: |_, _| json!({"severity": "p2", "needs_triage": false}),
            action: Action::ChangeSeverity,
            check: Check::StateRole,
        },
        Privileged {
            what: "a severity_changed entry",
            kind: EntityKind::RequestEvent,
            paths: &[Path::Create],
            before: |_| Value::Null,
            write: |a, me| {
                staff_event(
                    a,
                    me,
                    json!({"type": "severity_changed", "from": "p3", "to": "p2"}),
                )
            },
            action: Action::ChangeSeverity,
            check: Check::EventKind,
        },
        Privileged {
            what: "a triage_confirmed entry",
            kind: EntityKind::RequestEvent,
            paths: &[Path::Create],
            before: |_| Value::Null,
            write: |a, me| {
                staff_event(a, me, json!({"type": "triage_confirmed", "severity": "p2"}))
            },
            action: Action::ChangeSeverity,
            check: Check::EventKind,
        },
        Privileged {
            what: "publishing an RCA in review",
            kind: EntityKind::Rca,
            paths: &[Path::Update, Path::Recreate],
            before: |a| rca(a, "in_review", "Checkout failed"),
            write: |_, _| json!({"state": "published"}),
            action: Action::PublishRca,
            check: Check::StateRole,
        },
    ];
    for case in &cases {
        for &path in case.paths {
            let Rule::Checks(checks) = rules::rule(case.kind, path) else {
                panic!("{} on {} is not refused outright", case.what, path.as_str());
            };
            assert!(
                checks.contains(&case.check),
                "the table carries the rule of {}",
                case.what
            );
            for (role, uid, token) in &w.staff {
                let id = Uuid::now_v7();
                prepare(&w, case.kind, id, path, (case.before)(w.account)).await;
                let want = (!authz::allows(*role, case.action)).then_some("forbidden_role");
                let what = format!("{}: {} ({})", role.as_str(), case.what, path.as_str());
                attempt(
                    &w,
                    token,
                    (case.kind, id, path),
                    (case.write)(w.account, *uid),
                    want,
                    &what,
                )
                .await;
            }
        }
    }
}

fn role_token(w: &World, role: Role) -> (Uuid, String) {
    w.staff
        .iter()
        .find(|(r, _, _)| *r == role)
        .map(|(_, u, t)| (*u, t.clone()))
        .unwrap()
}

/// Point 1: a CSM or account rep changed a severity and confirmed a triage through the
/// timeline, or by deleting the request and upserting it again.
#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn severity_and_triage_stay_a_leads_through_the_timeline_and_tombstones(pool: PgPool) {
    let w = world(pool).await;
    let a = w.account;
    let (lead, lead_token) = role_token(&w, Role::SupportLead);
    for role in [Role::Csm, Role::AccountRep] {
        let (me, token) = role_token(&w, role);
        let staff = json!({"kind": "staff", "user_id": me});
        for kind in [
            json!({"type": "severity_changed", "from": "p1", "to": "p4"}),
            json!({"type": "triage_confirmed", "severity": "p4"}),
        ] {
            let r = w
                .app
                .create(
                    &token,
                    "request_event",
                    event(a, staff.clone(), kind.clone()),
                )
                .await;
            assert_rejected(
                &r,
                "forbidden_role",
                &format!("a {} writing {kind}", role.as_str()),
            );
        }
        // Delete the urgent request, then push it back at P4 without triage.
        let id = Uuid::now_v7();
        let r = w
            .app
            .upsert(&token, "request", id, request(a, me, "p1", true))
            .await;
        assert_applied(&r, "opening a request");
        let r = w.app.remove(&token, "request", id).await;
        assert_rejected(&r, "forbidden_record", "a request is not deleted");
        sqlx::query("UPDATE records SET deleted = true WHERE entity = 'request' AND id = $1")
            .bind(id)
            .execute(&w.app.state.pool)
            .await
            .unwrap();
        let r = w
            .app
            .upsert(&token, "request", id, request(a, me, "p4", false))
            .await;
        assert_rejected(
            &r,
            "forbidden_role",
            "re-creating a tombstone is judged like an update of it",
        );
        let r = w
            .app
            .upsert(&token, "request", id, request(a, me, "p1", true))
            .await;
        assert_applied(&r, "restoring the request as it was needs no lead");
    }
    // The lead may, the way the desktop writes it.
    let staff = json!({"kind": "staff", "user_id": lead});
    for kind in [
        json!({"type": "severity_changed", "from": "p1", "to": "p2"}),
        json!({"type": "triage_confirmed", "severity": "p2"}),
    ] {
        let r = w
            .app
            .create(&lead_token, "request_event", event(a, staff.clone(), kind))
            .await;
        assert_applied(&r, "a lead's severity and triage entries");
    }
    // The urgent-email rule stays anyone's: Rapport raising to P1 and asking for triage.
    let (_, csm_token) = role_token(&w, Role::Csm);
    for kind in [
        json!({"type": "severity_changed", "from": "p3", "to": "p1"}),
        json!({"type": "triage_requested"}),
    ] {
        let r = w
            .app
            .create(
                &csm_token,
                "request_event",
                event(a, json!({"kind": "system"}), kind),
            )
            .await;
        assert_applied(&r, "an escalation imported by a CSM");
    }
    let r = w
        .app
        .create(
            &csm_token,
            "request_event",
            event(
                a,
                json!({"kind": "system"}),
                json!({"type": "severity_changed", "from": "p1", "to": "p4"}),
            ),
        )
        .await;
    assert_refused_field(&r, "invalid_field", "by", "Rapport never lowers a severity");
}

/// Point 2: timeline entries could be edited and deleted, and written in a lead's name.
#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn the_timeline_is_append_only_and_written_in_ones_own_name(pool: PgPool) {
    let w = world(pool).await;
    let a = w.account;
    let (lead, lead_token) = role_token(&w, Role::SupportLead);
    let (_, csm_token) = role_token(&w, Role::Csm);
    let response = json!({"type": "response", "visibility": "public", "text": "We are on it"});
    let r = w
        .app
        .create(
            &csm_token,
            "request_event",
            staff_event(a, lead, response.clone()),
        )
        .await;
    assert_refused_field(
        &r,
        "invalid_field",
        "by",
        "a public staff response in the lead's name",
    );

    let id = Uuid::now_v7();
    let fields = staff_event(a, lead, response);
    let r = w
        .app
        .upsert(&lead_token, "request_event", id, fields.clone())
        .await;
    assert_applied(&r, "the lead's own response");
    let before = stored(&w.app, EntityKind::RequestEvent, id).await;
    for (token, who) in [
        (&csm_token, "a CSM"),
        (&lead_token, "its author"),
        (&w.admin.1, "an admin"),
    ] {
        let r = w
            .app
            .upsert(
                token,
                "request_event",
                id,
                json!({"at": "2026-11-26T08:00:00Z"}),
            )
            .await;
        assert_rejected(&r, "forbidden_record", &format!("{who} editing an entry"));
        let r = w.app.remove(token, "request_event", id).await;
        assert_rejected(&r, "forbidden_record", &format!("{who} deleting an entry"));
    }
    assert_eq!(
        stored(&w.app, EntityKind::RequestEvent, id).await,
        before,
        "the entry is as its author wrote it"
    );
    let r = w.app.upsert(&lead_token, "request_event", id, fields).await;
    assert_applied(
        &r,
        "the same entry sent again changes nothing and is no edit",
    );
    assert_eq!(stored(&w.app, EntityKind::RequestEvent, id).await, before);
}

/// Point 3: a CSM edited a published RCA and moved it back to draft; a lead published an
/// empty draft without passing `in_review`.
#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn rca_states_and_publish_checks_hold_on_the_server(pool: PgPool) {
    let w = world(pool).await;
    let a = w.account;
    let (_, lead) = role_token(&w, Role::SupportLead);
    let (_, csm) = role_token(&w, Role::Csm);

    let empty = Uuid::now_v7();
    let r = w.app.upsert(&csm, "rca", empty, rca(a, "draft", "")).await;
    assert_applied(&r, "an empty draft");
    let publish = json!({"state": "published"});
    let r = w.app.upsert(&lead, "rca", empty, publish.clone()).await;
    assert_refused_field(
        &r,
        "invalid_field",
        "state",
        "publishing a draft skips in_review",
    );
    let r = w
        .app
        .upsert(&csm, "rca", empty, json!({"state": "in_review"}))
        .await;
    assert_applied(&r, "anyone sends a draft to review");
    let r = w.app.upsert(&lead, "rca", empty, publish.clone()).await;
    assert_refused_field(
        &r,
        "invalid_field",
        "summary",
        "publishing without a summary",
    );
    let r = w.app.create(&lead, "rca", rca(a, "published", "s")).await;
    assert_rejected(&r, "invalid_field", "a new RCA is not born published");

    let id = Uuid::now_v7();
    let r = w
        .app
        .upsert(&csm, "rca", id, rca(a, "in_review", "Certs"))
        .await;
    assert_applied(&r, "an RCA in review");
    let r = w.app.upsert(&lead, "rca", id, publish.clone()).await;
    assert_applied(&r, "the lead publishes a complete RCA in review");
    let before = stored(&w.app, EntityKind::Rca, id).await;
    for (token, who) in [(&csm, "a CSM"), (&lead, "a lead"), (&w.admin.1, "an admin")] {
        for (write, what) in [
            (json!({"summary": "Rewritten"}), "editing"),
            (json!({"state": "draft"}), "moving back to draft"),
            (json!({"state": "in_review"}), "moving back to review"),
        ] {
            let r = w.app.upsert(token, "rca", id, write).await;
            assert_rejected(
                &r,
                "invalid_field",
                &format!("{who} {what} a published RCA"),
            );
        }
        let r = w.app.remove(token, "rca", id).await;
        assert_rejected(
            &r,
            "invalid_field",
            &format!("{who} deleting a published RCA"),
        );
    }
    assert_eq!(
        stored(&w.app, EntityKind::Rca, id).await,
        before,
        "the published RCA is as it was published"
    );
    let r = w.app.upsert(&lead, "rca", id, publish).await;
    assert_applied(
        &r,
        "a second lead publishing the same RCA offline changes nothing and is not refused",
    );
}

/// A timeline entry or an RCA must name a live request of its own account: before, an
/// entry naming no request at all, or another account's request, was stored.
#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn entries_and_rcas_hang_off_a_request_of_their_own_account(pool: PgPool) {
    let w = world(pool).await;
    let (lead, lead_token) = role_token(&w, Role::SupportLead);
    let other = crate::common::seed_account(&w.app, &w.admin.1, w.team, "Other").await;
    let response = json!({"type": "response", "visibility": "public", "text": "On it"});
    let by = json!({"kind": "staff", "user_id": lead});

    let mut orphan = event(w.account, by.clone(), response.clone());
    orphan["request_id"] = json!(Uuid::now_v7());
    let r = w.app.create(&lead_token, "request_event", orphan).await;
    assert_rejected(&r, "not_found", "an entry of a request that does not exist");
    assert_eq!(
        r["field"], "request_id",
        "the rejection names the field: {r}"
    );

    // REQUEST belongs to w.account; an entry or an RCA filed under another account.
    let r = w
        .app
        .create(
            &lead_token,
            "request_event",
            event(other, by.clone(), response.clone()),
        )
        .await;
    assert_refused_field(
        &r,
        "invalid_field",
        "request_id",
        "an entry under another account than its request's",
    );
    let r = w
        .app
        .create(&lead_token, "rca", rca(other, "draft", "Disk full"))
        .await;
    assert_refused_field(
        &r,
        "invalid_field",
        "request_id",
        "an RCA under another account than its request's",
    );

    // An RCA for a request that is still open, or a P3, is refused; the desktop asks the same
    // before it opens one.
    for (severity, status) in [("p1", "open"), ("p3", "resolved")] {
        let id = Uuid::now_v7();
        let mut f = request(w.account, lead, severity, false);
        f["status"] = json!(status);
        let r = w.app.upsert(&lead_token, "request", id, f).await;
        assert_applied(&r, "the request");
        let mut fields = rca(w.account, "draft", "Disk full");
        fields["request_id"] = json!(id);
        let r = w.app.create(&lead_token, "rca", fields).await;
        assert_refused_field(
            &r,
            "invalid_field",
            "request_id",
            &format!("an RCA of a {status} {severity} request"),
        );
    }

    // The same entry under the request's own account applies.
    let r = w
        .app
        .create(&lead_token, "request_event", event(w.account, by, response))
        .await;
    assert_applied(&r, "an entry of the request's own account");
}
