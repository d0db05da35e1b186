//! Bad input typed in the window is refused with a message naming the field, and nothing
//! is saved.

use anyhow::{Context, Result, ensure};
use fantoccini::key::Key;
use rapport_tests::{App, Workspace, by_testid};

use crate::common::{
    launch_demo, open_account, pending_changes, rendered_names, unique_word, wait_account_count,
};

/// Submits the account form and waits for the error next to `field`; returns its text.
async fn submit_expecting(app: &App, form: &str, field: &str) -> Result<String> {
    app.click(&by_testid(&format!("{form}-submit"))).await?;
    let text = app
        .text(&format!(
            "{} {}",
            by_testid(form),
            by_testid(&format!("field-error-{field}"))
        ))
        .await?;
    Ok(text)
}

/// Types into the time-zone combobox and closes its list.
async fn type_zone(app: &App, css: &str, zone: &str) -> Result<()> {
    app.fill(css, zone).await?;
    app.press(&Key::Escape.to_string()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_account_and_contact_input_is_refused_naming_the_field() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    let total = wait_account_count(&app, |_| true).await?;
    let pending = pending_changes(&app).await?;
    let form = "account-create-form";
    let word = unique_word("Refused");

    app.click(&by_testid("account-new")).await?;
    app.find(&by_testid(form)).await?;

    // Empty name.
    app.fill(&by_testid(&format!("{form}-name")), "").await?;
    let msg = submit_expecting(&app, form, "name").await?;
    ensure!(
        msg.starts_with("Name") && msg.contains("empty"),
        "the name error names the field: {msg:?}"
    );

    // Unknown time zone.
    app.fill(&by_testid(&format!("{form}-name")), &format!("{word} Ltd"))
        .await?;
    type_zone(
        &app,
        &by_testid(&format!("{form}-time_zone")),
        "Mars/Olympus_Mons",
    )
    .await?;
    let msg = submit_expecting(&app, form, "time_zone").await?;
    ensure!(
        msg.starts_with("Time zone") && msg.contains("Mars/Olympus_Mons"),
        "the time zone error names the field and the value: {msg:?}"
    );
    ensure!(
        app.all(&by_testid("field-error-name")).await?.is_empty(),
        "the name is fine now"
    );

    // A link that is not Slack's.
    type_zone(
        &app,
        &by_testid(&format!("{form}-time_zone")),
        "Europe/Berlin",
    )
    .await?;
    app.fill(
        &by_testid(&format!("{form}-slack")),
        "https://example.com/archives/C1",
    )
    .await?;
    let msg = submit_expecting(&app, form, "slack_channel").await?;
    ensure!(
        msg.starts_with("Slack channel") && msg.contains("not a Slack link"),
        "the Slack error: {msg:?}"
    );

    app.click(&by_testid(&format!("{form}-cancel"))).await?;
    app.wait_gone(&by_testid(form)).await?;

    // Nothing was saved: the same count, no such account, no new local change.
    ensure!(
        wait_account_count(&app, |_| true).await? == total,
        "no account was added"
    );
    app.fill(&by_testid("accounts-search"), &word).await?;
    app.find(&by_testid("accounts-empty"))
        .await
        .context("no account named after the refused form")?;
    ensure!(
        pending_changes(&app).await? == pending,
        "a refused form writes nothing"
    );
    app.fill(&by_testid("accounts-search"), "").await?;
    wait_account_count(&app, |n| n == total).await?;

    // A contact with a bad email.
    let name = rendered_names(&app)
        .await?
        .into_iter()
        .next()
        .context("a first account")?;
    open_account(&app, &name).await?;
    let contacts = app.all(&by_testid("contact-row")).await?.len();
    app.click(&by_testid("contact-add")).await?;
    app.fill(&by_testid("contact-form-name"), "Ana Example")
        .await?;
    app.fill(&by_testid("contact-form-email"), "ana-at-example.com")
        .await?;
    app.click(&by_testid("contact-form-submit")).await?;
    let msg = app
        .text(&format!(
            "{} {}",
            by_testid("contact-form"),
            by_testid("field-error-email")
        ))
        .await?;
    ensure!(
        msg.starts_with("Email") && msg.contains("ana-at-example.com"),
        "the email error: {msg:?}"
    );
    app.click(&by_testid("contact-form-cancel")).await?;
    app.wait_gone(&by_testid("contact-form")).await?;
    ensure!(
        app.all(&by_testid("contact-row")).await?.len() == contacts,
        "no contact was added"
    );
    ensure!(
        pending_changes(&app).await? == pending,
        "a refused contact writes nothing"
    );

    // The account's Edit mode refuses a bad link the same way, then saves a good one.
    let edit = "account-edit-form";
    app.click(&by_testid("account-edit")).await?;
    app.fill(
        &by_testid(&format!("{edit}-slack")),
        "http://acme.slack.com/archives/C1",
    )
    .await?;
    let msg = submit_expecting(&app, edit, "slack_channel").await?;
    ensure!(
        msg.starts_with("Slack channel"),
        "the edit form names the field: {msg:?}"
    );
    ensure!(
        pending_changes(&app).await? == pending,
        "a refused edit writes nothing"
    );
    let good = "https://acme.slack.com/archives/C0RAPPORT";
    app.fill(&by_testid(&format!("{edit}-slack")), good).await?;
    app.click(&by_testid(&format!("{edit}-submit"))).await?;
    app.wait_gone(&by_testid(edit)).await?;
    let shown = app.text(&by_testid("account-slack")).await?;
    ensure!(shown == good, "the saved link is shown: {shown:?}");
    app.poll(
        "the status bar to count the edit",
        rapport_tests::driver::WAIT,
        async |_| Ok((pending_changes(&app).await? == pending + 1).then_some(())),
    )
    .await?;
    app.quit().await
}
