//! Issue 6, as an account rep would: open the quarter board, see an account due, book next
//! quarter's review through the slot finder, see the counts move, complete this quarter's
//! health check with an action item, and see the score and its trend point on the account
//! page. And bad input (weights that do not add up) refused, naming the field.
//!
//! The app starts without `--demo` on an empty data folder: the first-start form makes the
//! user an account rep in Europe/Berlin and loads the demo workspace under that profile; the
//! board is shown for every rep.

use anyhow::{Context, Result, ensure};
use rapport_tests::{App, Workspace, by_testid};
use serde_json::Value;

use crate::common::{DEMO_ACCOUNTS, show_accounts};

/// The counts of the board as shown, once it shows quarter `offset`.
async fn counts(app: &App, offset: i32) -> Result<[u64; 5]> {
    let v = app
        .wait_js(
            &format!("the board of quarter offset {offset}"),
            &format!(
                "const b = document.querySelector('[data-testid=quarter-board]');
                 if (!b || b.dataset.offset !== '{offset}') return null;
                 const tiles = ['due','requested','scheduled','done','overdue']
                   .map(c => document.querySelector(`[data-testid=count-${{c}}]`));
                 if (tiles.some(t => !t)) return null;
                 return tiles.map(t => Number(t.dataset.count));"
            ),
        )
        .await?;
    let n: Vec<u64> = serde_json::from_value(v)?;
    Ok([n[0], n[1], n[2], n[3], n[4]])
}

async fn open_board(app: &App) -> Result<()> {
    app.click(&by_testid("nav-quarter")).await?;
    app.find(&by_testid("quarter-board")).await?;
    Ok(())
}

/// Waits for the review page to show `state`.
async fn review_state(app: &App, state: &str) -> Result<()> {
    app.wait_js(
        &format!("the review to be {state}"),
        &format!(
            "const p = document.querySelector('[data-testid=review-page]');
             return p && p.dataset.state === '{state}' ? true : null"
        ),
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_books_next_quarter_and_completes_a_health_check() -> Result<()> {
    let mut ws = Workspace::new()?;
    // The user's Downloads folder, as the desktop names it (XDG user dirs).
    let downloads = ws.root().join("Downloads");
    std::fs::write(
        ws.root().join("xdg-config").join("user-dirs.dirs"),
        format!("XDG_DOWNLOAD_DIR=\"{}\"\n", downloads.display()),
    )?;
    let app = App::launch(&mut ws, &[]).await?;

    // First start: who I am (an account rep in Berlin), then the demo workspace as my own.
    app.testid("onboarding").await?;
    app.fill(&by_testid("profile-name"), "Rita Rep").await?;
    app.fill(&by_testid("profile-email"), "rita@rapport-vendor.com")
        .await?;
    app.js(
        "const s = document.querySelector('[data-testid=profile-role]');
         s.value = 'account_rep'; s.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![],
    )
    .await?;
    app.fill(&by_testid("profile-time_zone"), "Europe/Berlin")
        .await?;
    app.click(&by_testid("choose-demo")).await?;
    show_accounts(&app, |n| n >= DEMO_ACCOUNTS)
        .await
        .context("the demo accounts show")?;
    let me = app.text(&by_testid("status-me")).await?;
    ensure!(
        me.contains("Rita Rep") && me.contains("Account rep"),
        "the demo workspace is mine, as an account rep: {me:?}"
    );

    // This quarter: accounts are due.
    open_board(&app).await?;
    let [due_now, ..] = counts(&app, 0).await?;
    ensure!(
        due_now > 0,
        "the demo's Professional Support accounts are due this quarter"
    );
    let this_label = app.text(&by_testid("quarter-label")).await?;
    // An account in a European zone (its hours meet Berlin's) whose review is due this
    // quarter (the demo has others requested, booked or done already).
    let account_id = app
        .wait_js(
            "a due account in Europe",
            "const r = [...document.querySelectorAll('[data-testid=quarter-row]')]
               .find(r => r.dataset.column === 'due' && r.dataset.tz.startsWith('Europe/'));
             return r ? r.dataset.accountId : null",
        )
        .await?;
    let account_id = account_id.as_str().context("an account id")?.to_owned();

    // Next quarter: the same account is due there too; its review is requested and booked.
    app.click(&by_testid("quarter-next")).await?;
    let before = counts(&app, 1).await?;
    let next_label = app.text(&by_testid("quarter-label")).await?;
    ensure!(
        next_label != this_label,
        "the label moves: {this_label} → {next_label}"
    );
    let row = format!("[data-testid=quarter-row][data-account-id=\"{account_id}\"]");
    app.click(&format!("{row} {}", by_testid("quarter-request")))
        .await?;
    review_state(&app, "requested").await?;

    // The slot finder offers free hours; the first is booked.
    app.click(&by_testid("review-find-slots")).await?;
    app.find(&by_testid("review-slot")).await?;
    app.click(&by_testid("review-slot")).await?;
    review_state(&app, "scheduled").await?;
    let when = app.text(&by_testid("review-when")).await?;
    ensure!(
        when.contains("Europe/Berlin"),
        "the session in my zone: {when}"
    );
    // The state shows once (no "Scheduled" column badge beside the "Scheduled" state), and
    // the page has Back.
    let head = app
        .js(
            "const h = document.querySelector('[data-testid=review-page] .page-head');
             return [...h.querySelectorAll('.badge')].map(b => b.textContent.trim())",
            vec![],
        )
        .await?;
    ensure!(
        head.as_array().is_some_and(|b| b
            .iter()
            .filter(|t| t.as_str() == Some("Scheduled"))
            .count()
            == 1),
        "the state once in the page's head: {head}"
    );
    app.testid("review-back").await?;
    app.click(&by_testid("review-ics")).await?;
    let shown = app.text(&by_testid("review-ics-path")).await?;
    let ics_file = std::path::PathBuf::from(
        shown
            .strip_prefix("Saved to ")
            .and_then(|s| s.strip_suffix("Copy path"))
            .map(str::trim)
            .context("the path is shown")?,
    );
    ensure!(
        ics_file.parent() == Some(downloads.as_path()),
        "the invitation is in Downloads like an onboarding one: {}",
        ics_file.display()
    );
    let name = ics_file
        .file_name()
        .and_then(|n| n.to_str())
        .context("a file name")?;
    let readable = name
        .strip_prefix("review-")
        .and_then(|n| n.strip_suffix(".ics"))
        .and_then(|n| n.len().checked_sub(11).map(|at| n.split_at(at)))
        .is_some_and(|(slug, day)| {
            !slug.is_empty()
                && slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && chrono::NaiveDate::parse_from_str(&day[1..], "%Y-%m-%d").is_ok()
        });
    ensure!(
        readable,
        "a readable name like review-<account>-<day>.ics, not an id: {name}"
    );
    let ics = std::fs::read_to_string(&ics_file)
        .with_context(|| format!("reading {}", ics_file.display()))?;
    ensure!(
        ics.contains("BEGIN:VEVENT") && ics.contains("METHOD:REQUEST"),
        "an invitation: {ics}"
    );

    // The counts moved: one fewer due, one more scheduled.
    open_board(&app).await?;
    counts(&app, 0).await?;
    app.click(&by_testid("quarter-next")).await?;
    let after = counts(&app, 1).await?;
    ensure!(
        after[0] + 1 == before[0] && after[2] == before[2] + 1,
        "due {} → {}, scheduled {} → {}",
        before[0],
        after[0],
        before[2],
        after[2]
    );
    let column = app
        .text(&format!("{row} {}", by_testid("quarter-row-column")))
        .await?;
    ensure!(
        column == "Scheduled",
        "the booked account is scheduled: {column}"
    );

    // This quarter's health check of the same account, held an hour ago.
    app.click(&by_testid("quarter-this")).await?;
    counts(&app, 0).await?;
    app.click(&format!("{row} {}", by_testid("quarter-request")))
        .await?;
    review_state(&app, "requested").await?;
    app.click("[data-testid=review-check-item][data-item=usage_review] input[type=checkbox]")
        .await?;
    app.fill(&by_testid("review-findings"), "Exports slow at month end")
        .await?;
    app.js(
        "const s = document.querySelector('[data-testid=review-sentiment]');
         s.value = '4'; s.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![],
    )
    .await?;
    app.fill(&by_testid("action-title"), "Add a read replica")
        .await?;
    app.fill(&by_testid("action-owner"), "Maya Fischer").await?;
    app.js(
        "const d = document.querySelector('[data-testid=action-due]');
         d.value = '2027-01-15'; d.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![],
    )
    .await?;
    app.click(&by_testid("action-add")).await?;
    app.find(&by_testid("review-action")).await?;
    app.click(&by_testid("review-complete-held")).await?;
    review_state(&app, "completed").await?;
    let action = app.text(&by_testid("review-action")).await?;
    ensure!(
        action.contains("Add a read replica"),
        "the action item is kept: {action}"
    );

    // The account page: the score, its parts with weights, and a point on the trend.
    app.click("[data-testid=review-page] h1 button").await?;
    app.find(&by_testid("account-name")).await?;
    let score = app
        .wait_js(
            "a health score",
            "const p = document.querySelector('[data-testid=health-panel]');
             return p && p.dataset.score !== '' ? p.dataset.score : null",
        )
        .await?;
    let score: u32 = match score {
        Value::String(s) => s.parse()?,
        other => anyhow::bail!("not a score: {other}"),
    };
    ensure!(score <= 100, "a score 0–100: {score}");
    let parts = app.text(&by_testid("health-parts")).await?;
    ensure!(
        parts.contains("Review recency") && parts.contains("CSM sentiment") && parts.contains('%'),
        "the parts with their weights: {parts}"
    );
    for part in [
        "Open requests",
        "SLA misses",
        "Review recency",
        "Onboarding done",
        "CSM sentiment",
    ] {
        ensure!(parts.contains(part), "the part {part} is shown: {parts}");
    }
    ensure!(
        parts.contains("reviewed 0 days ago"),
        "the review just completed is the recency part's: {parts}"
    );
    let scores = app
        .wait_js(
            "a point on the trend",
            "const c = document.querySelector('[data-testid=health-chart]');
             return c && Number(c.dataset.points) >= 1 && c.querySelector('canvas') ? c.dataset.scores : null",
        )
        .await?;
    let scores = scores.as_str().context("the trend's scores")?.to_owned();
    ensure!(
        scores.ends_with(&format!(",{score}")) || scores == score.to_string(),
        "the latest trend point is the score now ({score}): {scores}"
    );
    // Hovering the chart shows the parts of a point.
    app.js(
        "const o = document.querySelector('[data-testid=health-chart] .u-over');
         const r = o.getBoundingClientRect();
         const at = { clientX: r.left + r.width / 2, clientY: r.top + r.height / 2 };
         o.dispatchEvent(new MouseEvent('mouseenter', at));
         o.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, ...at }));",
        vec![],
    )
    .await?;
    let hover = app.text(&by_testid("health-hover")).await?;
    let hovered_score = hover
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    ensure!(
        hover.contains("Review recency")
            && hover.contains("CSM sentiment")
            && scores.split(',').any(|s| s == hovered_score),
        "the hovered point shows its score and parts: {hover}"
    );

    // Weights that do not add up are refused, naming the field.
    app.click(&by_testid("nav-settings")).await?;
    app.find(&by_testid("health-settings")).await?;
    app.fill(&by_testid("weight-sentiment"), "50").await?;
    app.click(&by_testid("weights-save")).await?;
    let err = app.text(&by_testid("weights-error")).await?;
    ensure!(
        err.starts_with("Weights") && err.contains("add up to 100"),
        "the error names the weights: {err}"
    );
    app.fill(&by_testid("review-reminder-minutes"), "0").await?;
    app.click(&by_testid("review-reminder-save")).await?;
    let err = app.text(&by_testid("review-reminder-error")).await?;
    ensure!(
        err.starts_with("Reminder minutes") && err.contains("1440"),
        "the error names the reminder's minutes: {err}"
    );

    app.quit().await
}
