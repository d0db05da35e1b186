//! Issue 2's main path, and durability: a note written in the window is still there after
//! a restart, and after a SIGKILL right after saving.

use anyhow::{Context, Result, ensure};
use rapport_tests::{App, Workspace, by_testid};

use crate::common::{
    DEMO_ACCOUNTS, add_note, fragment_of, launch_demo, listed_notes, note_id_containing,
    open_account, open_account_by, pending_changes, rendered_names, show_accounts, unique_word,
    wait_account_count,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_written_pinned_and_found_again_survives_a_restart() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    let total = wait_account_count(&app, |n| n >= DEMO_ACCOUNTS).await?;

    // Search an account by part of its name: the list narrows to it.
    let names = rendered_names(&app).await?;
    let name = names
        .iter()
        .find(|n| n.split_whitespace().any(|w| w.chars().count() >= 5))
        .context("a demo account with a word of 5+ letters")?
        .clone();
    let part = fragment_of(&name);
    app.fill(&by_testid("accounts-search"), &part).await?;
    let narrowed = wait_account_count(&app, |n| n < total).await?;
    ensure!(narrowed >= 1, "searching {part:?} keeps {name:?}");
    let account_id = open_account_by(&app, &name, &part).await?;

    // Add a Markdown note and pin it.
    let word = unique_word("quokka");
    let body = format!(
        "## Renewal plan\n\nThe **{word}** migration is on track.\n\n- call Ana\n- send the SLA table"
    );
    let note_id = add_note(&app, &body, &word).await?;
    let strong = app
        .js(
            "return document.querySelector(`[data-note-id=\"${arguments[0]}\"] [data-testid=note-body] strong`)?.textContent ?? ''",
            vec![note_id.clone().into()],
        )
        .await?;
    ensure!(
        strong == word.as_str(),
        "the Markdown is rendered: **{word}** is bold (got {strong})"
    );
    app.click(&format!(
        "[data-note-id=\"{note_id}\"] [data-testid=note-pin]"
    ))
    .await?;
    app.find(&format!(
        "[data-note-id=\"{note_id}\"][data-pinned=\"true\"]"
    ))
    .await?;
    let notes = listed_notes(&app).await?;
    ensure!(
        notes.first() == Some(&(note_id.clone(), true)),
        "the pinned note comes first: {notes:?}"
    );

    // Delete another note, then undo from the toast.
    let scrap = unique_word("scrap");
    let scrap_id = add_note(&app, &format!("To be deleted: {scrap}"), &scrap).await?;
    app.click(&format!(
        "[data-note-id=\"{scrap_id}\"] [data-testid=note-delete]"
    ))
    .await?;
    app.wait_gone(&format!("[data-note-id=\"{scrap_id}\"]"))
        .await?;
    app.click(&by_testid("toast-action")).await?;
    app.find(&format!("[data-note-id=\"{scrap_id}\"]"))
        .await
        .context("Undo restores the note")?;

    // Find it again by a word of its body: the global search, then the notes search.
    app.fill(&by_testid("global-search"), &word).await?;
    let hit = format!("[data-testid=search-hit][data-kind=note][data-id=\"{note_id}\"]");
    let mark = app.text(&format!("{hit} mark")).await?;
    ensure!(
        mark.eq_ignore_ascii_case(&word),
        "the search snippet highlights {word} (got {mark:?})"
    );
    app.click(&hit).await?;
    app.find(&format!(
        "[data-testid=account-page][data-account-id=\"{account_id}\"]"
    ))
    .await?;
    app.fill(&by_testid("notes-search"), &word).await?;
    app.poll(
        "the notes search to keep only the note",
        rapport_tests::driver::WAIT,
        async |_| {
            let ids: Vec<String> = listed_notes(&app)
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            Ok((ids == [note_id.clone()]).then_some(()))
        },
    )
    .await?;

    // Close the app and start it again on the same data folder.
    app.quit().await?;
    let app = App::launch(&mut ws, &[]).await?;
    show_accounts(&app, |n| n == total)
        .await
        .context("the same accounts after a restart")?;
    open_account(&app, &name).await?;
    let id = note_id_containing(&app, &word).await?;
    ensure!(id == note_id, "the same note is there after a restart");
    let notes = listed_notes(&app).await?;
    ensure!(
        notes.first() == Some(&(note_id.clone(), true)),
        "still pinned and first after a restart: {notes:?}"
    );
    app.quit().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_right_after_saving_a_note_loses_nothing() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    let name = rendered_names(&app)
        .await?
        .into_iter()
        .next()
        .context("a first account")?;
    open_account(&app, &name).await?;
    let before = pending_changes(&app).await?;

    let word = unique_word("durable");
    let note_id = add_note(&app, &format!("Saved just before the crash: {word}"), &word).await?;
    // The save returned and the list shows the note: kill the app without warning.
    app.kill_app()?;

    let app = App::launch(&mut ws, &[]).await?;
    show_accounts(&app, |n| n >= DEMO_ACCOUNTS).await?;
    let after = pending_changes(&app).await?;
    ensure!(
        after > before,
        "the note's outbox entry survived too ({before} -> {after})"
    );
    open_account(&app, &name).await?;
    let id = note_id_containing(&app, &word).await?;
    ensure!(
        id == note_id,
        "the note saved before SIGKILL is there after the restart"
    );
    app.quit().await
}
