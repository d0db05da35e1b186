//! Hostile and broken requests: a 4xx that names the problem, never a 5xx, nothing changed.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use rapport_domain::Role;
use rapport_server::Settings;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{TestApp, assert_refused_field, mutation, seed_account};

fn raw_push(token: &str, body: impl Into<Body>, content_type: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/v1/sync/push")
        .header("authorization", format!("Bearer {token}"))
        .header("rapport-protocol", "1")
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

async fn snapshot(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("SELECT count(*) FROM records").await,
        app.count("SELECT coalesce(sum(version), 0)::bigint FROM records")
            .await,
        app.count("SELECT last_seq FROM sync_clock").await,
    )
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn broken_requests_get_a_4xx_naming_the_problem_and_change_nothing(pool: PgPool) {
    let app = TestApp::with_settings(
        pool,
        Settings {
            max_body_bytes: 2 * 1024 * 1024,
            ..Settings::default()
        },
    )
    .await;
    let team = app.team("T").await;
    let (_, token) = app.user(Role::Csm, &[team]).await;
    let account = seed_account(&app, &token, team, "Acme").await;
    let before = snapshot(&app).await;
    let good = mutation("account", account, "upsert", json!({"name": "Changed"}));
    let mb = "x".repeat(1024 * 1024);

    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut m = good.clone();
        f(&mut m);
        json!({ "mutations": [m] }).to_string()
    };
    let cases: Vec<(&str, String, &str, StatusCode, &str)> = vec![
        (
            "malformed JSON",
            "{\"mutations\": [".into(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "EOF",
        ),
        (
            "not JSON at all",
            "mutations=1".into(),
            "application/x-www-form-urlencoded",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type",
        ),
        (
            "unknown top-level field",
            json!({"mutations": [], "force": true}).to_string(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "force",
        ),
        (
            "unknown mutation field",
            with(&|m| m["sneaky"] = json!(1)),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "sneaky",
        ),
        (
            "bad UUID",
            with(&|m| m["entity_id"] = json!("not-a-uuid")),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "entity_id",
        ),
        (
            "bad mutation id",
            with(&|m| m["id"] = json!("1; DROP TABLE records")),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "id",
        ),
        (
            "wrong type",
            with(&|m| m["base_version"] = json!("three")),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "base_version",
        ),
        (
            "unknown entity",
            with(&|m| m["entity"] = json!("invoice")),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "entity",
        ),
        (
            "bad time",
            with(&|m| m["client_time"] = json!("yesterday")),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "client_time",
        ),
        (
            "fields not an object",
            with(&|m| m["fields"] = json!([1, 2])),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "fields",
        ),
        (
            "oversized body",
            json!({"mutations": [], "pad": "y".repeat(3 * 1024 * 1024)}).to_string(),
            "application/json",
            StatusCode::PAYLOAD_TOO_LARGE,
            "length limit",
        ),
    ];
    for (what, body, ct, status, names) in cases {
        let r = app.raw(raw_push(&token, body, ct)).await;
        assert_eq!(r.status, status, "{what}: {}", r.body);
        let msg = r.body["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains(names),
            "{what}: the message names {names}: {msg}"
        );
        assert!(
            !r.code().is_empty(),
            "{what}: a code the client can branch on"
        );
    }
    let too_many: Vec<_> = (0..501).map(|_| good.clone()).collect();
    let r = app.push(&token, too_many).await;
    r.assert_error(StatusCode::BAD_REQUEST, "batch_too_large");
    assert_eq!(
        snapshot(&app).await,
        before,
        "no broken request changed anything"
    );

    // Well-formed requests with hostile values: refused per mutation, by field.
    let per_mutation = vec![
        (
            mutation("account", account, "upsert", json!({"name": 42})),
            "invalid_field",
            "name",
        ),
        (
            mutation("account", account, "upsert", json!({"plan": "platinum"})),
            "invalid_field",
            "plan",
        ),
        (
            mutation(
                "account",
                account,
                "upsert",
                json!({"owner_csm_id": "Robert'); DROP TABLE users;--"}),
            ),
            "invalid_field",
            "owner_csm_id",
        ),
        (
            mutation("account", account, "upsert", json!({"name": mb.clone()})),
            "invalid_field",
            "name",
        ),
        (
            mutation(
                "note",
                Uuid::now_v7(),
                "upsert",
                json!({"account_id": account, "body": mb.clone()}),
            ),
            "invalid_field",
            "body",
        ),
        (
            mutation("account", account, "upsert", json!({"nmae": "typo"})),
            "unknown_field",
            "nmae",
        ),
        (
            mutation(
                "contact",
                Uuid::now_v7(),
                "upsert",
                json!({"account_id": "' OR 1=1 --", "name": "x", "email": "x@y.com"}),
            ),
            "invalid_field",
            "account_id",
        ),
    ];
    for (m, code, field) in per_mutation {
        let r = app.push_one(&token, m).await;
        assert_refused_field(&r, code, field, field);
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "no refused mutation changed anything"
    );

    // SQL in a value is just text.
    let sql = "'; DROP TABLE records; --";
    let r = app
        .upsert(&token, "account", account, json!({"name": sql}))
        .await;
    assert_eq!(r["status"], "applied", "{r}");
    let rec = app
        .get(&format!("/v1/sync/records/account/{account}"), &token)
        .await;
    assert_eq!(
        rec.body["fields"]["name"], sql,
        "stored verbatim, table intact"
    );

    // Query and path garbage.
    for (uri, status, names) in [
        (
            "/v1/sync/pull?cursor=1%27%20OR%20%271%27%3D%271",
            StatusCode::BAD_REQUEST,
            "cursor",
        ),
        ("/v1/sync/pull?limit=-1", StatusCode::BAD_REQUEST, "limit"),
        ("/v1/sync/pull?limit=lots", StatusCode::BAD_REQUEST, "limit"),
        ("/v1/sync/pull?bogus=1", StatusCode::BAD_REQUEST, "bogus"),
        (
            "/v1/sync/records/account/not-a-uuid",
            StatusCode::BAD_REQUEST,
            "UUID",
        ),
        (
            "/v1/sync/records/invoice/00000000-0000-0000-0000-000000000000",
            StatusCode::BAD_REQUEST,
            "invoice",
        ),
    ] {
        let r = app.get(uri, &token).await;
        assert_eq!(r.status, status, "{uri}: {}", r.body);
        assert!(
            r.body["message"]
                .as_str()
                .unwrap_or_default()
                .contains(names),
            "{uri}: {}",
            r.body
        );
    }

    // Login garbage.
    for (body, status, names) in [
        (
            json!({"email": mb.clone(), "password": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "email",
        ),
        (
            json!({"email": "a@b.com", "password": mb.clone()}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
        (
            json!({"email": "a@b.com"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
        (
            json!({"email": ["a"], "password": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "email",
        ),
        (
            json!({"email": "' OR 1=1 --", "password": "' OR 1=1 --"}),
            StatusCode::UNAUTHORIZED,
            "wrong",
        ),
    ] {
        let r = app.attempt_login(body).await;
        assert_eq!(r.status, status, "{}", r.body);
        assert!(
            r.body["message"]
                .as_str()
                .unwrap_or_default()
                .contains(names),
            "{}",
            r.body
        );
    }
    assert_eq!(
        app.count("SELECT count(*) FROM users").await,
        1,
        "the users table is intact"
    );
}
