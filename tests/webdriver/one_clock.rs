//! One clock for people: with the computer's zone (`TZ`) far from the profile's, every
//! time on Today, a request, a session and a review reads on the profile's clock (the
//! demo's CSM in Europe/Berlin), the customer's clock beside it where the screen is about
//! them.

use anyhow::{Context, Result, bail, ensure};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc, Weekday};
use rapport_tests::{App, Workspace, by_testid};
use serde_json::Value;

/// The computer's zone for the test: nine hours behind Berlin, so no time coincides.
const COMPUTER_TZ: &str = "America/Los_Angeles";
const PROFILE_TZ: &str = "Europe/Berlin";

/// Berlin's offset from UTC at `t`, from the EU rule (summer time from the last Sunday of
/// March to the last Sunday of October, 01:00 UTC), worked out here so the check does not
/// lean on the formatter it checks.
fn berlin_offset(t: DateTime<Utc>) -> Duration {
    let last_sunday = |month: u32| {
        let mut d = Utc
            .with_ymd_and_hms(t.year(), month, 31, 1, 0, 0)
            .single()
            .unwrap_or_default();
        while d.weekday() != Weekday::Sun {
            d -= Duration::days(1);
        }
        d
    };
    if t >= last_sunday(3) && t < last_sunday(10) {
        Duration::hours(2)
    } else {
        Duration::hours(1)
    }
}

/// Every `<time>` inside `scope`: each of mine is on Berlin's clock and says so (its text
/// holds Berlin's HH:MM of the instant), each of the customer's on its own zone's. Returns
/// how many were checked.
async fn check_times(app: &App, scope: &str) -> Result<usize> {
    let times = app
        .js(
            "return [...document.querySelectorAll(arguments[0] + ' time')].map(t => {
               const their = t.dataset.zone;
               const hm = new Intl.DateTimeFormat('en-GB', { timeZone: their, hour: '2-digit',
                 minute: '2-digit', hourCycle: 'h23' }).format(new Date(t.dateTime));
               return [t.dateTime, their, t.textContent.trim(), hm];
             })",
            vec![scope.into()],
        )
        .await?;
    let Value::Array(times) = times else {
        bail!("not a list: {times}")
    };
    for t in &times {
        let field = |i: usize| t[i].as_str().unwrap_or_default().to_owned();
        let (at, zone, text, their_hm) = (field(0), field(1), field(2), field(3));
        let instant: DateTime<Utc> = at.parse().with_context(|| format!("{at} is an instant"))?;
        if zone == PROFILE_TZ {
            let berlin = (instant + berlin_offset(instant))
                .format("%H:%M")
                .to_string();
            ensure!(
                text.contains(&berlin),
                "{scope}: {at} reads {text:?}, not Berlin's {berlin}"
            );
        } else {
            ensure!(
                text.contains(&their_hm) && text.contains(&zone),
                "{scope}: the customer's clock of {at} reads {text:?}, not {their_hm} {zone}"
            );
        }
    }
    let mine = times.iter().filter(|t| t[1] == PROFILE_TZ).count();
    ensure!(mine > 0, "{scope} shows times of mine");
    Ok(times.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_time_reads_on_the_profiles_clock() -> Result<()> {
    let mut ws = Workspace::new()?;
    ws.set_env("TZ", COMPUTER_TZ);
    let app = App::launch(&mut ws, &["--demo"]).await?;
    let computer = app
        .js(
            "return Intl.DateTimeFormat().resolvedOptions().timeZone",
            vec![],
        )
        .await?;
    ensure!(
        computer.as_str() == Some(COMPUTER_TZ),
        "the window runs on the computer's zone {COMPUTER_TZ}: {computer}"
    );

    // Today: my sessions (the customer's clock beside), and the status bar's last save.
    app.testid("today-page").await?;
    app.find(&by_testid("today-session-time")).await?;
    let n = check_times(&app, "[data-testid=today-page]").await?;
    eprintln!("Today: {n} times checked");

    // A session.
    app.click(&by_testid("today-session")).await?;
    app.testid("session-time-mine").await?;
    let n = check_times(&app, "[data-testid=session-time-mine]").await?
        + check_times_of_customer(&app, "[data-testid=session-time-customer]").await?;
    eprintln!("session: {n} times checked");

    // A request: its due time and its timeline, to the second.
    app.click(&by_testid("nav-today")).await?;
    app.click(&by_testid("today-urgent-request")).await?;
    app.testid("request-timeline").await?;
    let n = check_times(&app, "[data-testid=request-page]").await?;
    eprintln!("request: {n} times checked");

    // A booked review, on the quarter board.
    app.click(&by_testid("nav-quarter")).await?;
    app.click("[data-testid=quarter-row][data-column=scheduled] [data-testid=quarter-open]")
        .await?;
    app.testid("review-when").await?;
    let n = check_times(&app, "[data-testid=review-page]").await?;
    eprintln!("review: {n} times checked");

    // A save stamps the status bar's "Last saved", on my clock too.
    app.fill(&by_testid("review-findings"), "Checked on two clocks")
        .await?;
    app.click(&by_testid("review-save")).await?;
    app.testid("status-last-write").await?;
    check_times(&app, "[data-testid=status-last-write]").await?;
    app.quit().await
}

/// The session page's customer line: every time on the customer's zone (the page names
/// the zone in its label, not in each time).
async fn check_times_of_customer(app: &App, scope: &str) -> Result<usize> {
    let zones = app
        .js(
            "return [...document.querySelectorAll(arguments[0] + ' time')].map(t => t.dataset.zone)",
            vec![scope.into()],
        )
        .await?;
    let zones: Vec<String> = serde_json::from_value(zones)?;
    ensure!(
        !zones.is_empty() && zones.iter().all(|z| z != PROFILE_TZ),
        "{scope}: on the customer's clock: {zones:?}"
    );
    Ok(zones.len())
}
