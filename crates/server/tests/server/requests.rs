//! Requests, their timelines and RCAs as the desktop pushes them (shapes of rapport-client's
//! outbox), with the role rules of rapport-domain: changing a severity is a support lead's
//! (the urgent-email escalation excepted), publishing an RCA too.

use axum::http::StatusCode;
use rapport_domain::Role;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{
    TestApp, assert_applied, assert_refused_field, assert_rejected, mutation, seed_account,
};

fn request(account: Uuid, severity: &str, needs_triage: bool) -> serde_json::Value {
    json!({
        "account_id": account,
        "contact_id": null,
        "title": "[URGENT] Checkout down",
        "channel": "email",
        "opened_at": "2026-11-26T09:00:00Z",
        "opened_by": null,
        "severity": severity,
        "needs_triage": needs_triage,
        "status": "open",
        "thread_keys": ["a1@acme.com"],
        "meeting_link": null,
    })
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn request_records_apply_and_severity_and_publishing_follow_the_roles(pool: PgPool) {
    let (app, team, (csm, csm_token)) = TestApp::with_team(pool, "Support", Role::Csm).await;
    let (lead, lead_token) = app.user(Role::SupportLead, &[team]).await;
    let account = seed_account(&app, &csm_token, team, "Acme").await;

    // An email imported by a CSM: the request and its opening event.
    let id = Uuid::now_v7();
    let r = app
        .upsert(&csm_token, "request", id, request(account, "p3", true))
        .await;
    assert_applied(&r, "a request as the client's outbox sends it");
    let r = app
        .create(
            &csm_token,
            "request_event",
            json!({
                "account_id": account, "request_id": id, "at": "2026-11-26T09:00:00Z",
                "by": {"kind": "customer", "contact_id": null},
                "kind": {"type": "opened", "severity": "p3", "channel": "email",
                         "needs_triage": true, "title": "Checkout slow"},
            }),
        )
        .await;
    assert_applied(&r, "a timeline entry");

    // A CSM may not set a severity, but the urgent-email escalation is anyone's.
    let r = app
        .upsert(&csm_token, "request", id, json!({"severity": "p2"}))
        .await;
    assert_rejected(&r, "forbidden_role", "a CSM changing the severity");
    let r = app
        .upsert(&csm_token, "request", id, json!({"severity": "p1"}))
        .await;
    assert_applied(
        &r,
        "an urgent email raising a request that awaits triage to P1",
    );
    // The lead confirms the triage at P2.
    let r = app
        .upsert(
            &lead_token,
            "request",
            id,
            json!({"severity": "p2", "needs_triage": false}),
        )
        .await;
    assert_applied(&r, "a support lead confirming triage");
    let r = app
        .upsert(&csm_token, "request", id, json!({"status": "resolved"}))
        .await;
    assert_applied(&r, "anyone on staff moves the status");

    // Bad fields are refused naming them.
    let r = app
        .upsert(
            &csm_token,
            "request",
            id,
            json!({"meeting_link": "javascript:alert(1)"}),
        )
        .await;
    assert_refused_field(&r, "invalid_field", "meeting_link", "a script link");

    // The RCA: drafted by the CSM, published by the lead only.
    let rca = Uuid::now_v7();
    let r = app
        .upsert(&csm_token, "rca", rca, json!({
                    "account_id": account, "request_id": id, "state": "in_review",
                    "summary": "s", "root_cause": "r", "contributing_factors": "", "resolution": "x",
                    "impact": {"start": "2026-11-26T09:00:00Z", "end": "2026-11-26T10:00:00Z", "affected": "EU"},
                    "sla_result": "met", "timeline": [], "action_items": [],
                    "updated_at": "2026-11-26T11:00:00Z",
                }))
        .await;
    assert_applied(&r, "an RCA in review");
    let publish = json!({"state": "published", "updated_at": "2026-11-26T12:00:00Z"});
    let r = app.upsert(&csm_token, "rca", rca, publish.clone()).await;
    assert_rejected(&r, "forbidden_role", "a CSM publishing");
    let r = app.upsert(&lead_token, "rca", rca, publish).await;
    assert_applied(&r, "a support lead publishing");
    let _ = (csm, lead);
}

/// The stored `assignee_id` of a request.
async fn assignee_of(app: &TestApp, id: Uuid) -> serde_json::Value {
    let (fields,): (sqlx::types::Json<serde_json::Value>,) =
        sqlx::query_as("SELECT fields FROM records WHERE entity = 'request' AND id = $1")
            .bind(id)
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
    fields.0["assignee_id"].clone()
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn anyone_takes_an_unassigned_request_and_only_a_lead_assigns_others(pool: PgPool) {
    let (app, team, (csm, csm_token)) = TestApp::with_team(pool, "Support", Role::Csm).await;
    let (rep, rep_token) = app.user(Role::AccountRep, &[team]).await;
    let (lead, lead_token) = app.user(Role::SupportLead, &[team]).await;
    let account = seed_account(&app, &csm_token, team, "Acme").await;

    let id = Uuid::now_v7();
    let r = app
        .upsert(&csm_token, "request", id, request(account, "p3", false))
        .await;
    assert_applied(
        &r,
        "a request without an assignee, as older desktops send it",
    );
    assert_eq!(
        assignee_of(&app, id).await,
        serde_json::Value::Null,
        "nobody's until taken"
    );

    let r = app
        .upsert(&csm_token, "request", id, json!({"assignee_id": rep.id}))
        .await;
    assert_refused_field(
        &r,
        "forbidden_role",
        "assignee_id",
        "a CSM handing the request to someone else",
    );

    let r = app
        .upsert(&csm_token, "request", id, json!({"assignee_id": csm.id}))
        .await;
    assert_applied(&r, "a CSM taking an unassigned request");
    assert_eq!(assignee_of(&app, id).await, json!(csm.id));

    // Taken offline by a second person after the first: the first keeps it.
    let r = app
        .upsert(&rep_token, "request", id, json!({"assignee_id": rep.id}))
        .await;
    assert_rejected(&r, "forbidden_role", "taking a request someone else holds");
    let r = app
        .upsert(&rep_token, "request", id, json!({"assignee_id": null}))
        .await;
    assert_rejected(&r, "forbidden_role", "unassigning someone else");
    assert_eq!(
        assignee_of(&app, id).await,
        json!(csm.id),
        "still the CSM's"
    );

    let r = app
        .upsert(&lead_token, "request", id, json!({"assignee_id": rep.id}))
        .await;
    assert_applied(&r, "a support lead reassigning it");
    let r = app
        .upsert(&rep_token, "request", id, json!({"assignee_id": null}))
        .await;
    assert_applied(&r, "the assignee giving it back");
    assert_eq!(assignee_of(&app, id).await, serde_json::Value::Null);

    let r = app
        .upsert(&csm_token, "request", id, json!({"assignee_id": "someone"}))
        .await;
    assert_refused_field(
        &r,
        "invalid_field",
        "assignee_id",
        "an assignee that is no user id",
    );

    // Opened already assigned: to oneself by anyone, to another by a lead only.
    let mut mine = request(account, "p3", false);
    mine["assignee_id"] = json!(csm.id);
    let r = app.create(&csm_token, "request", mine).await;
    assert_applied(&r, "a request opened as the pusher's own");
    let mut theirs = request(account, "p3", false);
    theirs["assignee_id"] = json!(lead.id);
    let r = app.create(&csm_token, "request", theirs.clone()).await;
    assert_rejected(
        &r,
        "forbidden_role",
        "a CSM opening a request as someone else's",
    );
    let r = app.create(&lead_token, "request", theirs).await;
    assert_applied(&r, "a lead opening a request for a colleague");

    // Pulled by a team-mate with the rest of the record.
    let (changes, _) = app.pull_all(&rep_token, "", 500).await;
    let pulled = changes
        .iter()
        .find(|c| c["entity"] == "request" && c["entity_id"] == json!(id))
        .expect("the request is pulled");
    assert_eq!(pulled["fields"]["assignee_id"], serde_json::Value::Null);
}

/// A request and the opening event written with it (one push, one client time) apply in one
/// transaction: when the event is refused the request is refused with it, so the server
/// never holds a request no desktop can show; when both are fine both apply, and a retry of
/// the whole group answers `applied` without a second write.
#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_request_and_its_opening_event_apply_together_or_not_at_all(pool: PgPool) {
    let (app, _, (_, token), account) = TestApp::with_account(pool, "Support", Role::Csm).await;
    let opened = |request: Uuid, kind: serde_json::Value| {
        mutation(
            "request_event",
            Uuid::now_v7(),
            "upsert",
            json!({
                "account_id": account, "request_id": request, "at": "2026-11-26T09:00:00Z",
                "by": {"kind": "customer", "contact_id": null}, "kind": kind,
            }),
        )
    };
    let good_kind = json!({"type": "opened", "severity": "p3", "channel": "email",
                           "needs_triage": true, "title": "Checkout slow"});

    let refused = Uuid::now_v7();
    let r = app
        .push(
            &token,
            vec![
                mutation("request", refused, "upsert", request(account, "p3", true)),
                opened(refused, json!({"type": "no_such_kind"})),
            ],
        )
        .await;
    r.expect(StatusCode::OK);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(
        results[1]["status"], "rejected",
        "the bad event: {}",
        r.body
    );
    assert_eq!(
        results[0]["status"], "rejected",
        "the request is refused with its opening event: {}",
        r.body
    );

    let applied = Uuid::now_v7();
    let group = vec![
        mutation("request", applied, "upsert", request(account, "p3", true)),
        opened(applied, good_kind.clone()),
    ];
    for attempt in ["first", "retry"] {
        let r = app.push(&token, group.clone()).await;
        r.expect(StatusCode::OK);
        for res in r.body["results"].as_array().unwrap() {
            assert_applied(res, attempt);
        }
    }

    let (changes, _) = app.pull_all(&token, "", 100).await;
    let ids = |entity: &str| -> Vec<serde_json::Value> {
        changes
            .iter()
            .filter(|c| c["entity"] == entity)
            .map(|c| c["entity_id"].clone())
            .collect()
    };
    assert_eq!(
        ids("request"),
        vec![json!(applied)],
        "only the request whose opening event applied exists"
    );
    assert_eq!(ids("request_event").len(), 1, "its one opening event");
    let version = changes
        .iter()
        .find(|c| c["entity"] == "request")
        .map(|c| c["version"].clone());
    assert_eq!(version, Some(json!(1)), "the retry wrote nothing again");
}
