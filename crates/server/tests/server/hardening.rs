//! What one client could do to the others (the audit's points 4–10): races on the sign-in
//! limit, lists and texts without a size, sign-ins that hold the database, control
//! characters, half-sent requests, and a connection left unusable after an early error.
//! Points 1–3 (rules that lived only on the desktop) are in `rules.rs`.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use rapport_domain::Role;
use rapport_domain::limits::{MAX_PULL_PAGE_BYTES, MAX_TAGS};
use rapport_server::Settings;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;
use uuid::Uuid;

use crate::common::{
    TestApp, assert_applied, assert_refused_field, assert_rejected, client_addr, mutation, note_on,
    request, seed_account,
};

/// The status a sign-in with `body` gets from `router`, as its own task can await it.
async fn login_status(router: axum::Router, body: serde_json::Value) -> StatusCode {
    router
        .oneshot(request(Method::POST, "/v1/auth/login", None, Some(body)))
        .await
        .unwrap()
        .status()
}

/// Point 4: the count, the check and the record of a failed sign-in were separate steps, so
/// of 40 parallel wrong passwords 22–23 were checked against a limit of 5.
#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn parallel_wrong_passwords_get_no_more_checks_than_the_limit(pool: PgPool) {
    let app = TestApp::with_settings(
        pool,
        Settings {
            password_checks: 4,
            ..Settings::default()
        },
    )
    .await;
    let (user, _) = app.user(Role::Csm, &[]).await;
    let before = app.state.password_checks_run.load(Relaxed);
    let mut tries = Vec::new();
    for i in 0..40 {
        let router = app.router.clone();
        let body = json!({"email": user.email, "password": format!("wrong guess {i}")});
        tries.push(tokio::spawn(login_status(router, body)));
    }
    let mut refused = 0;
    let mut limited = 0;
    for t in tries {
        match t.await.unwrap() {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("a parallel wrong password answered {other}"),
        }
    }
    let limit = usize::try_from(app.state.settings.login_max_failures).unwrap();
    assert_eq!(
        (refused, limited),
        (limit, 40 - limit),
        "exactly the limit is checked, every other attempt is limited"
    );
    assert_eq!(
        app.state.password_checks_run.load(Relaxed) - before,
        u64::try_from(limit).unwrap(),
        "no password check ran past the limit"
    );
}

/// Point 5: lists had no cap (two pushes of 40,000 tags stalled the service); now the
/// list is refused by name before anything walks it.
#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn huge_lists_are_refused_by_field(pool: PgPool) {
    let (app, _, (_, token), account) = TestApp::with_account(pool, "T", Role::Admin).await;
    let tags: Vec<String> = (0..40_000).map(|i| format!("tag{i}")).collect();
    let domains: Vec<String> = (0..40_000).map(|i| format!("d{i}.example.com")).collect();
    for (field, value) in [
        ("tags", json!(tags)),
        ("support_email_domains", json!(domains)),
    ] {
        let mut fields = json!({});
        fields[field] = value;
        let r = app.upsert(&token, "account", account, fields).await;
        assert_refused_field(&r, "invalid_field", field, field);
    }
    // The most a list may hold, with duplicates, is taken and de-duplicated in order.
    let mut tags: Vec<String> = (0..MAX_TAGS).map(|i| format!("t{}", i % 50)).collect();
    tags.reverse();
    let r = app
        .upsert(&token, "account", account, json!({"tags": tags}))
        .await;
    assert_applied(&r, "a full list of tags");
    let (changes, _) = app.pull_all(&token, "", 1000).await;
    let stored = changes
        .iter()
        .rev()
        .find(|c| c["entity_id"] == account.to_string())
        .unwrap();
    let want: Vec<String> = (0..50).rev().map(|i| format!("t{i}")).collect();
    assert_eq!(
        stored["fields"]["tags"],
        json!(want),
        "first occurrence kept"
    );
}

/// Point 6: a sign-in held a pooled connection through argon2, so a flood of failed
/// sign-ins starved signed-in pulls. With one connection in the pool, sign-ins waiting for
/// or running their password check leave it to the pulls.
#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn sign_ins_do_not_hold_a_connection_through_the_password_check(
    _opts: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(connect)
        .await
        .unwrap();
    let app = TestApp::with_settings(
        pool,
        Settings {
            password_checks: 1,
            password_check_wait: Duration::from_secs(60),
            ..Settings::default()
        },
    )
    .await;
    let team = app.team("T").await;
    let (user, token) = app.user(Role::Csm, &[team]).await;
    seed_account(&app, &token, team, "Acme").await;

    // Every password-check turn taken: the sign-ins below all wait for one.
    let turns = app
        .state
        .password_slots
        .clone()
        .acquire_many_owned(1)
        .await
        .unwrap();
    let mut flood = Vec::new();
    for i in 0..30 {
        let router = app.router_from(client_addr(10 + u8::try_from(i).unwrap()));
        let body =
            json!({"email": format!("nobody{i}@flood.example.com"), "password": "wrong password"});
        flood.push(tokio::spawn(login_status(router, body)));
    }
    tokio::task::yield_now().await;
    // Were a waiting sign-in to hold a connection, these would time out (5 s) with 500.
    for _ in 0..5 {
        let page = app.pull(&token, "", 100).await;
        assert!(!page["changes"].as_array().unwrap().is_empty());
    }
    // Now they run, one check at a time, while pulls and a good sign-in go on beside them.
    drop(turns);
    for _ in 0..10 {
        let page = app.pull(&token, "", 100).await;
        assert!(!page["changes"].as_array().unwrap().is_empty());
    }
    app.login(&user.email).await;
    for t in flood {
        assert_eq!(t.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
}

/// Point 7: a 3.5 MB request title, a 3.5 MB RCA timeline and a 1 MB Slack link were
/// stored; pull pages were capped by count only (four team-mates' pulls came to 88 MB).
#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn oversized_fields_are_refused_and_pull_pages_are_capped_by_bytes(pool: PgPool) {
    let (app, _, (_, token), account) = TestApp::with_account(pool, "T", Role::Admin).await;
    let big = "x".repeat(3_500_000 / 4);
    let entry = json!({"at": "2026-11-26T09:00:00Z", "who": "Ops", "what": "y".repeat(2000)});
    let cases = [
        (
            "request",
            json!({"account_id": account, "title": big, "severity": "P2"}),
            "title",
        ),
        (
            "rca",
            json!({"account_id": account, "timeline": vec![entry; 1750]}),
            "timeline",
        ),
        (
            "account",
            json!({"slack_channel": format!("https://acme.slack.com/archives/{}", "c".repeat(1_000_000))}),
            "slack_channel",
        ),
    ];
    for (kind, fields, field) in cases {
        let id = if kind == "account" {
            account
        } else {
            Uuid::now_v7()
        };
        let r = app.upsert(&token, kind, id, fields).await;
        assert_rejected(&r, "invalid_field", field);
        assert_eq!(r["field"], field, "{kind}: {r}");
    }

    // 30 notes of the largest size: a page of 1000 stops past 2 MiB, the rest follows.
    let body = "n".repeat(rapport_domain::limits::MAX_NOTE_LEN);
    let notes: Vec<Value> = (0..30)
        .map(|_| {
            mutation(
                "note",
                Uuid::now_v7(),
                "upsert",
                json!({"account_id": account, "body": body}),
            )
        })
        .collect();
    let r = app.push(&token, notes).await;
    r.expect(StatusCode::OK);
    let mut cursor = String::new();
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let page = app.pull(&token, &cursor, 1000).await;
        pages += 1;
        let changes = page["changes"].as_array().unwrap();
        let bytes: usize = changes.iter().map(|c| c["fields"].to_string().len()).sum();
        let largest = changes
            .iter()
            .map(|c| c["fields"].to_string().len())
            .max()
            .unwrap_or(0);
        assert!(
            bytes <= MAX_PULL_PAGE_BYTES + largest,
            "a page stops after the record that passes the cap: {bytes} bytes"
        );
        seen += changes.iter().filter(|c| c["entity"] == "note").count();
        cursor = page["cursor"].as_str().unwrap().to_owned();
        if page["has_more"] != true {
            break;
        }
    }
    assert_eq!(seen, 30, "every note arrives");
    assert!(pages >= 2, "the notes came in more than one page");
}

/// Point 8: a NUL in any free text, or in the sign-in email, gave 500.
#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn control_characters_are_refused_by_field(pool: PgPool) {
    let (app, _, (_, token), account) = TestApp::with_account(pool, "T", Role::Csm).await;
    let cases = [
        (
            mutation(
                "note",
                Uuid::now_v7(),
                "upsert",
                note_on(account, "before\u{0}after"),
            ),
            "body",
        ),
        (
            mutation(
                "account",
                account,
                "upsert",
                json!({"name": "Acme\u{7} Corp"}),
            ),
            "name",
        ),
        (
            mutation(
                "account",
                account,
                "upsert",
                json!({"tags": ["ok", "b\u{0}d"]}),
            ),
            "tags",
        ),
    ];
    for (m, field) in cases {
        let r = app.push_one(&token, m).await;
        assert_refused_field(&r, "invalid_field", field, field);
    }
    for email in ["csm\u{0}@acme.example.com", "\u{0}", "a@b.c\u{1b}[2J"] {
        let r = app
            .attempt_login(json!({"email": email, "password": "whatever it is"}))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email:?}: {}",
            r.body
        );
        assert_eq!(r.body["field"], "email", "{}", r.body);
    }
    // Line breaks and tabs stay allowed where text is free.
    let r = app
        .create(&token, "note", note_on(account, "line one\n\tline two"))
        .await;
    assert_applied(&r, "a note with a line break and a tab");
}

/// The service on a real socket, with short connection timeouts.
async fn listening(app: &TestApp) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(rapport_server::serve(
        listener,
        app.state.clone(),
        std::future::pending(),
    ));
    addr
}

/// Reads until the server closes the connection, for at most `within`; whether it did.
async fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// Point 9: no header-read or idle timeout, so 500 half-sent requests were all still held
/// after 35 s.
#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn half_sent_requests_and_idle_connections_are_closed(pool: PgPool) {
    let app = TestApp::with_settings(
        pool,
        Settings {
            header_read_timeout: Duration::from_millis(500),
            body_read_timeout: Duration::from_millis(500),
            ..Settings::default()
        },
    )
    .await;
    let addr = listening(&app).await;
    let mut half = Vec::new();
    for _ in 0..100 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        half.push(s);
    }
    // Nothing arrives in time (the timeouts are 0.5 s; 20 s is a generous bound for a
    // loaded machine): every one is closed.
    for (i, s) in half.iter_mut().enumerate() {
        assert!(
            closed_by_server(s, Duration::from_secs(20)).await,
            "half-sent request {i} is still held"
        );
    }

    // A body that stops half-way is abandoned too.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
    )
    .await
    .unwrap();
    assert!(closed_by_server(&mut s, Duration::from_secs(20)).await);

    // A kept-alive connection that sends nothing after its first answer is closed.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    s.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(closed_by_server(&mut s, Duration::from_secs(20)).await);
}

/// Reads one HTTP/1.1 response (head and a Content-Length body) from `s`.
async fn read_response(s: &mut TcpStream) -> (String, String) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while data.len() < end + 4 + len {
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0, "the connection closed inside the body");
                data.extend_from_slice(&buf[..n]);
            }
            let body = String::from_utf8_lossy(&data[end + 4..end + 4 + len]).into_owned();
            return (head, body);
        }
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "the connection closed before a response");
        data.extend_from_slice(&buf[..n]);
    }
}

/// Point 10 and the odd methods: an early 4xx on a request whose body was not read dropped
/// the kept-alive connection without saying so; 405 and 415 came without a JSON body.
#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn early_errors_say_connection_close_and_every_error_is_json(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let addr = listening(&app).await;

    // No token: refused before the body is read. The answer says the connection closes,
    // and it does, so the client opens a new one instead of failing its next request.
    let body = format!(
        "{{\"mutations\": [], \"pad\": \"{}\"}}",
        "p".repeat(200_000)
    );
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!(
            "POST /v1/sync/push HTTP/1.1\r\nHost: x\r\nRapport-Protocol: 1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let (head, json) = read_response(&mut s).await;
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert!(v["code"].is_string(), "{json}");
    assert!(closed_by_server(&mut s, Duration::from_secs(20)).await);

    // A request that was read whole keeps its connection: the next one on it works.
    let mut s = TcpStream::connect(addr).await.unwrap();
    for _ in 0..2 {
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let (head, _) = read_response(&mut s).await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(!head.contains("connection: close"), "{head}");
    }

    for (raw, status) in [
        (
            "DELETE /v1/sync/pull HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_owned(),
            "405",
        ),
        (
            "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
                .to_owned(),
            "415",
        ),
    ] {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(raw.as_bytes()).await.unwrap();
        let (head, json) = read_response(&mut s).await;
        assert!(head.starts_with(&format!("http/1.1 {status}")), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        let v: Value = serde_json::from_str(&json).unwrap();
        assert!(
            v["code"].is_string() && v["message"].is_string(),
            "{status}: {json}"
        );
    }
}
