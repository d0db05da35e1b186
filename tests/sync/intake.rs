//! A chat posted to the running server reaches a support lead's desktop by itself: the
//! desktop's ordinary sync brings the request, which its board shows as P1 with a running
//! SLA clock from when the customer wrote, and its urgent alert is due.

use chrono::{Duration, Utc};
use rapport_domain::request::{Channel, Severity};
use rapport_domain::sla::SlaAlert;
use rapport_domain::{AccountInput, LifecycleStage, Plan, Role};
use rapport_server::intake::keys;
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
