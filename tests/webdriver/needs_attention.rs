//! Needs attention (issue 17, point 8): a write the service refused is edited in the form
//! its record is normally edited with, not as raw JSON. A support lead renames a team
//! account (accounts are a CSM's, an account rep's or an admin's: the service refuses it),
//! opens the refused change, finds the account form filled with the refused name over the
//! record's other fields, corrects it there and sends it again.

use anyhow::{Context, Result, ensure};
use rapport_domain::Role;
use rapport_tests::syncenv::{Client, PASSWORD, Server, now};
use rapport_tests::{App, Workspace, by_testid};

use crate::common::{launch_demo, unique_word, wait_account_count};

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

async fn input_value(app: &App, testid: &str) -> Result<String> {
    let v = app
        .wait_js(
            &format!("the value of {testid}"),
            &format!(
                "const e = document.querySelector('[data-testid={testid}]');
                 return e ? e.value : null"
            ),
        )
        .await?;
    Ok(v.as_str().context("a string")?.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_account_edit_is_corrected_in_the_account_form() -> Result<()> {
    let server = Server::start().await?;
    let team = server.team("Support").await?;
    let csm = Client::new(&server, &server.user(Role::Csm, &[team]).await?).await?;
    let lead = server.user(Role::SupportLead, &[team]).await?;
    let name = unique_word("Borealis ");
    csm.store
        .account_create(
            rapport_domain::AccountInput {
                name: name.clone(),
                plan: rapport_domain::Plan::ProfessionalSupport,
                time_zone: "America/Chicago".into(),
                fiscal_year_start_month: 4,
                owner_csm_id: None,
                account_rep_id: None,
                slack_channel: None,
                support_email_domains: vec!["borealis.example".into()],
                stage: rapport_domain::LifecycleStage::Active,
                tags: vec![],
            },
            now(),
        )
        .await?;
    csm.sync().await?;

    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    app.click(&by_testid("nav-settings")).await?;
    app.fill(&by_testid("connection-server_url"), &server.url)
        .await?;
    app.fill(&by_testid("connection-email"), &lead).await?;
    app.fill(&by_testid("connection-password"), PASSWORD)
        .await?;
    click_centered(&app, "connection-sign-in").await?;
    app.find(&format!(
        "{}[data-state=\"synced\"]",
        by_testid("status-sync")
    ))
    .await
    .context("signed in and synced")?;
    app.click(&by_testid("nav-accounts")).await?;
    wait_account_count(&app, |n| n == 1)
        .await
        .context("the team's one account")?;
    app.click(&by_testid("account-row")).await?;
    ensure!(app.text(&by_testid("account-name")).await? == name);

    // The lead renames it; the service refuses (a support lead does not write accounts).
    app.click(&by_testid("account-edit")).await?;
    let refused_name = format!("{name} Renamed");
    app.fill(&by_testid("account-edit-form-name"), &refused_name)
        .await?;
    click_centered(&app, "account-edit-form-submit").await?;
    click_centered(&app, "status-attention")
        .await
        .context("the status bar counts the refused change")?;
    let content = app.text(&by_testid("attention-content")).await?;
    ensure!(
        content.contains(&refused_name) && !content.contains('{'),
        "the refused change reads as fields, not JSON: {content:?}"
    );

    // Edit: the account form, with the refused name over the record's other fields.
    click_centered(&app, "attention-edit").await?;
    app.testid("attention-account-form").await?;
    ensure!(
        input_value(&app, "attention-account-form-name").await? == refused_name,
        "the form starts from the refused value"
    );
    ensure!(
        input_value(&app, "attention-account-form-time_zone").await? == "America/Chicago",
        "and the record's other fields"
    );
    ensure!(
        input_value(&app, "attention-account-form-domains").await? == "borealis.example",
        "every field of the account form is there"
    );
    let json_boxes = app
        .js(
            "return document.querySelectorAll('[data-testid=attention] textarea, [data-testid=attention] pre').length",
            vec![],
        )
        .await?;
    ensure!(json_boxes == 0, "no raw JSON editor: {json_boxes}");

    // Corrected in the form and sent again: it is what goes out (and, still a lead's
    // write of an account, comes back refused with the corrected name).
    let corrected = format!("{name} Corrected");
    app.fill(&by_testid("attention-account-form-name"), &corrected)
        .await?;
    click_centered(&app, "attention-account-form-submit").await?;
    let waited = app
        .wait_js(
            "the corrected change refused again",
            &format!(
                "const c = document.querySelector('[data-testid=attention-content]');
                 return c && c.textContent.includes({corrected:?}) || null"
            ),
        )
        .await;
    if let Err(e) = waited {
        let page = app
            .js(
                "return document.querySelector('[data-testid=attention]')?.innerText ?? document.body.innerText",
                vec![],
            )
            .await?;
        return Err(e.context(format!("Needs attention shows: {page}")));
    }
    app.quit().await?;
    server.drop_db().await?;
    Ok(())
}
