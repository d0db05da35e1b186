//! First start on an empty data folder: "who are you", then the demo or an empty workspace.

use anyhow::{Result, ensure};
use rapport_tests::{App, Workspace, by_testid};

use crate::common::{DEMO_ACCOUNTS, show_accounts};

async fn fill_profile(app: &App, name: &str, email: &str) -> Result<()> {
    app.testid("onboarding").await?;
    let zone = app
        .find(&by_testid("profile-time_zone"))
        .await?
        .prop("value")
        .await?;
    ensure!(
        zone.is_some_and(|z| !z.is_empty()),
        "the time zone defaults to the system's"
    );
    app.fill(&by_testid("profile-name"), name).await?;
    app.fill(&by_testid("profile-email"), email).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_asks_who_i_am_then_starts_empty() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = App::launch(&mut ws, &[]).await?;
    fill_profile(&app, "Robin Field", "robin.example.com").await?;
    app.click(&by_testid("choose-empty")).await?;
    let msg = app.text(&by_testid("field-error-email")).await?;
    ensure!(
        msg.starts_with("Email"),
        "a bad email is refused naming the field: {msg:?}"
    );

    app.fill(&by_testid("profile-email"), "robin@example.com")
        .await?;
    app.click(&by_testid("choose-empty")).await?;
    app.testid("today-page").await?;
    app.click(&by_testid("nav-accounts")).await?;
    let empty = app.text(&by_testid("accounts-empty")).await?;
    ensure!(
        empty.contains("No accounts yet"),
        "an empty workspace says so: {empty:?}"
    );
    app.find(&by_testid("accounts-empty-new")).await?;
    let me = app.text(&by_testid("status-me")).await?;
    ensure!(
        me.contains("Robin Field"),
        "the status bar shows the new profile: {me:?}"
    );
    app.quit().await?;

    // The profile was kept: no question the second time.
    let app = App::launch(&mut ws, &[]).await?;
    app.testid("today-page").await?;
    app.click(&by_testid("nav-accounts")).await?;
    app.testid("accounts-empty").await?;
    ensure!(
        app.all(&by_testid("onboarding")).await?.is_empty(),
        "no onboarding on a second start"
    );
    app.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_can_load_the_demo_workspace() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = App::launch(&mut ws, &[]).await?;
    fill_profile(&app, "Sam Demo", "sam@example.com").await?;
    app.click(&by_testid("choose-demo")).await?;
    show_accounts(&app, |n| n >= DEMO_ACCOUNTS).await?;
    let me = app.text(&by_testid("status-me")).await?;
    ensure!(
        me.contains("Sam Demo"),
        "the demo profile became mine: {me:?}"
    );
    app.click(&by_testid("nav-today")).await?;
    app.testid("today-page").await?;
    app.testid("today-accounts").await?;
    app.quit().await
}
