//! Issue 7's acceptance story, as a support lead would: import an urgent email through the
//! file picker, watch the P1 countdown, launch the Jitsi call, respond, resolve, write and
//! publish the RCA, export it, and find it among the account's notes.
//!
//! The system browser is observed, not started: the opener plugin hands links to `xdg-open`
//! on Linux, so the app runs with a PATH whose `xdg-open` writes each URL it is given to a
//! file the test reads. The Markdown export goes to the Downloads folder named by the
//! workspace's `user-dirs.dirs`, as on a desktop.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use rapport_tests::{App, Workspace, by_testid};
use serde_json::Value;

use crate::common::{start_demo_as, unique_word};

/// Becomes the support lead on the demo workspace (first start: "who are you", demo data).
async fn start_as_support_lead(ws: &mut Workspace) -> Result<App> {
    start_demo_as(
        ws,
        "Tomás Silva",
        "tomas@rapport-vendor.com",
        "support_lead",
    )
    .await
}

/// A Professional Support account of the demo with a support email domain and no requests
/// yet (so its SLA figures are this test's alone), by the UI: the accounts list filtered by
/// plan, then the account page. Returns (id, name, domain).
async fn professional_support_account(app: &App) -> Result<(String, String, String)> {
    app.find(&by_testid("filter-plan"))
        .await?
        .select_by_value("professional_support")
        .await?;
    let rows = app
        .wait_js(
            "Professional Support rows",
            "const rows = Array.from(document.querySelectorAll('[data-testid=account-row]'));
             return rows.length > 0 && rows.every(r => r.querySelector('.badge.plan-professional_support'))
               ? rows.map(r => r.dataset.accountId) : null",
        )
        .await?;
    let Value::Array(ids) = rows else {
        anyhow::bail!("not a list: {rows}")
    };
    for id in ids {
        let id = id.as_str().context("an id")?.to_owned();
        app.click(&format!(
            "[data-testid=account-row][data-account-id=\"{id}\"]"
        ))
        .await?;
        let name = app.text(&by_testid("account-name")).await?;
        let domains = app
            .wait_js(
                "the support email domains",
                "const dt = Array.from(document.querySelectorAll('[data-testid=account-details] dt'))
                   .find(d => d.textContent.trim() === 'Support email domains');
                 return dt ? dt.nextElementSibling.textContent.trim() : null",
            )
            .await?;
        let domain = domains
            .as_str()
            .unwrap_or("")
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let requests = app
            .wait_js(
                "the account's requests",
                "const s = document.querySelector('[data-testid=account-requests]');
                 return s && s.dataset.count !== '' ? s.dataset.count : null",
            )
            .await?;
        if domain.contains('.') && requests.as_str() == Some("0") {
            return Ok((id, name, domain));
        }
        app.click(&by_testid("account-back")).await?;
    }
    anyhow::bail!("no Professional Support account with a support email domain in the demo")
}

/// Puts an `xdg-open` stand-in first on the app's PATH (it appends each URL it is asked to
/// open to a file) and names a Downloads folder in the workspace's `user-dirs.dirs`.
/// Returns (the file of opened URLs, the Downloads folder).
fn observe_browser_and_downloads(
    ws: &mut Workspace,
) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let root = ws.root().to_path_buf();
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin)?;
    let opened = root.join("opened-urls.txt");
    let shim = bin.join("xdg-open");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
            opened.display()
        ),
    )?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755))?;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut new_path = bin.clone().into_os_string();
    new_path.push(":");
    new_path.push(path);
    ws.set_env("PATH", new_path);
    let downloads = root.join("downloads");
    std::fs::create_dir_all(&downloads)?;
    std::fs::write(
        root.join("xdg-config").join("user-dirs.dirs"),
        format!("XDG_DOWNLOAD_DIR=\"{}\"\n", downloads.display()),
    )?;

    Ok((opened, downloads))
}

/// The `data-remaining` seconds of the request page's clock.
async fn remaining(app: &App) -> Result<i64> {
    let v = app
        .js(
            "return document.querySelector('[data-testid=request-clock]')?.dataset.remaining ?? ''",
            vec![],
        )
        .await?;
    v.as_str()
        .context("a string")?
        .parse()
        .context("remaining seconds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_support_lead_takes_an_urgent_email_to_a_published_rca() -> Result<()> {
    let mut ws = Workspace::new()?;
    let root = ws.root().to_path_buf();

    let (opened, downloads) = observe_browser_and_downloads(&mut ws)?;

    let app = start_as_support_lead(&mut ws).await?;
    let (account_id, account_name, domain) = professional_support_account(&app).await?;

    // The urgent email, as the customer sent it.
    let marker = unique_word("checkout");
    let subject = format!("[URGENT] Checkout down {marker}");
    let now = chrono::Utc::now().to_rfc2822();
    let eml = root.join("urgent.eml");
    std::fs::write(
        &eml,
        format!(
            "From: Ops Team <ops@{domain}>\r\nTo: support@rapport-vendor.com\r\n\
             Subject: {subject}\r\nDate: {now}\r\nMessage-ID: <{marker}@{domain}>\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n\
             Every checkout fails since a few minutes. Please call us.\r\n"
        ),
    )?;

    // Import it with the file picker on the requests board.
    app.click(&by_testid("nav-requests")).await?;
    app.testid("requests-page").await?;
    let picker = app.find(&by_testid("eml-input")).await?;
    picker
        .send_keys(&eml.display().to_string())
        .await
        .context("WebKitWebDriver sets a file input's file from a path")?;
    app.testid("request-page").await?;
    let title = app.text(&by_testid("request-title")).await?;
    ensure!(
        title == subject,
        "the request is titled by the subject: {title:?}"
    );
    let sev = app.text(&by_testid("request-severity")).await?;
    ensure!(sev == "P1", "an urgent email opens a P1: {sev}");
    app.find(&by_testid("request-needs-triage"))
        .await
        .context("an email needs triage")?;
    let request_id = app
        .find(&by_testid("request-page"))
        .await?
        .attr("data-request-id")
        .await?
        .context("the request id")?;

    // The P1 countdown runs: under 30 minutes, going down each second.
    let state = app
        .find(&by_testid("request-clock"))
        .await?
        .attr("data-state")
        .await?;
    ensure!(
        state.as_deref() == Some("on_track"),
        "a fresh P1 is on track: {state:?}"
    );
    let first = remaining(&app).await?;
    ensure!(
        (1700..=1800).contains(&first),
        "a P1 is due 30 minutes after it came in: {first} s left"
    );
    let countdown = app.text(&by_testid("request-countdown")).await?;
    ensure!(
        countdown.ends_with("left"),
        "the countdown shows: {countdown:?}"
    );
    // The countdown ticks by itself: wait (bounded) until it shows less than it did.
    let later = app
        .poll(
            "the countdown to go down without a reload",
            Duration::from_secs(5),
            async |_| {
                let now = remaining(&app).await?;
                Ok((now < first).then_some(now))
            },
        )
        .await?;
    ensure!(later >= first - 5, "it counts seconds ({first} → {later})");

    // On Today's urgent section.
    app.click(&by_testid("nav-today")).await?;
    app.find(&format!(
        "[data-testid=today-urgent-request][data-request-id=\"{request_id}\"][data-state=on_track]"
    ))
    .await
    .context("Today shows the urgent request")?;

    // On the board too, coloured by its state.
    app.click(&by_testid("nav-requests")).await?;
    let row = format!("[data-testid=request-row][data-request-id=\"{request_id}\"]");
    let row_state = app.find(&row).await?.attr("data-state").await?;
    ensure!(row_state.as_deref() == Some("on_track"), "{row_state:?}");
    app.click(&row).await?;
    app.testid("request-page").await?;

    // Launch the call: a Jitsi room, opened in the "browser", recorded on the timeline.
    app.click(&by_testid("request-launch-call")).await?;
    let link = app
        .find(&by_testid("request-call-link"))
        .await?
        .prop("value")
        .await?;
    let link = link.context("the call link is shown")?;
    ensure!(
        link.starts_with("https://meet.jit.si/rapport-") && link.len() == 54,
        "an unguessable Jitsi room: {link}"
    );
    let urls = wait_file_lines(&opened, 1).await?;
    ensure!(
        urls == vec![link.clone()],
        "the system browser was asked to open {link}: {urls:?}"
    );
    let recorded = app.text(&by_testid("timeline-call")).await?;
    ensure!(
        recorded.contains("call launched by Tomás Silva") && recorded.contains(&link),
        "the timeline records who launched it: {recorded:?}"
    );
    // Re-launching reuses the incident's one link.
    app.click(&by_testid("request-launch-call")).await?;
    let urls = wait_file_lines(&opened, 2).await?;
    ensure!(
        urls == vec![link.clone(), link.clone()],
        "the same link again: {urls:?}"
    );

    // Respond to the customer: the clock stops, met.
    app.fill(
        &by_testid("request-reply"),
        "We are on it; joining the call now.",
    )
    .await?;
    app.click(&by_testid("request-reply-public")).await?;
    click_centered(&app, "request-reply-send").await?;
    app.wait_js(
        "the clock to stop",
        "return document.querySelector('[data-testid=request-clock]')?.dataset.state === 'met' || null",
    )
    .await?;

    // Resolve: RCA due.
    click_centered(&app, "request-status-resolved").await?;
    app.testid("request-rca-due").await?;

    // Write and publish the RCA.
    click_centered(&app, "request-rca-open").await?;
    app.testid("rca-editor").await?;
    let sla = app.text(&by_testid("rca-sla")).await?;
    ensure!(sla == "Met", "the SLA result is prefilled: {sla}");
    let entries = app.all(&by_testid("rca-timeline-entry")).await?;
    ensure!(
        entries.len() >= 4,
        "the timeline is prefilled ({} entries)",
        entries.len()
    );
    let end = app
        .find(&by_testid("rca-impact-end"))
        .await?
        .prop("value")
        .await?;
    ensure!(
        end.is_some_and(|e| !e.is_empty()),
        "the impact window ends at the resolution"
    );
    app.fill(
        &by_testid("rca-summary"),
        &format!("Checkout outage {marker}"),
    )
    .await?;
    app.fill(&by_testid("rca-affected"), "All web shop customers")
        .await?;
    app.fill(
        &by_testid("rca-root-cause"),
        "An expired TLS certificate on the payment gateway",
    )
    .await?;
    app.fill(
        &by_testid("rca-resolution"),
        "Certificate renewed; rotation automated",
    )
    .await?;
    click_centered(&app, "rca-item-add").await?;
    app.fill(&by_testid("rca-item-title"), "Alert 30 days before expiry")
        .await?;
    app.fill(&by_testid("rca-item-owner"), "Tomás Silva")
        .await?;
    click_centered(&app, "rca-to-review").await?;
    app.find("[data-testid=rca-state][data-state=in_review]")
        .await?;
    click_centered(&app, "rca-publish").await?;
    app.find("[data-testid=rca-state][data-state=published]")
        .await
        .context("the support lead publishes")?;

    // Export it: the path is shown, the file is there.
    click_centered(&app, "rca-export").await?;
    let path = app.text(&by_testid("rca-export-path")).await?;
    ensure!(
        std::path::Path::new(&path).starts_with(&downloads),
        "exported into Downloads: {path}"
    );
    let md = std::fs::read_to_string(&path).with_context(|| path.clone())?;
    ensure!(
        md.starts_with(&format!("# Root-cause analysis: {subject}"))
            && md.contains("An expired TLS certificate")
            && md.contains("| Alert 30 days before expiry | Tomás Silva |")
            && md.contains("- First-response SLA: met"),
        "the Markdown holds the RCA:\n{md}"
    );

    // Find it among the account's notes.
    click_centered(&app, "rca-account").await?;
    let shown = app.text(&by_testid("account-name")).await?;
    ensure!(shown == account_name, "{shown}");
    let note = app
        .wait_js(
            "the RCA note",
            &format!(
                "const n = Array.from(document.querySelectorAll('[data-testid=note]'))
                   .find(n => n.textContent.includes('Checkout outage {marker}'));
                 return n ? n.querySelector('h1')?.textContent ?? '' : null"
            ),
        )
        .await?;
    ensure!(
        note.as_str()
            .is_some_and(|h| h.contains("Root-cause analysis")),
        "the note renders the RCA: {note}"
    );
    app.find(&format!(
        "[data-testid=account-request][data-request-id=\"{request_id}\"]"
    ))
    .await
    .context("the account page lists the request")?;
    ensure!(account_id.len() == 36, "{account_id}");

    // The SLA report counts it as met, charts it, and exports CSV into Downloads.
    app.click(&by_testid("nav-requests")).await?;
    app.click(&by_testid("sla-report-open")).await?;
    // The demo has many accounts' requests: the report of this one account.
    app.find(&format!(
        "[data-testid=sla-report-account] option[value=\"{account_id}\"]"
    ))
    .await?;
    app.find(&by_testid("sla-report-account"))
        .await?
        .select_by_value(&account_id)
        .await?;
    let total = app
        .wait_js(
            "the account's report",
            "const t = document.querySelector('[data-testid=sla-report-total]')?.textContent;
             return t === '100.0 %' ? t : null",
        )
        .await?;
    let total = total.as_str().unwrap_or_default();
    ensure!(total == "100.0 %", "one P1, answered in time: {total}");
    app.find("[data-testid=sla-report-chart] canvas")
        .await
        .context("the uPlot chart is drawn")?;
    app.click(&by_testid("sla-report-export")).await?;
    let saved = app.text(&by_testid("sla-report-exported")).await?;
    let csv_path = saved.trim_start_matches("Saved to ").trim().to_owned();
    let csv = std::fs::read_to_string(&csv_path).with_context(|| csv_path.clone())?;
    ensure!(
        csv.contains(&format!("\"{account_name}\",\"all\",all,1,0,0,0,100.0,")),
        "the CSV has the account's record:\n{csv}"
    );

    // The urgent alert was shown once and recorded (the loop runs every 5 s), and a
    // restart does not show it again.
    app.quit().await?;
    let app = App::launch(&mut ws, &[]).await?;
    app.testid("app-frame").await?;
    tokio::time::sleep(Duration::from_secs(7)).await;
    app.quit().await?;
    let store = rapport_client::Store::open(ws.data_dir()).await?;
    let sent = store.alerts_sent(request_id.parse()?).await?;
    store.close().await;
    ensure!(
        sent == vec!["urgent".to_owned()],
        "the new-P1 alert is recorded once: {sent:?}"
    );
    let mut logged = 0;
    for entry in std::fs::read_dir(ws.data_dir().join("logs"))? {
        let text = std::fs::read_to_string(entry?.path())?;
        logged += text
            .lines()
            .filter(|l| l.contains("desktop alert") && l.contains(&request_id))
            .count();
    }
    ensure!(
        logged == 1,
        "one alert logged across two runs, not {logged}"
    );
    Ok(())
}

/// Clicks the element of `testid` once scrolled to the middle of the page: buttons at the
/// foot of a long form would otherwise sit under the status bar.
async fn click_centered(app: &App, testid: &str) -> Result<()> {
    let sel = by_testid(testid);
    app.find(&sel).await?;
    app.js(
        "document.querySelector(arguments[0])?.scrollIntoView({ block: 'center' })",
        vec![sel.clone().into()],
    )
    .await?;
    app.click(&sel).await
}

/// The lines of `file` once it has at least `n`.
async fn wait_file_lines(file: &std::path::Path, n: usize) -> Result<Vec<String>> {
    for _ in 0..100 {
        if let Ok(text) = std::fs::read_to_string(file) {
            let lines: Vec<String> = text.lines().map(str::to_owned).collect();
            if lines.len() >= n {
                return Ok(lines);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{} never had {n} lines", file.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_intake_my_meeting_link_severity_and_an_unknown_sender_dropped_in() -> Result<()> {
    let mut ws = Workspace::new()?;
    let (opened, _downloads) = observe_browser_and_downloads(&mut ws)?;
    let app = start_as_support_lead(&mut ws).await?;
    let (_, account_name, _) = professional_support_account(&app).await?;

    // My meeting link: a look-alike host is refused naming the field; a Zoom link is kept.
    app.click(&by_testid("nav-settings")).await?;
    app.fill(
        &by_testid("call-settings-link"),
        "https://zoom.us.evil.example/j/1",
    )
    .await?;
    click_centered(&app, "call-settings-save").await?;
    let refused = app.text(&by_testid("field-error-meeting_link")).await?;
    ensure!(
        refused.contains("zoom.us.evil.example is not an allowed meeting host"),
        "{refused}"
    );
    let mine = "https://zoom.us/j/5551234567";
    app.fill(&by_testid("call-settings-link"), mine).await?;
    click_centered(&app, "call-settings-save").await?;
    app.wait_gone(&by_testid("field-error-meeting_link"))
        .await?;

    // A P2 taken in by chat.
    app.click(&by_testid("nav-requests")).await?;
    app.click(&by_testid("request-new")).await?;
    app.fill(&by_testid("new-request-account-search"), &account_name)
        .await?;
    // Nothing is preselected: the account is chosen among the matches.
    app.wait_js(
        "the account to be offered and chosen",
        &format!(
            "const s = document.querySelector('[data-testid=new-request-account]');
             const o = s && [...s.options].find(o => o.textContent === {account_name:?});
             if (!o) return null;
             s.value = o.value; s.dispatchEvent(new Event('change', {{ bubbles: true }}));
             return s.selectedOptions[0]?.textContent === {account_name:?} || null"
        ),
    )
    .await?;
    app.find(&by_testid("new-request-severity"))
        .await?
        .select_by_value("p2")
        .await?;
    let title = unique_word("replication-lag-");
    app.fill(&by_testid("new-request-title"), &title).await?;
    app.fill(&by_testid("new-request-details"), "Lag grows since 09:00")
        .await?;
    click_centered(&app, "new-request-save").await?;
    app.testid("request-page").await?;
    ensure!(app.text(&by_testid("request-title")).await? == title);
    ensure!(app.text(&by_testid("request-severity")).await? == "P2");
    let left = remaining(&app).await?;
    ensure!((7000..=7200).contains(&left), "a P2 has 2 hours: {left}");

    // The call uses my meeting link.
    app.click(&by_testid("request-launch-call")).await?;
    let urls = wait_file_lines(&opened, 1).await?;
    ensure!(urls == vec![mine.to_owned()], "{urls:?}");

    // Raised to P1: due 30 minutes after the change (t_s).
    app.find(&by_testid("request-severity-select"))
        .await?
        .select_by_value("p1")
        .await?;
    app.click(&by_testid("request-severity-set")).await?;
    app.wait_js(
        "the P1 clock",
        "return document.querySelector('[data-testid=request-severity]')?.textContent === 'P1' || null",
    )
    .await?;
    let left = remaining(&app).await?;
    ensure!(
        (1700..=1800).contains(&left),
        "P1 from the upgrade: {left} s left"
    );
    let changed = app
        .js(
            "return Array.from(document.querySelectorAll('[data-testid=timeline-event]'))
               .some(e => e.textContent.includes('Severity changed from P2 to P1') && e.textContent.includes('Tomás Silva'))",
            vec![],
        )
        .await?;
    ensure!(
        changed == Value::Bool(true),
        "the change is on the timeline with who"
    );

    // An urgent email from an unknown sender, dropped on the board: choose the account.
    app.click(&by_testid("nav-requests")).await?;
    let subject = format!("URGENT: {}", unique_word("login-broken-"));
    let eml = format!(
        "From: =?UTF-8?Q?Bj=C3=B6rn?= <bjorn@unknown-customer.example>\r\nSubject: {subject}\r\n\
         Message-ID: <u1@unknown-customer.example>\r\n\r\nNobody can log in.\r\n"
    );
    app.js(
        "const dt = new DataTransfer();
         dt.items.add(new File([arguments[0]], 'login.eml', { type: 'message/rfc822' }));
         const zone = document.querySelector('[data-testid=eml-drop]');
         zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));",
        vec![eml.into()],
    )
    .await?;
    let ask = app.text(&by_testid("eml-choose-account")).await?;
    ensure!(ask.contains("bjorn@unknown-customer.example"), "{ask}");
    app.fill(&by_testid("eml-account-search"), &account_name)
        .await?;
    app.wait_js(
        "the account to be offered",
        &format!(
            "const s = document.querySelector('[data-testid=eml-account]');
             return s && s.selectedOptions[0]?.textContent === {account_name:?} || null"
        ),
    )
    .await?;
    app.click(&by_testid("eml-account-import")).await?;
    app.testid("request-page").await?;
    ensure!(app.text(&by_testid("request-title")).await? == subject);
    ensure!(app.text(&by_testid("request-severity")).await? == "P1");
    app.find(&by_testid("request-needs-triage")).await?;
    let account = app.text(&by_testid("request-account")).await?;
    ensure!(
        account == account_name,
        "filed under the chosen account: {account}"
    );

    // The board holds both among the demo's requests, the nearest breach first.
    app.click(&by_testid("nav-requests")).await?;
    let titles = app
        .wait_js(
            "both rows",
            &format!(
                "const r = Array.from(document.querySelectorAll('[data-testid=request-row] .title')).map(t => t.textContent);
                 return r.includes({title:?}) && r.includes({subject:?}) ? r : null"
            ),
        )
        .await?;
    let at = |t: &str| {
        titles
            .as_array()
            .and_then(|r| r.iter().position(|x| x.as_str() == Some(t)))
    };
    ensure!(
        at(&title) < at(&subject),
        "the upgraded P1 is due before the triaged email: {titles}"
    );
    app.quit().await
}
