//! A test app on its own database, driven through the router without a socket.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Method, Request, StatusCode};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rapport_domain::sync::PROTOCOL_VERSION;
use rapport_domain::{Role, User};
use rapport_server::db::identity;
use rapport_server::routes::admin::{CreateUser, create_team_with, create_user_with};
use rapport_server::{AppState, Settings, app};
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";

/// A clock the test moves.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    pub fn new() -> Self {
        TestClock(Arc::new(Mutex::new(
            Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap(),
        )))
    }
    pub fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
    pub fn advance(&self, by: TimeDelta) {
        *self.0.lock().unwrap() += by;
    }
}

pub struct TestApp {
    pub state: AppState,
    pub clock: TestClock,
    pub router: Router,
}

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
}

impl Resp {
    /// The `code` of an error body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts the answer's status (the body in the message) and returns the body.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        &self.body
    }

    /// Asserts the answer is the error `code` with `status`.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!((self.status, self.code()), (status, code));
    }
}

pub fn client_addr(last: u8) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, last], 40000))
}

impl TestApp {
    pub async fn new(pool: PgPool) -> TestApp {
        Self::with_settings(pool, Settings::default()).await
    }

    pub async fn with_settings(pool: PgPool, settings: Settings) -> TestApp {
        let clock = TestClock::new();
        let c = clock.clone();
        let state = AppState::new(pool, Arc::new(move || c.now()), settings)
            .await
            .unwrap();
        let router = app(state.clone()).layer(MockConnectInfo(client_addr(1)));
        TestApp {
            state,
            clock,
            router,
        }
    }

    /// A router whose requests come from another client address.
    pub fn router_from(&self, addr: SocketAddr) -> Router {
        app(self.state.clone()).layer(MockConnectInfo(addr))
    }

    pub async fn raw(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Resp { status, body }
    }

    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        self.raw(request(method, uri, token, body)).await
    }

    pub async fn get(&self, uri: &str, token: &str) -> Resp {
        self.call(Method::GET, uri, Some(token), None).await
    }

    pub async fn post(&self, uri: &str, token: &str, body: Option<Value>) -> Resp {
        self.call(Method::POST, uri, Some(token), body).await
    }

    pub async fn put(&self, uri: &str, token: &str, body: Value) -> Resp {
        self.call(Method::PUT, uri, Some(token), Some(body)).await
    }

    pub async fn delete(&self, uri: &str, token: &str) -> Resp {
        self.call(Method::DELETE, uri, Some(token), None).await
    }

    /// A test app with one team named `team` and a user of `role` in it:
    /// (app, team, (user, token)).
    pub async fn with_team(
        pool: PgPool,
        team: &str,
        role: Role,
    ) -> (TestApp, Uuid, (User, String)) {
        let app = TestApp::new(pool).await;
        let team = app.team(team).await;
        let user = app.user(role, &[team]).await;
        (app, team, user)
    }

    /// [`TestApp::with_team`] and an account "Acme" of the team the user created:
    /// (app, team, (user, token), account).
    pub async fn with_account(
        pool: PgPool,
        team: &str,
        role: Role,
    ) -> (TestApp, Uuid, (User, String), Uuid) {
        let (app, team, user) = Self::with_team(pool, team, role).await;
        let account = seed_account(&app, &user.1, team, "Acme").await;
        (app, team, user, account)
    }

    pub async fn user(&self, role: Role, teams: &[Uuid]) -> (User, String) {
        let n = Uuid::now_v7().simple().to_string();
        let req = CreateUser {
            name: format!("{} {}", role.as_str(), &n[24..]),
            email: format!("{}-{n}@acme.example.com", role.as_str()),
            role,
            time_zone: "Europe/Berlin".into(),
            working_hours: None,
            password: PASSWORD.into(),
        };
        let user = create_user_with(&self.state, req).await.unwrap();
        for t in teams {
            self.add_member(*t, user.id).await;
        }
        let token = self.login(&user.email).await;
        (user, token)
    }

    /// A sign-in attempt with this body (`email`, `password`).
    pub async fn attempt_login(&self, body: Value) -> Resp {
        self.call(Method::POST, "/v1/auth/login", None, Some(body))
            .await
    }

    pub async fn login(&self, email: &str) -> String {
        let r = self
            .attempt_login(json!({"email": email, "password": PASSWORD}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "login of {email}: {}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn team(&self, name: &str) -> Uuid {
        create_team_with(&self.state, name).await.unwrap().id
    }

    pub async fn add_member(&self, team: Uuid, user: Uuid) {
        let mut tx = self.state.pool.begin().await.unwrap();
        identity::add_member(&mut tx, team, user).await.unwrap();
        tx.commit().await.unwrap();
    }

    pub async fn remove_member(&self, team: Uuid, user: Uuid) {
        let mut tx = self.state.pool.begin().await.unwrap();
        identity::remove_member(&mut tx, team, user).await.unwrap();
        tx.commit().await.unwrap();
    }

    pub async fn push(&self, token: &str, mutations: Vec<Value>) -> Resp {
        self.call(
            Method::POST,
            "/v1/sync/push",
            Some(token),
            Some(json!({ "mutations": mutations })),
        )
        .await
    }

    /// Pushes one mutation and returns its result object.
    pub async fn push_one(&self, token: &str, m: Value) -> Value {
        let r = self.push(token, vec![m]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["results"][0].clone()
    }

    /// Pushes one upsert of `entity` `id` setting `fields`; returns its result object.
    pub async fn upsert(&self, token: &str, entity: &str, id: Uuid, fields: Value) -> Value {
        self.push_one(token, mutation(entity, id, "upsert", fields))
            .await
    }

    /// Pushes one upsert creating a new `entity` (a fresh id); returns its result object.
    pub async fn create(&self, token: &str, entity: &str, fields: Value) -> Value {
        self.upsert(token, entity, Uuid::now_v7(), fields).await
    }

    /// Pushes one delete of `entity` `id`; returns its result object.
    pub async fn remove(&self, token: &str, entity: &str, id: Uuid) -> Value {
        self.push_one(token, mutation(entity, id, "delete", json!({})))
            .await
    }

    pub async fn pull(&self, token: &str, cursor: &str, limit: u32) -> Value {
        let r = self
            .call(
                Method::GET,
                &format!("/v1/sync/pull?cursor={cursor}&limit={limit}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
    }

    /// Pulls pages until `has_more` is false; returns every non-user change and the cursor.
    pub async fn pull_all(&self, token: &str, cursor: &str, limit: u32) -> (Vec<Value>, String) {
        let mut cursor = cursor.to_owned();
        let mut changes = Vec::new();
        for _ in 0..10_000 {
            let page = self.pull(token, &cursor, limit).await;
            changes.extend(
                page["changes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c["entity"] != "user")
                    .cloned(),
            );
            cursor = page["cursor"].as_str().unwrap().to_owned();
            if !page["has_more"].as_bool().unwrap() {
                return (changes, cursor);
            }
        }
        panic!("pull never ended");
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql)
            .fetch_one(&self.state.pool)
            .await
            .unwrap();
        n
    }
}

pub fn request(
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("rapport-protocol", PROTOCOL_VERSION.to_string());
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    match body {
        Some(v) => b
            .header("content-type", "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

pub fn mutation(entity: &str, id: Uuid, op: &str, fields: Value) -> Value {
    let mut m = json!({
        "id": Uuid::now_v7(),
        "entity": entity,
        "entity_id": id,
        "op": op,
        "client_time": "2026-11-26T09:00:00Z",
    });
    m["fields"] = fields;
    m
}

pub fn new_account(name: &str) -> Value {
    json!({"name": name, "plan": "professional_support", "time_zone": "Europe/Berlin",
           "fiscal_year_start_month": 1, "stage": "onboarding"})
}

pub fn account_in(team: Uuid, name: &str) -> Value {
    let mut v = new_account(name);
    v["team_id"] = json!(team);
    v
}

/// A note's fields: on `account`, saying `body`.
pub fn note_on(account: Uuid, body: &str) -> Value {
    json!({"account_id": account, "body": body})
}

/// Sets the support email domains of `account` (so intake places emails from them).
pub async fn set_support_domains(app: &TestApp, token: &str, account: Uuid, domains: Value) {
    let r = app
        .upsert(
            token,
            "account",
            account,
            json!({"support_email_domains": domains}),
        )
        .await;
    assert_applied(&r, "the account's support domain");
}

pub fn assert_applied(result: &Value, why: &str) {
    assert_eq!(result["status"], "applied", "{why}: {result}");
}

pub fn assert_rejected(result: &Value, code: &str, why: &str) {
    assert_eq!(result["status"], "rejected", "{why}: {result}");
    assert_eq!(result["code"], code, "{why}: {result}");
}

/// [`assert_rejected`], and the rejection names `field`.
pub fn assert_refused_field(result: &Value, code: &str, field: &str, why: &str) {
    assert_rejected(result, code, why);
    assert_eq!(result["field"], field, "{why}: {result}");
}

/// Creates an account in `team` as `token`'s user and returns its id.
pub async fn seed_account(app: &TestApp, token: &str, team: Uuid, name: &str) -> Uuid {
    let id = Uuid::now_v7();
    let r = app
        .push_one(
            token,
            mutation("account", id, "upsert", account_in(team, name)),
        )
        .await;
    assert_applied(&r, "seeding an account");
    id
}
