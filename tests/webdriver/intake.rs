//! Intake through the real window (issue 13), against a real server (in-process on port 0, a
//! fresh PostgreSQL database): chats posted to the server as the vendor's chat backend posts
//! them (signed HTTP calls from the test) reach a signed-in support lead's Requests board by
//! themselves; an unknown customer's chat waits in Unmatched until the lead assigns it; an
//! admin creates an intake key in Settings → Intake, sees its secret once, and the key signs
//! calls until it is revoked there.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use chrono::Utc;
use rapport_domain::{AccountInput, LifecycleStage, Plan, Role};
use rapport_server::intake::keys;
use rapport_tests::syncenv::{Client, PASSWORD, Server, now};
use rapport_tests::{App, Workspace, by_testid};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{launch_demo, unique_word};

/// A chat call signed as the chat backend signs it (HMAC of `timestamp.body`).
async fn post_chat(
    server: &Server,
    key_id: &str,
    secret: &str,
    body: &Value,
) -> Result<(u16, Value)> {
    let body = body.to_string();
    let ts = Utc::now().timestamp();
    let sig = keys::sign(&keys::signing_key(secret), ts, body.as_bytes());
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/intake/chat", server.url))
        .header("content-type", "application/json")
        .header(keys::KEY_HEADER, key_id)
        .header(keys::TIMESTAMP_HEADER, ts.to_string())
        .header(keys::SIGNATURE_HEADER, sig)
        .body(body)
        .send()
        .await?;
    let status = resp.status().as_u16();
    let json = resp.json().await.unwrap_or(Value::Null);
    Ok((status, json))
}

/// A chat body from `email` (a fresh conversation each call).
fn chat(email: &str, severity: &str, title: &str, minutes_ago: i64) -> Value {
    json!({
        "conversation_id": unique_word("chat-"),
        "customer_email": email,
        "customer_name": "Ops Team",
        "severity": severity,
        "title": title,
        "message": "Every payment fails since a few minutes.",
        "sent_at": Utc::now() - chrono::Duration::minutes(minutes_ago),
    })
}

/// An intake key made on the server, as `admin create-intake-key` makes it.
async fn server_key(server: &Server) -> Result<(String, String)> {
    let mut conn = server.pool.acquire().await?;
    let k = keys::create(&mut conn, &unique_word("website chat "), None, Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok((k.key.id.to_string(), k.secret))
}

/// A Professional Support account of `team` on the server (made by another desktop and
/// synced), answering mail from `domain`.
async fn server_account(server: &Server, team: Uuid, domain: &str) -> Result<(Uuid, String)> {
    let csm = server.user(Role::Csm, &[team]).await?;
    let other = Client::new(server, &csm).await?;
    let name = unique_word("Intake Customer ");
    let a = other
        .store
        .account_create(
            AccountInput {
                name: name.clone(),
                plan: Plan::ProfessionalSupport,
                time_zone: "Europe/Berlin".into(),
                fiscal_year_start_month: 1,
                owner_csm_id: None,
                account_rep_id: None,
                slack_channel: None,
                support_email_domains: vec![domain.to_owned()],
                stage: LifecycleStage::Active,
                tags: vec![],
            },
            now(),
        )
        .await?;
    other.sync().await?;
    Ok((a.id, name))
}

/// Clicks the element of `testid`, brought to the middle of the view first (the status
/// bar covers the bottom edge of long pages).
async fn click_centered(app: &App, css: &str) -> Result<()> {
    app.find(css).await?;
    app.js(
        "document.querySelector(arguments[0])?.scrollIntoView({ block: 'center' }); return true;",
        vec![css.into()],
    )
    .await?;
    app.click(css).await
}

/// Signs the window in to `server` as `email` (Settings → Connection) and waits for the
/// first sync.
async fn sign_in(app: &App, server: &Server, email: &str) -> Result<()> {
    app.click(&by_testid("nav-settings")).await?;
    app.fill(&by_testid("connection-server_url"), &server.url)
        .await?;
    app.fill(&by_testid("connection-email"), email).await?;
    app.fill(&by_testid("connection-password"), PASSWORD)
        .await?;
    click_centered(app, &by_testid("connection-sign-in")).await?;
    app.find(&by_testid("connection-signed-in")).await?;
    app.find(&format!(
        "{}[data-state=\"synced\"]",
        by_testid("status-sync")
    ))
    .await
    .context("the first sync ends")?;
    Ok(())
}

fn row_of(id: &str) -> String {
    format!("[data-testid=request-row][data-request-id=\"{id}\"]")
}

fn unmatched_of(id: &str) -> String {
    format!("[data-testid=unmatched-row][data-request-id=\"{id}\"]")
}

/// The board row's seconds left, as its countdown shows them now.
async fn remaining(app: &App, id: &str) -> Result<i64> {
    let v = app
        .js(
            "return document.querySelector(arguments[0])
               ?.querySelector('[data-testid=request-countdown]')?.dataset.remaining ?? null",
            vec![row_of(id).into()],
        )
        .await?;
    v.as_str()
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("a countdown on the row: {v}"))
}

/// Lines of the app's log files that mention `needle` and `also`.
fn log_lines(ws: &Workspace, needle: &str, also: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let dir = ws.data_dir().join("logs");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries {
            let text = std::fs::read_to_string(e?.path()).unwrap_or_default();
            out.extend(
                text.lines()
                    .filter(|l| l.contains(needle) && l.contains(also))
                    .map(str::to_owned),
            );
        }
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p1_chat_reaches_the_leads_board_by_itself() -> Result<()> {
    let server = Server::start().await?;
    let team = server.team("Support").await?;
    let lead = server.user(Role::SupportLead, &[team]).await?;
    let domain = format!("{}.example.com", unique_word("acme"));
    let (account_id, account_name) = server_account(&server, team, &domain).await?;
    let (key_id, secret) = server_key(&server).await?;

    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    sign_in(&app, &server, &lead).await?;
    app.click(&by_testid("nav-requests")).await?;
    app.find(&by_testid("requests-count")).await?;

    // The chat backend posts a P1; nobody touches the app from here on.
    let (status, answer) = post_chat(
        &server,
        &key_id,
        &secret,
        &chat(
            &format!("ops@{domain}"),
            "P1 - Production down, no workaround",
            "Checkout down for all EU customers",
            2,
        ),
    )
    .await?;
    ensure!(
        status == 201,
        "the signed chat is taken in: {status} {answer}"
    );
    ensure!(
        answer["account_id"] == json!(account_id.to_string()),
        "matched by the sender's domain: {answer}"
    );
    let id = answer["request_id"]
        .as_str()
        .context("a request id")?
        .to_owned();

    let row = row_of(&id);
    app.find(&row)
        .await
        .context("the chat shows on the open Requests board by itself")?;
    let sev = app.find(&row).await?.attr("data-severity").await?;
    ensure!(sev.as_deref() == Some("p1"), "the customer's P1: {sev:?}");
    let text = app.text(&row).await?;
    ensure!(
        text.contains("Checkout down for all EU customers") && text.contains(&account_name),
        "the row names the request and its account: {text}"
    );
    // The clock started when the customer wrote (2 minutes ago): about 28 minutes left,
    // and it counts down every second.
    let first = remaining(&app, &id).await?;
    ensure!(
        (26 * 60..=28 * 60 + 5).contains(&first),
        "a P1 sent 2 minutes ago has about 28 minutes left, not {first} s"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = remaining(&app, &id).await?;
    ensure!(
        later < first && first - later <= 5,
        "the countdown runs live: {first} s, then {later} s"
    );

    // The urgent alert: the alert loop (every 5 s) raises it once for the new P1.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while log_lines(&ws, "desktop alert", &id)?.is_empty() {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the urgent alert of the new P1 was not raised"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    app.quit().await?;
    let store = rapport_client::Store::open(ws.data_dir()).await?;
    let sent = store.alerts_sent(id.parse()?).await?;
    store.close().await;
    ensure!(
        sent == vec!["urgent".to_owned()],
        "the urgent alert is recorded once: {sent:?}"
    );
    server.drop_db().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_customers_chat_waits_in_unmatched_until_the_lead_assigns_it() -> Result<()> {
    let server = Server::start().await?;
    let team = server.team("Support").await?;
    let lead = server.user(Role::SupportLead, &[team]).await?;
    let domain = format!("{}.example.com", unique_word("known"));
    let (account_id, account_name) = server_account(&server, team, &domain).await?;
    let (key_id, secret) = server_key(&server).await?;

    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    sign_in(&app, &server, &lead).await?;
    ensure!(
        app.all(&by_testid("settings-intake")).await?.is_empty(),
        "a support lead does not see Settings → Intake"
    );

    let stranger = format!("it@{}.example.org", unique_word("stranger"));
    let (status, answer) = post_chat(
        &server,
        &key_id,
        &secret,
        &chat(&stranger, "P2", "Reports are slow since the upgrade", 1),
    )
    .await?;
    ensure!(
        status == 201 && answer["unmatched"] == json!(true),
        "{status} {answer}"
    );
    let id = answer["request_id"].as_str().context("an id")?.to_owned();

    // Opening the board asks for the queue.
    app.click(&by_testid("nav-requests")).await?;
    let item = unmatched_of(&id);
    app.find(&item)
        .await
        .context("the unknown customer's chat is in Unmatched")?;
    let text = app.text(&item).await?;
    ensure!(
        text.contains("Reports are slow since the upgrade") && text.contains(&stranger),
        "the queue shows the title and the customer: {text}"
    );
    ensure!(
        app.all(&row_of(&id)).await?.is_empty(),
        "not on the board before it has an account"
    );

    // A second one arrives while the board is open: the queue asks again by itself.
    let (status, answer) = post_chat(
        &server,
        &key_id,
        &secret,
        &chat(&stranger, "P3", "Question about exports", 0),
    )
    .await?;
    ensure!(status == 201, "{status} {answer}");
    let second = answer["request_id"].as_str().context("an id")?.to_owned();
    app.poll(
        "the second Unmatched chat to show without a click",
        Duration::from_secs(45),
        async |c| {
            Ok(c.find_all(fantoccini::Locator::Css(&unmatched_of(&second)))
                .await?
                .first()
                .map(|_| ()))
        },
    )
    .await?;

    // Assign the first to the account, picked from the desktop's cache.
    click_centered(&app, &format!("{item} [data-testid=unmatched-assign]")).await?;
    app.fill(&by_testid("unmatched-account-search"), &account_name)
        .await?;
    click_centered(
        &app,
        &format!("[data-testid=unmatched-account-option][data-account-id=\"{account_id}\"]"),
    )
    .await?;
    click_centered(&app, &by_testid("unmatched-assign-confirm")).await?;
    app.find(&row_of(&id))
        .await
        .context("once assigned, the request shows on the board")?;
    let row_text = app.text(&row_of(&id)).await?;
    ensure!(
        row_text.contains(&account_name),
        "in the account it was given: {row_text}"
    );
    app.wait_gone(&item).await.context("and leaves Unmatched")?;
    ensure!(
        !app.all(&unmatched_of(&second)).await?.is_empty(),
        "the other one still waits"
    );
    app.quit().await?;
    server.drop_db().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_key_sees_its_secret_once_and_revokes_it() -> Result<()> {
    let server = Server::start().await?;
    let team = server.team("Support").await?;
    let admin = server.user(Role::Admin, &[team]).await?;
    // What admins see besides keys: a mailbox's state and an intake error.
    sqlx::query(
        "INSERT INTO intake_mailboxes (name, uid_validity, last_uid, imported, state, last_error, \
         last_error_at, updated_at) VALUES ('support', 1700, 41, 41, 'idle', \
         'connection reset by peer', now(), now())",
    )
    .execute(&server.pool)
    .await?;
    let mut conn = server.pool.acquire().await?;
    rapport_server::intake::store::record_error(
        &mut conn,
        "support",
        Some(42),
        Some("<broken-42@mail.example>"),
        "the message has no From address",
        Some(b"garbage"),
        Utc::now(),
    )
    .await?;
    drop(conn);

    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    sign_in(&app, &server, &admin).await?;
    let section = by_testid("settings-intake");
    app.find(&section)
        .await
        .context("an admin sees Settings → Intake")?;
    let mailbox = app.text(&by_testid("intake-mailbox-row")).await?;
    ensure!(
        mailbox.contains("support")
            && mailbox.contains("Connected, idle")
            && mailbox.contains("41"),
        "the mailbox's state and last UID: {mailbox}"
    );
    ensure!(
        mailbox.contains("connection reset by peer"),
        "and its last error: {mailbox}"
    );
    let error = app.text(&by_testid("intake-error-row")).await?;
    ensure!(
        error.contains("the message has no From address")
            && error.contains("<broken-42@mail.example>"),
        "the intake error's reason and Message-ID: {error}"
    );

    // An empty name is refused on the field.
    click_centered(&app, &by_testid("intake-key-create")).await?;
    app.find(&by_testid("field-error-name")).await?;

    let name = unique_word("website chat ");
    app.fill(&by_testid("intake-key-name"), &name).await?;
    click_centered(&app, &by_testid("intake-key-create")).await?;
    let secret = app
        .find(&by_testid("intake-secret"))
        .await?
        .prop("value")
        .await?
        .context("the secret is shown")?;
    ensure!(secret.starts_with("rik_"), "an intake secret: {secret}");
    let key_id = app.text(&by_testid("intake-secret-key-id")).await?;
    let box_text = app.text(&by_testid("intake-secret-box")).await?;
    ensure!(
        box_text.contains("shown this once"),
        "the warning says it is shown once: {box_text}"
    );
    app.find(&by_testid("intake-secret-copy")).await?;
    let listed = app
        .wait_js(
            "the new key in the list",
            &format!(
                "return Array.from(document.querySelectorAll('[data-testid=intake-key-row]'))
                   .find(r => r.dataset.keyId === {key_id:?}) ? true : null"
            ),
        )
        .await?;
    crate::common::expect_true(&listed, "the key is listed")?;

    // The key signs a chat call.
    let (status, answer) = post_chat(
        &server,
        &key_id,
        &secret,
        &chat("someone@nowhere.example", "P4", "How do I export?", 0),
    )
    .await?;
    ensure!(status == 201, "the new key signs a call: {status} {answer}");

    // Once dismissed, the secret is nowhere in the window, nor after coming back.
    click_centered(&app, &by_testid("intake-secret-done")).await?;
    app.wait_gone(&by_testid("intake-secret-box")).await?;
    let shown = "return document.documentElement.outerHTML.includes(arguments[0]) ||
                 Array.from(document.querySelectorAll('input, textarea')).some(i => i.value === arguments[0])";
    ensure!(
        app.js(shown, vec![secret.clone().into()]).await? == json!(false),
        "the secret is gone from the window"
    );
    app.click(&by_testid("nav-requests")).await?;
    app.click(&by_testid("nav-settings")).await?;
    let key_row = format!("[data-testid=intake-key-row][data-key-id=\"{key_id}\"]");
    app.find(&key_row).await?;
    ensure!(
        app.js(shown, vec![secret.clone().into()]).await? == json!(false),
        "and is not shown again"
    );
    let used = app
        .text(&format!("{key_row} [data-testid=intake-key-row-used]"))
        .await?;
    ensure!(used != "never", "the list shows the key's last use: {used}");

    // Revoke it (with a confirmation): the same call is refused now.
    click_centered(&app, &format!("{key_row} [data-testid=intake-key-revoke]")).await?;
    click_centered(&app, &by_testid("intake-key-revoke-confirm")).await?;
    app.find(&format!("{key_row}[data-revoked=\"true\"]"))
        .await
        .context("the list shows it revoked")?;
    let (status, answer) = post_chat(
        &server,
        &key_id,
        &secret,
        &chat("someone@nowhere.example", "P4", "Still there?", 0),
    )
    .await?;
    ensure!(
        status == 401,
        "a revoked key's call is refused: {status} {answer}"
    );

    app.quit().await?;
    let mut stack = vec![ws.root().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .is_ok_and(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()))
            {
                bail!("the secret was written to {}", p.display());
            }
        }
    }
    server.drop_db().await?;
    Ok(())
}
