//! The reminder loop: once a minute, a desktop notification for each session I facilitate
//! that starts within the lead time (Settings, default 15 minutes). The cache records each
//! reminder before it is shown (`rapport_client::Store::onboarding_take_due_reminders`), so
//! one shows once per session, even across restarts; it needs no network.

use std::time::Duration;

use rapport_client::Store;
use tauri::{AppHandle, Runtime};

use crate::clock::Clock;
use crate::notify;

/// How often the loop looks for due reminders.
const TICK: Duration = Duration::from_secs(30);

/// Starts the loop on the async runtime; it runs until the app exits.
pub fn spawn<R: Runtime>(app: AppHandle<R>, store: Store, clock: Clock) {
    tauri::async_runtime::spawn(async move {
        loop {
            tick(&app, &store, clock).await;
            tokio::time::sleep(TICK).await;
        }
    });
}

async fn tick<R: Runtime>(app: &AppHandle<R>, store: &Store, clock: Clock) {
    let now = clock.now();
    // Taking the due reminders records them (one transaction): each is new here.
    let due = match store.onboarding_take_due_reminders(now).await {
        Ok(due) => due,
        Err(e) => return tracing::warn!(error = %e, "could not read due reminders"),
    };
    for r in due {
        let minutes = (r.starts_at - now).num_minutes().max(0);
        let body = match &r.meeting_link {
            Some(link) => format!("Starts in {minutes} min. Join: {link}"),
            None => format!("Starts in {minutes} min."),
        };
        let title = format!("Onboarding: {}", r.account_name);
        let shown = notify::record_then_show(
            std::future::ready(Ok(true)),
            notify::desktop(app, &title, &body),
        )
        .await;
        notify::log(&shown, "reminder", r.session_id);
    }
}
