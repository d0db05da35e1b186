//! Bad input in the forms a new user meets on the demo: empty, absurd and hostile values.
//! Each refusal names the field as the form labels it, in words for people (never the IPC
//! layer's text), puts the cursor on that field, shows no success toast, and keeps what
//! was typed; hostile text is kept verbatim and stays text.

use anyhow::{Result, ensure};
use rapport_tests::{App, Workspace, by_testid};

/// What a developer's message looks like (the IPC layer, serde, Rust paths).
fn developer_text(message: &str) -> bool {
    [
        "invalid args",
        "for command",
        "premature end",
        "invalid type",
        "`",
        "::",
    ]
    .iter()
    .any(|t| message.contains(t))
}

/// Sets an input's value as typing would (date inputs take no keystrokes portably).
async fn set_value(app: &App, css: &str, value: &str) -> Result<()> {
    app.js(
        "const e = document.querySelector(arguments[0]); e.value = arguments[1];
         e.dispatchEvent(new Event('input', { bubbles: true }));
         e.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![css.into(), value.into()],
    )
    .await?;
    Ok(())
}

/// The refusal shown in `message_css`: it starts with `label`, says `why`, holds no
/// developer text, the focus is on the field `focused_testid`, and no toast says it saved.
async fn refused(
    app: &App,
    message_css: &str,
    label: &str,
    why: &str,
    focused_testid: &str,
) -> Result<()> {
    let text = app.text(message_css).await?;
    ensure!(
        text.starts_with(label) && text.contains(why),
        "the refusal names {label:?} and says {why:?}: {text:?}"
    );
    ensure!(!developer_text(&text), "no developer text: {text:?}");
    let focused = app.focused_testid().await?;
    ensure!(
        focused == focused_testid,
        "the cursor is on the refused field {focused_testid}, not {focused:?}"
    );
    let toasts = app
        .js(
            "return [...document.querySelectorAll('[data-testid=toast-text]')].map(t => t.textContent)",
            vec![],
        )
        .await?;
    ensure!(
        !toasts.to_string().contains("saved") && !toasts.to_string().contains("added"),
        "no success toast for a refused form: {toasts}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_refuse_empty_absurd_and_hostile_values_by_field() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = App::launch(&mut ws, &["--demo"]).await?;

    // A session's follow-up: an empty due date (once answered with the IPC layer's
    // "premature end of input"), then one fifty years ahead, then a hostile title.
    app.click(&by_testid("today-session")).await?;
    app.click(&by_testid("follow-up-add")).await?;
    let last = "[data-testid=follow-up]:last-child";
    let hostile = "<img src=x onerror=alert(1)> Robert'); DROP TABLE sessions;--";
    app.fill(&format!("{last} [data-testid=follow-up-title]"), hostile)
        .await?;
    app.fill(
        &format!("{last} [data-testid=follow-up-owner]"),
        "Ana López",
    )
    .await?;
    let due = format!("{last} [data-testid=follow-up-due]");
    set_value(&app, &due, "").await?;
    app.click(&by_testid("session-save")).await?;
    refused(
        &app,
        "[data-testid=field-error-follow_ups]",
        "Follow-up",
        "due date: enter a date",
        "follow-up-due",
    )
    .await?;
    set_value(&app, &due, "2076-01-01").await?;
    app.click(&by_testid("session-save")).await?;
    refused(
        &app,
        "[data-testid=field-error-follow_ups]",
        "Follow-up",
        "within 10 years",
        "follow-up-due",
    )
    .await?;
    let kept = app
        .js(
            "return document.querySelector(arguments[0]).value",
            vec![format!("{last} [data-testid=follow-up-title]").into()],
        )
        .await?;
    ensure!(
        kept.as_str() == Some(hostile),
        "what was typed is kept: {kept}"
    );
    // A sane date: saved, the hostile title kept verbatim as text.
    set_value(&app, &due, "2027-02-01").await?;
    app.click(&by_testid("session-save")).await?;
    app.wait_js(
        "the session saved",
        "return [...document.querySelectorAll('[data-testid=toast-text]')]
           .some(t => t.textContent === 'Session saved') ? true : null",
    )
    .await?;
    ensure!(
        app.all(&by_testid("field-error-follow_ups"))
            .await?
            .is_empty(),
        "a sane date is taken"
    );
    app.wait_js(
        "the saved follow-up",
        &format!(
            "const t = [...document.querySelectorAll('[data-testid=follow-up-title]')].map(i => i.value);
             return t.includes({hostile:?}) ? true : null"
        ),
    )
    .await?;
    ensure!(
        app.all("[data-testid=session-follow-ups] img")
            .await?
            .is_empty(),
        "hostile text stays text"
    );

    // A review's new action item: no date, then the year 3000 (once the session's "saved"
    // toast has gone, so any toast now would be this form's).
    app.wait_gone(&by_testid("toast")).await?;
    app.click(&by_testid("nav-quarter")).await?;
    app.click("[data-testid=quarter-row][data-column=scheduled] [data-testid=quarter-open]")
        .await?;
    app.fill(&by_testid("action-title"), "Plan the migration")
        .await?;
    app.fill(&by_testid("action-owner"), "Maya Fischer").await?;
    app.click(&by_testid("action-add")).await?;
    refused(
        &app,
        "[data-testid=review-error-message]",
        "New action item: due date",
        "enter a date",
        "action-due",
    )
    .await?;
    set_value(&app, "[data-testid=action-due]", "3000-01-01").await?;
    app.click(&by_testid("action-add")).await?;
    refused(
        &app,
        "[data-testid=review-error-message]",
        "New action item: due date",
        "within 10 years",
        "action-due",
    )
    .await?;
    ensure!(
        app.all(&by_testid("review-action")).await?.is_empty(),
        "nothing was added"
    );
    app.quit().await
}
