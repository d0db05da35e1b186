//! On call through the real window: a support lead's desktop is signed in to a running
//! server (in-process on port 0, a fresh PostgreSQL database); a CSM's desktop pushes a P1;
//! the server's watcher pages the on-call person — the lead — and the lead's desktop, woken
//! by its event stream, shows the page (the in-app alert and Today's on-call card). The lead
//! acknowledges it from Today; the server records it, stops the escalation, and the
//! request's timeline in the window shows the acknowledgement by the lead (pulled by sync).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use chrono::{TimeDelta, Utc};
use rapport_domain::oncall::RotationPeriod;
use rapport_domain::request::{Channel, NewRequestInput, Severity};
use rapport_domain::{AccountInput, Plan, Role};
use rapport_server::oncall::OnCallSettings;
use rapport_server::oncall::store::{RotationSpec, set_rotation};
use rapport_server::oncall::watcher::Watcher;
use rapport_tests::syncenv::{Client, PASSWORD, Server, now};
use rapport_tests::{App, Workspace, by_testid};
use serde_json::Value;
use uuid::Uuid;

use crate::common::{launch_demo, unique_word};

async fn user_of(server: &Server, email: &str) -> Result<(Uuid, String)> {
    Ok(
        sqlx::query_as("SELECT id, name FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&server.pool)
            .await?,
    )
}

async fn sign_in(app: &App, server: &Server, email: &str) -> Result<()> {
    app.click(&by_testid("nav-settings")).await?;
    app.fill(&by_testid("connection-server_url"), &server.url)
        .await?;
    app.fill(&by_testid("connection-email"), email).await?;
    app.fill(&by_testid("connection-password"), PASSWORD)
        .await?;
    let button = by_testid("connection-sign-in");
    app.find(&button).await?;
    app.js(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'}); return true;",
        vec![button.clone().into()],
    )
    .await?;
    app.click(&button).await?;
    app.find(&format!(
        "{}[data-state=\"synced\"]",
        by_testid("status-sync")
    ))
    .await
    .context("the lead's desktop is signed in and synced")?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_acknowledges_a_page_from_the_app_and_the_timeline_shows_it() -> Result<()> {
    let server = Server::start().await?;
    let team = server.team("Support").await?;
    let lead_email = server.user(Role::SupportLead, &[team]).await?;
    let csm_email = server.user(Role::Csm, &[team]).await?;
    let (lead, lead_name) = user_of(&server, &lead_email).await?;
    // The lead is the only support lead and the whole rotation: on call at any hour, by
    // their working day or by the rotation.
    let mut conn = server.pool.acquire().await?;
    let spec = RotationSpec {
        members: vec![lead],
        time_zone: "Europe/Berlin".into(),
        handoff_minute: 0,
        period: RotationPeriod::Daily,
        first_day: (Utc::now() - TimeDelta::days(2)).date_naive(),
    };
    set_rotation(&mut conn, Some(&spec), lead, Utc::now()).await?;
    drop(conn);

    // The CSM's desktop has the team's Professional Support account.
    let csm = Client::new(&server, &csm_email).await?;
    let account = csm
        .store
        .account_create(
            AccountInput::active(
                unique_word("Pagely "),
                Plan::ProfessionalSupport,
                "Europe/Berlin",
            ),
            now(),
        )
        .await?;
    csm.sync().await?;

    // The lead's desktop, signed in through Settings → Connection.
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    sign_in(&app, &server, &lead_email).await?;
    app.click(&by_testid("nav-today")).await?;
    app.find(&by_testid("today-oncall-no-pages"))
        .await
        .context("Today's on-call card: nothing waits yet")?;
    let on_call = app.text(&by_testid("today-oncall-now")).await?;
    ensure!(
        on_call.contains(&lead_name),
        "Today shows who is on call now: {on_call:?}"
    );

    // A P1 arrives (pushed by the CSM's desktop) and the server's watcher pages.
    let title = unique_word("Checkout down ");
    let request = csm
        .store
        .request_create(
            NewRequestInput {
                account_id: account.id,
                contact_id: None,
                channel: Channel::Chat,
                severity: Severity::P1,
                needs_triage: false,
                title: title.clone(),
                details: "Every payment fails since 03:02.".into(),
            },
            now(),
        )
        .await?;
    csm.sync().await?;
    let watcher = Watcher::new(server.pool.clone(), Arc::new(OnCallSettings::default()))?;
    let paged = watcher.tick(Utc::now()).await?;
    ensure!(paged.sent == 1, "the P1 pages the on-call lead: {paged:?}");
    let recipients: Option<sqlx::types::Json<Vec<Uuid>>> =
        sqlx::query_scalar("SELECT recipients FROM oncall_pages WHERE request_id = $1")
            .bind(request)
            .fetch_one(&server.pool)
            .await?;
    ensure!(
        recipients.is_some_and(|r| r.0 == vec![lead]),
        "the page went to the lead"
    );

    // The lead's desktop learns of it by itself (event stream → sync → the server's pages):
    // the in-app alert, and the page on Today's card.
    let alert = format!("{}[data-request-id=\"{request}\"]", by_testid("page-alert"));
    app.find(&alert)
        .await
        .context("the in-app alert of the page shows without a refresh")?;
    let row = format!(
        "{}[data-request-id=\"{request}\"]",
        by_testid("today-oncall-page")
    );
    app.find(&row)
        .await
        .context("Today lists the unacknowledged page")?;
    let text = app.text(&row).await?;
    ensure!(
        text.contains(&title) && text.contains("Paged you"),
        "the page row names the request and that it paged me: {text:?}"
    );
    let acks: i64 = sqlx::query_scalar("SELECT count(*) FROM oncall_acks WHERE request_id = $1")
        .bind(request)
        .fetch_one(&server.pool)
        .await?;
    ensure!(acks == 0, "nothing acknowledged it yet");

    // Acknowledge, from Today.
    app.click(&format!("{row} {}", by_testid("today-oncall-ack")))
        .await?;
    app.wait_gone(&row)
        .await
        .context("an acknowledged page leaves Today's card")?;
    app.wait_gone(&alert)
        .await
        .context("and the in-app alert goes")?;
    let (by, via): (Uuid, String) =
        sqlx::query_as("SELECT user_id, via FROM oncall_acks WHERE request_id = $1")
            .bind(request)
            .fetch_one(&server.pool)
            .await
            .context("the server recorded the acknowledgement")?;
    ensure!(
        by == lead && via == "app",
        "acknowledged by the lead in the app"
    );
    // The escalation stopped: at 6 minutes nobody else is paged.
    let later = watcher.tick(Utc::now() + TimeDelta::minutes(6)).await?;
    ensure!(
        later.claimed == 0,
        "no page to the support leads after the acknowledgement: {later:?}"
    );

    // The request's timeline, in the window, shows the acknowledgement by the lead.
    let urgent = format!(
        "{}[data-request-id=\"{request}\"]",
        by_testid("today-urgent-request")
    );
    app.click(&urgent).await?;
    app.find(&by_testid("request-status"))
        .await
        .context("the request's page opens")?;
    // The acknowledgement reaches this desktop by a sync (the wake after the ack, the event
    // stream, at the latest the periodic sync a minute later); the open page reloads when it
    // lands. On failure, say what the window showed.
    let script = format!(
        "return Array.from(document.querySelectorAll('[data-testid=timeline-event]'))
           .find(e => e.dataset.kind === 'status_changed'
             && e.textContent.includes('Status changed from open to acknowledged')
             && e.textContent.includes({name}))?.textContent ?? null",
        name = Value::String(lead_name.clone())
    );
    let waited = app
        .poll(
            "the acknowledgement on the request's timeline",
            Duration::from_secs(75),
            async |c| {
                let v = c.execute(&script, vec![]).await?;
                Ok((!v.is_null()).then_some(v))
            },
        )
        .await;
    let shown = match waited {
        Ok(v) => v,
        Err(e) => {
            let seen = app
                .js(
                    "return [document.querySelector('[data-testid=statusbar]')?.textContent ?? '(no status bar)',
                             ...Array.from(document.querySelectorAll('[data-testid=timeline-event]'))
                               .map(e => e.dataset.kind + ': ' + e.textContent)].join(' | ')",
                    vec![],
                )
                .await
                .unwrap_or_default();
            return Err(e.context(format!("the window showed: {seen}")));
        }
    };
    ensure!(
        shown.as_str().is_some_and(|t| t.contains(&lead_name)),
        "acknowledged by the lead, on the timeline: {shown}"
    );
    let status = app.text(&by_testid("request-status")).await?;
    ensure!(
        status == "Acknowledged",
        "the request moved from open to acknowledged: {status:?}"
    );
    app.quit().await?;
    server.drop_db().await?;
    Ok(())
}
