//! The reviews' background loop, while the app runs:
//! - a desktop notification a few minutes before each of my booked reviews (once per
//!   review: it is recorded in the cache before it shows, so a restart does not repeat it;
//!   the lead time is [`rapport_client::reviews::DEFAULT_REMINDER_MINUTES`] unless set);
//! - the health score's snapshots: every account is scored at start and then every hour,
//!   which stores a point whenever a score moved and at least one a day.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rapport_client::Store;
use tauri::{AppHandle, Runtime};

use crate::clock::Clock;
use crate::notify;

/// How often the loop looks for reminders to show.
const TICK: Duration = Duration::from_secs(20);

/// How often every account is re-scored.
const HEALTH_EVERY: TimeDelta = TimeDelta::hours(1);

pub fn start<R: Runtime>(app: AppHandle<R>, store: Store, clock: Clock) {
    tauri::async_runtime::spawn(async move {
        let mut scored_at: Option<DateTime<Utc>> = None;
        loop {
            let now = clock.now();
            if scored_at.is_none_or(|t| now - t >= HEALTH_EVERY) {
                match store.health_refresh_all(now).await {
                    Ok(stored) => tracing::info!(stored, "health scores checked"),
                    Err(e) => tracing::warn!(error = %e, "health scores could not be checked"),
                }
                scored_at = Some(now);
            }
            remind(&app, &store, now).await;
            tokio::time::sleep(TICK).await;
        }
    });
}

async fn remind<R: Runtime>(app: &AppHandle<R>, store: &Store, now: DateTime<Utc>) {
    let minutes = store
        .review_reminder_minutes()
        .await
        .unwrap_or(rapport_client::reviews::DEFAULT_REMINDER_MINUTES);
    let due = match store.review_reminders_due(minutes, now).await {
        Ok(due) => due,
        Err(e) => return tracing::warn!(error = %e, "review reminders could not be read"),
    };
    for r in due {
        let left = (r.starts_at - now).num_minutes().max(0);
        let body = match &r.meeting_link {
            Some(link) => format!("Starts in {left} min · {link}"),
            None => format!("Starts in {left} min"),
        };
        let title = format!("Review with {}", r.account_name);
        let shown = notify::record_then_show(
            async {
                store
                    .review_mark_reminded(r.review_id, now)
                    .await
                    .map(|()| true)
            },
            notify::desktop(app, &title, &body),
        )
        .await;
        notify::log(&shown, "review reminder", r.review_id);
    }
}
