//! `make run`'s first look: the app opens on Today over the living demo, which holds
//! urgent requests in every SLA clock state, sessions today, an overdue review, and
//! accounts scored with a 30-day change that the accounts list shows as the account page
//! does.

use anyhow::{Context, Result, ensure};
use rapport_tests::{App, Workspace, by_testid};
use serde_json::Value;

use crate::common::{DEMO_ACCOUNTS, wait_account_count};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_opens_on_a_living_today() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = App::launch(&mut ws, &["--demo"]).await?;
    app.testid("today-page")
        .await
        .context("the app opens on Today")?;

    // Urgent requests in every clock state.
    let states = app
        .wait_js(
            "urgent requests in all five clock states",
            "const s = new Set([...document.querySelectorAll('[data-testid=today-urgent-request]')]
               .map(b => b.dataset.state));
             return ['on_track', 'at_risk', 'breached', 'met', 'missed'].every(x => s.has(x))
               ? [...s] : null",
        )
        .await?;
    eprintln!("urgent request states on Today: {states}");
    app.find(&by_testid("today-rca-due"))
        .await
        .context("a resolved incident awaits its RCA")?;

    // Sessions today and an overdue review.
    let sessions = app.all(&by_testid("today-session")).await?;
    ensure!(
        !sessions.is_empty(),
        "Today lists my onboarding sessions of today"
    );
    app.find(&by_testid("today-review"))
        .await
        .context("Today lists an overdue review of mine")?;

    // The accounts list: scored accounts with a 30-day change.
    app.click(&by_testid("nav-accounts")).await?;
    wait_account_count(&app, |n| n >= DEMO_ACCOUNTS).await?;
    app.click(&by_testid("sort-health_change")).await?;
    let first = app
        .wait_js(
            "a scored row with a 30-day change",
            "const r = [...document.querySelectorAll('[data-testid=account-row]')].find(r =>
               /^\\d+$/.test(r.querySelector('[data-testid=account-row-health]').textContent.trim()) &&
               /^[+−-]\\d+$/.test(r.querySelector('[data-testid=account-row-health-change]').textContent.trim()));
             return r ? [r.dataset.accountId,
               r.querySelector('[data-testid=account-row-health]').textContent.trim()] : null",
        )
        .await?;
    let (id, listed) = match &first {
        Value::Array(v) if v.len() == 2 => (
            v[0].as_str().context("an id")?.to_owned(),
            v[1].as_str().context("a score")?.to_owned(),
        ),
        other => anyhow::bail!("not a row: {other}"),
    };
    // The account page shows the score the list showed.
    app.click(&format!(
        "[data-testid=account-row][data-account-id=\"{id}\"]"
    ))
    .await?;
    let page = app
        .wait_js(
            "the account page's score",
            "const p = document.querySelector('[data-testid=health-panel]');
             return p && p.dataset.score !== '' ? p.dataset.score : null",
        )
        .await?;
    ensure!(
        page.as_str() == Some(listed.as_str()),
        "the list's Health ({listed}) is the account page's ({page})"
    );
    app.quit().await
}
