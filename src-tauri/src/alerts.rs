//! The desktop alerts of urgent requests: a new P1/P2 (or urgent email), a clock at risk,
//! a clock breached — each once per request. The loop runs offline too: the clocks are
//! computed from the local cache. What was shown is recorded in SQLite before the next
//! round, so a restart never repeats an alert (and an alert the desktop could not show is
//! still recorded and logged, rather than retried every few seconds).

use std::time::Duration;

use chrono::Utc;
use rapport_client::Store;
use rapport_client::requests::PendingAlert;
use rapport_domain::sla::SlaAlert;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

/// How often the clocks are looked at. At-risk windows are 7.5 minutes or more, so a few
/// seconds late is immaterial; new requests alert within this delay.
const EVERY: Duration = Duration::from_secs(5);

/// Starts the loop (once, after the store is managed).
pub fn start<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(store) = app.try_state::<Store>() else {
                return;
            };
            if let Err(e) = round(&app, &store).await {
                tracing::warn!(error = %e, "the alert round failed; trying again shortly");
            }
        }
    });
}

async fn round<R: Runtime>(app: &AppHandle<R>, store: &Store) -> rapport_client::Result<()> {
    for alert in store.alerts_pending(Utc::now()).await? {
        if !store
            .alert_record(alert.request_id, alert.alert, Utc::now())
            .await?
        {
            continue;
        }
        let (title, body) = text(&alert);
        let shown = app
            .notification()
            .builder()
            .title(&title)
            .body(&body)
            .show();
        match shown {
            Ok(()) => tracing::info!(
                request_id = %alert.request_id,
                alert = ?alert.alert,
                severity = alert.severity.as_str(),
                "desktop alert shown"
            ),
            Err(e) => tracing::warn!(
                request_id = %alert.request_id,
                alert = ?alert.alert,
                error = %e,
                "desktop alert recorded, but the desktop could not show it"
            ),
        }
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
