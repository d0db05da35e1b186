//! The intake bench (docs/BENCHMARKS.md), on the real server in-process (TCP on 127.0.0.1,
//! a fresh PostgreSQL database from `DATABASE_URL`), a real Dovecot started from a
//! throw-away config, and a real desktop cache:
//!
//! 1. Emails/s: N messages (1,000 by default) are delivered into the mailbox first (through
//!    dovecot-lda, not timed), then one watcher starts; the figure is N over the time from
//!    its start until the mailbox's last UID is N (each message parsed, triaged and
//!    recorded in its own transaction with the mailbox's place).
//! 2. Chat requests/s: C signed `POST /v1/intake/chat` calls (500 by default), each a new
//!    conversation, from K concurrent callers (8 by default) on kept-alive connections.
//! 3. Intake-to-desktop delay over S chats (50 by default), one at a time: from sending a
//!    signed P1 chat to `changes` on a signed-in desktop's event stream, and to the request
//!    being on that desktop's Requests board after the pull the event triggers.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p rapport-tests --bin intake-bench [-- --messages N --chats N --callers N --samples N]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use chrono::Utc;
use rapport_client::sync::HttpTransport;
use rapport_domain::{AccountInput, LifecycleStage, Plan, Role};
use rapport_server::intake::keys;
use rapport_server::intake::mailbox::{MailboxConfig, watch};
use rapport_server::intake::tls::TlsMode;
use rapport_tests::dovecot::Dovecot;
use rapport_tests::syncenv::{Client, Server, now};
use uuid::Uuid;

fn arg(name: &str, default: usize) -> Result<usize> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => Ok(args
            .get(i + 1)
            .context("a number after the flag")?
            .parse()?),
        None => Ok(default),
    }
}

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores; load average at start {load}")
}

fn email(i: usize) -> Vec<u8> {
    format!(
        "From: Bench Customer <ops{}@acme.com>\r\nTo: support@vendor.example\r\n\
         Subject: Bench question {i}\r\nMessage-ID: <bench-{i}@acme.com>\r\n\
         Date: Tue, 1 Dec 2026 03:00:00 +0000\r\nContent-Type: text/plain\r\n\r\n\
         Hello, the export of report {i} stops at 80 %. Could you have a look?\r\n",
        i % 17
    )
    .into_bytes()
}

struct Signer {
    http: reqwest::Client,
    url: String,
    key_id: Uuid,
    signing: Vec<u8>,
}

impl Signer {
    /// One signed chat; its request id.
    async fn chat(&self, conversation: &str, severity: &str) -> Result<Uuid> {
        let body = serde_json::json!({
            "conversation_id": conversation,
            "customer_email": "ops@acme.com",
            "customer_name": "Ops",
            "severity": severity,
            "title": format!("Bench chat {conversation}"),
            "message": "Checkout fails for every customer since a minute ago.",
            "sent_at": Utc::now(),
        })
        .to_string();
        let ts = Utc::now().timestamp();
        let sig = keys::sign(&self.signing, ts, body.as_bytes());
        let r = self
            .http
            .post(format!("{}/v1/intake/chat", self.url))
            .header("content-type", "application/json")
            .header("rapport-intake-key", self.key_id.to_string())
            .header("rapport-timestamp", ts.to_string())
            .header("rapport-signature", sig)
            .body(body)
            .send()
            .await?;
        let status = r.status();
        let answer: serde_json::Value = r.json().await?;
        ensure!(status.as_u16() == 201, "chat answered {status}: {answer}");
        Ok(answer["request_id"]
            .as_str()
            .context("no request_id")?
            .parse()?)
    }
}

async fn last_uid(server: &Server) -> Result<i64> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT last_uid FROM intake_mailboxes WHERE name = 'bench'")
            .fetch_optional(&server.pool)
            .await?;
    Ok(row.map_or(0, |r| r.0))
}

#[tokio::main]
async fn main() -> Result<()> {
    let messages = arg("--messages", 1000)?;
    let chats = arg("--chats", 500)?;
    let callers = arg("--callers", 8)?.max(1);
    let samples = arg("--samples", 50)?.max(1);

    println!("rapport intake bench");
    println!("machine: {}", machine());
    println!("server in-process, PostgreSQL and Dovecot on this machine; loopback TCP\n");

    let server = Server::start().await?;
    let result = run(&server, messages, chats, callers, samples).await;
    server.drop_db().await?;
    result
}

async fn run(
    server: &Server,
    messages: usize,
    chats: usize,
    callers: usize,
    samples: usize,
) -> Result<()> {
    let team = server.team("Support").await?;
    let csm = server.user(Role::Csm, &[team]).await?;
    let lead = server.user(Role::SupportLead, &[team]).await?;
    let owner = Client::new(server, &csm).await?;
    owner
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
        .await?;
    owner.sync().await?;
    let desk = Client::new(server, &lead).await?;
    desk.sync().await?;

    // 1. Emails/s from a mailbox already holding `messages`.
    let mut dovecot = Dovecot::start().await?;
    let t = Instant::now();
    for i in 0..messages {
        dovecot.deliver(&email(i)).await?;
    }
    println!(
        "delivered {messages} messages into Dovecot in {:.1} s (dovecot-lda, not part of the figure)",
        t.elapsed().as_secs_f64()
    );
    let (stop, rx) = tokio::sync::watch::channel(false);
    let cfg = MailboxConfig {
        name: "bench".into(),
        host: "127.0.0.1".into(),
        port: dovecot.port,
        tls: TlsMode::None,
        ca_file: None,
        user: rapport_tests::dovecot::USER.into(),
        password: rapport_tests::dovecot::PASSWORD.into(),
        folder: "INBOX".into(),
        poll: Duration::from_secs(5),
    };
    let clock: rapport_server::Clock = Arc::new(Utc::now);
    let t = Instant::now();
    let watcher = tokio::spawn(watch(server.pool.clone(), clock, cfg, rx));
    let want = i64::try_from(messages)?;
    let deadline = t + Duration::from_secs(1800);
    while last_uid(server).await? < want {
        ensure!(
            Instant::now() < deadline,
            "the mailbox was not taken in within 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let secs = t.elapsed().as_secs_f64();
    stop.send_replace(true);
    let _ = watcher.await;
    dovecot.stop().await?;
    let (opened,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM records WHERE entity = 'request' AND fields->>'title' LIKE 'Bench question %'",
    )
    .fetch_one(&server.pool)
    .await?;
    ensure!(opened == want, "{opened} requests for {messages} messages");
    #[allow(clippy::cast_precision_loss)]
    let rate = messages as f64 / secs;
    println!("emails: {messages} taken in (one request each) in {secs:.2} s: {rate:.0} emails/s");

    // 2. Chat requests/s.
    let mut conn = server.pool.acquire().await?;
    let key = keys::create(&mut conn, "bench chat", None, Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    drop(conn);
    let signer = Arc::new(Signer {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?,
        url: server.url.clone(),
        key_id: key.key.id,
        signing: keys::signing_key(&key.secret),
    });
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..callers {
        let signer = signer.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            for i in (c..chats).step_by(callers) {
                signer.chat(&format!("bench-{i}"), "P3").await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let mut done = 0;
    for task in tasks {
        done += task.await??;
    }
    let secs = t.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let rate = done as f64 / secs;
    println!(
        "chat: {done} signed calls from {callers} concurrent callers in {secs:.2} s: {rate:.0} requests/s"
    );

    // 3. Intake to desktop: the event, then the request on the board after one pull.
    desk.sync().await?;
    let token = server.token(&lead).await?;
    let mut stream = HttpTransport::new(&server.url)?.events(&token).await?;
    ensure!(
        stream.next().await.as_deref() == Some("ready"),
        "the event stream did not start"
    );
    let mut to_event = Vec::new();
    let mut to_board = Vec::new();
    for i in 0..samples {
        let t = Instant::now();
        let id = signer.chat(&format!("latency-{i}"), "P1").await?;
        let mut seen_event = None;
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(30), stream.next())
                .await
                .context("no event within 30 s")?;
            ensure!(ev.as_deref() == Some("changes"), "the event stream ended");
            seen_event.get_or_insert_with(|| t.elapsed());
            desk.sync().await?;
            let board = desk.store.requests_board(now()).await?;
            if board.open.iter().any(|r| r.id == id) {
                break;
            }
        }
        to_event.push(seen_event.unwrap_or_default());
        to_board.push(t.elapsed());
    }
    to_event.sort_unstable();
    to_board.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "intake to desktop over {samples} P1 chats: to `changes` on the event stream p50 {:.1} ms, p95 {:.1} ms; \
         to the Requests board after its pull p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        ms(percentile(&to_event, 0.5)),
        ms(percentile(&to_event, 0.95)),
        ms(percentile(&to_board, 0.5)),
        ms(percentile(&to_board, 0.95)),
        ms(percentile(&to_board, 1.0)),
    );
    Ok(())
}
