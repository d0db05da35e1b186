//! The README's screenshot: the accounts list on the demo workspace, taken from the real
//! window. Written to docs/screenshot.png with RAPPORT_UPDATE_SCREENSHOT=1, else to the
//! test's temp folder. Also checks the first-paint mark the launch bench reads.

use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use rapport_tests::{Workspace, by_testid};

use crate::common::launch_demo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshot_of_the_accounts_list() -> Result<()> {
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

    let path = if std::env::var("RAPPORT_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshot.png")
    } else {
        ws.root().join("screenshot.png")
    };
    std::fs::write(&path, &png).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("screenshot: {} ({width}x{height})", path.display());
    app.quit().await
}
