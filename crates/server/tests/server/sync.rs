//! Push and pull: idempotency, paging edges, tombstones, reset, team changes, conflicts,
//! the protocol check and the event stream.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::TimeDelta;
use futures_util::StreamExt;
use rapport_domain::Role;
use rapport_domain::sync::PROTOCOL_VERSION;
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use crate::common::{
    TestApp, assert_applied, assert_rejected, mutation, note_on, request, seed_account,
};

fn ids(changes: &[Value]) -> Vec<String> {
    changes
        .iter()
        .map(|c| c["entity_id"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_push_retried_three_times_applies_once(pool: PgPool) {
    let (app, _, (_, token), account) = TestApp::with_account(pool, "T", Role::Csm).await;
    let note = mutation("note", Uuid::now_v7(), "upsert", note_on(account, "once"));
    let edit = mutation("account", account, "upsert", json!({"tags": ["retried"]}));
    for attempt in 0..3 {
        let r = app.push(&token, vec![note.clone(), edit.clone()]).await;
        for res in r.body["results"].as_array().unwrap() {
            assert_applied(res, &format!("attempt {attempt} answers applied"));
        }
    }
    let (changes, _) = app.pull_all(&token, "", 100).await;
    let acct = changes
        .iter()
        .find(|c| c["entity_id"] == json!(account))
        .unwrap();
    assert_eq!(
        acct["version"], 2,
        "create + one edit: the retries did not apply again"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM records WHERE entity = 'note'")
            .await,
        1
    );
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn pull_paging_at_the_edges(pool: PgPool) {
    let (app, team, (_, token)) = TestApp::with_team(pool, "T", Role::Csm).await;

    let empty = app.pull(&token, "", 3).await;
    assert_eq!(
        empty["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["entity"] != "user")
            .count(),
        0
    );
    assert_eq!(empty["has_more"], false, "nothing to pull: no more");
    let start = empty["cursor"].as_str().unwrap().to_owned();
    let again = app.pull(&token, &start, 3).await;
    assert_eq!(
        again["changes"],
        json!([]),
        "an up-to-date cursor gets nothing, not even the profile again"
    );
    assert_eq!(again["cursor"], json!(start), "and keeps its place");

    let mut made = Vec::new();
    for i in 0..3 {
        made.push(
            seed_account(&app, &token, team, &format!("A{i}"))
                .await
                .to_string(),
        );
    }
    let page = app.pull(&token, &start, 3).await;
    assert_eq!(
        ids(page["changes"].as_array().unwrap()),
        made,
        "exactly one page, in server order"
    );
    assert_eq!(page["has_more"], false, "exactly one page: no more");
    let after = page["cursor"].as_str().unwrap().to_owned();

    made.push(seed_account(&app, &token, team, "A3").await.to_string());
    let first = app.pull(&token, &start, 3).await;
    assert_eq!(first["has_more"], true, "one page + 1: more");
    assert_eq!(ids(first["changes"].as_array().unwrap()), made[..3]);
    let second = app.pull(&token, first["cursor"].as_str().unwrap(), 3).await;
    assert_eq!(
        ids(second["changes"].as_array().unwrap()),
        made[3..],
        "the +1 comes on the next page"
    );
    assert_eq!(second["has_more"], false);
    let from_after = app.pull(&token, &after, 3).await;
    assert_eq!(
        ids(from_after["changes"].as_array().unwrap()),
        made[3..],
        "the old cursor resumes after what it saw"
    );

    for (q, field) in [
        ("cursor=abc", "cursor"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("cursor=5.9", "cursor"),
    ] {
        let r = app.get(&format!("/v1/sync/pull?{q}"), &token).await;
        assert_eq!(
            (r.status, r.body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{q}: {}",
            r.body
        );
    }
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn deletes_are_tombstones_and_an_account_takes_its_contacts_and_notes(pool: PgPool) {
    let (app, _, (_, token), account) = TestApp::with_account(pool, "T", Role::Csm).await;
    let contact = Uuid::now_v7();
    let note = Uuid::now_v7();
    assert_applied(
        &app.upsert(
            &token,
            "contact",
            contact,
            json!({"account_id": account, "name": "Kim", "email": "kim@c.com"}),
        )
        .await,
        "contact",
    );
    assert_applied(
        &app.upsert(&token, "note", note, note_on(account, "n"))
            .await,
        "note",
    );
    let (_, cursor) = app.pull_all(&token, "", 100).await;

    assert_applied(&app.remove(&token, "account", account).await, "delete");
    assert_applied(
        &app.remove(&token, "account", account).await,
        "deleting twice is fine",
    );
    let (changes, _) = app.pull_all(&token, &cursor, 100).await;
    assert_eq!(
        changes.len(),
        3,
        "account, contact and note come back as tombstones: {changes:?}"
    );
    for c in &changes {
        assert_eq!(c["deleted"], true);
        assert_eq!(c["fields"], json!({}), "a tombstone carries no data");
    }
    let (fresh, _) = app.pull_all(&token, "", 100).await;
    assert!(
        fresh.is_empty(),
        "a client starting from scratch needs no tombstones: {fresh:?}"
    );

    let r = app.create(&token, "note", note_on(account, "late")).await;
    assert_rejected(&r, "not_found", "a note on a deleted account");
    assert_eq!(r["field"], "account_id");
    let r = app
        .upsert(&token, "account", account, json!({"name": "Acme again"}))
        .await;
    assert_applied(&r, "an account can be re-created (undo)");
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_cursor_older_than_the_retained_log_must_reset(pool: PgPool) {
    let (app, team, (user, token)) = TestApp::with_team(pool, "T", Role::Csm).await;
    let keep = seed_account(&app, &token, team, "Keep").await;
    let gone = seed_account(&app, &token, team, "Gone").await;
    let (_, old_cursor) = app.pull_all(&token, "", 100).await;
    assert_applied(&app.remove(&token, "account", gone).await, "delete");
    app.clock.advance(TimeDelta::days(91));
    let purged = rapport_server::db::sync::purge_tombstones(
        &app.state.pool,
        app.clock.now() - TimeDelta::days(90),
    )
    .await
    .unwrap();
    assert_eq!(purged, 1);
    let token = app.login(&user.email).await; // the old sign-in expired meanwhile

    let r = app.pull(&token, &old_cursor, 100).await;
    assert_eq!(
        r["reset_required"], true,
        "the tombstone it would need is gone"
    );
    assert_eq!(r["changes"], json!([]));
    let (changes, cursor) = app
        .pull_all(&token, r["cursor"].as_str().unwrap(), 100)
        .await;
    assert_eq!(
        ids(&changes),
        vec![keep.to_string()],
        "starting over gives the live records"
    );
    let r = app.pull(&token, &cursor, 100).await;
    assert_eq!(
        r["reset_required"], false,
        "a new cursor is past the horizon"
    );
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn joining_a_team_brings_its_data_and_leaving_purges_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (a, b) = (app.team("A").await, app.team("B").await);
    let (_, old_hand) = app.user(Role::Csm, &[b]).await;
    let mut theirs = Vec::new();
    for i in 0..5 {
        theirs.push(
            seed_account(&app, &old_hand, b, &format!("B{i}"))
                .await
                .to_string(),
        );
    }
    let (newbie, token) = app.user(Role::Csm, &[a]).await;
    let mine = seed_account(&app, &token, a, "A0").await.to_string();
    let (changes, cursor) = app.pull_all(&token, "", 2).await;
    assert_eq!(ids(&changes), vec![mine.clone()]);

    app.add_member(b, newbie.id).await;
    let (changes, cursor) = app.pull_all(&token, &cursor, 2).await;
    let mut got = ids(&changes);
    got.sort();
    let mut want = theirs.clone();
    want.sort();
    assert_eq!(
        got, want,
        "every older record of the joined team arrives, across pages"
    );

    app.remove_member(b, newbie.id).await;
    let r = app.pull(&token, &cursor, 100).await;
    assert_eq!(
        r["purge"],
        json!([b]),
        "leaving a team tells the client to purge it"
    );
    let cursor = r["cursor"].as_str().unwrap().to_owned();
    let r = app.pull(&token, &cursor, 100).await;
    assert_eq!(
        r["purge"],
        json!([]),
        "the purge is said once the cursor passed it"
    );
    seed_account(&app, &old_hand, b, "B-new").await;
    let r = app.pull(&token, &cursor, 100).await;
    assert_eq!(
        r["changes"],
        json!([]),
        "the left team's new data does not reach the user"
    );
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn concurrent_edits_resolve_per_field_in_server_order(pool: PgPool) {
    let (app, team, (_, ana)) = TestApp::with_team(pool, "T", Role::Csm).await;
    let (_, bo) = app.user(Role::AccountRep, &[team]).await;
    let account = seed_account(&app, &ana, team, "Acme").await;
    assert_applied(
        &app.upsert(&ana, "account", account, json!({"stage": "at_risk"}))
            .await,
        "a",
    );
    assert_applied(
        &app.upsert(&bo, "account", account, json!({"tags": ["vip"]}))
            .await,
        "b",
    );
    assert_applied(
        &app.upsert(&bo, "account", account, json!({"name": "Acme (Bo)"}))
            .await,
        "c",
    );
    assert_applied(
        &app.upsert(&ana, "account", account, json!({"name": "Acme (Ana)"}))
            .await,
        "d",
    );
    let r = app
        .get(&format!("/v1/sync/records/account/{account}"), &bo)
        .await;
    let f = &r.body["fields"];
    assert_eq!(
        f["stage"], "at_risk",
        "Ana's stage survives Bo's edits of other fields"
    );
    assert_eq!(
        f["tags"],
        json!(["vip"]),
        "Bo's tags survive Ana's later edit"
    );
    assert_eq!(
        f["name"], "Acme (Ana)",
        "the same field: the later write in server order wins"
    );
    assert_eq!(r.body["version"], 5);

    let stale = json!({"id": Uuid::now_v7(), "entity": "account", "entity_id": account, "op": "upsert",
        "fields": {"stage": "active"}, "base_version": 4, "client_time": "2026-11-26T09:00:00Z"});
    assert_rejected(
        &app.push_one(&bo, stale).await,
        "version_conflict",
        "a change based on an old version",
    );
    let fresh = json!({"id": Uuid::now_v7(), "entity": "account", "entity_id": account, "op": "upsert",
        "fields": {"stage": "active"}, "base_version": 5, "client_time": "2026-11-26T09:00:00Z"});
    assert_applied(
        &app.push_one(&bo, fresh).await,
        "a change based on the current version",
    );

    let bad = app
        .upsert(
            &ana,
            "account",
            account,
            json!({"time_zone": "Mars/Olympus"}),
        )
        .await;
    assert_rejected(&bad, "invalid_field", "validation runs on every write");
    assert_eq!(bad["field"], "time_zone");
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("unknown time zone"),
        "{bad}"
    );
    let bad = app
        .create(
            &ana,
            "contact",
            json!({"account_id": account, "name": "No Mail"}),
        )
        .await;
    assert_rejected(&bad, "missing_field", "a create needs its required fields");
    assert_eq!(bad["field"], "email");
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_client_outside_the_protocol_range_gets_426(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, token) = app.user(Role::Csm, &[]).await;
    for version in [
        None,
        Some("0".to_owned()),
        Some((PROTOCOL_VERSION + 1).to_string()),
        Some("one".to_owned()),
    ] {
        let mut b = Request::builder()
            .method(Method::GET)
            .uri("/v1/sync/pull")
            .header("authorization", format!("Bearer {token}"));
        if let Some(v) = &version {
            b = b.header("rapport-protocol", v);
        }
        let resp = app
            .router
            .clone()
            .oneshot(b.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UPGRADE_REQUIRED, "{version:?}");
        let body: Value = serde_json::from_slice(
            &axum::body::to_bytes(resp.into_body(), 10_000)
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(body["code"], "unsupported_protocol");
        assert!(
            body["message"].as_str().unwrap().contains("update Rapport"),
            "{body}"
        );
    }
}

/// Reads the next SSE event name from a body stream, within a deadline.
async fn next_event(stream: &mut axum::body::BodyDataStream) -> Option<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .ok()??
            .ok()?;
        let text = String::from_utf8_lossy(&chunk).into_owned();
        if let Some(line) = text.lines().find(|l| l.starts_with("event:")) {
            return Some(line.trim_start_matches("event:").trim().to_owned());
        }
    }
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn the_event_stream_wakes_team_members_only(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (a, b) = (app.team("A").await, app.team("B").await);
    let (_, writer) = app.user(Role::Csm, &[a]).await;
    let (_, mate) = app.user(Role::SupportLead, &[a]).await;
    let (_, stranger) = app.user(Role::Csm, &[b]).await;
    let open = |token: &str| request(Method::GET, "/v1/sync/events", Some(token), None);
    let resp = app.router.clone().oneshot(open(&mate)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut mate_events = resp.into_body().into_data_stream();
    let resp = app.router.clone().oneshot(open(&stranger)).await.unwrap();
    let mut stranger_events = resp.into_body().into_data_stream();
    assert_eq!(next_event(&mut mate_events).await.as_deref(), Some("ready"));
    assert_eq!(
        next_event(&mut stranger_events).await.as_deref(),
        Some("ready")
    );

    seed_account(&app, &writer, a, "Acme").await;
    assert_eq!(
        next_event(&mut mate_events).await.as_deref(),
        Some("changes"),
        "a team-mate is woken"
    );
    seed_account(&app, &stranger, b, "Other").await;
    assert_eq!(
        next_event(&mut stranger_events).await.as_deref(),
        Some("changes"),
        "the stranger's first wake-up is for their own team's change, not team A's"
    );
    app.state.shutdown_handle().trigger();
    let end = tokio::time::timeout(Duration::from_secs(10), mate_events.next())
        .await
        .expect("the stream ends on shutdown");
    assert!(
        end.is_none(),
        "shutdown closes open streams so graceful shutdown can finish"
    );
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn profile_edits_reach_team_mates(pool: PgPool) {
    let (app, team, (me, token)) = TestApp::with_team(pool, "T", Role::Csm).await;
    let (_, mate) = app.user(Role::SupportLead, &[team]).await;
    let start = app.pull(&mate, "", 100).await;
    let cursor = start["cursor"].as_str().unwrap().to_owned();
    let r = app
        .upsert(
            &token,
            "user",
            me.id,
            json!({"name": "Ana Lopez", "time_zone": "America/New_York"}),
        )
        .await;
    assert_applied(&r, "own profile");
    let page = app.pull(&mate, &cursor, 100).await;
    let users: Vec<&Value> = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["entity"] == "user")
        .collect();
    assert_eq!(users.len(), 1, "{page}");
    assert_eq!(users[0]["fields"]["name"], "Ana Lopez");
    assert_eq!(users[0]["fields"]["role"], "csm");
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_signed_out_stream_ends_at_its_next_wake_up(pool: PgPool) {
    let (app, team, (_, writer)) = TestApp::with_team(pool, "T", Role::Csm).await;
    let (_, reader) = app.user(Role::Csm, &[team]).await;
    let resp = app
        .router
        .clone()
        .oneshot(request(Method::GET, "/v1/sync/events", Some(&reader), None))
        .await
        .unwrap();
    let mut events = resp.into_body().into_data_stream();
    assert_eq!(next_event(&mut events).await.as_deref(), Some("ready"));
    let out = app.post("/v1/auth/logout", &reader, None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    seed_account(&app, &writer, team, "Acme").await;
    let end = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("the stream answers");
    assert!(
        end.is_none(),
        "a revoked token's stream closes instead of telling of changes"
    );
}

/// What rapport-client's outbox sends: the whole domain record minus `id` on a create, the
/// changed fields on an edit, timestamps included.
fn as_client_sends<T: serde::Serialize>(record: &T) -> Value {
    let mut v = serde_json::to_value(record).unwrap();
    v.as_object_mut().unwrap().remove("id");
    v
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn the_desktop_outbox_shapes_apply(pool: PgPool) {
    use rapport_domain::{Account, AccountInput, LifecycleStage, Note, NoteInput, Plan};
    let (app, team, (me, token)) = TestApp::with_team(pool, "T", Role::Csm).await;
    let now = app.clock.now();
    let input = AccountInput {
        name: "Acme".into(),
        plan: Plan::ProfessionalSupport,
        time_zone: "Europe/Berlin".into(),
        fiscal_year_start_month: 7,
        owner_csm_id: Some(me.id),
        account_rep_id: None,
        slack_channel: Some("https://acme.slack.com/archives/C01".into()),
        support_email_domains: vec!["acme.com".into()],
        stage: LifecycleStage::Onboarding,
        tags: vec!["fintech".into()],
    };
    let account = Account::create(Uuid::now_v7(), input, now).unwrap();
    let r = app
        .upsert(&token, "account", account.id, as_client_sends(&account))
        .await;
    assert_applied(
        &r,
        "a whole account, timestamps and no team_id (the user has one team)",
    );
    let note = Note::create(
        Uuid::now_v7(),
        account.id,
        me.id,
        NoteInput {
            body: "Kick-off booked".into(),
            pinned: true,
            link: None,
        },
        now,
    )
    .unwrap();
    let r = app
        .upsert(&token, "note", note.id, as_client_sends(&note))
        .await;
    assert_applied(&r, "a whole note with its author");
    let r = app
        .upsert(
            &token,
            "account",
            account.id,
            json!({"stage": "active", "updated_at": now}),
        )
        .await;
    assert_applied(&r, "an edit with the client's updated_at");
    let mut profile = me.clone();
    profile.name = "Ana Renamed".into();
    let r = app
        .upsert(&token, "user", me.id, as_client_sends(&profile))
        .await;
    assert_applied(&r, "a whole profile repeating its email and role");

    let rec = app
        .get(&format!("/v1/sync/records/account/{}", account.id), &token)
        .await;
    assert_eq!(rec.body["fields"]["stage"], "active");
    assert_eq!(rec.body["fields"]["team_id"], json!(team));
    assert!(
        rec.body["fields"].get("updated_at").is_none(),
        "timestamps are the server's, outside fields"
    );
}
