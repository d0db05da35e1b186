//! On call across real processes: two `rapport-server` processes on one fresh database page
//! through a real SMTP server (Debian's `python3-aiosmtpd`, see [`super::oncall`]) and a
//! real webhook receiver while requests come in through intake; one of them is SIGKILLed in
//! the middle of its work, holding claims it has not sent. No page may be lost, and the
//! duplicates must stay within what the design promises.
//!
//! What the design promises (the module doc of `rapport_server::oncall`): a page is claimed
//! in PostgreSQL before it is sent and marked sent after; a claim whose lease ran out unsent
//! is taken again by another process. Delivery is therefore *at least once*, and the only
//! pages that can reach a receiver twice are the ones the killed process had claimed and not
//! marked sent when it died: it may have handed the mail or the post over just before. A
//! watcher sends its claimed pages one after the other, so of those at most one, the page
//! it was sending when it died, can have been handed over already. Hence the bound this
//! test asserts: at most one page duplicated, at most twice on each channel, and it is one
//! of the killed process's unsent claims; every other page reaches each channel exactly
//! once (two live processes never send a page twice).
//!
//! The processes run on the system clock, so the test's clock is the wall clock here; the
//! config file makes the watcher tick every second and the lease 20 s, its shortest
//! practical value (the config refuses less than 10 s).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use rapport_domain::Role;
use rapport_domain::oncall::RotationPeriod;
use rapport_domain::request::{Channel, Severity};
use rapport_server::intake::{self, Incoming};
use rapport_server::oncall::store::{self, RotationSpec, Webhook, WebhookFormat};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{TestApp, seed_account, set_support_domains};
use crate::oncall::{Receiver, Smtp, staff};
use crate::processes::database_url;

/// Requests opened, each paged once at once (P1, step 1: the on-call person).
const PAGES: usize = 250;
const LEASE_SECONDS: u64 = 20;

/// A `rapport-server` process, killed when dropped.
struct Process {
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    fn start(db_url: &str, config: &std::path::Path) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rapport-server"))
            .args(["serve", "--listen", "127.0.0.1:0", "--log-level", "warn"])
            .arg("--config")
            .arg(config)
            .env("DATABASE_URL", db_url)
            .env_remove("RAPPORT_MAILBOXES")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server binary starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert!(
            line.starts_with("rapport-server listening on "),
            "unexpected first line {line:?}"
        );
        // The log goes on after the first line: pass it on, so the pipe never fills.
        std::thread::spawn(move || {
            for l in out.lines().map_while(Result::ok) {
                eprintln!("[server] {l}");
            }
        });
        Process { child }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

/// Per process (by the pid its watcher's name starts with): pages it marked sent, and
/// pages it holds claimed but unsent.
async fn claims(pool: &PgPool) -> Vec<(String, i64, i64)> {
    sqlx::query_as(
        "SELECT split_part(claimed_by, '-', 1),
                count(*) FILTER (WHERE sent_at IS NOT NULL),
                count(*) FILTER (WHERE sent_at IS NULL)
         FROM oncall_pages GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Opens `n` P1 requests through intake, a few every 100 ms, as customers would write.
async fn open_requests(pool: PgPool, n: usize) {
    for i in 0..n {
        let now = Utc::now();
        let inc = Incoming {
            channel: Channel::Chat,
            sender_email: format!("customer{i}@hooli.example"),
            sender_name: None,
            account_hint: None,
            severity: Severity::P1,
            needs_triage: false,
            title: format!("Outage {i}"),
            text: "Nothing loads.".into(),
            at: now,
            thread_keys: Vec::new(),
        };
        let mut tx = pool.begin().await.unwrap();
        let opened = intake::open(&mut tx, Uuid::now_v7(), &inc, now)
            .await
            .unwrap();
        assert!(matches!(opened, intake::Opened::Account(_)), "{opened:?}");
        tx.commit().await.unwrap();
        if i % 5 == 4 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn a_server_process_killed_mid_run_loses_no_page(pool: PgPool) {
    let url = database_url(&pool);
    let smtp = Smtp::start().await;
    let (hooks, hook_url) = Receiver::start().await;
    let app = TestApp::new(pool.clone()).await;
    let team = app.team("Support").await;
    let (admin_id, admin_email) = staff(&app, Role::Admin, "UTC", team).await;
    let admin = app.login(&admin_email).await;
    let (lead, lead_email) = staff(&app, Role::SupportLead, "Europe/Berlin", team).await;
    // The lead is on call around the clock: in their own working hours by follow the sun,
    // the rest of the day as the only member of the rotation. One mail per page.
    let mut conn = pool.acquire().await.unwrap();
    let rotation = RotationSpec {
        members: vec![lead],
        time_zone: "UTC".into(),
        handoff_minute: 0,
        period: RotationPeriod::Daily,
        first_day: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    };
    store::set_rotation(&mut conn, Some(&rotation), admin_id, Utc::now())
        .await
        .unwrap();
    let hook = Webhook {
        team_id: team,
        url: hook_url,
        format: WebhookFormat::Slack,
        secret: None,
    };
    store::set_webhook(&mut conn, &hook, admin_id, Utc::now())
        .await
        .unwrap();
    drop(conn);
    let account = seed_account(&app, &admin, team, "Hooli").await;
    set_support_domains(&app, &admin, account, json!(["hooli.example"])).await;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[oncall]\ntick_seconds = 1\nlease_seconds = {LEASE_SECONDS}\n\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\
             from = \"Rapport on call <oncall@rapport.test>\"\ntimeout_seconds = 10\n",
            smtp.port
        ),
    )
    .unwrap();
    let mut procs = [Process::start(&url, &config), Process::start(&url, &config)];
    let opener = tokio::spawn(open_requests(pool.clone(), PAGES));

    // The first process found in the middle of its work (pages sent, and claims it holds
    // unsent) is killed with SIGKILL.
    let deadline = Instant::now() + Duration::from_secs(120);
    let victim = loop {
        let by_pid = claims(&pool).await;
        let found = procs.iter().position(|p| {
            by_pid
                .iter()
                .any(|(pid, sent, held)| *pid == p.pid() && *sent >= 40 && *held >= 3)
        });
        if let Some(i) = found {
            procs[i].child.kill().unwrap();
            procs[i].child.wait().unwrap();
            break i;
        }
        assert!(
            Instant::now() < deadline,
            "no process was ever caught holding claims mid-run: {by_pid:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let killed_at = Instant::now();
    let (dead, alive) = (procs[victim].pid(), procs[1 - victim].pid());
    let orphans: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT request_id, dedupe_key FROM oncall_pages
         WHERE split_part(claimed_by, '-', 1) = $1 AND sent_at IS NULL",
    )
    .bind(&dead)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        killed_at.elapsed() < Duration::from_secs(LEASE_SECONDS),
        "the orphans were read before their lease could run out"
    );
    assert!(
        !orphans.is_empty(),
        "the process was killed while it held claims"
    );
    let orphans: Vec<String> = orphans
        .into_iter()
        .map(|(r, k)| format!("{r}:{k}"))
        .collect();
    let sent_by_dead: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM oncall_pages
         WHERE split_part(claimed_by, '-', 1) = $1 AND sent_at IS NOT NULL",
    )
    .bind(&dead)
    .fetch_one(&pool)
    .await
    .unwrap();
    opener.await.unwrap();

    // The survivor sends the rest, and the orphans once their lease has run out.
    let deadline = Instant::now() + Duration::from_secs(LEASE_SECONDS + 120);
    loop {
        let (all, sent): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE sent_at IS NOT NULL) FROM oncall_pages",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if all == i64::try_from(PAGES).unwrap() && sent == all {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pages left unsent: {sent} of {all} sent, {PAGES} requests: {:?}",
            claims(&pool).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every page is marked sent after its messages were handed over, so all have arrived.
    let pages: Vec<(Uuid, String, String, i32, String)> = sqlx::query_as(
        "SELECT request_id, dedupe_key, split_part(claimed_by, '-', 1), attempts,
                coalesce(outcome, '')
         FROM oncall_pages ORDER BY request_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(pages.len(), PAGES, "one page per request");
    let mails = smtp.messages();
    let mut per_mail: std::collections::HashMap<String, usize> = Default::default();
    for m in &mails {
        assert!(m.rcpt.contains(&lead_email), "only the on-call lead: {m:?}");
        *per_mail
            .entry(m.message_id.trim_matches(['<', '>']).to_owned())
            .or_default() += 1;
    }
    let per_post = hooks.per_key();
    let mut duplicated = Vec::new();
    for (request, dedupe, holder, attempts, outcome) in &pages {
        let key = format!("{request}:{dedupe}");
        assert_eq!(outcome, "sent", "{key}: every page ends sent");
        let message_id = format!(
            "page.{}.{}.{}@rapport.test",
            request.simple(),
            dedupe.replace(':', "."),
            lead.simple()
        );
        let mailed = per_mail.get(&message_id).copied().unwrap_or(0);
        let posted = per_post.get(&key).copied().unwrap_or(0);
        assert!(mailed >= 1, "{key} was never mailed: a page was lost");
        assert!(posted >= 1, "{key} was never posted: a page was lost");
        let orphan = orphans.contains(&key);
        if orphan {
            assert_eq!(
                (holder.as_str(), *attempts),
                (alive.as_str(), 2),
                "{key}: the killed process's claim was taken again by the survivor, once"
            );
        } else {
            assert_eq!(*attempts, 1, "{key}: claimed once");
        }
        if mailed > 1 || posted > 1 {
            assert!(
                orphan,
                "{key} went twice ({mailed} mails, {posted} posts) though the killed process \
                 did not hold it: only its unsent claims may repeat"
            );
            assert!(
                mailed <= 2 && posted <= 2,
                "{key}: at most once by each of its two holders ({mailed} mails, {posted} posts)"
            );
            duplicated.push(key);
        }
    }
    assert_eq!(per_mail.len(), PAGES, "no mail for anything but the pages");
    assert_eq!(per_post.len(), PAGES, "no post for anything but the pages");
    eprintln!(
        "{PAGES} pages: process {dead} sent {sent_by_dead} and was killed holding {} unsent; \
         {} mails, {} posts; duplicated: {duplicated:?}",
        orphans.len(),
        mails.len(),
        per_post.values().sum::<usize>()
    );
    assert!(
        duplicated.len() <= 1,
        "a watcher sends one page at a time, so only the one in flight at the kill may \
         repeat: {duplicated:?}"
    );
}
