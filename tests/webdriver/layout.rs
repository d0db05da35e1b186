//! Layout at the window's real size (1280×800, the Xvfb screen and the app's default
//! window): the accounts list shows every owner and date whole, Settings has the gutter of
//! every other page, and no select on the main screens is narrower than its longest option.

use anyhow::{Context, Result, ensure};
use rapport_tests::{App, Workspace, by_testid};

use crate::common::launch_demo;

/// Where the page's heading sits inside the scrolling content area: `[left, padding-top of
/// the page]` in CSS pixels.
async fn gutter(app: &App, page: &str) -> Result<[f64; 2]> {
    let v = app
        .wait_js(
            &format!("the heading of {page}"),
            &format!(
                "const p = document.querySelector('[data-testid={page}]');
                 const h = p && p.querySelector('h1');
                 const c = document.querySelector('.content');
                 if (!h || !c) return null;
                 return [h.getBoundingClientRect().left - c.getBoundingClientRect().left,
                         parseFloat(getComputedStyle(p).paddingTop)];"
            ),
        )
        .await?;
    let n: Vec<f64> = serde_json::from_value(v)?;
    Ok([n[0], n[1]])
}

/// The selects shown now that are narrower than they would be left to their own width (the
/// widest option and the arrow): a cut select, with its test id or first option.
async fn cut_selects(app: &App) -> Result<Vec<String>> {
    let v = app
        .js(
            "const cut = [];
             for (const s of document.querySelectorAll('.content select')) {
               if (s.offsetParent === null) continue;
               const probe = s.cloneNode(true);
               Object.assign(probe.style, { width: 'auto', minWidth: '0', maxWidth: 'none',
                 flex: 'none', position: 'absolute', visibility: 'hidden' });
               s.after(probe); // same context: the same inherited font
               const natural = probe.getBoundingClientRect().width;
               probe.remove();
               const shown = s.getBoundingClientRect().width;
               if (shown + 1 < natural)
                 cut.push(`${s.dataset.testid ?? s.options[0]?.text}: ${shown}px < ${natural}px`);
             }
             return cut;",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_1280_pixels_owners_dates_and_selects_show_whole() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    let width = app.js("return window.innerWidth", vec![]).await?;
    ensure!(
        width.as_f64() == Some(1280.0),
        "the window is 1280 px wide, the size this test is about: {width}"
    );

    // Every rendered row's owner and date fit their cells (no ellipsis).
    let cells = app
        .js(
            "const cells = [...document.querySelectorAll(
               '[data-testid=account-row-owner], [data-testid=account-row-updated]')];
             return [cells.length, cells.filter(c => c.scrollWidth > c.clientWidth)
               .map(c => c.textContent.trim())];",
            vec![],
        )
        .await?;
    let count = cells[0].as_u64().context("a count")?;
    ensure!(
        count >= 20,
        "owners and dates of many rows are rendered ({count})"
    );
    ensure!(
        cells[1].as_array().is_some_and(Vec::is_empty),
        "owners and dates shown whole, none ellipsised: {}",
        cells[1]
    );
    let accounts = gutter(&app, "accounts-page").await?;
    let cut = cut_selects(&app).await?;
    ensure!(cut.is_empty(), "accounts: selects cut: {cut:?}");
    // An account page (its forms' selects).
    app.click(&by_testid("account-row-name")).await?;
    app.find(&by_testid("account-name")).await?;
    app.two_frames().await?;
    let cut = cut_selects(&app).await?;
    ensure!(cut.is_empty(), "account page: selects cut: {cut:?}");
    app.click(&by_testid("account-edit")).await?;
    app.two_frames().await?;
    let cut = cut_selects(&app).await?;
    ensure!(cut.is_empty(), "account form: selects cut: {cut:?}");

    // Settings and the other main pages: the same gutter, and no select cut.
    for (nav, page) in [
        ("nav-settings", "settings"),
        ("nav-today", "today-page"),
        ("nav-onboarding", "onboarding-board"),
        ("nav-quarter", "quarter-board"),
        ("nav-requests", "requests-page"),
    ] {
        app.click(&by_testid(nav)).await?;
        let here = gutter(&app, page).await?;
        ensure!(
            (here[0] - accounts[0]).abs() < 0.5 && (here[1] - accounts[1]).abs() < 0.5,
            "{page} has the accounts list's gutter: {here:?} vs {accounts:?}"
        );
        app.two_frames().await?;
        let cut = cut_selects(&app).await?;
        ensure!(cut.is_empty(), "{page}: selects cut: {cut:?}");
    }

    // The forms behind the boards: a request, a new request, an onboarding session.
    for (nav, open, page) in [
        ("nav-requests", "request-row", "request-page"),
        ("nav-requests", "request-new", "new-request"),
        ("nav-onboarding", "board-session", "session-page"),
    ] {
        app.click(&by_testid(nav)).await?;
        app.click(&by_testid(open)).await?;
        app.testid(page).await?;
        app.two_frames().await?;
        let cut = cut_selects(&app).await?;
        ensure!(cut.is_empty(), "{page}: selects cut: {cut:?}");
    }
    app.quit().await
}
