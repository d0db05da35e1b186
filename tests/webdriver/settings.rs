//! Settings → Profile: my time zone and working hours (which the slot finder and reminders
//! use) are edited in the window, survive a restart, and bad hours are refused by field.

use anyhow::{Result, ensure};
use fantoccini::key::Key;
use rapport_tests::{App, Workspace, by_testid};

use crate::common::launch_demo;

async fn open_settings(app: &App) -> Result<()> {
    app.click(&by_testid("nav-settings")).await?;
    app.find(&by_testid("settings-profile")).await?;
    Ok(())
}

async fn value(app: &App, testid: &str) -> Result<String> {
    let v = app
        .js(
            "return document.querySelector(arguments[0]).value;",
            vec![by_testid(testid).into()],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_hours_and_zone_are_edited_and_kept() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    open_settings(&app).await?;

    // Bad hours: the day ends before it starts. Refused, naming the field.
    app.fill(&by_testid("settings-profile-start"), "18:00")
        .await?;
    app.fill(&by_testid("settings-profile-end"), "08:00")
        .await?;
    app.click(&by_testid("settings-profile-save")).await?;
    let msg = app
        .text(&format!(
            "{} {}",
            by_testid("settings-profile"),
            by_testid("field-error-working_hours")
        ))
        .await?;
    ensure!(
        msg.starts_with("Working hours") && msg.contains("start before it ends"),
        "the hours error names the field: {msg:?}"
    );

    // Good hours, a Saturday, and a new zone.
    app.fill(&by_testid("settings-profile-start"), "07:00")
        .await?;
    app.fill(&by_testid("settings-profile-end"), "19:30")
        .await?;
    app.click(&by_testid("settings-profile-day-sat")).await?;
    app.fill(&by_testid("settings-profile-time_zone"), "America/St_Johns")
        .await?;
    app.press(&Key::Escape.to_string()).await?;
    app.click(&by_testid("settings-profile-save")).await?;
    app.wait_gone(&by_testid("field-error-working_hours"))
        .await?;
    app.wait_js(
        "the saved toast",
        "return [...document.querySelectorAll('[data-testid=toast]')].some(t => t.textContent.includes('Profile saved')) || null;",
    )
    .await?;

    // After a restart, Settings opens with what was saved.
    app.quit().await?;
    let app = App::launch(&mut ws, &[]).await?;
    open_settings(&app).await?;
    ensure!(value(&app, "settings-profile-start").await? == "07:00");
    ensure!(value(&app, "settings-profile-end").await? == "19:30");
    ensure!(value(&app, "settings-profile-time_zone").await? == "America/St_Johns");
    let sat = app
        .js(
            "return document.querySelector(arguments[0]).checked;",
            vec![by_testid("settings-profile-day-sat").into()],
        )
        .await?;
    ensure!(
        sat == serde_json::Value::Bool(true),
        "Saturday stays ticked"
    );
    app.quit().await
}
