//! On call, end to end on real parts: requests opened by intake are paged by the watcher
//! through a real SMTP server (Debian's `python3-aiosmtpd`, started here from a throw-away
//! folder, storing what it receives in a Maildir the test reads back) and to a real HTTP
//! receiver the test starts; the emailed Acknowledge link stops the escalation and shows on
//! the request's timeline; two watchers on one database send each page once; a watcher
//! that dies between claim and send loses nothing. The clock is the test's.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use chrono::{DateTime, TimeDelta, Utc};
use rapport_domain::Role;
use rapport_domain::request::{Channel, Severity};
use rapport_server::intake::{self, Incoming};
use rapport_server::oncall::delivery::webhook_signature;
use rapport_server::oncall::watcher::Watcher;
use rapport_server::oncall::{OnCallSettings, Secret, SmtpSecurity, SmtpSettings};
use rapport_server::routes::admin::{CreateUser, create_user_with};
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use crate::common::{TestApp, assert_applied, client_addr, seed_account};

const LINK_SECRET: &str = "on-call link secret for the tests, 32+ chars";
const PUBLIC_URL: &str = "http://rapport.test";

/// A real SMTP server: `python3 -m aiosmtpd` with its Maildir handler, on a free loopback
/// port, killed when dropped.
pub(crate) struct Smtp {
    pub(crate) port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smtp {
    pub(crate) async fn start() -> Smtp {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Smtp::start_on(port).await
    }

    async fn start_on(port: u16) -> Smtp {
        // Debian's interpreter: python3-aiosmtpd installs for it (make deps).
        let python = "/usr/bin/python3";
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("mail");
        let child = std::process::Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3-aiosmtpd is needed (make deps installs it)");
        let mut smtp = Smtp {
            port,
            maildir,
            _dir: dir,
            child,
        };
        for _ in 0..200 {
            if let Some(status) = smtp.child.try_wait().unwrap() {
                panic!("aiosmtpd exited at start ({status}): is python3-aiosmtpd installed?");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return smtp;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not listen on {port}");
    }

    pub(crate) fn settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "Rapport on call <oncall@rapport.test>".into(),
            timeout: std::time::Duration::from_secs(10),
        }
    }

    /// Every message received so far: (envelope recipients, parsed subject, text body,
    /// Message-ID).
    pub(crate) fn messages(&self) -> Vec<Mail> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) else {
                continue;
            };
            for e in entries {
                let bytes = std::fs::read(e.unwrap().path()).unwrap();
                out.push(Mail::parse(&bytes));
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Mail {
    pub(crate) rcpt: String,
    subject: String,
    body: String,
    pub(crate) message_id: String,
}

impl Mail {
    fn parse(bytes: &[u8]) -> Mail {
        let m = mail_parser::MessageParser::default().parse(bytes).unwrap();
        Mail {
            rcpt: m
                .header("X-RcptTo")
                .and_then(|h| h.as_text())
                .unwrap_or_default()
                .to_owned(),
            subject: m.subject().unwrap_or_default().to_owned(),
            body: m.body_text(0).unwrap_or_default().into_owned(),
            message_id: m.message_id().unwrap_or_default().to_owned(),
        }
    }

    fn ack_path(&self) -> String {
        let start = self.body.find(PUBLIC_URL).expect("the mail has a link") + PUBLIC_URL.len();
        self.body[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }
}

/// A real HTTP receiver for team webhooks: every POST's headers and body.
/// One webhook post: its headers and body.
type Post = (HeaderMap, Vec<u8>);

#[derive(Clone, Default)]
pub(crate) struct Receiver {
    got: Arc<Mutex<Vec<Post>>>,
}

impl Receiver {
    pub(crate) async fn start() -> (Receiver, String) {
        let r = Receiver::default();
        let got = r.got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let got = got.clone();
                async move {
                    got.lock().unwrap().push((headers, body.to_vec()));
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, format!("http://{addr}/hook"))
    }

    fn all(&self) -> Vec<Post> {
        self.got.lock().unwrap().clone()
    }

    /// How many posts each page key got.
    pub(crate) fn per_key(&self) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for (h, _) in self.all() {
            let k = h["rapport-page-key"].to_str().unwrap().to_owned();
            *m.entry(k).or_default() += 1;
        }
        m
    }
}

struct World {
    app: TestApp,
    team: Uuid,
    admin: String,
    lead: Uuid,
    lead_token: String,
    /// A support lead in Tokyo: off work at the test's 09:00 UTC.
    far_lead: Uuid,
    admin_email: String,
    lead_email: String,
    far_lead_email: String,
    settings: Arc<OnCallSettings>,
}

pub(crate) async fn staff(app: &TestApp, role: Role, zone: &str, team: Uuid) -> (Uuid, String) {
    let n = Uuid::now_v7().simple().to_string();
    let u = create_user_with(
        &app.state,
        CreateUser {
            name: format!("{} {}", role.as_str(), &n[24..]),
            email: format!("{}-{n}@vendor.example.com", role.as_str()),
            role,
            time_zone: zone.into(),
            working_hours: None,
            password: crate::common::PASSWORD.into(),
        },
    )
    .await
    .unwrap();
    app.add_member(team, u.id).await;
    (u.id, u.email)
}

/// The lead acknowledges the page of request `req` in the app; the answer's body.
async fn ack_in_app(w: &World, req: Uuid) -> Value {
    w.app
        .post(
            &format!("/v1/oncall/requests/{req}/ack"),
            &w.lead_token,
            None,
        )
        .await
        .expect(StatusCode::OK)
        .clone()
}

async fn world(pool: PgPool, smtp: Option<&Smtp>) -> World {
    let mut app = TestApp::new(pool).await;
    let settings = Arc::new(OnCallSettings {
        public_url: Some(PUBLIC_URL.into()),
        link_secret: Some(Secret(LINK_SECRET.into())),
        smtp: smtp.map(Smtp::settings),
        ..OnCallSettings::default()
    });
    app.state.oncall = settings.clone();
    app.router = rapport_server::app(app.state.clone()).layer(MockConnectInfo(client_addr(1)));
    let team = app.team("Support").await;
    let (admin_id, admin_email) = staff(&app, Role::Admin, "Europe/Berlin", team).await;
    let _ = admin_id;
    let admin = app.login(&admin_email).await;
    // The test's clock starts Thursday 2026-11-26 09:00 UTC: 10:00 in Berlin (working),
    // 18:00 in Tokyo (not).
    let (lead, lead_email) = staff(&app, Role::SupportLead, "Europe/Berlin", team).await;
    let lead_token = app.login(&lead_email).await;
    let (far_lead, far_lead_email) = staff(&app, Role::SupportLead, "Asia/Tokyo", team).await;
    World {
        app,
        team,
        admin,
        lead,
        lead_token,
        far_lead,
        admin_email,
        lead_email,
        far_lead_email,
        settings,
    }
}

/// An account of `w.team` whose customers write from `domain`.
async fn account(w: &World, name: &str, domain: &str) -> Uuid {
    let id = seed_account(&w.app, &w.admin, w.team, name).await;
    let r = w
        .app
        .upsert(
            &w.admin,
            "account",
            id,
            json!({"support_email_domains": [domain]}),
        )
        .await;
    assert_applied(&r, "the account's support domain");
    id
}

/// Opens a request through intake, as a chat or mail from a customer at `domain` would.
async fn open(w: &World, domain: &str, severity: Severity, title: &str) -> Uuid {
    let id = Uuid::now_v7();
    let inc = Incoming {
        channel: Channel::Chat,
        sender_email: format!("ana@{domain}"),
        sender_name: Some("Ana Silva".into()),
        account_hint: None,
        severity,
        needs_triage: false,
        title: title.into(),
        text: "Nothing loads.".into(),
        at: w.app.clock.now(),
        thread_keys: Vec::new(),
    };
    let mut tx = w.app.state.pool.begin().await.unwrap();
    let opened = intake::open(&mut tx, id, &inc, w.app.clock.now())
        .await
        .unwrap();
    assert!(matches!(opened, intake::Opened::Account(_)), "{opened:?}");
    tx.commit().await.unwrap();
    id
}

fn watcher(w: &World) -> Watcher {
    Watcher::new(w.app.state.pool.clone(), w.settings.clone()).unwrap()
}

async fn set_webhook(w: &World, url: &str, format: &str) -> Option<String> {
    let r = w
        .app
        .put(
            &format!("/v1/admin/oncall/webhooks/{}", w.team),
            &w.admin,
            json!({"url": url, "format": format}),
        )
        .await;
    r.expect(StatusCode::OK);
    r.body["secret"].as_str().map(str::to_owned)
}

async fn form(app: &TestApp, method: Method, path: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn page_keys(app: &TestApp, request: Uuid) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT dedupe_key, outcome FROM oncall_pages WHERE request_id = $1 ORDER BY dedupe_key",
    )
    .bind(request)
    .fetch_all(&app.state.pool)
    .await
    .unwrap()
}

fn to(mails: &[Mail], email: &str) -> Vec<Mail> {
    mails
        .iter()
        .filter(|m| m.rcpt.contains(email))
        .cloned()
        .collect()
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_p1_from_intake_is_mailed_escalates_and_stops_when_the_link_is_used(pool: PgPool) {
    let smtp = Smtp::start().await;
    let w = world(pool, Some(&smtp)).await;
    let (hooks, url) = Receiver::start().await;
    set_webhook(&w, &url, "slack").await;
    account(&w, "Globex", "globex.example").await;
    let t0 = w.app.clock.now();
    let req = open(&w, "globex.example", Severity::P1, "Checkout is down").await;
    let watch = watcher(&w);

    // The tick that first sees the request pages the on-call person at once.
    let r = watch.tick(t0).await.unwrap();
    assert_eq!((r.claimed, r.sent), (1, 1), "{r:?}");
    let mails = smtp.messages();
    assert_eq!(
        mails.len(),
        1,
        "only the on-call lead (Berlin, at work): {mails:?}"
    );
    let first = &mails[0];
    assert!(first.rcpt.contains(&w.lead_email), "{first:?}");
    assert!(
        first.subject.contains("[P1]") && first.subject.contains("Globex"),
        "{first:?}"
    );
    assert!(first.subject.contains("Checkout is down"), "{first:?}");
    assert!(
        first.body.contains("P1 - Production system down"),
        "{}",
        first.body
    );
    assert!(
        first.body.contains("30 min left to the first response"),
        "{}",
        first.body
    );
    assert!(
        first.body.contains(&format!("{PUBLIC_URL}/v1/oncall/ack/")),
        "{}",
        first.body
    );
    let slack = hooks.all();
    assert_eq!(slack.len(), 1);
    let body: Value = serde_json::from_slice(&slack[0].1).unwrap();
    assert!(
        body["text"].as_str().unwrap().contains("Checkout is down"),
        "{body}"
    );

    // The same instant again, or a second later: nothing new.
    assert_eq!(watch.tick(t0).await.unwrap().claimed, 0);
    assert_eq!(
        watch
            .tick(t0 + TimeDelta::seconds(1))
            .await
            .unwrap()
            .claimed,
        0
    );

    // 5 minutes without an acknowledgement: every support lead.
    let t5 = t0 + TimeDelta::minutes(5);
    w.app.clock.advance(TimeDelta::minutes(5));
    let r = watch.tick(t5).await.unwrap();
    assert_eq!((r.claimed, r.sent), (1, 1), "{r:?}");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 3, "{mails:?}");
    assert_eq!(to(&mails, &w.far_lead_email).len(), 1, "the Tokyo lead too");
    assert_eq!(to(&mails, &w.lead_email).len(), 2);
    assert!(
        to(&mails, &w.admin_email).is_empty(),
        "admins come at 10 minutes"
    );

    // The Tokyo lead opens the link: a confirm page that changes nothing (mail scanners
    // open links too).
    let far = to(&mails, &w.far_lead_email).remove(0);
    let path = far.ack_path();
    let (status, html) = form(&w.app, Method::GET, &path).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("Checkout is down") && html.contains("<form method=\"post\""),
        "{html}"
    );
    let acks: i64 = sqlx::query_scalar("SELECT count(*) FROM oncall_acks")
        .fetch_one(&w.app.state.pool)
        .await
        .unwrap();
    assert_eq!(acks, 0, "a GET acknowledges nothing");
    let (status, html) = form(&w.app, Method::POST, &path).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Acknowledged"), "{html}");
    let (status, _) = form(&w.app, Method::POST, &path).await;
    assert_eq!(status, StatusCode::GONE, "a link works once");

    // The acknowledgement is on the timeline, by the Tokyo lead, as desktops pull it.
    let (changes, _) = w.app.pull_all(&w.lead_token, "", 500).await;
    let ack_event = changes
        .iter()
        .find(|c| {
            c["entity"] == "request_event"
                && c["fields"]["request_id"] == json!(req)
                && c["fields"]["kind"]["type"] == "status_changed"
        })
        .unwrap_or_else(|| panic!("no acknowledgement event in {changes:#?}"));
    assert_eq!(
        ack_event["fields"]["by"]["user_id"],
        json!(w.far_lead),
        "{ack_event}"
    );
    assert_eq!(
        ack_event["fields"]["kind"]["to"], "acknowledged",
        "{ack_event}"
    );
    let request = changes
        .iter()
        .find(|c| c["entity"] == "request" && c["entity_id"] == json!(req))
        .unwrap();
    assert_eq!(request["fields"]["status"], "acknowledged", "{request}");

    // Escalation stopped: no admins at 10 minutes, nor in the next rounds.
    for m in [10, 15, 20] {
        let r = watch.tick(t0 + TimeDelta::minutes(m)).await.unwrap();
        assert_eq!(r.claimed, 0, "minute {m}: {r:?}");
    }
    assert_eq!(smtp.messages().len(), 3);
    // Acknowledging is not answering: the SLA clock still pages at risk (22.5 minutes in).
    let r = watch.tick(t0 + TimeDelta::minutes(23)).await.unwrap();
    assert_eq!((r.claimed, r.sent), (1, 1), "{r:?}");
    assert_eq!(
        page_keys(&w.app, req).await,
        vec![
            ("at_risk:p1".into(), Some("sent".into())),
            ("escalation:p1:0:0".into(), Some("sent".into())),
            ("escalation:p1:0:1".into(), Some("sent".into())),
        ]
    );
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn without_an_acknowledgement_the_admins_are_paged_and_rounds_repeat(pool: PgPool) {
    let smtp = Smtp::start().await;
    let w = world(pool, Some(&smtp)).await;
    account(&w, "Initech", "initech.example").await;
    let t0 = w.app.clock.now();
    let req = open(&w, "initech.example", Severity::P1, "Login fails").await;
    let watch = watcher(&w);
    for m in [0, 5, 10, 15] {
        watch.tick(t0 + TimeDelta::minutes(m)).await.unwrap();
    }
    let mails = smtp.messages();
    assert_eq!(to(&mails, &w.admin_email).len(), 1, "admins at 10 minutes");
    // Round 2 starts at 15 minutes: the on-call lead again.
    assert_eq!(to(&mails, &w.lead_email).len(), 3, "0, 5 and 15 minutes");
    let keys: Vec<String> = page_keys(&w.app, req)
        .await
        .into_iter()
        .map(|k| k.0)
        .collect();
    assert_eq!(
        keys,
        [
            "escalation:p1:0:0",
            "escalation:p1:0:1",
            "escalation:p1:0:2",
            "escalation:p1:1:0"
        ]
    );
    // The same page to the same person keeps one Message-ID, so a repeat can be folded.
    let ids: std::collections::HashSet<String> =
        mails.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(
        ids.len(),
        mails.len(),
        "each message of each page has its own id"
    );

    // Acknowledged from the app at 16 minutes: the next round does not come.
    w.app.clock.advance(TimeDelta::minutes(16));
    let ack = ack_in_app(&w, req).await;
    assert_eq!(ack["status_changed"], true);
    let r = watch.tick(t0 + TimeDelta::minutes(20)).await.unwrap();
    assert_eq!(r.claimed, 0, "{r:?}");
    // Past 30 minutes: no third round, but the breached clock still pages (only answering
    // the customer stops it); a clock found breached pages `breached`, not `at risk`.
    let r = watch.tick(t0 + TimeDelta::minutes(31)).await.unwrap();
    assert_eq!(r.claimed, 1, "{r:?}");
    let keys: Vec<String> = page_keys(&w.app, req)
        .await
        .into_iter()
        .map(|k| k.0)
        .collect();
    assert!(keys.contains(&"breached:p1".to_owned()), "{keys:?}");
    assert!(!keys.contains(&"at_risk:p1".to_owned()), "{keys:?}");
    assert!(
        !keys.iter().any(|k| k.starts_with("escalation:p1:2:")),
        "{keys:?}"
    );
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn two_watchers_on_one_database_send_each_page_once(pool: PgPool) {
    let w = world(pool, None).await;
    let (hooks, url) = Receiver::start().await;
    let secret = set_webhook(&w, &url, "signed_json")
        .await
        .expect("a secret");
    account(&w, "Umbrella", "umbrella.example").await;
    let t0 = w.app.clock.now();
    let mut requests = Vec::new();
    for i in 0..100 {
        requests.push(open(&w, "umbrella.example", Severity::P1, &format!("Outage {i}")).await);
    }
    let (a, b) = (watcher(&w), watcher(&w));
    let mut claimed = 0;
    for m in [0, 5, 10] {
        let now = t0 + TimeDelta::minutes(m);
        let (ra, rb) = tokio::join!(a.tick(now), b.tick(now));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        claimed += ra.claimed + rb.claimed;
    }
    // 100 requests × 3 steps: 300 pages, each claimed by one watcher and posted once.
    assert_eq!(claimed, 300);
    let per_key = hooks.per_key();
    assert_eq!(per_key.len(), 300);
    assert!(per_key.values().all(|n| *n == 1), "a page went twice");
    // Each post is signed: the receiver can check it with the secret it was shown.
    for (h, body) in hooks.all().iter().take(5) {
        let ts: i64 = h["rapport-timestamp"].to_str().unwrap().parse().unwrap();
        assert_eq!(
            h["rapport-signature"].to_str().unwrap(),
            webhook_signature(&secret, ts, body)
        );
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["severity"], "P1 - Production system down");
        assert!(requests.contains(&v["request_id"].as_str().unwrap().parse().unwrap()));
    }
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_watcher_killed_between_claim_and_send_loses_no_page(pool: PgPool) {
    let w = world(pool, None).await;
    let (hooks, url) = Receiver::start().await;
    set_webhook(&w, &url, "signed_json").await;
    account(&w, "Hooli", "hooli.example").await;
    let t0 = w.app.clock.now();
    for i in 0..200 {
        open(&w, "hooli.example", Severity::P1, &format!("Outage {i}")).await;
    }
    // The first watcher claims every due page and dies before sending any.
    let dead = watcher(&w);
    let claimed = dead.claim(t0).await.unwrap();
    assert_eq!(claimed.len(), 200);
    drop(dead);
    // The survivor finds them claimed: nothing to send while the lease holds.
    let alive = watcher(&w);
    let r = alive.tick(t0 + TimeDelta::seconds(30)).await.unwrap();
    assert_eq!(r.claimed, 0, "{r:?}");
    assert!(hooks.all().is_empty());
    // Once the lease ran out, it takes them again and sends each once.
    let after = t0 + w.settings.lease + TimeDelta::seconds(1);
    let r = alive.tick(after).await.unwrap();
    assert_eq!((r.claimed, r.sent), (200, 200), "{r:?}");
    let per_key = hooks.per_key();
    assert_eq!(per_key.len(), 200);
    assert!(per_key.values().all(|n| *n == 1));
    let attempts: Vec<i32> = sqlx::query_scalar("SELECT DISTINCT attempts FROM oncall_pages")
        .fetch_all(&w.app.state.pool)
        .await
        .unwrap();
    assert_eq!(attempts, vec![2], "each page was claimed twice, sent once");
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_page_that_could_not_be_delivered_is_tried_again(pool: PgPool) {
    // An SMTP server that is not there (a port nobody listens on).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut w = world(pool, None).await;
    let mut s = (*w.settings).clone();
    s.smtp = Some(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "oncall@rapport.test".into(),
        timeout: std::time::Duration::from_secs(5),
    });
    w.settings = Arc::new(s);
    account(&w, "Vandelay", "vandelay.example").await;
    let t0 = w.app.clock.now();
    let req = open(&w, "vandelay.example", Severity::P1, "Imports stuck").await;
    let watch = watcher(&w);
    let r = watch.tick(t0).await.unwrap();
    assert_eq!((r.claimed, r.sent, r.failed), (1, 0, 1), "{r:?}");
    assert_eq!(
        page_keys(&w.app, req).await,
        vec![("escalation:p1:0:0".into(), None)]
    );
    // The SMTP server comes up; after the lease the page goes.
    let smtp = Smtp::start_on(port).await;
    let mut s = (*w.settings).clone();
    s.smtp = Some(smtp.settings());
    let watch = Watcher::new(w.app.state.pool.clone(), Arc::new(s)).unwrap();
    let r = watch.tick(t0 + TimeDelta::minutes(3)).await.unwrap();
    assert_eq!(r.sent, 1, "{r:?}");
    assert_eq!(to(&smtp.messages(), &w.lead_email).len(), 1);
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn admins_edit_the_policy_and_leads_the_overrides(pool: PgPool) {
    let w = world(pool, None).await;
    let (_, csm) = w.app.user(Role::Csm, &[w.team]).await;
    let policy = json!({
        "p1": {"steps": [{"target": "on_call", "after_minutes": 0}, {"target": "admins", "after_minutes": 2}],
               "repeat_minutes": 5, "at_risk": ["on_call"], "breached": ["admins"]},
        "p2": {"steps": [], "repeat_minutes": null, "at_risk": [], "breached": []},
        "p3": {"steps": [], "repeat_minutes": null, "at_risk": [], "breached": []},
        "p4": {"steps": [], "repeat_minutes": null, "at_risk": [], "breached": []},
    });
    for (token, want) in [
        (&csm, StatusCode::FORBIDDEN),
        (&w.lead_token, StatusCode::FORBIDDEN),
        (&w.admin, StatusCode::OK),
    ] {
        let r = w
            .app
            .put("/v1/admin/oncall/policy", token, policy.clone())
            .await;
        assert_eq!(r.status, want, "{}", r.body);
    }
    let setup = w.app.get("/v1/admin/oncall", &w.admin).await;
    assert_eq!(setup.body["policy"], policy);
    // A step before the one above it is refused, naming the field.
    let mut bad = policy.clone();
    bad["p1"]["steps"][1]["after_minutes"] = json!(0);
    bad["p1"]["steps"][0]["after_minutes"] = json!(3);
    let r = w.app.put("/v1/admin/oncall/policy", &w.admin, bad).await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field"], "p1.steps[1].after_minutes", "{}", r.body);
    // Too many steps: the size limit.
    let mut big = policy.clone();
    big["p2"]["steps"] = json!(vec![json!({"target": "admins", "after_minutes": 1}); 21]);
    let r = w.app.put("/v1/admin/oncall/policy", &w.admin, big).await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field"], "p2.steps");

    // Who is on call: the Berlin lead, by follow the sun.
    let now = w.app.get("/v1/oncall", &csm).await;
    now.expect(StatusCode::OK);
    assert_eq!(now.body["on_call"][0]["user_id"], json!(w.lead));
    assert_eq!(now.body["on_call"][0]["reason"], "follow_the_sun");
    // An override: a CSM may not, a lead may; the Tokyo lead covers for the Berlin one.
    let t = w.app.clock.now();
    let body = json!({"covering": w.far_lead, "covered": w.lead,
                      "start": t - TimeDelta::minutes(1), "end": t + TimeDelta::hours(2)});
    let r = w
        .app
        .post("/v1/oncall/overrides", &csm, Some(body.clone()))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = w
        .app
        .post("/v1/oncall/overrides", &w.lead_token, Some(body))
        .await;
    r.expect(StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let now = w.app.get("/v1/oncall", &csm).await;
    assert_eq!(
        now.body["on_call"][0]["user_id"],
        json!(w.far_lead),
        "{}",
        now.body
    );
    assert_eq!(now.body["on_call"][0]["reason"], "override");
    assert_eq!(now.body["on_call"][0]["covering_for"], json!(w.lead));
    let r = w
        .app
        .delete(&format!("/v1/oncall/overrides/{id}"), &w.lead_token)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // A window that ends before it starts is refused.
    let r = w
        .app
        .post(
            "/v1/oncall/overrides",
            &w.admin,
            Some(json!({"covering": w.far_lead, "covered": w.lead, "start": t, "end": t})),
        )
        .await;
    r.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["field"], "end");
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_link_that_was_changed_or_has_expired_does_not_acknowledge(pool: PgPool) {
    let w = world(pool, None).await;
    account(&w, "Soylent", "soylent.example").await;
    let req = open(&w, "soylent.example", Severity::P1, "Green screen").await;
    let now: DateTime<Utc> = w.app.clock.now();
    let token = rapport_server::oncall::link::issue(
        LINK_SECRET.as_bytes(),
        req,
        w.lead,
        now + TimeDelta::hours(24),
    )
    .unwrap();
    let forged = rapport_server::oncall::link::issue(
        b"another server's secret, also long enough",
        req,
        w.lead,
        now + TimeDelta::hours(24),
    )
    .unwrap();
    let (status, _) = form(&w.app, Method::POST, &format!("/v1/oncall/ack/{forged}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    w.app.clock.advance(TimeDelta::hours(25));
    let (status, html) = form(&w.app, Method::POST, &format!("/v1/oncall/ack/{token}")).await;
    assert_eq!(status, StatusCode::GONE, "{html}");
    assert!(html.contains("expired"), "{html}");
    let acks: i64 = sqlx::query_scalar("SELECT count(*) FROM oncall_acks")
        .fetch_one(&w.app.state.pool)
        .await
        .unwrap();
    assert_eq!(acks, 0);
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn the_on_call_screen_lists_the_unacknowledged_pages_the_rotation_and_the_people(
    pool: PgPool,
) {
    let w = world(pool, None).await;
    let (_, csm) = w.app.user(Role::Csm, &[w.team]).await;
    let other_team = w.app.team("Elsewhere").await;
    let (_, stranger) = w.app.user(Role::SupportLead, &[other_team]).await;
    account(&w, "Hooli", "hooli.example").await;
    let spec = json!({"members": [w.far_lead, w.lead], "time_zone": "Europe/Berlin",
                      "handoff_minute": 1200, "period": "daily", "first_day": "2026-11-01"});
    let r = w
        .app
        .put("/v1/admin/oncall/rotation", &w.admin, spec.clone())
        .await;
    r.expect(StatusCode::OK);
    let t0 = w.app.clock.now();
    let req = open(&w, "hooli.example", Severity::P1, "Search is down").await;

    // Nothing was paged yet: the request is on the board, not among the pages.
    let get = |token: String| {
        let app = &w.app;
        async move {
            let r = app.get("/v1/oncall", &token).await;
            r.expect(StatusCode::OK);
            r.body
        }
    };
    let before = get(w.lead_token.clone()).await;
    assert_eq!(before["pages"], json!([]), "no page went out yet: {before}");
    assert_eq!(
        before["rotation"], spec,
        "the rotation is shown to everyone"
    );
    let people = before["people"].as_array().unwrap();
    assert!(
        people
            .iter()
            .any(|p| p["user_id"] == json!(w.lead) && p["role"] == "support_lead"),
        "{people:?}"
    );

    watcher(&w).tick(t0).await.unwrap();
    let lead_view = get(w.lead_token.clone()).await;
    let pages = lead_view["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 1, "{lead_view}");
    assert_eq!(pages[0]["request_id"], json!(req));
    assert_eq!(pages[0]["title"], "Search is down");
    assert_eq!(pages[0]["account_name"], "Hooli");
    assert_eq!(pages[0]["severity"], "p1");
    assert_eq!(pages[0]["pages"], 1);
    assert_eq!(
        pages[0]["paged_me"], true,
        "the Berlin lead is on call at 10:00 Berlin and was paged"
    );
    let csm_view = get(csm.clone()).await;
    assert_eq!(
        csm_view["pages"][0]["paged_me"], false,
        "a CSM of the team sees the page, not as theirs"
    );
    let elsewhere = get(stranger).await;
    assert_eq!(
        elsewhere["pages"],
        json!([]),
        "another team's pages are not listed"
    );

    // Acknowledged in the app: the page is no longer listed, for anyone.
    w.app.clock.advance(TimeDelta::minutes(2));
    ack_in_app(&w, req).await;
    assert_eq!(get(w.lead_token.clone()).await["pages"], json!([]));
    assert_eq!(get(csm).await["pages"], json!([]));
}
