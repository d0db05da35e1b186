//! The accounts list by keyboard: `/` focuses the search, arrows and j/k move, Enter opens,
//! Esc goes back (and clears, then leaves, the search box).

use anyhow::{Result, ensure};
use fantoccini::key::Key;
use rapport_tests::{Workspace, by_testid};

use crate::common::{launch_demo, rendered_names, selected_index, wait_account_count};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accounts_list_works_from_the_keyboard() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    let total = wait_account_count(&app, |_| true).await?;
    let names = rendered_names(&app).await?;

    // `/` focuses the search box; typing filters; Esc clears, a second Esc leaves it.
    app.js("document.activeElement?.blur(); return true", vec![])
        .await?;
    app.press("/").await?;
    ensure!(
        app.focused_testid().await? == "accounts-search",
        "/ focuses the search"
    );
    app.press("zzzz-no-such-account").await?;
    app.testid("accounts-empty").await?;
    app.press(&Key::Escape.to_string()).await?;
    wait_account_count(&app, |n| n == total).await?;
    ensure!(
        app.focused_testid().await? == "accounts-search",
        "the first Esc clears the search"
    );
    app.press(&Key::Escape.to_string()).await?;
    ensure!(
        app.focused_testid().await? != "accounts-search",
        "the second Esc leaves the search"
    );

    // j/k and the arrows move the selection.
    ensure!(
        selected_index(&app).await? == 0,
        "the first row starts selected"
    );
    app.press("jj").await?;
    ensure!(selected_index(&app).await? == 2, "j moves down");
    app.press("k").await?;
    ensure!(selected_index(&app).await? == 1, "k moves up");
    app.press(&format!("{}{}{}", Key::Down, Key::Down, Key::Up))
        .await?;
    ensure!(selected_index(&app).await? == 2, "the arrows move too");

    // Moving past the visible rows scrolls the selection into view.
    let steps = 30.min(total - 1);
    app.press(&"j".repeat(steps)).await?;
    let want = i64::try_from((2 + steps).min(total - 1))?;
    ensure!(
        selected_index(&app).await? == want,
        "j moved {steps} rows down"
    );
    let visible = app
        .js(
            "const r = document.querySelector('[data-testid=account-row].selected').getBoundingClientRect();
             const v = document.querySelector('[data-testid=accounts-viewport]').getBoundingClientRect();
             return r.top >= v.top && r.bottom <= v.bottom + 1",
            vec![],
        )
        .await?;
    ensure!(
        visible == serde_json::json!(true),
        "the selected row was scrolled into view"
    );
    app.press("k".repeat(steps).as_str()).await?;

    // Enter opens the selected account; Esc returns to the list with the selection kept.
    let expected = names.get(2).cloned().unwrap_or_default();
    ensure!(selected_index(&app).await? == 2, "back on the third row");
    app.press(&Key::Enter.to_string()).await?;
    let opened = app.text(&by_testid("account-name")).await?;
    ensure!(
        opened == expected,
        "Enter opened the selected account ({opened:?} vs {expected:?})"
    );
    app.press(&Key::Escape.to_string()).await?;
    app.testid("accounts-page").await?;
    // The list page shows before its rows are rendered again: wait for a selected row.
    app.wait_js(
        "the list's rows with a selection",
        "return document.querySelector('[data-testid=account-row].selected') !== null",
    )
    .await?;
    ensure!(
        selected_index(&app).await? == 2,
        "Esc returns to the list with the same selection"
    );
    app.quit().await
}
