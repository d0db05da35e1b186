//! Every role × action cell the server serves today, and cross-team denial.

use axum::http::StatusCode;
use rapport_domain::Role;
use rapport_domain::authz::{self, Action};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{
    Resp, TestApp, account_in, assert_applied, assert_rejected, mutation, note_on, seed_account,
};

/// (action, csm, account_rep, support_lead, admin) for the actions with a server endpoint.
/// Booking, severity and RCA actions arrive with their entities; their cells are tested in
/// rapport-domain's authz table test.
const SERVED: [(Action, bool, bool, bool, bool); 9] = [
    (Action::ManageUsers, false, false, false, true),
    (Action::ManageTeams, false, false, false, true),
    (Action::ReadTeamData, true, true, true, true),
    (Action::WriteAccount, true, true, false, true),
    (Action::WriteContact, true, true, true, true),
    (Action::WriteNote, true, true, true, true),
    (Action::EditOwnProfile, true, true, true, true),
    (Action::ManageOnCall, false, false, false, true),
    (Action::OverrideOnCall, false, false, true, true),
];

/// Whether an endpoint let the role through (answered `ok`); a refusal must carry the
/// role code.
fn allowed(r: &Resp, ok: StatusCode) -> bool {
    if r.status == StatusCode::FORBIDDEN {
        assert_eq!(r.code(), "forbidden_role");
    }
    r.status == ok
}

/// Does `action` as the user and tells whether the server allowed it; a refusal must carry
/// the role code.
async fn attempt(
    app: &TestApp,
    token: &str,
    me: Uuid,
    team: Uuid,
    account: Uuid,
    action: Action,
) -> bool {
    match action {
        Action::ManageUsers => {
            let r = app.get("/v1/admin/users", token).await;
            allowed(&r, StatusCode::OK)
        }
        Action::ManageTeams => {
            let r = app
                .post(
                    "/v1/admin/teams",
                    token,
                    Some(json!({"name": format!("t-{}", Uuid::now_v7())})),
                )
                .await;
            allowed(&r, StatusCode::CREATED)
        }
        Action::ReadTeamData => {
            let r = app.get("/v1/sync/pull", token).await;
            let rec = app
                .get(&format!("/v1/sync/records/account/{account}"), token)
                .await;
            assert_eq!(
                r.status == StatusCode::OK,
                rec.status == StatusCode::OK,
                "pull and read agree"
            );
            r.status == StatusCode::OK
        }
        Action::WriteAccount => {
            let create = app
                .create(token, "account", account_in(team, "New Co"))
                .await;
            let edit = app
                .upsert(token, "account", account, json!({"tags": ["edited"]}))
                .await;
            let results = [create, edit];
            let allowed = results.iter().all(|r| r["status"] == "applied");
            for r in &results {
                if !allowed {
                    assert_rejected(
                        r,
                        "forbidden_role",
                        "a refused account write names the role",
                    );
                }
            }
            if allowed {
                let id = seed_account(app, token, team, "Short-lived").await;
                assert_applied(&app.remove(token, "account", id).await, "delete");
            }
            allowed
        }
        Action::WriteContact => {
            let r = app
                .create(
                    token,
                    "contact",
                    json!({"account_id": account, "name": "Kim", "email": "kim@cust.com"}),
                )
                .await;
            r["status"] == "applied"
        }
        Action::WriteNote => {
            let r = app
                .create(token, "note", note_on(account, "Call went well"))
                .await;
            r["status"] == "applied"
        }
        Action::EditOwnProfile => {
            let r = app
                .upsert(token, "user", me, json!({"name": "Renamed Me"}))
                .await;
            r["status"] == "applied"
        }
        Action::ManageOnCall => {
            let r = app.get("/v1/admin/oncall", token).await;
            allowed(&r, StatusCode::OK)
        }
        Action::OverrideOnCall => {
            // Removing an override that does not exist: 404 once the role may.
            let r = app
                .delete(&format!("/v1/oncall/overrides/{}", Uuid::now_v7()), token)
                .await;
            allowed(&r, StatusCode::NOT_FOUND)
        }
        other => panic!("{other:?} has no server endpoint yet"),
    }
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn every_role_action_cell_is_enforced_by_the_server(pool: PgPool) {
    let (app, team, _, account) = TestApp::with_account(pool, "Team", Role::Admin).await;
    for role in Role::ALL {
        let (me, token) = app.user(role, &[team]).await;
        for (action, csm, rep, lead, adm) in SERVED {
            let want = match role {
                Role::Csm => csm,
                Role::AccountRep => rep,
                Role::SupportLead => lead,
                Role::Admin => adm,
            };
            assert_eq!(
                authz::allows(role, action),
                want,
                "the table matches the shared rule"
            );
            let got = attempt(&app, &token, me.id, team, account, action).await;
            assert_eq!(got, want, "{} doing {}", role.as_str(), action.as_str());
        }
    }
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_user_cannot_edit_someone_elses_profile_or_role(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (other, _) = app.user(Role::Csm, &[]).await;
    let (me, token) = app.user(Role::Csm, &[]).await;
    let r = app
        .upsert(&token, "user", other.id, json!({"name": "Hacked"}))
        .await;
    assert_rejected(&r, "forbidden_record", "another user's profile");
    let r = app
        .upsert(&token, "user", me.id, json!({"role": "admin"}))
        .await;
    assert_rejected(&r, "forbidden_role", "promoting oneself");
    let r = app.remove(&token, "user", me.id).await;
    assert_rejected(&r, "forbidden_record", "deleting oneself");
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn cross_team_reads_and_writes_are_denied_and_the_rest_of_the_batch_applies(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (a, b) = (app.team("A").await, app.team("B").await);
    let (_, alice) = app.user(Role::Csm, &[a]).await;
    let (_, bob) = app.user(Role::Csm, &[b]).await;
    let theirs = seed_account(&app, &alice, a, "Alice's customer").await;
    let note = Uuid::now_v7();
    assert_applied(
        &app.upsert(&alice, "note", note, note_on(theirs, "secret"))
            .await,
        "alice's note",
    );

    let mine = Uuid::now_v7();
    let batch = vec![
        mutation("account", mine, "upsert", account_in(b, "Bob's customer")),
        mutation("account", theirs, "upsert", json!({"name": "Stolen"})),
        mutation(
            "contact",
            Uuid::now_v7(),
            "upsert",
            json!({"account_id": theirs, "name": "X", "email": "x@y.com"}),
        ),
        mutation(
            "account",
            Uuid::now_v7(),
            "upsert",
            account_in(a, "Planted"),
        ),
        mutation("note", note, "delete", json!({})),
        mutation("note", Uuid::now_v7(), "upsert", note_on(mine, "mine")),
    ];
    let r = app.push(&bob, batch).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a batch with refusals is still a 200"
    );
    let results = r.body["results"].as_array().unwrap();
    assert_applied(&results[0], "bob's own account");
    for (i, what) in [
        (1, "edit"),
        (2, "contact"),
        (3, "create in A"),
        (4, "delete"),
    ] {
        assert_rejected(&results[i], "forbidden_team", what);
    }
    assert_applied(
        &results[5],
        "a refusal in the middle does not lose what follows",
    );

    let read = app
        .get(&format!("/v1/sync/records/account/{theirs}"), &bob)
        .await;
    read.assert_error(StatusCode::FORBIDDEN, "forbidden_team");
    let read = app
        .get(&format!("/v1/sync/records/note/{note}"), &bob)
        .await;
    read.assert_error(StatusCode::FORBIDDEN, "forbidden_team");
    let (changes, _) = app.pull_all(&bob, "", 100).await;
    assert!(
        changes.iter().all(|c| c["team_id"] == json!(b)),
        "bob's pull holds only team B: {changes:?}"
    );

    let (changes, _) = app.pull_all(&alice, "", 100).await;
    let acct = changes
        .iter()
        .find(|c| c["entity_id"] == json!(theirs))
        .unwrap();
    assert_eq!(
        acct["fields"]["name"], "Alice's customer",
        "the denied edit changed nothing"
    );
    assert!(
        changes
            .iter()
            .any(|c| c["entity_id"] == json!(note) && c["deleted"] == false)
    );
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_user_without_a_team_can_write_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, token) = app.user(Role::Admin, &[]).await;
    let r = app
        .create(&token, "account", crate::common::new_account("Orphan"))
        .await;
    assert_rejected(&r, "forbidden_team", "no team, no data");
}
