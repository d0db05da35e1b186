//! A chat posted to the running server reaches a support lead's desktop by itself: the
//! desktop's ordinary sync brings the request, which its board shows as P1 with a running
//! SLA clock from when the customer wrote, and its urgent alert is due.

use chrono::{Duration, Utc};
use rapport_client::sync::HttpTransport;
use rapport_client::sync::transport::EventStream;
use rapport_domain::request::{Channel, Severity};
use rapport_domain::sla::SlaAlert;
use rapport_domain::{AccountInput, LifecycleStage, Plan, Role};
use rapport_server::intake::keys;
use rapport_server::intake::tls::TlsMode;
use rapport_tests::syncenv::{Client, Server, now};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP/1.1 POST over a real socket, signed as a chat backend signs it.
async fn post_signed(
    base: &str,
    path: &str,
    key_id: uuid::Uuid,
    secret: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let addr = base.trim_start_matches("http://");
    let ts = Utc::now().timestamp();
    let sig = keys::sign(&keys::signing_key(secret), ts, body.as_bytes());
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nRapport-Intake-Key: {key_id}\r\nRapport-Timestamp: {ts}\r\n\
         Rapport-Signature: {sig}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap();
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(serde_json::Value::Null);
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p1_chat_reaches_the_leads_desktop_with_its_clock_and_alert() {
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let csm = server.user(Role::Csm, &[team]).await.unwrap();
    let lead = server.user(Role::SupportLead, &[team]).await.unwrap();
    let a = Client::new(&server, &csm).await.unwrap();
    let b = Client::new(&server, &lead).await.unwrap();
    let acme = a
        .store
        .account_create(
            AccountInput {
                name: "Acme".into(),
                plan: Plan::ProfessionalSupport,
                time_zone: "Europe/Berlin".into(),
                fiscal_year_start_month: 1,
                owner_csm_id: None,
                account_rep_id: None,
                slack_channel: None,
                support_email_domains: vec!["acme.com".into()],
                stage: LifecycleStage::Active,
                tags: vec![],
            },
            now(),
        )
        .await
        .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();

    let mut conn = server.pool.acquire().await.unwrap();
    let key = keys::create(&mut conn, "website chat", None, Utc::now())
        .await
        .unwrap();
    drop(conn);
    let sent_at = Utc::now() - Duration::minutes(4);
    let body = serde_json::json!({
        "conversation_id": "chat-7781",
        "customer_email": "ops@acme.com",
        "customer_name": "Ops Team",
        "severity": "P1 - Production down, no workaround",
        "title": "Checkout down for all EU customers",
        "message": "Since 03:02 every payment fails.",
        "sent_at": sent_at,
    })
    .to_string();
    let (status, answer) = post_signed(
        &server.url,
        "/v1/intake/chat",
        key.key.id,
        &key.secret,
        &body,
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let id: uuid::Uuid = answer["request_id"].as_str().unwrap().parse().unwrap();

    // Nobody on the desktop does anything but its ordinary sync.
    b.sync().await.unwrap();
    let board = b.store.requests_board(now()).await.unwrap();
    let row = board
        .open
        .iter()
        .find(|r| r.id == id)
        .expect("the chat is on the lead's Requests board");
    assert_eq!(row.account_id, acme.id, "matched by the sender's domain");
    assert_eq!(row.severity, Severity::P1, "the customer's choice");
    assert_eq!(row.channel, Channel::Chat);
    let opened = row.clock.opened_at;
    assert!(
        (opened - sent_at).num_milliseconds().abs() < 1000,
        "the clock starts when the customer wrote ({opened} vs {sent_at})"
    );
    let due = row
        .clock
        .due_at
        .expect("a Professional Support account has an SLA");
    assert_eq!(
        due,
        opened + Duration::minutes(30),
        "P1: due 30 minutes later"
    );
    let alerts = b.store.alerts_pending(now()).await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|p| p.request_id == id && p.alert == SlaAlert::Urgent),
        "the urgent alert fires as for any new P1: {alerts:?}"
    );
    server.drop_db().await.unwrap();
}

fn email(from: &str, subject: &str, id: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@vendor.example\r\nSubject: {subject}\r\n\
         Message-ID: <{id}>\r\nDate: Tue, 1 Dec 2026 03:00:00 +0000\r\n{extra}\r\nSee subject.\r\n"
    )
    .into_bytes()
}

async fn count(server: &Server, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&server.pool).await.unwrap();
    n
}

/// Polls until the mailbox's last UID reaches `uid` (bounded).
async fn wait_for_uid(server: &Server, uid: i64) {
    wait_for_uid_of(server, "support", uid).await;
}

async fn wait_for_uid_of(server: &Server, mailbox: &str, uid: i64) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let last: Option<(i64,)> =
            sqlx::query_as("SELECT last_uid FROM intake_mailboxes WHERE name = $1")
                .bind(mailbox)
                .fetch_optional(&server.pool)
                .await
                .unwrap();
        if last.is_some_and(|l| l.0 >= uid) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the mailbox {mailbox} did not reach UID {uid}: {last:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn spawn_watcher(
    server: &Server,
    port: u16,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    spawn_watcher_with(server, "support", port, TlsMode::None, None)
}

fn spawn_watcher_with(
    server: &Server,
    name: &str,
    port: u16,
    tls: TlsMode,
    ca_file: Option<std::path::PathBuf>,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    spawn_watcher_on(server, name, port, tls, ca_file, "INBOX")
}

fn spawn_watcher_on(
    server: &Server,
    name: &str,
    port: u16,
    tls: TlsMode,
    ca_file: Option<std::path::PathBuf>,
    folder: &str,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    use rapport_server::intake::mailbox::{MailboxConfig, watch};
    let (tx, rx) = tokio::sync::watch::channel(false);
    let cfg = MailboxConfig {
        name: name.into(),
        host: "127.0.0.1".into(),
        port,
        tls,
        ca_file,
        user: rapport_tests::dovecot::USER.into(),
        password: rapport_tests::dovecot::PASSWORD.into(),
        folder: folder.into(),
        poll: std::time::Duration::from_secs(2),
    };
    let clock: rapport_server::Clock = std::sync::Arc::new(Utc::now);
    let task = tokio::spawn(watch(server.pool.clone(), clock, cfg, rx));
    (tx, task)
}

async fn stop_watcher(
    w: (
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    ),
) {
    w.0.send_replace(true);
    let _ = w.1.await;
}

fn acme_input() -> AccountInput {
    AccountInput {
        name: "Acme".into(),
        plan: Plan::ProfessionalSupport,
        time_zone: "Europe/Berlin".into(),
        fiscal_year_start_month: 1,
        owner_csm_id: None,
        account_rep_id: None,
        slack_channel: None,
        support_email_domains: vec!["acme.com".into()],
        stage: LifecycleStage::Active,
        tags: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_is_fetched_over_implicit_tls_and_starttls_and_a_wrong_ca_is_refused() {
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let csm = server.user(Role::Csm, &[team]).await.unwrap();
    let lead = server.user(Role::SupportLead, &[team]).await.unwrap();
    let a = Client::new(&server, &csm).await.unwrap();
    a.store.account_create(acme_input(), now()).await.unwrap();
    a.sync().await.unwrap();
    let b = Client::new(&server, &lead).await.unwrap();
    b.sync().await.unwrap();
    let mut dovecot = rapport_tests::dovecot::Dovecot::start_tls().await.unwrap();
    let ca = dovecot
        .cert_file
        .clone()
        .expect("a TLS Dovecot has a certificate");
    let imaps = dovecot.tls_port.expect("a TLS Dovecot has an IMAPS port");

    // Implicit TLS (IMAPS) takes in UID 1.
    dovecot
        .deliver(&email(
            "ana@acme.com",
            "URGENT: over IMAPS",
            "t1@acme.com",
            "",
        ))
        .await
        .unwrap();
    let w = spawn_watcher_with(
        &server,
        "support",
        imaps,
        TlsMode::Implicit,
        Some(ca.clone()),
    );
    wait_for_uid(&server, 1).await;
    stop_watcher(w).await;

    // STARTTLS on the plain port carries on from there with UID 2.
    dovecot
        .deliver(&email("ana@acme.com", "Over STARTTLS", "t2@acme.com", ""))
        .await
        .unwrap();
    let w = spawn_watcher_with(
        &server,
        "support",
        dovecot.port,
        TlsMode::StartTls,
        Some(ca.clone()),
    );
    wait_for_uid(&server, 2).await;
    stop_watcher(w).await;

    b.sync().await.unwrap();
    let board = b.store.requests_board(now()).await.unwrap();
    let titles: Vec<(&str, Severity)> = board
        .open
        .iter()
        .map(|r| (r.title.as_str(), r.severity))
        .collect();
    assert!(
        titles.contains(&("URGENT: over IMAPS", Severity::P1)),
        "{titles:?}"
    );
    assert!(
        titles.contains(&("Over STARTTLS", Severity::P3)),
        "{titles:?}"
    );
    assert_eq!(titles.len(), 2, "each message once: {titles:?}");

    // A CA that did not sign the server's certificate: no session, a clear error in the
    // mailbox's state, nothing taken in.
    let other = dovecot.dir.path().join("other-ca.pem");
    std::fs::write(
        &other,
        rapport_tests::dovecot::self_signed_certificate().unwrap().0,
    )
    .unwrap();
    for (name, port, mode) in [
        ("wrong-ca-imaps", imaps, TlsMode::Implicit),
        ("wrong-ca-starttls", dovecot.port, TlsMode::StartTls),
    ] {
        let w = spawn_watcher_with(&server, name, port, mode, Some(other.clone()));
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        let state = loop {
            let mut conn = server.pool.acquire().await.unwrap();
            let states = rapport_server::intake::mailbox::states(&mut conn)
                .await
                .unwrap();
            if let Some(s) = states
                .into_iter()
                .find(|s| s.name == name && s.last_error.is_some())
            {
                break s;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name}: no error recorded"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        stop_watcher(w).await;
        let err = state.last_error.unwrap();
        assert!(
            err.contains("TLS handshake") && err.contains("certificate") && err.contains("ca_file"),
            "{name}: the error says the certificate is not vouched for: {err}"
        );
        assert_eq!(state.last_uid, 0, "{name}: nothing taken in");
    }
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM records WHERE entity = 'request'"
        )
        .await,
        2
    );
    dovecot.stop().await.unwrap();
    server.drop_db().await.unwrap();
}

/// Waits (bounded) for `changes` on a desktop's event stream and pulls once for each, as
/// the app does, until the board shows a request `found` accepts (at most 5 wake-ups:
/// notices of one commit may come as more than one).
async fn pull_on_changes_until(
    stream: &mut EventStream,
    b: &Client,
    found: impl Fn(&rapport_client::requests::RequestRow) -> bool,
) -> rapport_client::requests::RequestRow {
    for _ in 0..5 {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(60), stream.next())
            .await
            .expect("no event within a minute");
        assert_eq!(ev.as_deref(), Some("changes"), "the stream ended");
        b.sync().await.unwrap();
        let board = b.store.requests_board(now()).await.unwrap();
        if let Some(row) = board.open.into_iter().find(&found) {
            return row;
        }
    }
    panic!("five wake-ups and the request is not on the board");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_and_mail_intake_wake_a_signed_in_desktop_through_its_event_stream() {
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let csm = server.user(Role::Csm, &[team]).await.unwrap();
    let lead = server.user(Role::SupportLead, &[team]).await.unwrap();
    let a = Client::new(&server, &csm).await.unwrap();
    a.store.account_create(acme_input(), now()).await.unwrap();
    a.sync().await.unwrap();
    let b = Client::new(&server, &lead).await.unwrap();
    b.sync().await.unwrap();
    let mut conn = server.pool.acquire().await.unwrap();
    let key = keys::create(&mut conn, "website chat", None, Utc::now())
        .await
        .unwrap();
    drop(conn);
    let mut dovecot = rapport_tests::dovecot::Dovecot::start().await.unwrap();
    let watcher = spawn_watcher(&server, dovecot.port);

    // The desktop holds its event stream open, as the app does once signed in.
    let token = server.token(&lead).await.unwrap();
    let mut stream = HttpTransport::new(&server.url)
        .unwrap()
        .events(&token)
        .await
        .unwrap();
    assert_eq!(stream.next().await.as_deref(), Some("ready"));

    // A P1 chat: the stream says `changes`, and the one pull it triggers brings the request.
    let body = serde_json::json!({
        "conversation_id": "chat-event-1",
        "customer_email": "ops@acme.com",
        "customer_name": "Ops Team",
        "severity": "P1",
        "title": "Payments down",
        "message": "Nothing goes through.",
        "sent_at": Utc::now(),
    })
    .to_string();
    let (status, answer) = post_signed(
        &server.url,
        "/v1/intake/chat",
        key.key.id,
        &key.secret,
        &body,
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let chat: uuid::Uuid = answer["request_id"].as_str().unwrap().parse().unwrap();
    let row = pull_on_changes_until(&mut stream, &b, |r| r.id == chat).await;
    assert_eq!(row.severity, Severity::P1);
    let alerts = b.store.alerts_pending(now()).await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|p| p.request_id == chat && p.alert == SlaAlert::Urgent),
        "{alerts:?}"
    );

    // An urgent email: the same, from the mailbox watcher.
    dovecot
        .deliver(&email(
            "ana@acme.com",
            "URGENT: warehouse sync stopped",
            "ev1@acme.com",
            "",
        ))
        .await
        .unwrap();
    let row = pull_on_changes_until(&mut stream, &b, |r| {
        r.title == "URGENT: warehouse sync stopped"
    })
    .await;
    assert_eq!((row.severity, row.needs_triage), (Severity::P1, true));
    let alerts = b.store.alerts_pending(now()).await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|p| p.request_id == row.id && p.alert == SlaAlert::Urgent),
        "{alerts:?}"
    );

    stop_watcher(watcher).await;
    dovecot.stop().await.unwrap();
    server.drop_db().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_support_mailbox_is_imported_exactly_once_through_restarts_and_two_watchers() {
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let csm = server.user(Role::Csm, &[team]).await.unwrap();
    let lead = server.user(Role::SupportLead, &[team]).await.unwrap();
    let a = Client::new(&server, &csm).await.unwrap();
    let b = Client::new(&server, &lead).await.unwrap();
    a.store
        .account_create(
            AccountInput {
                name: "Acme".into(),
                plan: Plan::ProfessionalSupport,
                time_zone: "Europe/Berlin".into(),
                fiscal_year_start_month: 1,
                owner_csm_id: None,
                account_rep_id: None,
                slack_channel: None,
                support_email_domains: vec!["acme.com".into()],
                stage: LifecycleStage::Active,
                tags: vec![],
            },
            now(),
        )
        .await
        .unwrap();
    a.sync().await.unwrap();
    let mut dovecot = rapport_tests::dovecot::Dovecot::start().await.unwrap();

    // UIDs 1-5: urgent, plain, an urgent reply to the plain one, an auto-reply, a broken one.
    dovecot
        .deliver(&email(
            "ana@acme.com",
            "URGENT: checkout down",
            "u1@acme.com",
            "",
        ))
        .await
        .unwrap();
    dovecot
        .deliver(&email("ana@acme.com", "Export question", "p1@acme.com", ""))
        .await
        .unwrap();
    dovecot
        .deliver(&email(
            "ana@acme.com",
            "Re: Export question - urgent now",
            "p2@acme.com",
            "In-Reply-To: <p1@acme.com>\r\n",
        ))
        .await
        .unwrap();
    dovecot
        .deliver(&email(
            "ana@acme.com",
            "Out of office",
            "o1@acme.com",
            "Auto-Submitted: auto-replied\r\n",
        ))
        .await
        .unwrap();
    dovecot
        .deliver(b"Subject: no sender at all\r\n\r\nbody\r\n")
        .await
        .unwrap();
    let (stop1, w1) = spawn_watcher(&server, dovecot.port);
    let mut w1 = Some(w1);
    wait_for_uid(&server, 5).await;
    b.sync().await.unwrap();
    let board = b.store.requests_board(now()).await.unwrap();
    let by_title = |t: &str| board.open.iter().find(|r| r.title == t).cloned();
    let urgent =
        by_title("URGENT: checkout down").expect("the urgent email is on the lead's board");
    assert_eq!(
        (urgent.severity, urgent.needs_triage),
        (Severity::P1, true),
        "urgent: P1 needs triage"
    );
    let plain = by_title("Export question").expect("the plain email is on the board");
    assert_eq!(
        (plain.severity, plain.needs_triage),
        (Severity::P1, true),
        "the urgent reply escalated the plain request (P3 needs triage before)"
    );
    assert_eq!(
        board.open.len(),
        2,
        "the reply threads, the auto-reply opens nothing"
    );
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM intake_errors WHERE reason LIKE '%From%'"
        )
        .await,
        1,
        "the message without a sender is an intake error"
    );

    // 500 more, while a second watcher runs on the same database, Dovecot restarts and the
    // first watcher is replaced mid-stream.
    let (stop2, w2) = spawn_watcher(&server, dovecot.port);
    for i in 0..500 {
        dovecot
            .deliver(&email(
                "bo@acme.com",
                &format!("Load test {i}"),
                &format!("l{i}@acme.com"),
                "",
            ))
            .await
            .unwrap();
        if i == 150 {
            dovecot.restart().await.unwrap();
        }
        if i == 300 {
            stop1.send_replace(true);
            if let Some(w) = w1.take() {
                let _ = w.await;
            }
        }
    }
    let (stop3, w3) = spawn_watcher(&server, dovecot.port);
    wait_for_uid(&server, 505).await;
    let loaded = count(
        &server,
        "SELECT count(*) FROM records WHERE entity = 'request' AND fields->>'title' LIKE 'Load test %'",
    )
    .await;
    assert_eq!(loaded, 500, "every message imported exactly once");
    let distinct = count(
        &server,
        "SELECT count(DISTINCT fields->>'title') FROM records WHERE entity = 'request' AND fields->>'title' LIKE 'Load test %'",
    )
    .await;
    assert_eq!(distinct, 500, "none twice, none skipped");
    for s in [stop2, stop3] {
        s.send_replace(true);
    }
    let _ = w2.await;
    let _ = w3.await;
    dovecot.stop().await.unwrap();
    server.drop_db().await.unwrap();
}

/// How many timeline entries (request events) each request has, by request id.
async fn timeline_lengths(server: &Server) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT fields->>'request_id', count(*) FROM records WHERE entity = 'request_event'
         GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&server.pool)
    .await
    .unwrap()
}

/// The titles of the requests intake opened, each with how many requests carry it.
async fn request_titles(server: &Server) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT fields->>'title', count(*) FROM records WHERE entity = 'request'
         GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&server.pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_folder_with_a_new_uidvalidity_imports_only_what_is_new() {
    const FOLDER: &str = "Support";
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let csm = server.user(Role::Csm, &[team]).await.unwrap();
    let a = Client::new(&server, &csm).await.unwrap();
    a.store.account_create(acme_input(), now()).await.unwrap();
    a.sync().await.unwrap();
    let mut dovecot = rapport_tests::dovecot::Dovecot::start().await.unwrap();
    dovecot.create_folder(FOLDER).await.unwrap();
    let first = [
        email("ana@acme.com", "Export question", "r1@acme.com", ""),
        email("ana@acme.com", "URGENT: checkout down", "r2@acme.com", ""),
        email("bo@acme.com", "Invoice missing", "r3@acme.com", ""),
        // No Message-ID: known by its content.
        b"From: cy@acme.com\r\nTo: support@vendor.example\r\nSubject: No id at all\r\n\
          Date: Tue, 1 Dec 2026 03:00:00 +0000\r\n\r\nHello.\r\n"
            .to_vec(),
    ];
    for m in &first {
        dovecot.save(FOLDER, m).await.unwrap();
    }
    let (stop, task) = spawn_watcher_on(
        &server,
        "recreated",
        dovecot.port,
        TlsMode::None,
        None,
        FOLDER,
    );
    wait_for_uid_of(&server, "recreated", 4).await;
    let imported = request_titles(&server).await;
    assert_eq!(imported.len(), 4, "{imported:?}");
    let timelines = timeline_lengths(&server).await;
    let before = dovecot.uid_validity(FOLDER).await.unwrap();

    // The folder is deleted and created again while the watcher runs (a mail admin's
    // "rebuild", a restore), and the same messages come back, with one new one.
    dovecot.delete_folder(FOLDER).await.unwrap();
    dovecot.create_folder(FOLDER).await.unwrap();
    let after = dovecot.uid_validity(FOLDER).await.unwrap();
    assert_ne!(before, after, "a recreated folder has a new UIDVALIDITY");
    for m in &first {
        dovecot.save(FOLDER, m).await.unwrap();
    }
    dovecot
        .save(
            FOLDER,
            &email("dan@acme.com", "New after the rebuild", "r5@acme.com", ""),
        )
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let row: (Option<i64>, i64) = sqlx::query_as(
            "SELECT uid_validity, last_uid FROM intake_mailboxes WHERE name = 'recreated'",
        )
        .fetch_one(&server.pool)
        .await
        .unwrap();
        if row == (Some(i64::from(after)), 5) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the recreated folder was not read to its UID 5: {row:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let titles = request_titles(&server).await;
    assert_eq!(
        titles,
        vec![
            ("Export question".to_owned(), 1),
            ("Invoice missing".to_owned(), 1),
            ("New after the rebuild".to_owned(), 1),
            ("No id at all".to_owned(), 1),
            ("URGENT: checkout down".to_owned(), 1),
        ],
        "the new UIDVALIDITY imported only the new message; the others are known by their \
         Message-ID (or content)"
    );
    // Nor as replies: the old requests' timelines are as they were.
    let new_request: (String,) = sqlx::query_as(
        "SELECT id::text FROM records WHERE entity = 'request'
         AND fields->>'title' = 'New after the rebuild'",
    )
    .fetch_one(&server.pool)
    .await
    .unwrap();
    let mut after: Vec<(String, i64)> = timeline_lengths(&server).await;
    after.retain(|(request, _)| *request != new_request.0);
    assert_eq!(
        after, timelines,
        "no message taken in before was appended again to its request's timeline"
    );
    assert_eq!(
        count(&server, "SELECT count(*) FROM intake_errors").await,
        0,
        "nothing was refused"
    );
    stop_watcher((stop, task)).await;
    dovecot.stop().await.unwrap();
    server.drop_db().await.unwrap();
}
