//! Requests as a desk uses them (issue 17, point 4), as a CSM clicks through them: New
//! request chooses nothing for the user, the request shows its requester and a timeline to
//! the second, taking it assigns it to me, and the board's Mine and Unassigned filters
//! follow.

use anyhow::{Context, Result, ensure};
use rapport_tests::{App, Workspace, by_testid};
use serde_json::Value;

use crate::common::{start_demo_as, unique_word};

async fn start_as_csm(ws: &mut Workspace) -> Result<App> {
    start_demo_as(ws, "Carla Mendes", "carla@rapport-vendor.com", "csm").await
}

async fn click_centered(app: &App, testid: &str) -> Result<()> {
    let sel = by_testid(testid);
    app.find(&sel).await?;
    app.js(
        "document.querySelector(arguments[0])?.scrollIntoView({ block: 'center' })",
        vec![sel.clone().into()],
    )
    .await?;
    app.click(&sel).await
}

/// The board's rows (their request ids) once the filters have been applied.
async fn board_ids(app: &App, filter: &str) -> Result<Vec<String>> {
    app.find(&by_testid("requests-filter-assignee"))
        .await?
        .select_by_value(filter)
        .await?;
    let v = app
        .wait_js(
            "the filtered board",
            &format!(
                "const f = document.querySelector('[data-testid=requests-filter-assignee]');
                 if (!f || f.value !== {filter:?}) return null;
                 return Array.from(document.querySelectorAll('[data-testid=request-row]'))
                   .map(r => r.dataset.requestId)"
            ),
        )
        .await?;
    let Value::Array(ids) = v else {
        anyhow::bail!("not a list: {v}")
    };
    Ok(ids
        .into_iter()
        .filter_map(|i| i.as_str().map(str::to_owned))
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csm_opens_a_request_choosing_everything_takes_it_and_finds_it_under_mine() -> Result<()>
{
    let mut ws = Workspace::new()?;
    let app = start_as_csm(&mut ws).await?;
    let account_name = app
        .wait_js(
            "an account with contacts",
            "const r = Array.from(document.querySelectorAll('[data-testid=account-row]'))
               .find(r => Number(r.querySelector('.c-num')?.textContent) > 0);
             return r?.querySelector('[data-testid=account-row-name]')?.textContent?.trim() || null",
        )
        .await?
        .as_str()
        .context("a name")?
        .to_owned();

    // New request refuses to guess: no account, no severity, each named where it is.
    app.click(&by_testid("nav-requests")).await?;
    app.click(&by_testid("request-new")).await?;
    let title = unique_word("exports-slow-");
    app.fill(&by_testid("new-request-title"), &title).await?;
    click_centered(&app, "new-request-save").await?;
    let account_error = app.text(&by_testid("field-error-account_id")).await?;
    ensure!(
        account_error.contains("choose the customer's account"),
        "{account_error}"
    );
    let severity_error = app.text(&by_testid("field-error-severity")).await?;
    ensure!(
        severity_error.contains("choose the severity"),
        "{severity_error}"
    );
    ensure!(
        app.all(&by_testid("request-page")).await?.is_empty(),
        "nothing was opened"
    );
    let chosen = app
        .js(
            "return [document.querySelector('[data-testid=new-request-account]').value,
                     document.querySelector('[data-testid=new-request-severity]').value]",
            vec![],
        )
        .await?;
    ensure!(
        chosen == serde_json::json!(["", ""]),
        "neither is preselected: {chosen}"
    );

    // Both chosen, with the contact who asked.
    app.fill(&by_testid("new-request-account-search"), &account_name)
        .await?;
    app.wait_js(
        "the account to be offered and chosen",
        &format!(
            "const s = document.querySelector('[data-testid=new-request-account]');
             const o = s && [...s.options].find(o => o.textContent === {account_name:?});
             if (!o) return null;
             s.value = o.value; s.dispatchEvent(new Event('change', {{ bubbles: true }}));
             return s.selectedOptions[0]?.textContent === {account_name:?} || null"
        ),
    )
    .await?;
    let contact = app
        .wait_js(
            "a contact to choose",
            "const s = document.querySelector('[data-testid=new-request-contact]');
             const o = s && [...s.options].find(o => o.value !== '');
             if (!o) return null;
             s.value = o.value; s.dispatchEvent(new Event('change', { bubbles: true }));
             return o.textContent.split(' · ')[0].trim()",
        )
        .await?
        .as_str()
        .context("a contact name")?
        .to_owned();
    app.find(&by_testid("new-request-severity"))
        .await?
        .select_by_value("p3")
        .await?;
    click_centered(&app, "new-request-save").await?;
    app.testid("request-page").await?;
    ensure!(app.text(&by_testid("request-title")).await? == title);
    let request_id = app
        .js(
            "return document.querySelector('[data-testid=request-page]').dataset.requestId",
            vec![],
        )
        .await?
        .as_str()
        .context("the request id")?
        .to_owned();

    // The requester is shown; the timeline reads to the second.
    let requester = app.text(&by_testid("request-requester")).await?;
    ensure!(
        requester.starts_with(&format!("Requester: {contact} <")),
        "the requester {requester:?} is the contact chosen, {contact:?}, with their address"
    );
    let when = app.text(&by_testid("timeline-when")).await?;
    let seconds = regex_lite_seconds(&when);
    ensure!(
        seconds,
        "the timeline shows the date and the seconds: {when:?}"
    );

    // Taking it assigns it to me; a CSM gets no picker to hand it to others.
    ensure!(app.text(&by_testid("request-assignee")).await? == "Unassigned");
    ensure!(
        app.all(&by_testid("request-assignee-select"))
            .await?
            .is_empty(),
        "assigning others is a lead's"
    );
    click_centered(&app, "request-take").await?;
    app.wait_js(
        "the request to be mine",
        "return document.querySelector('[data-testid=request-assignee]')?.textContent === 'Carla Mendes' || null",
    )
    .await?;
    app.testid("request-give-back").await?;
    ensure!(
        app.all(&by_testid("request-take")).await?.is_empty(),
        "nothing to take any more"
    );

    // The board: under Mine, not under Unassigned.
    app.click(&by_testid("nav-requests")).await?;
    app.testid("requests-page").await?;
    let mine = board_ids(&app, "mine").await?;
    ensure!(
        mine == vec![request_id.clone()],
        "Mine holds exactly the request I took: {mine:?}"
    );
    let unassigned = board_ids(&app, "unassigned").await?;
    ensure!(
        !unassigned.contains(&request_id),
        "a taken request is not unassigned: {unassigned:?}"
    );
    ensure!(
        !unassigned.is_empty(),
        "the demo's requests are nobody's yet"
    );
    let everyone = board_ids(&app, "").await?;
    ensure!(everyone.contains(&request_id) && everyone.len() > unassigned.len());
    let shown = app
        .text(&format!(
            "[data-testid=request-row][data-request-id=\"{request_id}\"] [data-testid=request-row-assignee]"
        ))
        .await?;
    ensure!(
        shown == "Carla Mendes",
        "the row names the assignee: {shown}"
    );
    app.quit().await
}

/// "…:MM:SS" after a date: the time has seconds (the profile's format, 24 h or 12 h).
fn regex_lite_seconds(text: &str) -> bool {
    let has_date = text.contains(',');
    let digits_colon_digits = text
        .split(|c: char| !(c.is_ascii_digit() || c == ':'))
        .any(|t| t.split(':').count() == 3 && t.split(':').all(|p| p.len() == 2 || p.len() == 1));
    has_date && digits_colon_digits
}
