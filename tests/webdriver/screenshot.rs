//! The README's screenshots, taken from the real window on the demo workspace: Today (the
//! screen the app opens on) as docs/screenshot.png, and one picture per main screen in
//! docs/screens/. Written there with RAPPORT_UPDATE_SCREENSHOT=1, else to the test's temp
//! folder. Also checks the first-paint mark the launch bench reads.

use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use rapport_tests::{App, Workspace, by_testid};

use crate::common::launch_demo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_of_the_main_screens() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    let ms = app
        .wait_js(
            "the first-paint mark",
            "return document.body.dataset.firstPaintMs ?? null",
        )
        .await?;
    let ms: f64 = ms
        .as_str()
        .context("a string")?
        .parse()
        .context("a number of milliseconds")?;
    ensure!(
        ms > 0.0 && ms < 60_000.0,
        "startup_mark answered a plausible time since launch: {ms}"
    );

    // Select a row further down so the picture shows the selection, then let it paint.
    app.testid("accounts-table").await?;
    app.js("document.activeElement?.blur(); return true", vec![])
        .await?;
    app.press("jjj").await?;
    app.find(&format!("{}.selected", by_testid("account-row")))
        .await?;
    let docs = std::env::var("RAPPORT_UPDATE_SCREENSHOT").as_deref() == Ok("1");
    let dir = if docs {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs")
    } else {
        ws.root().to_path_buf()
    };
    std::fs::create_dir_all(dir.join("screens"))?;
    shoot(&app, &dir.join("screens/accounts.png")).await?;

    // The account page of the first row, with its health trend.
    app.press("\u{E007}").await?;
    app.find(&by_testid("account-name")).await?;
    app.wait_js(
        "the health chart",
        "return document.querySelector('[data-testid=health-chart] canvas') ? true : null",
    )
    .await?;
    shoot(&app, &dir.join("screens/account.png")).await?;

    // Today, the screen the app opens on: the README's picture.
    app.click(&by_testid("nav-today")).await?;
    app.find(&by_testid("today-urgent-request")).await?;
    app.find(&by_testid("today-session")).await?;
    shoot(&app, &dir.join("screenshot.png")).await?;
    shoot(&app, &dir.join("screens/today.png")).await?;

    // The requests board, one request, the SLA report.
    app.click(&by_testid("nav-requests")).await?;
    app.find(&by_testid("request-row")).await?;
    shoot(&app, &dir.join("screens/requests.png")).await?;
    app.click(&by_testid("request-row")).await?;
    app.find(&by_testid("request-timeline")).await?;
    shoot(&app, &dir.join("screens/request.png")).await?;
    app.click(&by_testid("nav-requests")).await?;
    app.click(&by_testid("sla-report-open")).await?;
    app.find("[data-testid=sla-report-chart] canvas").await?;
    shoot(&app, &dir.join("screens/sla-report.png")).await?;

    // Onboarding and the quarter board.
    app.click(&by_testid("nav-onboarding")).await?;
    app.find(&by_testid("board-session")).await?;
    shoot(&app, &dir.join("screens/onboarding.png")).await?;
    app.click(&by_testid("nav-quarter")).await?;
    app.find(&by_testid("quarter-row")).await?;
    shoot(&app, &dir.join("screens/quarter.png")).await?;
    app.quit().await
}

/// Writes a picture of the window to `path` once the last change has painted.
async fn shoot(app: &App, path: &std::path::Path) -> Result<()> {
    app.two_frames().await?;
    let png = app.screenshot().await?;
    ensure!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into()?);
    let height = u32::from_be_bytes(png[20..24].try_into()?);
    ensure!(
        width >= 900 && height >= 600,
        "the window's size, not an empty capture ({width}x{height})"
    );
    ensure!(
        png.len() > 20_000,
        "a picture with content ({} bytes)",
        png.len()
    );
    std::fs::write(path, &png).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("screenshot: {} ({width}x{height})", path.display());
    Ok(())
}
