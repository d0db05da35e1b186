//! The desktop alerts of urgent requests: a new P1/P2 (or urgent email), a clock at risk,
//! a clock breached — each once per request. The loop runs offline too: the clocks are
//! computed from the local cache. Each alert is recorded in SQLite before it shows (the
//! one scheduler, [`crate::notify`]), so a restart never repeats an alert (and an alert the
//! desktop could not show is still recorded and logged, rather than retried every few
//! seconds).
//!
//! The on-call pages ([`pages_loop`]) come from the server instead: who was paged is its
//! to know. Each page that reached me is notified once, and sent to the window, which
//! shows it with an Acknowledge button.

use std::sync::Arc;
use std::time::Duration;

use rapport_client::Store;
use rapport_client::oncall::on_call_now;
use rapport_client::requests::PendingAlert;
use rapport_client::sync::{HttpTransport, SyncError};
use rapport_domain::sla::SlaAlert;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::clock::Clock;
use crate::notify;
use crate::sync_task::SyncRuntime;

/// How often the clocks are looked at. At-risk windows are 7.5 minutes or more, so a few
/// seconds late is immaterial; new requests alert within this delay.
const EVERY: Duration = Duration::from_secs(5);

/// Starts the loop (once, after the store is managed).
pub fn start<R: Runtime>(app: AppHandle<R>, clock: Clock) {
    tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(store) = app.try_state::<Store>() else {
                return;
            };
            if let Err(e) = round(&app, &store, clock).await {
                tracing::warn!(error = %e, "the alert round failed; trying again shortly");
            }
        }
    });
}

async fn round<R: Runtime>(
    app: &AppHandle<R>,
    store: &Store,
    clock: Clock,
) -> rapport_client::Result<()> {
    let now = clock.now();
    for alert in store.alerts_pending(now).await? {
        let (title, body) = text(&alert);
        let shown = notify::record_then_show(
            store.alert_record(alert.request_id, alert.alert, now),
            notify::desktop(app, &title, &body),
        )
        .await;
        notify::log(
            &shown,
            &format!(
                "{:?} desktop alert ({})",
                alert.alert,
                alert.severity.as_str()
            ),
            alert.request_id,
        );
    }
    Ok(())
}

fn text(a: &PendingAlert) -> (String, String) {
    let sev = a.severity.as_str().to_uppercase();
    let title = match a.alert {
        SlaAlert::Urgent => format!("Urgent {sev} request: {}", a.account_name),
        SlaAlert::AtRisk => format!("{sev} at risk: {}", a.account_name),
        SlaAlert::Breached => format!("{sev} SLA breached: {}", a.account_name),
    };
    (title, a.title.clone())
}

/// The window event of a page that just reached me: a [`rapport_client::oncall::OnCallPage`]; the window shows
/// the in-app alert with Acknowledge (the notification plugin has no action buttons on
/// desktop systems).
pub const PAGE_EVENT: &str = "oncall://page";

/// How often the pages are looked at without a sync to prompt it.
const PAGES_EVERY: Duration = Duration::from_secs(60);

/// The on-call pages: after each sync (the server's event stream wakes the sync when a page
/// goes out to the team) and every minute, while signed in, asks the server for the pages
/// awaiting an acknowledgement, and notifies each page that went to me once (recorded in
/// the cache first, so a restart does not repeat it).
pub async fn pages_loop<R: Runtime>(app: AppHandle<R>, rt: Arc<SyncRuntime>) {
    loop {
        tokio::select! {
            () = rt.synced.notified() => {}
            () = tokio::time::sleep(PAGES_EVERY) => {}
        }
        let Some((url, token)) = rt.connection().await else {
            continue;
        };
        let Some(store) = app.try_state::<Store>() else {
            continue;
        };
        let got = match HttpTransport::new(&url) {
            Ok(t) => on_call_now(&t, &token).await,
            Err(e) => Err(SyncError::Offline(e.0)),
        };
        let pages = match got {
            Ok(now) => now.pages,
            Err(e) => {
                tracing::debug!(error = %e, "the on-call pages could not be read");
                continue;
            }
        };
        for page in pages.into_iter().filter(|p| p.paged_me) {
            let title = format!(
                "Paged: {} {}",
                page.severity.to_uppercase(),
                page.account_name
            );
            let body = format!("{} — acknowledge it in Rapport", page.title);
            let shown = notify::record_then_show(
                store.oncall_page_alert_record(
                    page.request_id,
                    page.last_paged_at,
                    rt.clock().now(),
                ),
                notify::desktop(&app, &title, &body),
            )
            .await;
            notify::log(&shown, "page", page.request_id);
            // A new page also reaches the window, which shows it with Acknowledge (the
            // desktop notification may have been refused).
            if matches!(shown, notify::Outcome::Shown | notify::Outcome::NotShown(_))
                && let Err(e) = app.emit(PAGE_EVENT, &page)
            {
                tracing::warn!(error = %e, "could not send the page to the window");
            }
        }
    }
}
