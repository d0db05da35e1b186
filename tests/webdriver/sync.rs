//! Sign-in through the real window against a real server (in-process on port 0, a fresh
//! PostgreSQL database, a user an admin created): the token lands in the OS keyring (the
//! test's GNOME Keyring inside `dbus-run-session`, see scripts/with-keyring.sh), and no file
//! of the data folder or of the logs contains it. A restart signs in from the keyring;
//! sign-out removes the token from it.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail, ensure};
use keyring_core::{CredentialStore, Entry};
use rapport_client::CACHE_FILE;
use rapport_domain::Role;
use rapport_tests::syncenv::{PASSWORD, Server};
use rapport_tests::{App, Workspace, by_testid};

use crate::common::launch_demo;

/// The keyring calls block on D-Bus: off the async runtime.
async fn keyring_token(email: &str, url: &str) -> Result<Option<String>> {
    let (email, url) = (email.to_owned(), url.to_owned());
    tokio::task::spawn_blocking(move || keyring_lookup(&email, &url)).await?
}

fn keyring_lookup(email: &str, url: &str) -> Result<Option<String>> {
    let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()
        .context("the test keyring (run inside dbus-run-session with scripts/with-keyring.sh)")?;
    let entry = Entry::new_in_store(&store, "Rapport sync token", &format!("{email} on {url}"))?;
    match entry.get_password() {
        Ok(t) => Ok(Some(t)),
        Err(keyring_core::Error::NoEntry) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut read = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    found.push(p.display().to_string());
                }
                read.push(p);
            }
        }
    }
    // The search is not vacuous: it read the cache itself and a log file. (A clean quit
    // checkpoints the WAL and removes its files, so how many files there are varies.)
    let names: Vec<String> = read.iter().map(|p| p.display().to_string()).collect();
    ensure!(
        read.iter()
            .any(|p| p.file_name().is_some_and(|n| n == CACHE_FILE)),
        "the search read the cache file: {names:?}"
    );
    ensure!(
        read.iter().any(|p| p
            .parent()
            .and_then(|d| d.file_name())
            .is_some_and(|n| n == "logs")),
        "the search read a log file: {names:?}"
    );
    Ok(found)
}

/// Clicks a Connection button, brought to the middle of the view first (Settings is a long
/// page, and the status bar covers its bottom edge).
async fn click_centered(app: &App, testid: &str) -> Result<()> {
    let sel = by_testid(testid);
    app.find(&sel).await?;
    app.js(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'}); return true;",
        vec![sel.clone().into()],
    )
    .await?;
    app.click(&sel).await
}

async fn sign_in_click(app: &App) -> Result<()> {
    click_centered(app, "connection-sign-in").await
}

async fn wait_state(app: &App, state: &str) -> Result<()> {
    let sel = format!("{}[data-state=\"{state}\"]", by_testid("status-sync"));
    app.find(&sel)
        .await
        .with_context(|| format!("the status bar shows {state}"))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_keeps_the_token_in_the_keyring_only() -> Result<()> {
    let server = Server::start().await?;
    let team = server.team("Support").await?;
    let email = server.user(Role::Csm, &[team]).await?;
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;

    app.click(&by_testid("nav-settings")).await?;
    app.find(&by_testid("settings-connection")).await?;
    // A wrong password is refused on the password field, and nothing is stored.
    app.fill(&by_testid("connection-server_url"), &server.url)
        .await?;
    app.fill(&by_testid("connection-email"), &email).await?;
    app.fill(&by_testid("connection-password"), "not the password")
        .await?;
    sign_in_click(&app).await?;
    let refused = app.text(&by_testid("field-error-password")).await?;
    ensure!(
        refused.contains("wrong"),
        "the password field says why: {refused}"
    );
    ensure!(
        keyring_token(&email, &server.url).await?.is_none(),
        "no token after a refused sign-in"
    );

    app.fill(&by_testid("connection-password"), PASSWORD)
        .await?;
    sign_in_click(&app).await?;
    app.find(&by_testid("connection-signed-in")).await?;
    wait_state(&app, "synced").await?;

    let token = keyring_token(&email, &server.url)
        .await?
        .context("the token is in the OS keyring")?;
    ensure!(token.starts_with("rpt_"), "a server token");
    app.quit().await?;
    let leaks = files_containing(ws.data_dir(), token.as_bytes())?;
    ensure!(
        leaks.is_empty(),
        "the token is in no file of the data folder or its logs: {leaks:?}"
    );
    let leaks = files_containing(ws.root(), token.as_bytes())?;
    ensure!(
        leaks.is_empty(),
        "nor anywhere in the app's folders: {leaks:?}"
    );

    // A restart signs in from the keyring, without asking.
    let app = App::launch(&mut ws, &[]).await?;
    wait_state(&app, "synced").await?;

    // Sign-out removes the token.
    app.click(&by_testid("nav-settings")).await?;
    click_centered(&app, "connection-sign-out").await?;
    click_centered(&app, "signout-keep").await?;
    wait_state(&app, "signed_out").await?;
    if keyring_token(&email, &server.url).await?.is_some() {
        bail!("sign-out left the token in the keyring");
    }
    app.quit().await?;
    server.drop_db().await?;
    Ok(())
}

/// Live updates: an account another client creates shows in the open accounts list without a
/// manual refresh (server event → pull → `sync://changed` → the list reloads).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_from_another_client_shows_without_a_refresh() -> Result<()> {
    let server = Server::start().await?;
    let team = server.team("Support").await?;
    let email = server.user(Role::Csm, &[team]).await?;
    let other =
        rapport_tests::syncenv::Client::new(&server, &server.user(Role::Csm, &[team]).await?)
            .await?;
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    app.click(&by_testid("nav-settings")).await?;
    app.fill(&by_testid("connection-server_url"), &server.url)
        .await?;
    app.fill(&by_testid("connection-email"), &email).await?;
    app.fill(&by_testid("connection-password"), PASSWORD)
        .await?;
    sign_in_click(&app).await?;
    wait_state(&app, "synced").await?;
    app.click(&by_testid("nav-accounts")).await?;
    // The demo's rows were never pushed, so the first sync leaves the cache holding exactly
    // the server's view for this user: the team's accounts, none yet.
    let before = crate::common::wait_account_count(&app, |n| n == 0)
        .await
        .context("the first sync drops the local-only demo rows the server does not have")?;

    let name = crate::common::unique_word("Livewire ");
    other
        .store
        .account_create(
            rapport_domain::AccountInput {
                name: name.clone(),
                plan: rapport_domain::Plan::Standard,
                time_zone: "UTC".into(),
                fiscal_year_start_month: 1,
                owner_csm_id: None,
                account_rep_id: None,
                slack_channel: None,
                support_email_domains: vec![],
                stage: rapport_domain::LifecycleStage::Active,
                tags: vec![],
            },
            rapport_tests::syncenv::now(),
        )
        .await?;
    other.sync().await?;
    let after = crate::common::wait_account_count(&app, |n| n == before + 1)
        .await
        .context("the list counts the other client's account, without a refresh")?;
    ensure!(after == before + 1);
    app.quit().await?;
    server.drop_db().await?;
    Ok(())
}
