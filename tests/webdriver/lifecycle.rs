//! The app never outlives the WebDriver that drives it: when WebKitWebDriver is gone before
//! it could end the app (the race when tauri-driver stops right after a session closes),
//! the app quits by itself, cleanly.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use rapport_tests::{App, Workspace, proc};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_ends_when_its_webdriver_is_killed() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = App::launch(&mut ws, &[]).await?;
    app.testid("onboarding").await?;
    let pids = app.app_pids();
    ensure!(pids.len() == 1, "one app process: {pids:?}");
    let driver = proc::parent_pid(pids[0]).context("the app's parent")?;
    let driver_exe = proc::exe(driver).context("the parent's program")?;
    ensure!(
        driver_exe.ends_with("WebKitWebDriver"),
        "the app is WebKitWebDriver's child, not {}",
        driver_exe.display()
    );
    // SIGKILL: WebKitWebDriver gets no chance to end the app itself.
    proc::signal(driver, "KILL")?;
    // A deadline only so a regression fails instead of hanging.
    let gone = proc::wait_gone(&pids, Duration::from_secs(15));
    let logs = std::fs::read_dir(ws.data_dir().join("logs"))?
        .map(|e| std::fs::read_to_string(e?.path()).map_err(anyhow::Error::from))
        .collect::<Result<Vec<_>>>()?
        .concat();
    drop(app);
    ensure!(gone, "the app kept running after its WebDriver died");
    ensure!(
        logs.contains("asked to stop by a signal") && logs.contains("Rapport exited"),
        "the app quit through its exit path (window state saved, cache closed):\n{logs}"
    );
    Ok(())
}
