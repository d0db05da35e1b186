//! Needs attention (issue 17, point 8): a write the service refused is edited in the form
//! its record is normally edited with, not as raw JSON. A support lead renames a team
//! account (accounts are a CSM's, an account rep's or an admin's: the service refuses it),
//! opens the refused change, finds the account form filled with the refused name over the
//! record's other fields, corrects it there and sends it again. A refused note change
//! opens in the note editor the account page writes notes with, and a refused session
//! change in the session page's form.

use anyhow::{Context, Result, ensure};
use rapport_domain::Role;
use rapport_tests::proxy::{FaultProxy, ProxyFault};
use rapport_tests::syncenv::{Client, PASSWORD, Server, now};
use rapport_tests::{App, Workspace, by_testid};

use crate::common::{add_note, launch_demo, unique_word, wait_account_count};

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

/// Opens Needs attention from the status bar, checks the refused write reads as fields holding
/// `refused` (not JSON), and opens its edit: the form `form` of the record's kind.
async fn edit_refused(app: &App, refused: &str, form: &str) -> Result<()> {
    click_centered(app, "status-attention")
        .await
        .context("the status bar counts the refused change")?;
    let content = app.text(&by_testid("attention-content")).await?;
    ensure!(
        content.contains(refused) && !content.contains('{'),
        "the refused change reads as fields, not JSON: {content:?}"
    );
    click_centered(app, "attention-edit").await?;
    app.testid(form).await?;
    Ok(())
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
    sign_in(&app, &server.url, &lead).await?;
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
    // Edit: the account form, with the refused name over the record's other fields.
    edit_refused(&app, &refused_name, "attention-account-form").await?;
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

/// Signs the window in to `url` as `email` and waits until it has synced.
async fn sign_in(app: &App, url: &str, email: &str) -> Result<()> {
    app.click(&by_testid("nav-settings")).await?;
    app.fill(&by_testid("connection-server_url"), url).await?;
    app.fill(&by_testid("connection-email"), email).await?;
    app.fill(&by_testid("connection-password"), PASSWORD)
        .await?;
    click_centered(app, "connection-sign-in").await?;
    app.find(&format!(
        "{}[data-state=\"synced\"]",
        by_testid("status-sync")
    ))
    .await
    .context("signed in and synced")?;
    Ok(())
}

/// The network is back: asks for a sync now (Settings → Connection → Sync now) instead of
/// waiting out the engine's backoff, and waits until it has run and the status bar counts a
/// refused change. A Retry in the status bar shows only while the state is offline, and a
/// sync already running when the network came back may still fail on what it sent before:
/// Sync now is there in every state, and the sync loop runs once more after a wake that
/// came during a sync, so the sync it asks for starts after this point, with the network
/// back.
async fn sync_now_and_wait(app: &App) -> Result<()> {
    app.click(&by_testid("nav-settings")).await?;
    click_centered(app, "connection-sync-now").await?;
    let counted = app
        .wait_js(
            "a sync after the network came back, with the refused change counted",
            "const s = document.querySelector('[data-testid=status-sync]');
             return s && s.dataset.state === 'synced' && s.dataset.pending === '0'
               && document.querySelector('[data-testid=status-attention]') !== null || null",
        )
        .await;
    if let Err(e) = counted {
        let bar = app.text(&by_testid("statusbar")).await.unwrap_or_default();
        return Err(e.context(format!("the status bar says: {bar}")));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_note_edit_is_corrected_in_the_note_editor() -> Result<()> {
    // A lead writes a note on a CSM's account, then rewrites it while the laptop is off
    // the network; meanwhile the CSM deletes the account. Back online, the service refuses
    // the rewrite (the account is gone): the lead's text waits in Needs attention, in the
    // note editor.
    let server = Server::start().await?;
    // Between the window and the service: while it drops every request, the window is
    // offline (the service sees none of them).
    let network = FaultProxy::start(&server.url, 17).await?;
    let team = server.team("Support").await?;
    let csm = Client::new(&server, &server.user(Role::Csm, &[team]).await?).await?;
    let lead = server.user(Role::SupportLead, &[team]).await?;
    let name = unique_word("Aurora ");
    let account = csm
        .store
        .account_create(
            rapport_domain::AccountInput {
                name: name.clone(),
                plan: rapport_domain::Plan::ProfessionalSupport,
                time_zone: "Europe/Oslo".into(),
                fiscal_year_start_month: 1,
                owner_csm_id: None,
                account_rep_id: None,
                slack_channel: None,
                support_email_domains: vec![],
                stage: rapport_domain::LifecycleStage::Active,
                tags: vec![],
            },
            now(),
        )
        .await?;
    csm.sync().await?;

    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    sign_in(&app, &network.url, &lead).await?;
    app.click(&by_testid("nav-accounts")).await?;
    wait_account_count(&app, |n| n == 1)
        .await
        .context("the team's one account")?;
    app.click(&by_testid("account-row")).await?;
    let marker = unique_word("kickoff");
    let note = add_note(&app, &format!("Agenda for the {marker} call"), &marker).await?;
    app.find(&format!(
        "{}[data-state=\"synced\"][data-pending=\"0\"]",
        by_testid("status-sync")
    ))
    .await
    .context("the note reached the service")?;

    // Offline: the lead rewrites the note; it waits in the outbox.
    network.script(std::iter::repeat_n(ProxyFault::Drop, 100_000));
    let rewritten = format!("Agenda for the {marker} call: pricing first, then the rollout plan");
    app.click(&format!(
        "[data-note-id=\"{note}\"] {}",
        by_testid("note-edit")
    ))
    .await?;
    app.fill(&by_testid("note-editor-body"), &rewritten).await?;
    app.click(&by_testid("note-save")).await?;
    app.wait_gone(&by_testid("note-edit-editor")).await?;

    // The CSM deletes the account; the lead comes back online and syncs.
    csm.store.account_delete(account.id, now()).await?;
    csm.sync().await?;
    app.find(&format!("{}[data-pending=\"1\"]", by_testid("status-sync")))
        .await
        .context("the rewrite waits while offline")?;
    network.clear_script();
    sync_now_and_wait(&app)
        .await
        .context("the status bar counts the refused rewrite")?;
    // Edit: the note editor of the account page, holding the refused text.
    edit_refused(&app, &rewritten, "attention-note-editor").await?;
    ensure!(
        input_value(&app, "note-editor-body").await? == rewritten,
        "the editor starts from the refused text"
    );
    app.find(&by_testid("note-tab-preview"))
        .await
        .context("with the note editor's Write and Preview tabs")?;
    let fields_forms = app
        .js(
            "return document.querySelectorAll('[data-testid=attention-fields-form]').length",
            vec![],
        )
        .await?;
    ensure!(fields_forms == 0, "not the field-by-field form");

    // Corrected and sent again: the corrected text goes out (and, the account still
    // deleted, comes back refused with it).
    let corrected = format!("{rewritten}, then questions");
    app.fill(&by_testid("note-editor-body"), &corrected).await?;
    click_centered(&app, "note-save").await?;
    let waited = app
        .wait_js(
            "the corrected rewrite refused again",
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_session_edit_is_corrected_in_the_session_form() -> Result<()> {
    // A CSM books an onboarding session; a support lead (who reads sessions but does not
    // book or edit them: the service refuses it) writes its outcome on the session page.
    // Needs attention opens the refused change in the session page's form, with the
    // refused outcome over the session's agenda; corrected there, it goes out again.
    let server = Server::start().await?;
    let team = server.team("Support").await?;
    let csm = Client::new(&server, &server.user(Role::Csm, &[team]).await?).await?;
    let lead = server.user(Role::SupportLead, &[team]).await?;
    let name = unique_word("Cirrus ");
    let account = csm
        .store
        .account_create(
            rapport_domain::AccountInput {
                name: name.clone(),
                plan: rapport_domain::Plan::ProfessionalSupport,
                time_zone: "America/New_York".into(),
                fiscal_year_start_month: 1,
                owner_csm_id: None,
                account_rep_id: None,
                slack_channel: None,
                support_email_domains: vec![],
                stage: rapport_domain::LifecycleStage::Onboarding,
                tags: vec![],
            },
            now(),
        )
        .await?;
    let start = (now() + chrono::Duration::days(2))
        .date_naive()
        .and_hms_opt(15, 0, 0)
        .context("a time")?
        .and_utc();
    let session = csm
        .store
        .onboarding_session_create(
            account.id,
            rapport_client::onboarding::NewSession {
                start,
                end: start + chrono::Duration::hours(1),
                attendee_ids: vec![],
                meeting_link: Some("https://meet.jit.si/rapport-cirrus-onboarding".into()),
            },
            now(),
        )
        .await?;
    ensure!(
        !session.agenda.is_empty(),
        "a session starts with the agenda template"
    );
    csm.sync().await?;

    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    sign_in(&app, &server.url, &lead).await?;
    app.click(&by_testid("nav-onboarding")).await?;
    app.click(&format!(
        "[data-testid=board-session][data-session-id=\"{}\"]",
        session.id
    ))
    .await
    .context("the CSM's session on the board")?;
    app.testid("session-page").await?;

    // The lead writes the outcome; the service refuses it.
    let refused = format!("{name}: the SLA table and the Slack channel were shown");
    app.fill(&by_testid("session-outcome"), &refused).await?;
    click_centered(&app, "session-save").await?;
    // Edit: the session form, with the refused outcome over the session's agenda and link.
    edit_refused(&app, &refused, "attention-session-form").await?;
    ensure!(
        input_value(&app, "session-outcome").await? == refused,
        "the form starts from the refused outcome"
    );
    ensure!(
        input_value(&app, "session-link").await? == "https://meet.jit.si/rapport-cirrus-onboarding",
        "and the session's link"
    );
    let agenda = app
        .js(
            "return document.querySelectorAll('[data-testid=attention-session-form] [data-testid=agenda-item]').length",
            vec![],
        )
        .await?;
    ensure!(
        agenda == serde_json::json!(session.agenda.len()),
        "with the session's agenda checklist: {agenda}"
    );
    let fields_forms = app
        .js(
            "return document.querySelectorAll('[data-testid=attention-fields-form]').length",
            vec![],
        )
        .await?;
    ensure!(fields_forms == 0, "not the field-by-field form");

    // Corrected in the form (a ticked agenda item, a new outcome) and sent again: both go
    // out (and, still a lead's write of a session, come back refused with them).
    let corrected = format!("{refused}, and the use case reviewed");
    app.fill(&by_testid("session-outcome"), &corrected).await?;
    app.click("[data-testid=attention-session-form] [data-testid=agenda-item][data-index=\"0\"]")
        .await?;
    click_centered(&app, "session-save").await?;
    let waited = app
        .wait_js(
            "the corrected change refused again",
            &format!(
                "const c = document.querySelector('[data-testid=attention-content]');
                 return c && c.textContent.includes({corrected:?}) && c.textContent.includes('Agenda') || null"
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
