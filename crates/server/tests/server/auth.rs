//! Login, expiry, revocation, the login rate limit, disabled users, password reset.

use axum::http::{Method, StatusCode};
use chrono::TimeDelta;
use rapport_domain::Role;
use serde_json::json;
use sqlx::PgPool;
use tower::ServiceExt;

use crate::common::{PASSWORD, TestApp, client_addr, request};

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn login_gives_a_token_that_works_until_it_expires(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (user, token) = app.user(Role::Csm, &[]).await;
    let me = app.get("/v1/me", &token).await;
    me.expect(StatusCode::OK);
    assert_eq!(me.body["user"]["email"], user.email.as_str());

    let stored: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT token_hash FROM auth_tokens")
        .fetch_all(&app.state.pool)
        .await
        .unwrap();
    assert!(
        stored
            .iter()
            .all(|(h,)| h.len() == 32 && h.as_slice() != token.as_bytes()),
        "only a SHA-256 of the token is stored"
    );

    app.clock
        .advance(TimeDelta::days(30) - TimeDelta::seconds(1));
    let still = app.get("/v1/me", &token).await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "a token works until its expiry"
    );
    app.clock.advance(TimeDelta::seconds(1));
    let expired = app.get("/v1/me", &token).await;
    assert_eq!(
        expired.status,
        StatusCode::UNAUTHORIZED,
        "an expired token is refused"
    );
    assert_eq!(expired.code(), "invalid_token");
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn logout_revokes_only_that_token(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (user, first) = app.user(Role::SupportLead, &[]).await;
    let second = app.login(&user.email).await;
    let out = app.post("/v1/auth/logout", &first, None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let r = app.get("/v1/me", &first).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token"),
        "a revoked token is refused"
    );
    let r = app.get("/v1/me", &second).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "another session of the same user goes on"
    );
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn wrong_passwords_and_unknown_emails_are_refused_alike(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (user, _) = app.user(Role::Csm, &[]).await;
    let wrong = app
        .attempt_login(json!({"email": user.email, "password": "not it at all"}))
        .await;
    let unknown = app
        .attempt_login(json!({"email": "nobody@acme.com", "password": PASSWORD}))
        .await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(
        wrong.body, unknown.body,
        "an unknown email looks like a wrong password"
    );
    let none = app.call(Method::GET, "/v1/me", None, None).await;
    none.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let garbage = app.get("/v1/me", "rpt_forged").await;
    garbage.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn login_is_rate_limited_per_email_and_address(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (user, _) = app.user(Role::Csm, &[]).await;
    let bad = json!({"email": user.email, "password": "guess guess guess"});
    for i in 0..5 {
        let r = app.attempt_login(bad.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "attempt {i} is only refused"
        );
    }
    let good = json!({"email": user.email, "password": PASSWORD});
    let limited = app.attempt_login(good.clone()).await;
    assert_eq!(
        (limited.status, limited.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
        "even the right password waits"
    );

    let other = app
        .router_from(client_addr(2))
        .oneshot(request(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(good.clone()),
        ))
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another address is not limited by this one's failures"
    );

    app.clock.advance(TimeDelta::minutes(15));
    let later = app.attempt_login(good).await;
    assert_eq!(
        later.status,
        StatusCode::OK,
        "the window passes: {}",
        later.body
    );
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn disabling_a_user_or_resetting_the_password_ends_their_sessions(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (_, admin) = app.user(Role::Admin, &[]).await;
    let (csm, csm_token) = app.user(Role::Csm, &[]).await;
    let r = app
        .put(
            &format!("/v1/admin/users/{}/password", csm.id),
            &admin,
            json!({"password": "a new long password"}),
        )
        .await;
    r.expect(StatusCode::NO_CONTENT);
    let r = app.get("/v1/me", &csm_token).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a reset password revokes the old tokens"
    );
    let relog = app
        .attempt_login(json!({"email": csm.email, "password": "a new long password"}))
        .await;
    assert_eq!(relog.status, StatusCode::OK);
    let token = relog.body["token"].as_str().unwrap().to_owned();

    let r = app
        .call(
            Method::PATCH,
            &format!("/v1/admin/users/{}", csm.id),
            Some(&admin),
            Some(json!({"disabled": true})),
        )
        .await;
    r.expect(StatusCode::OK);
    assert_eq!(
        app.get("/v1/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .attempt_login(json!({"email": csm.email, "password": "a new long password"}))
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "user_disabled");
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn admins_manage_users_and_teams_through_the_api(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (admin_user, admin) = app.user(Role::Admin, &[]).await;
    let created = app
        .post("/v1/admin/users", &admin, Some(json!({
            "name": "Ana", "email": "ana@acme.com", "role": "account_rep", "time_zone": "Australia/Sydney",
            "password": "long enough pw"})))
        .await;
    created.expect(StatusCode::CREATED);
    let dup = app
        .post("/v1/admin/users", &admin, Some(json!({
            "name": "Ana 2", "email": "ANA@acme.com", "role": "csm", "time_zone": "UTC", "password": "long enough pw"})))
        .await;
    assert_eq!(
        (dup.status, dup.code()),
        (StatusCode::CONFLICT, "email_taken"),
        "emails are unique regardless of case"
    );
    let bad = app
        .post("/v1/admin/users", &admin, Some(json!({
            "name": "Bo", "email": "bo@acme.com", "role": "csm", "time_zone": "Mars/Base", "password": "long enough pw"})))
        .await;
    assert_eq!(
        (bad.status, bad.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("time_zone"))
    );
    let short = app
        .post("/v1/admin/users", &admin, Some(json!({
            "name": "Bo", "email": "bo@acme.com", "role": "csm", "time_zone": "UTC", "password": "short"})))
        .await;
    assert_eq!(short.body["field"], "password");

    let team = app
        .post("/v1/admin/teams", &admin, Some(json!({"name": "EMEA"})))
        .await;
    assert_eq!(team.status, StatusCode::CREATED);
    let team_id = team.body["id"].as_str().unwrap().to_owned();
    let ana = created.body["id"].as_str().unwrap();
    let add = app
        .call(
            Method::PUT,
            &format!("/v1/admin/teams/{team_id}/members/{ana}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(add.status, StatusCode::NO_CONTENT);
    let teams = app.get("/v1/admin/teams", &admin).await;
    assert_eq!(teams.body[0]["members"], json!([ana]));
    let users = app.get("/v1/admin/users", &admin).await;
    assert_eq!(users.body.as_array().unwrap().len(), 2);

    let demote_self = app
        .call(
            Method::PATCH,
            &format!("/v1/admin/users/{}", admin_user.id),
            Some(&admin),
            Some(json!({"role": "csm"})),
        )
        .await;
    assert_eq!(
        demote_self.code(),
        "cannot_demote_self",
        "the last door out is not locked from inside"
    );
    let missing = app
        .call(
            Method::PUT,
            &format!("/v1/admin/teams/{team_id}/members/{}", uuid::Uuid::now_v7()),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn health_and_readiness(pool: PgPool) {
    let app = TestApp::new(pool).await;
    assert_eq!(
        app.call(Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, "/readyz", None, None).await.status,
        StatusCode::OK
    );
    let nowhere = app.call(Method::GET, "/v1/nowhere", None, None).await;
    nowhere.assert_error(StatusCode::NOT_FOUND, "not_found");
}
