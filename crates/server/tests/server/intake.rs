//! Chat intake: signed calls from the chat backend open ordinary synced requests, refused
//! calls change nothing, unknown customers wait in the Unmatched queue.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{DateTime, TimeDelta, Utc};
use rapport_domain::Role;
use rapport_domain::intake::INTAKE_ACTOR_ID;
use rapport_server::intake::keys;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{Resp, TestApp, assert_applied, seed_account, set_support_domains};

struct Key {
    id: Uuid,
    secret: String,
}

async fn create_key(app: &TestApp, admin: &str) -> Key {
    let r = app
        .post(
            "/v1/admin/intake/keys",
            admin,
            Some(json!({"name": "website chat"})),
        )
        .await;
    r.expect(StatusCode::CREATED);
    Key {
        id: r.body["id"].as_str().unwrap().parse().unwrap(),
        secret: r.body["secret"].as_str().unwrap().to_owned(),
    }
}

fn signed(key: &Key, uri: &str, body: &[u8], ts: i64, secret: &str) -> Request<Body> {
    let _ = key;
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("content-type", "application/json")
        .header("rapport-intake-key", key.id.to_string())
        .header("rapport-timestamp", ts.to_string())
        .header(
            "rapport-signature",
            keys::sign(&keys::signing_key(secret), ts, body),
        )
        .body(Body::from(body.to_vec()))
        .unwrap()
}

async fn post(app: &TestApp, key: &Key, uri: &str, body: &Value) -> Resp {
    let bytes = body.to_string().into_bytes();
    app.raw(signed(
        key,
        uri,
        &bytes,
        app.clock.now().timestamp(),
        &key.secret,
    ))
    .await
}

fn chat(conversation: &str, email: &str, severity: &str, sent_at: DateTime<Utc>) -> Value {
    json!({
        "conversation_id": conversation,
        "customer_email": email,
        "customer_name": "Ana Silva",
        "severity": severity,
        "title": "Checkout is down",
        "message": "Nothing loads since 02:55.\nCustomers cannot pay.",
        "sent_at": sent_at,
    })
}

struct World {
    app: TestApp,
    key: Key,
    team: Uuid,
    account: Uuid,
    contact: Uuid,
    lead_token: String,
}

impl World {
    /// Opens (or re-sends) a chat, signed with the world's key.
    async fn chat(&self, body: &Value) -> Resp {
        post(&self.app, &self.key, "/v1/intake/chat", body).await
    }

    /// The support lead assigns Unmatched request `id` to the world's account.
    async fn assign(&self, id: Uuid) -> Resp {
        self.app
            .post(
                &format!("/v1/intake/unmatched/{id}/assign"),
                &self.lead_token,
                Some(json!({"account_id": self.account})),
            )
            .await
    }
}

async fn world(pool: PgPool) -> World {
    let (app, team, (_, admin)) = TestApp::with_team(pool, "Support", Role::Admin).await;
    let (_, lead_token) = app.user(Role::SupportLead, &[team]).await;
    let (_, csm) = app.user(Role::Csm, &[team]).await;
    let account = seed_account(&app, &csm, team, "Acme").await;
    set_support_domains(&app, &csm, account, json!(["acme.com"])).await;
    let contact = Uuid::now_v7();
    let r = app
        .upsert(
            &csm,
            "contact",
            contact,
            json!({"account_id": account, "name": "Ana Silva", "email": "ana@acme.com"}),
        )
        .await;
    assert_applied(&r, "a contact");
    let key = create_key(&app, &admin).await;
    World {
        app,
        key,
        team,
        account,
        contact,
        lead_token,
    }
}

async fn record(app: &TestApp, entity: &str, id: Uuid) -> (Value, Option<Uuid>, Uuid) {
    let (fields, by, team): (sqlx::types::Json<Value>, Option<Uuid>, Uuid) = sqlx::query_as(
        "SELECT fields, updated_by, team_id FROM records WHERE entity = $1 AND id = $2",
    )
    .bind(entity)
    .bind(id)
    .fetch_one(&app.state.pool)
    .await
    .unwrap();
    (fields.0, by, team)
}

async fn events_of(app: &TestApp, request: Uuid) -> Vec<Value> {
    let rows: Vec<(sqlx::types::Json<Value>,)> = sqlx::query_as(
        "SELECT fields FROM records WHERE entity = 'request_event' AND fields->>'request_id' = $1
         ORDER BY fields->>'at', id",
    )
    .bind(request.to_string())
    .fetch_all(&app.state.pool)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.0.0).collect()
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_signed_p1_chat_opens_a_synced_request_and_a_replay_answers_the_same(pool: PgPool) {
    let w = world(pool).await;
    let sent = w.app.clock.now() - TimeDelta::minutes(3);
    let body = chat(
        "conv-1",
        "Ana@Acme.com",
        "P1 - Production down, no workaround",
        sent,
    );
    let r = w.chat(&body).await;
    r.expect(StatusCode::CREATED);
    assert_eq!(r.body["created"], true);
    assert_eq!(r.body["unmatched"], false, "the contact's address is known");
    assert_eq!(r.body["account_id"], json!(w.account));
    let id: Uuid = r.body["request_id"].as_str().unwrap().parse().unwrap();

    let (fields, by, team) = record(&w.app, "request", id).await;
    assert_eq!(team, w.team, "the request belongs to the account's team");
    assert_eq!(
        by,
        Some(INTAKE_ACTOR_ID),
        "intake wrote it, no staff member"
    );
    assert_eq!(fields["severity"], "p1", "the widget's label reads as P1");
    assert_eq!(fields["channel"], "chat");
    assert_eq!(
        fields["needs_triage"], false,
        "the customer chose the severity"
    );
    assert_eq!(fields["contact_id"], json!(w.contact));
    let opened: DateTime<Utc> = serde_json::from_value(fields["opened_at"].clone()).unwrap();
    assert_eq!(opened, sent, "the clock starts when the customer wrote");
    let events = events_of(&w.app, id).await;
    assert_eq!(events.len(), 2, "opened, then the customer's message");
    assert_eq!(events[0]["kind"]["type"], "opened");
    assert_eq!(
        events[1]["by"],
        json!({"kind": "customer", "contact_id": w.contact})
    );

    // A staff member of the team pulls it like any other record.
    let (changes, _) = w.app.pull_all(&w.lead_token, "", 500).await;
    assert!(
        changes
            .iter()
            .any(|c| c["entity"] == "request" && c["entity_id"] == json!(id)),
        "the lead's pull brings the intake request"
    );

    // The same call again (a retry within the window) answers the same request.
    let again = w.chat(&body).await;
    again.expect(StatusCode::OK);
    assert_eq!(
        again.body["request_id"],
        json!(id),
        "idempotent by conversation id"
    );
    assert_eq!(again.body["created"], false);
    assert_eq!(
        w.app
            .count("SELECT count(*) FROM records WHERE entity = 'request'")
            .await,
        1,
        "a replay opens nothing"
    );

    // A further message is appended once, however often it is sent.
    let msg = json!({"message_id": "m-2", "message": "Still down.", "sent_at": w.app.clock.now()});
    let uri = "/v1/intake/chat/conv-1/messages";
    let r = post(&w.app, &w.key, uri, &msg).await;
    r.expect(StatusCode::CREATED);
    let r = post(&w.app, &w.key, uri, &msg).await;
    assert_eq!(r.status, StatusCode::OK, "a retried message");
    assert_eq!(events_of(&w.app, id).await.len(), 3, "appended once");
    let r = post(&w.app, &w.key, "/v1/intake/chat/nope/messages", &msg).await;
    r.expect(StatusCode::NOT_FOUND);

    // The key shows its last use.
    let (_, admin) = w.app.user(Role::Admin, &[]).await;
    let keys = w.app.get("/v1/admin/intake/keys", &admin).await;
    assert!(
        keys.body[0]["last_used_at"].is_string(),
        "{}: the last use is recorded",
        keys.body
    );
    assert!(keys.body[0].get("secret").is_none(), "never shown again");
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn refused_calls_say_why_and_change_nothing(pool: PgPool) {
    let w = world(pool).await;
    let now = w.app.clock.now();
    let body = chat("conv-x", "ana@acme.com", "P2", now);
    let bytes = body.to_string().into_bytes();
    let ts = now.timestamp();

    let wrong_secret = w
        .app
        .raw(signed(&w.key, "/v1/intake/chat", &bytes, ts, "rik_wrong"))
        .await;
    assert_eq!(wrong_secret.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_secret.code(), "invalid_signature");

    let mut tampered = signed(&w.key, "/v1/intake/chat", &bytes, ts, &w.key.secret);
    *tampered.body_mut() = Body::from(body.to_string().replace("P2", "P1"));
    let r = w.app.raw(tampered).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a changed body breaks the signature"
    );

    for off in [TimeDelta::minutes(-6), TimeDelta::minutes(6)] {
        let stale = (now + off).timestamp();
        let r = w
            .app
            .raw(signed(
                &w.key,
                "/v1/intake/chat",
                &bytes,
                stale,
                &w.key.secret,
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{off}");
        assert_eq!(r.code(), "stale_timestamp", "{off}: {}", r.body);
    }

    let unsigned = w
        .app
        .call(Method::POST, "/v1/intake/chat", None, Some(body.clone()))
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unsigned.code(), "unsigned");

    let r = w
        .chat(&chat("c", "ana@acme.com", "P5 - whatever", now))
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field"], "severity", "the error names the field");

    let mut long_title = chat("c", "ana@acme.com", "P1", now);
    long_title["title"] = json!("x".repeat(300));
    let r = w.chat(&long_title).await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("title"))
    );

    let mut control = chat("c", "ana@acme.com", "P1", now);
    control["customer_name"] = json!("Ana\u{1b}[2J");
    let r = w.chat(&control).await;
    assert_eq!(r.body["field"], "customer_name", "{}", r.body);

    let mut wrong_type = chat("c", "ana@acme.com", "P1", now);
    wrong_type["title"] = json!(5);
    let r = w.chat(&wrong_type).await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("title")),
        "{}",
        r.body
    );

    let mut missing = chat("c", "ana@acme.com", "P1", now);
    missing.as_object_mut().unwrap().remove("message");
    let r = w.chat(&missing).await;
    assert_eq!(r.body["field"], "message", "{}", r.body);

    let r = w
        .chat(&chat("c", "ana@acme.com", "P1", now + TimeDelta::hours(2)))
        .await;
    assert_eq!(
        r.body["field"], "sent_at",
        "a clock far ahead is refused: {}",
        r.body
    );

    let mut huge = chat("c", "ana@acme.com", "P1", now);
    huge["message"] = json!("x".repeat(2 * 1024 * 1024));
    let r = w.chat(&huge).await;
    r.expect(StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(
        w.app
            .count("SELECT count(*) FROM records WHERE entity = 'request'")
            .await,
        0,
        "no refused call wrote anything"
    );

    // A revoked key signs nothing any more.
    let (_, admin) = w.app.user(Role::Admin, &[]).await;
    let r = w
        .app
        .delete(&format!("/v1/admin/intake/keys/{}", w.key.id), &admin)
        .await;
    r.expect(StatusCode::OK);
    let r = w.chat(&body).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "a revoked key");

    // Only admins manage keys.
    let r = w.app.get("/v1/admin/intake/keys", &w.lead_token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn customers_are_matched_by_domain_and_unknown_ones_wait_in_unmatched(pool: PgPool) {
    let w = world(pool).await;
    let now = w.app.clock.now();

    // No contact with this address, but the account claims the domain.
    let r = w.chat(&chat("d-1", "bo@eu.acme.com", "P3", now)).await;
    r.expect(StatusCode::CREATED);
    assert_eq!(
        r.body["account_id"],
        json!(w.account),
        "matched by the email's domain"
    );

    // Nobody knows this customer: the request waits for a person.
    let r = w.chat(&chat("u-1", "zoe@unknown.example", "P2", now)).await;
    r.expect(StatusCode::CREATED);
    assert_eq!(r.body["unmatched"], true);
    let id: Uuid = r.body["request_id"].as_str().unwrap().parse().unwrap();
    let msg = json!({"message_id": "m-1", "message": "Hello?", "sent_at": now});
    let r = post(&w.app, &w.key, "/v1/intake/chat/u-1/messages", &msg).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "messages wait with it: {}",
        r.body
    );

    let list = w.app.get("/v1/intake/unmatched", &w.lead_token).await;
    list.expect(StatusCode::OK);
    assert_eq!(list.body.as_array().unwrap().len(), 1, "{}", list.body);
    assert_eq!(list.body[0]["id"], json!(id));
    assert_eq!(list.body[0]["severity"], "p2");
    assert_eq!(
        list.body[0]["entries"], 3,
        "opened, first message, second message"
    );

    // A CSM does not triage the queue.
    let (_, csm) = w.app.user(Role::Csm, &[w.team]).await;
    let r = w.app.get("/v1/intake/unmatched", &csm).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The lead assigns it: it becomes an ordinary request of the account's team.
    let r = w.assign(id).await;
    r.expect(StatusCode::OK);
    let (fields, _, team) = record(&w.app, "request", id).await;
    assert_eq!((team, fields["severity"].as_str()), (w.team, Some("p2")));
    assert_eq!(
        events_of(&w.app, id).await.len(),
        3,
        "the whole timeline came along"
    );
    let list = w.app.get("/v1/intake/unmatched", &w.lead_token).await;
    assert_eq!(list.body, json!([]), "nothing waits any more");
    let r = w.assign(id).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "assigned once");

    // Later messages of the conversation go to the assigned request.
    let msg = json!({"message_id": "m-2", "message": "Thanks", "sent_at": now});
    let r = post(&w.app, &w.key, "/v1/intake/chat/u-1/messages", &msg).await;
    assert_eq!(r.body["account_id"], json!(w.account), "{}", r.body);
    assert_eq!(events_of(&w.app, id).await.len(), 4);
}

fn mail(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Ana Silva <{from}>\r\nTo: support@vendor.example\r\nSubject: {subject}\r\n\
         Message-ID: <{id}>\r\nDate: Tue, 1 Dec 2026 03:00:00 +0000\r\n{extra}\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Takes in an email that must open a request, in the Unmatched queue or not as
/// `unmatched` says (`None`: either); the request's id.
async fn take_in_opened(
    app: &TestApp,
    raw: &[u8],
    at: DateTime<Utc>,
    unmatched: Option<bool>,
    why: &str,
) -> Uuid {
    use rapport_server::intake::email::EmailOutcome;
    match take_in(app, raw, at).await {
        EmailOutcome::Opened {
            request_id,
            unmatched: u,
            ..
        } if unmatched.is_none_or(|want| want == u) => request_id,
        other => panic!("{why}: {other:?}"),
    }
}

async fn take_in(
    app: &TestApp,
    raw: &[u8],
    at: DateTime<Utc>,
) -> rapport_server::intake::email::EmailOutcome {
    use rapport_server::intake::email;
    let parsed = email::parse(raw).expect("a well-formed email");
    let mut tx = app.state.pool.begin().await.unwrap();
    let out = email::import(&mut tx, &parsed, at, app.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    out
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_forwarded_reply_opens_a_request_titled_without_re_and_fwd(pool: PgPool) {
    let w = world(pool).await;
    let received = w.app.clock.now() - TimeDelta::minutes(1);
    let request_id = take_in_opened(
        &w.app,
        &mail(
            "ana@acme.com",
            "RE: Fwd: URGENT: checkout down",
            "fwd1@acme.com",
            "",
            "See below",
        ),
        received,
        None,
        "a forwarded email about no open request opens one",
    )
    .await;
    let (f, _, _) = record(&w.app, "request", request_id).await;
    assert_eq!(
        f["title"], "URGENT: checkout down",
        "the service names requests as the desktop's .eml import does: no reply or forward prefixes"
    );
    assert_eq!(
        f["severity"], "p1",
        "the urgent word after the prefixes still raises the alert"
    );
    let events = events_of(&w.app, request_id).await;
    assert!(
        events
            .iter()
            .any(|e| e["kind"]["title"] == "URGENT: checkout down"),
        "the opening entry carries the same title: {events:?}"
    );
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn emails_are_triaged_threaded_escalated_and_automatic_ones_open_nothing(pool: PgPool) {
    use rapport_server::intake::email::{self, EmailOutcome};
    let w = world(pool).await;
    let received = w.app.clock.now() - TimeDelta::minutes(1);

    let plain = take_in_opened(
        &w.app,
        &mail(
            "ana@acme.com",
            "Question about exports",
            "q1@acme.com",
            "",
            "How do I export?",
        ),
        received,
        Some(false),
        "a plain email from a known contact opens a request",
    )
    .await;
    let (f, _, _) = record(&w.app, "request", plain).await;
    assert_eq!(
        (f["severity"].as_str(), f["needs_triage"].as_bool()),
        (Some("p3"), Some(true)),
        "plain: P3 needs triage"
    );
    let opened: DateTime<Utc> = serde_json::from_value(f["opened_at"].clone()).unwrap();
    assert_eq!(opened, received, "opened when the server received it");

    let urgent = take_in_opened(
        &w.app,
        &mail(
            "ana@acme.com",
            "[URGENT] checkout down",
            "u1@acme.com",
            "",
            "All payments fail",
        ),
        received,
        None,
        "an urgent email opens a request",
    )
    .await;
    let (f, _, _) = record(&w.app, "request", urgent).await;
    assert_eq!(
        (f["severity"].as_str(), f["needs_triage"].as_bool()),
        (Some("p1"), Some(true)),
        "urgent: P1 needs triage"
    );

    // An urgent reply to the plain thread escalates it.
    let reply = mail(
        "ana@acme.com",
        "Re: urgent now",
        "q2@acme.com",
        "In-Reply-To: <q1@acme.com>\r\n",
        "It got worse",
    );
    assert_eq!(
        take_in(&w.app, &reply, received).await,
        EmailOutcome::Threaded {
            request_id: plain,
            escalated: true
        },
        "threaded by In-Reply-To, escalated by its subject"
    );
    let (f, _, _) = record(&w.app, "request", plain).await;
    assert_eq!(f["severity"], "p1");
    assert!(
        f["thread_keys"]
            .as_array()
            .unwrap()
            .contains(&json!("q2@acme.com"))
    );

    // Automatic mail opens nothing.
    let before = w
        .app
        .count("SELECT count(*) FROM records WHERE entity = 'request'")
        .await;
    let ooo = mail(
        "ana@acme.com",
        "Out of office",
        "o1@acme.com",
        "Auto-Submitted: auto-replied\r\n",
        "Away",
    );
    assert_eq!(
        take_in(&w.app, &ooo, received).await,
        EmailOutcome::Automatic
    );
    let bounce = "From: MAILER-DAEMON@mx.acme.com\r\nSubject: Undelivered\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n";
    assert_eq!(
        take_in(&w.app, bounce.as_bytes(), received).await,
        EmailOutcome::Automatic
    );
    assert_eq!(
        w.app
            .count("SELECT count(*) FROM records WHERE entity = 'request'")
            .await,
        before,
        "auto-replies and bounces open nothing"
    );

    // HTML only becomes text; attachments are listed.
    let html = "From: ana@acme.com\r\nSubject: Screens\r\nMessage-ID: <h1@acme.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>See <b>attached</b></p>\r\n--x\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=shot.png\r\n\r\nPNGDATA\r\n--x--\r\n";
    let parsed = email::parse(html.as_bytes()).unwrap();
    assert!(
        parsed.body.contains("See attached") && !parsed.body.contains("<b>"),
        "{}",
        parsed.body
    );
    assert!(
        parsed.body.contains("shot.png"),
        "attachments listed: {}",
        parsed.body
    );

    // Unknown senders wait in Unmatched, and their replies thread there.
    let lost = take_in_opened(
        &w.app,
        &mail(
            "zoe@unknown.example",
            "Help",
            "z1@unknown.example",
            "",
            "hi",
        ),
        received,
        Some(true),
        "an unknown sender lands in Unmatched",
    )
    .await;
    let again = mail(
        "zoe@unknown.example",
        "Re: Help",
        "z2@unknown.example",
        "References: <z1@unknown.example>\r\n",
        "hello?",
    );
    assert_eq!(
        take_in(&w.app, &again, received).await,
        EmailOutcome::Threaded {
            request_id: lost,
            escalated: false
        }
    );

    // Admins see intake errors and mailbox states (none recorded by this direct import).
    let (_, admin) = w.app.user(Role::Admin, &[]).await;
    for path in ["/v1/admin/intake/errors", "/v1/admin/intake/mailboxes"] {
        let r = w.app.get(path, &admin).await;
        assert_eq!(
            (r.status, r.body.clone()),
            (StatusCode::OK, json!([])),
            "{path}"
        );
        let r = w.app.get(path, &w.lead_token).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} is an admin's");
    }

    // A message intake cannot read says why.
    assert!(email::parse(b"").is_err());
    assert!(
        email::parse(b"Subject: no sender\r\n\r\nbody")
            .unwrap_err()
            .contains("From")
    );
}

async fn cli(app: &TestApp, command: rapport_server::intake::cli::IntakeCommand) -> String {
    let mut out = Vec::new();
    rapport_server::intake::cli::run_to(&app.state, command, &mut out)
        .await
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn the_admin_cli_shows_mailboxes_errors_and_unmatched_and_assigns_one(pool: PgPool) {
    use rapport_server::intake::cli::{IntakeCommand, run_to};
    let w = world(pool).await;
    let now = w.app.clock.now();

    assert!(
        cli(&w.app, IntakeCommand::ListMailboxes)
            .await
            .contains("no mailbox has been watched yet")
    );
    assert_eq!(
        cli(&w.app, IntakeCommand::ListUnmatched).await,
        "the Unmatched queue is empty\n"
    );

    // What a watcher leaves: its place and its last error; and one message it could not read.
    sqlx::query(
        "INSERT INTO intake_mailboxes (name, state, uid_validity, last_uid, imported, last_error, last_error_at, updated_at)
         VALUES ('support', 'idle', 7, 3, 3, 'TLS handshake with imap.vendor.example:993 failed: invalid peer certificate: UnknownIssuer', $1, $1)",
    )
    .bind(now)
    .execute(&w.app.state.pool)
    .await
    .unwrap();
    let mut conn = w.app.state.pool.acquire().await.unwrap();
    rapport_server::intake::store::record_error(
        &mut conn,
        "support",
        Some(2),
        Some("broken@acme.com"),
        "the message has no From: sender",
        Some(b"Subject: x\r\n\r\ny"),
        now,
    )
    .await
    .unwrap();
    drop(conn);
    let mailboxes = cli(&w.app, IntakeCommand::ListMailboxes).await;
    assert!(
        mailboxes.contains("support  idle  uidvalidity 7  last uid 3  imported 3"),
        "{mailboxes}"
    );
    assert!(
        mailboxes.contains("last error") && mailboxes.contains("UnknownIssuer"),
        "{mailboxes}"
    );
    let errors = cli(&w.app, IntakeCommand::ListIntakeErrors { limit: 10 }).await;
    assert!(
        errors.contains("support  uid 2  message-id broken@acme.com  15 bytes kept")
            && errors.contains("no From: sender"),
        "{errors}"
    );

    // An unknown sender waits in Unmatched; the CLI lists it and gives it its account.
    let lost = take_in_opened(
        &w.app,
        &mail(
            "zoe@unknown.example",
            "URGENT: nothing works",
            "z1@unknown.example",
            "",
            "hi",
        ),
        now - TimeDelta::minutes(3),
        Some(true),
        "an unknown sender lands in Unmatched",
    )
    .await;
    let waiting = cli(&w.app, IntakeCommand::ListUnmatched).await;
    assert!(
        waiting.contains(&lost.to_string())
            && waiting.contains("P1 needs triage")
            && waiting.contains("\"URGENT: nothing works\"")
            && waiting.contains("from zoe@unknown.example"),
        "{waiting}"
    );
    let mut out = Vec::new();
    let err = run_to(
        &w.app.state,
        IntakeCommand::AssignUnmatched {
            id: lost,
            account: "No Such Customer".into(),
        },
        &mut out,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no account"), "{err}");
    let done = cli(
        &w.app,
        IntakeCommand::AssignUnmatched {
            id: lost,
            account: "Acme".into(),
        },
    )
    .await;
    assert!(done.contains(&w.account.to_string()), "{done}");
    let (f, _, team) = record(&w.app, "request", lost).await;
    assert_eq!(team, w.team, "the account's team has it");
    assert_eq!(
        (f["severity"].as_str(), f["title"].as_str()),
        (Some("p1"), Some("URGENT: nothing works"))
    );
    assert_eq!(
        cli(&w.app, IntakeCommand::ListUnmatched).await,
        "the Unmatched queue is empty\n"
    );
    let err = run_to(
        &w.app.state,
        IntakeCommand::AssignUnmatched {
            id: lost,
            account: w.account.to_string(),
        },
        &mut out,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("assigned already"),
        "twice is refused: {err}"
    );
}
