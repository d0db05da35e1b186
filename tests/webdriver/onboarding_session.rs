//! Issue 5's acceptance story, as a CSM in Berlin would live it: find the Sydney account
//! that still needs its onboarding, ask for slots, book one, export the invitation (the
//! file lands in Downloads and an independent iCalendar parser reads the right times),
//! copy the invite, get a bad link refused by name, tick the agenda and record the outcome;
//! then, the app reopened around the session (a shifted clock), see the reminder recorded,
//! complete the session and find the account's onboarding done.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use chrono_tz::Australia::Sydney;
use chrono_tz::Europe::Berlin;
use fantoccini::key::Key;
use icalendar::parser::{read_calendar, unfold};
use rapport_tests::{App, Workspace, by_testid};

use crate::common::launch_demo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csm_in_berlin_books_runs_and_completes_a_sydney_onboarding() -> Result<()> {
    let mut ws = Workspace::new()?;
    // The user's Downloads folder, as the desktop names it (XDG user dirs).
    let downloads = ws.root().join("Downloads");
    std::fs::write(
        ws.root().join("xdg-config").join("user-dirs.dirs"),
        format!("XDG_DOWNLOAD_DIR=\"{}\"\n", downloads.display()),
    )?;
    let app = launch_demo(&mut ws).await?;

    // The board flags the Professional Support accounts with no onboarding yet.
    app.click(&by_testid("nav-onboarding")).await?;
    let account_id = app
        .wait_js(
            "a flagged account in Australia/Sydney",
            "const a = Array.from(document.querySelectorAll('[data-testid=board-flagged-account]'))
               .find(b => b.textContent.includes('Australia/Sydney'));
             return a ? a.dataset.accountId : null",
        )
        .await?;
    let account_id = account_id.as_str().context("an account id")?.to_owned();
    app.click(&format!(
        "[data-testid=board-flagged-account][data-account-id=\"{account_id}\"]"
    ))
    .await?;
    app.find("[data-testid=account-onboarding-status][data-status=needed]")
        .await
        .context("the account page says no onboarding yet")?;

    // Office hours in Berlin and Sydney never meet: with Sydney's default hours no slot.
    app.click(&by_testid("slot-find")).await?;
    app.find(&by_testid("slot-none")).await?;
    // Widen the customer's day to 08:00-20:00 Sydney time, add the link, ask again.
    app.fill(&by_testid("slot-customer-from"), "08:00").await?;
    app.fill(&by_testid("slot-customer-to"), "20:00").await?;
    app.fill(
        &by_testid("slot-link"),
        "https://meet.jit.si/rapport-onboarding",
    )
    .await?;
    app.click(&by_testid("slot-find")).await?;
    let slot = app
        .wait_js(
            "the first offered slot",
            "const s = document.querySelector('[data-testid=slot]');
             return s ? [s.dataset.start, s.dataset.end] : null",
        )
        .await?;
    let start = parse_utc(slot[0].as_str().context("a start")?)?;
    let end = parse_utc(slot[1].as_str().context("an end")?)?;
    let (b0, b1) = (start.with_timezone(&Berlin), end.with_timezone(&Berlin));
    let (s0, s1) = (start.with_timezone(&Sydney), end.with_timezone(&Sydney));
    ensure!(
        b0.hour() >= 9 && (b1.hour() < 17 || (b1.hour() == 17 && b1.minute() == 0)),
        "inside my 09:00-17:00 in Berlin: {b0}-{b1}"
    );
    ensure!(
        s0.hour() >= 8 && (s1.hour() < 20 || (s1.hour() == 20 && s1.minute() == 0)),
        "inside the customer's 08:00-20:00 in Sydney: {s0}-{s1}"
    );
    ensure!(
        start > Utc::now() + chrono::TimeDelta::minutes(119),
        "after the 2 h notice"
    );
    // The offer spreads over the days: five slots on five dates, and "More slots" adds
    // the next days.
    let days = |n: usize| {
        format!(
            "const s = [...document.querySelectorAll('[data-testid=slot]')];
             return s.length === {n} ? s.map(e => e.dataset.start) : null"
        )
    };
    let dates = |v: serde_json::Value| -> Result<std::collections::BTreeSet<String>> {
        let starts: Vec<String> = serde_json::from_value(v)?;
        starts
            .iter()
            .map(|s| {
                Ok(parse_utc(s)?
                    .with_timezone(&Berlin)
                    .date_naive()
                    .to_string())
            })
            .collect()
    };
    let five = dates(app.wait_js("five slots", &days(5)).await?)?;
    ensure!(five.len() == 5, "five slots on five days: {five:?}");
    app.click(&by_testid("slot-more")).await?;
    let ten = dates(app.wait_js("ten slots", &days(10)).await?)?;
    ensure!(
        ten.len() == 10 && five.is_subset(&ten),
        "more slots add days: {ten:?}"
    );

    // Book it: the session page opens with both clocks.
    app.click(&format!(
        "[data-testid=slot][data-start=\"{}\"] [data-testid=slot-book]",
        slot[0].as_str().unwrap_or_default()
    ))
    .await?;
    let session_id = app
        .wait_js(
            "the session page",
            "const p = document.querySelector('[data-testid=session-page]');
             return p && document.querySelector('[data-testid=session-status]') ? p.dataset.sessionId : null",
        )
        .await?;
    let session_id = session_id.as_str().context("a session id")?.to_owned();
    let status = app.text(&by_testid("session-status")).await?;
    ensure!(
        status == "Scheduled",
        "a booked session is scheduled ({status})"
    );
    let mine = app.text(&by_testid("session-time-mine")).await?;
    let theirs = app.text(&by_testid("session-time-customer")).await?;
    let hhmm = |t: DateTime<chrono_tz::Tz>| format!("{:02}:{:02}", t.hour(), t.minute());
    ensure!(
        mine.contains(&hhmm(b0)) && theirs.contains(&hhmm(s0)),
        "my time {mine:?} shows {} and theirs {theirs:?} shows {}",
        hhmm(b0),
        hhmm(s0)
    );

    // Export the invitation: the file is in Downloads and parses with the right times.
    app.click(&by_testid("session-export")).await?;
    let shown = app.text(&by_testid("session-export-path")).await?;
    let path = PathBuf::from(
        shown
            .strip_prefix("Saved to ")
            .and_then(|s| s.strip_suffix("Copy path"))
            .map(str::trim)
            .context("the path is shown")?,
    );
    ensure!(
        path.starts_with(&downloads),
        "{} is in the Downloads folder {}",
        path.display(),
        downloads.display()
    );
    let first = read_event(&path)?;
    ensure!(first.method == "REQUEST", "an invitation: {}", first.method);
    ensure!(
        first.uid == format!("{session_id}@rapport"),
        "UID {}",
        first.uid
    );
    ensure!(
        first.start == start && first.end == end,
        "DTSTART/DTEND {}..{} are the booked slot {start}..{end}",
        first.start,
        first.end
    );
    ensure!(first.location == "https://meet.jit.si/rapport-onboarding");
    ensure!(first.has_alarm, "a VALARM reminder");
    ensure!(first.sequence == 0, "a first invitation");

    // Move it to the next free slot: re-exported, same UID, SEQUENCE 1, the new times.
    app.click(&by_testid("session-move")).await?;
    app.fill(&by_testid("slot-customer-from"), "08:00").await?;
    app.fill(&by_testid("slot-customer-to"), "20:00").await?;
    app.click(&by_testid("slot-find")).await?;
    let other = app
        .wait_js(
            "another slot",
            "const s = document.querySelector('[data-testid=slot]');
             return s ? [s.dataset.start, s.dataset.end] : null",
        )
        .await?;
    let other_start = other[0].as_str().context("a start")?.to_owned();
    app.click(&format!(
        "[data-testid=slot][data-start=\"{other_start}\"] [data-testid=slot-book]"
    ))
    .await?;
    app.wait_gone(&by_testid("session-move-panel")).await?;
    let start = parse_utc(&other_start)?;
    let end = parse_utc(other[1].as_str().context("an end")?)?;
    ensure!(start != first.start, "moved to another time");
    let (b0, s0) = (start.with_timezone(&Berlin), start.with_timezone(&Sydney));
    app.click(&by_testid("session-export")).await?;
    // The file is named after the session's new day; the page shows where it went.
    let moved_path = PathBuf::from(format!(
        "{}/onboarding-{}-{}.ics",
        downloads.display(),
        path.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("onboarding-"))
            .and_then(|n| n.get(..n.len().saturating_sub("-YYYY-MM-DD.ics".len())))
            .context("the first file's account part")?,
        start.format("%Y-%m-%d")
    ));
    let moved = app
        .poll(
            "the re-exported file",
            rapport_tests::driver::WAIT,
            async |_| Ok(read_event(&moved_path).ok().filter(|e| e.sequence == 1)),
        )
        .await?;
    let shown = app.text(&by_testid("session-export-path")).await?;
    ensure!(
        shown.contains(&moved_path.display().to_string()),
        "the page shows the new file: {shown}"
    );
    ensure!(
        moved.uid == first.uid && moved.start == start && moved.end == end,
        "the update keeps the UID and carries the new times ({}..{})",
        moved.start,
        moved.end
    );

    // Copy invite: both local times, and it reads back from the clipboard.
    app.click(&by_testid("session-copy-invite")).await?;
    let invite = app.text(&by_testid("session-invite-text")).await?;
    ensure!(
        invite.contains("Australia/Sydney") && invite.contains("Europe/Berlin"),
        "the invite shows both clocks: {invite}"
    );
    let toast = app
        .wait_js(
            "the copy's toast",
            "const t = Array.from(document.querySelectorAll('[data-testid=toast-text]'))
               .map(t => t.textContent).find(t => t.includes('invitation') || t.includes('Invitation'));
             return t ?? null",
        )
        .await?;
    ensure!(
        toast.as_str().is_some_and(|t| t.contains("copied")),
        "the copy succeeded: {toast}"
    );
    // Paste it where a user would (the outcome box), as the user would: Ctrl+V.
    app.fill(&by_testid("session-outcome"), "").await?;
    app.find(&by_testid("session-outcome"))
        .await?
        .send_keys(&format!("{}v{}", Key::Control, Key::Null))
        .await?;
    let pasted = app
        .wait_js(
            "the pasted invite",
            "const v = document.querySelector('[data-testid=session-outcome]').value;
             return v === '' ? null : v",
        )
        .await?;
    ensure!(
        pasted.as_str().map(str::trim) == Some(invite.trim()),
        "the clipboard holds the invite (pasted {pasted:?})"
    );

    // A link that is not https is refused, naming the field; nothing is saved.
    app.fill(
        &by_testid("session-link"),
        "http://meet.jit.si/rapport-onboarding",
    )
    .await?;
    app.click(&by_testid("session-save")).await?;
    let err = app.text(&by_testid("field-error-meeting_link")).await?;
    ensure!(
        err.starts_with("Meeting link"),
        "the error names the field: {err}"
    );
    app.fill(
        &by_testid("session-link"),
        "https://meet.jit.si/rapport-onboarding",
    )
    .await?;

    // Tick the agenda, record the outcome and a follow-up, save.
    let items = app.all(&by_testid("agenda-item")).await?;
    ensure!(
        items.len() == 5,
        "the package's agenda: {} items",
        items.len()
    );
    for i in 0..items.len() {
        app.click(&format!("[data-testid=agenda-item][data-index=\"{i}\"]"))
            .await?;
    }
    app.fill(
        &by_testid("session-outcome"),
        "Walked through chat severities, the urgent email rule and the SLA table.",
    )
    .await?;
    app.click(&by_testid("follow-up-add")).await?;
    app.fill(
        &by_testid("follow-up-title"),
        "Invite the on-call team to Slack",
    )
    .await?;
    app.fill(&by_testid("follow-up-owner"), "Maya Fischer")
        .await?;
    app.click(&by_testid("session-save")).await?;
    app.find(&by_testid("toast")).await?;

    // Not started yet: completing is refused, naming the status.
    app.click(&by_testid("session-complete")).await?;
    let early = app.text(&by_testid("session-error-general")).await?;
    ensure!(
        early.contains("not started"),
        "refused before the start: {early}"
    );
    app.quit().await?;

    // Ten minutes before the session: the reminder is recorded (and logged) by itself.
    let before = (start - Utc::now()).num_minutes() - 10;
    let app = App::launch(&mut ws, &[&format!("--test-clock-offset-minutes={before}")]).await?;
    app.poll(
        "the reminder to be logged",
        rapport_tests::driver::WAIT,
        async |_| Ok(log_mentions(ws.data_dir(), "reminder", &session_id).then_some(())),
    )
    .await?;
    app.quit().await?;

    // Five minutes into the session: the agenda is as saved; complete it.
    let after = (start - Utc::now()).num_minutes() + 5;
    let app = App::launch(&mut ws, &[&format!("--test-clock-offset-minutes={after}")]).await?;
    // Today lists it; my week shows it on my clock with the customer's beside it, and the
    // whole week exports as one calendar holding it.
    app.click(&by_testid("nav-today")).await?;
    app.find(&format!(
        "[data-testid=today-session][data-session-id=\"{session_id}\"]"
    ))
    .await
    .context("Today shows today's session")?;
    app.click(&by_testid("nav-onboarding")).await?;
    let in_week = format!("[data-testid=week-session][data-session-id=\"{session_id}\"]");
    let week_mine = app
        .text(&format!("{in_week} [data-testid=week-time-mine]"))
        .await?;
    let week_theirs = app
        .text(&format!("{in_week} [data-testid=week-time-customer]"))
        .await?;
    ensure!(
        week_mine.starts_with(&hhmm(b0)) && week_theirs.starts_with(&hhmm(s0)),
        "the week shows {week_mine:?} (mine) and {week_theirs:?} (theirs)"
    );
    app.click(&by_testid("week-export")).await?;
    let week_file = app.text(&by_testid("week-export-path")).await?;
    let week_path = PathBuf::from(week_file.trim_start_matches("Saved to ").trim());
    ensure!(week_path.starts_with(&downloads), "{}", week_path.display());
    // The demo's other sessions of the week are in it too.
    let week = read_event_uid(&week_path, Some(&first.uid))?;
    ensure!(
        week.method == "PUBLISH" && week.uid == first.uid && week.start == start,
        "the week's calendar holds the session at its time"
    );
    app.click(&format!(
        "[data-testid=board-session][data-session-id=\"{session_id}\"]"
    ))
    .await?;
    let ticked = app
        .wait_js(
            "the agenda",
            "const b = Array.from(document.querySelectorAll('[data-testid=agenda-item]'));
             return b.length ? b.filter(x => x.checked).length : null",
        )
        .await?;
    ensure!(ticked == 5, "every ticked item was saved ({ticked})");
    app.click(&by_testid("session-complete")).await?;
    app.find("[data-testid=session-status][data-status=completed]")
        .await
        .context("the session is completed")?;

    // The account's onboarding is done, and it is no longer flagged.
    app.click(&by_testid("session-account")).await?;
    app.find("[data-testid=account-onboarding-status][data-status=done]")
        .await
        .context("completing the session marks the account's onboarding done")?;
    app.click(&by_testid("nav-onboarding")).await?;
    app.find(&by_testid("board-flagged")).await?;
    let still = app
        .js(
            "return document.querySelector(`[data-testid=board-flagged-account][data-account-id=\"${arguments[0]}\"]`) !== null",
            vec![account_id.clone().into()],
        )
        .await?;
    ensure!(
        still.as_bool() == Some(false),
        "the account is no longer flagged"
    );
    app.quit().await
}

fn parse_utc(s: &str) -> Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(s)
        .with_context(|| format!("{s} is RFC 3339"))?
        .with_timezone(&Utc))
}

struct Parsed {
    method: String,
    uid: String,
    sequence: u32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    location: String,
    has_alarm: bool,
}

/// Reads the exported file with the `icalendar` crate's parser (not the code that wrote it).
fn read_event(path: &Path) -> Result<Parsed> {
    read_event_uid(path, None)
}

/// The VEVENT of `uid` in the calendar at `path` (the first one without a `uid`).
fn read_event_uid(path: &Path, uid: Option<&str>) -> Result<Parsed> {
    let text = std::fs::read_to_string(path)?;
    let unfolded = unfold(&text);
    let cal = read_calendar(&unfolded).map_err(|e| anyhow::anyhow!("unparsable: {e}"))?;
    let method = cal
        .properties
        .iter()
        .find(|p| p.name.as_str() == "METHOD")
        .map(|p| p.val.as_str().to_owned())
        .context("METHOD")?;
    let Some(event) = cal.components.iter().find(|c| {
        c.name.as_str() == "VEVENT"
            && uid.is_none_or(|u| c.find_prop("UID").is_some_and(|p| p.val.as_str() == u))
    }) else {
        bail!("no VEVENT in {text}");
    };
    let prop = |n: &str| -> Result<String> {
        Ok(event
            .find_prop(n)
            .with_context(|| format!("{n} present"))?
            .val
            .as_str()
            .to_owned())
    };
    let utc = |s: String| -> Result<DateTime<Utc>> {
        Ok(NaiveDateTime::parse_from_str(&s, "%Y%m%dT%H%M%SZ")
            .with_context(|| format!("{s} is a UTC date-time"))?
            .and_utc())
    };
    Ok(Parsed {
        method,
        uid: prop("UID")?,
        sequence: prop("SEQUENCE")?.parse()?,
        start: utc(prop("DTSTART")?)?,
        end: utc(prop("DTEND")?)?,
        location: prop("LOCATION")?,
        has_alarm: event.components.iter().any(|c| c.name.as_str() == "VALARM"),
    })
}

/// Some log file of the data folder has a line with both words.
fn log_mentions(data_dir: &Path, a: &str, b: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(data_dir.join("logs")) else {
        return false;
    };
    entries.flatten().any(|e| {
        std::fs::read_to_string(e.path())
            .is_ok_and(|t| t.lines().any(|l| l.contains(a) && l.contains(b)))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agenda_template_is_checked_in_settings_and_new_sessions_follow_it() -> Result<()> {
    let mut ws = Workspace::new()?;
    let app = launch_demo(&mut ws).await?;
    app.click(&by_testid("nav-settings")).await?;
    let template = by_testid("onboarding-settings-template");
    app.find(&template).await?;
    app.wait_js(
        "the saved settings",
        "const t = document.querySelector('[data-testid=onboarding-settings-template]');
         return t.value.includes('Slack') ? true : null",
    )
    .await
    .context("the package's agenda is the default template")?;

    // An empty template and a zero lead time are refused, naming the field.
    app.fill(&template, " ").await?;
    app.click(&by_testid("onboarding-settings-save")).await?;
    let err = app.text(&by_testid("field-error-agenda_template")).await?;
    ensure!(err.starts_with("Agenda template"), "named: {err}");
    app.fill(&template, "Welcome\nSLA walkthrough").await?;
    app.fill(&by_testid("onboarding-settings-reminder"), "0")
        .await?;
    app.click(&by_testid("onboarding-settings-save")).await?;
    let err = app.text(&by_testid("field-error-reminder_minutes")).await?;
    ensure!(err.starts_with("Reminder minutes"), "named: {err}");
    app.fill(&by_testid("onboarding-settings-reminder"), "30")
        .await?;
    app.click(&by_testid("onboarding-settings-save")).await?;
    app.wait_gone(&by_testid("field-error-reminder_minutes"))
        .await?;

    // A session booked now starts with the new agenda, and its invitation reminds 30 min
    // ahead.
    app.click(&by_testid("nav-onboarding")).await?;
    app.wait_js(
        "a flagged Sydney account",
        "const a = Array.from(document.querySelectorAll('[data-testid=board-flagged-account]'))
           .find(b => b.textContent.includes('Australia/Sydney'));
         if (!a) return null; a.click(); return true",
    )
    .await?;
    app.fill(&by_testid("slot-customer-from"), "08:00").await?;
    app.fill(&by_testid("slot-customer-to"), "20:00").await?;
    app.click(&by_testid("slot-find")).await?;
    app.click("[data-testid=slot] [data-testid=slot-book]")
        .await?;
    app.find(&by_testid("session-status")).await?;
    let titles = app
        .js(
            "return Array.from(document.querySelectorAll('[data-testid=session-agenda] li span'))
               .map(s => s.textContent.trim())",
            vec![],
        )
        .await?;
    ensure!(
        titles == serde_json::json!(["Welcome", "SLA walkthrough"]),
        "the new template: {titles}"
    );
    app.click(&by_testid("session-export")).await?;
    let shown = app.text(&by_testid("session-export-path")).await?;
    let path = shown
        .strip_prefix("Saved to ")
        .and_then(|s| s.strip_suffix("Copy path"))
        .map(str::trim)
        .context("the path is shown")?;
    let text = std::fs::read_to_string(path)?;
    ensure!(
        text.contains("TRIGGER:-PT30M"),
        "the alarm follows the setting"
    );
    app.quit().await
}
