//! The desktop app as its package installs it: `make package-check` points RAPPORT_APP_BIN
//! at `usr/bin/rapport-desktop` unpacked from the .deb in dist/ (a release build with the UI
//! embedded), and this opens it on an empty data folder, loads the demo from the first-start
//! screen and writes one note. (`make webdriver` runs it on the debug build as well.)

use anyhow::{Context, Result, ensure};
use rapport_tests::{App, Workspace, by_testid};

use crate::common::{DEMO_ACCOUNTS, add_note, open_account, rendered_names, unique_word};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_packaged_app_opens_loads_the_demo_and_keeps_a_note() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = App::launch(&mut ws, &[]).await?;
    app.testid("onboarding")
        .await
        .context("a first start asks who I am")?;
    app.fill(&by_testid("profile-name"), "Pat Package").await?;
    app.fill(&by_testid("profile-email"), "pat@example.com")
        .await?;
    app.click(&by_testid("choose-demo")).await?;
    let total = crate::common::show_accounts(&app, |n| n >= DEMO_ACCOUNTS)
        .await
        .context("the demo data embedded in the binary loads and the app opens on Today")?;
    ensure!(
        total >= DEMO_ACCOUNTS,
        "the demo has its {DEMO_ACCOUNTS}+ accounts: {total}"
    );

    let names = rendered_names(&app).await?;
    let name = names.first().context("a rendered account row")?.clone();
    open_account(&app, &name).await?;
    let word = unique_word("packaged");
    let note_id = add_note(
        &app,
        &format!("Installed from the **{word}** package."),
        &word,
    )
    .await?;
    let body = app
        .text(&format!(
            "[data-note-id=\"{note_id}\"] [data-testid=note-body]"
        ))
        .await?;
    ensure!(
        body.contains(&word),
        "the note is listed with its text on {name:?}: {body:?}"
    );
    app.quit().await
}
