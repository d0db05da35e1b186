//! A note made of script-injection attempts renders inert in the real window.

use anyhow::{Context, Result, ensure};
use rapport_tests::{Workspace, by_testid};
use serde_json::Value;

use crate::common::{
    add_note, expect_true, launch_demo, open_account, rendered_names, unique_word,
};

/// Counts calls of alert/confirm/prompt (and still makes them, so WebDriver sees a dialog).
const HOOK_DIALOGS: &str = "
    window.__rapportDialogs = 0;
    for (const name of ['alert', 'confirm', 'prompt']) {
      const original = window[name].bind(window);
      window[name] = (...args) => { window.__rapportDialogs += 1; return original(...args); };
    }
    return true;";

/// What in the rendered note could run script; empty when inert.
const FIND_ACTIVE_CONTENT: &str = "
    const root = document.querySelector(`[data-note-id=\"${arguments[0]}\"] [data-testid=note-body]`);
    if (!root) return ['the note is not rendered'];
    const bad = [];
    for (const el of [root, ...root.querySelectorAll('*')]) {
      const tag = el.tagName.toLowerCase();
      if (['script', 'iframe', 'object', 'embed', 'frame', 'base', 'meta', 'form'].includes(tag)) bad.push(`<${tag}>`);
      for (const a of el.attributes) {
        const name = a.name.toLowerCase();
        if (name.startsWith('on')) bad.push(`${tag} ${name}=${a.value}`);
        if (/^\\s*(javascript|vbscript|data):/i.test(a.value)) bad.push(`${tag} ${name}=${a.value}`);
      }
    }
    return bad;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_in_a_note_renders_inert() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    let name = rendered_names(&app)
        .await?
        .into_iter()
        .next()
        .context("a first account")?;
    open_account(&app, &name).await?;
    expect_true(
        &app.js(HOOK_DIALOGS, vec![]).await?,
        "the dialog hook is installed",
    )?;
    let url_before = app.client().current_url().await?;

    let word = unique_word("xss");
    let body = format!(
        "XSS probe {word}\n\n<img src=x onerror=alert(1)>\n\n<script>alert(1)</script>\n\n\
         <svg onload=alert(1)>\n\n[x](javascript:alert(1))\n\n**still Markdown**"
    );
    let note_id = add_note(&app, &body, &word).await?;

    // Let the page do whatever the note could make it do: images settle (an onerror would
    // fire then), then two frames pass.
    app.wait_js(
        "the note's images to settle",
        &format!(
            "return Array.from(document.querySelectorAll('[data-note-id=\"{note_id}\"] img')).every(i => i.complete)"
        ),
    )
    .await?;
    app.two_frames().await?;

    // The Markdown around the payloads did render, so the checks below look at real output.
    let strong = app
        .js(
            "return document.querySelector(`[data-note-id=\"${arguments[0]}\"] [data-testid=note-body] strong`)?.textContent",
            vec![note_id.clone().into()],
        )
        .await?;
    ensure!(
        strong == "still Markdown",
        "the note rendered (got {strong})"
    );

    let active = app
        .js(FIND_ACTIVE_CONTENT, vec![note_id.clone().into()])
        .await?;
    ensure!(
        active == Value::Array(vec![]),
        "nothing in the note can run script: {active}"
    );

    // Clicking the neutered link neither navigates the webview nor runs anything.
    let link = format!("[data-note-id=\"{note_id}\"] [data-testid=note-body] a");
    if !app.all(&link).await?.is_empty() {
        app.click(&link).await?;
        app.two_frames().await?;
    }

    let dialogs = app.js("return window.__rapportDialogs", vec![]).await?;
    ensure!(
        dialogs == 0,
        "no alert, confirm or prompt was called ({dialogs})"
    );
    match app.client().get_alert_text().await {
        Err(e) if e.is_no_such_alert() => {}
        Ok(text) => anyhow::bail!("an alert fired: {text:?}"),
        Err(e) => return Err(e.into()),
    }
    let url_after = app.client().current_url().await?;
    ensure!(
        url_after == url_before,
        "the webview did not navigate ({url_before} -> {url_after})"
    );
    app.find(&by_testid("account-page")).await?;
    app.quit().await
}
