//! The desktop's one notification scheduler: a notice (a session or review reminder, an
//! urgent-request alert, an on-call page) is recorded in the cache first and shown only
//! once the record says it is new. So a restart never repeats one, and one the desktop
//! could not show is still recorded and logged rather than retried every tick.

use std::fmt::Display;

use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;

/// What became of one notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded, then shown.
    Shown,
    /// Recorded, but the desktop refused to show it (the reason).
    NotShown(String),
    /// Recorded before (it was shown already): not shown again.
    AlreadyRecorded,
    /// It could not be recorded: not shown, so it is not shown twice later.
    NotRecorded(String),
}

/// Records a notice (`record` answers whether it was new), then shows it with `show` when
/// it was. `show` runs only after the record is written.
pub async fn record_then_show<E: Display>(
    record: impl Future<Output = rapport_client::Result<bool>>,
    show: impl FnOnce() -> Result<(), E>,
) -> Outcome {
    match record.await {
        Ok(true) => match show() {
            Ok(()) => Outcome::Shown,
            Err(e) => Outcome::NotShown(e.to_string()),
        },
        Ok(false) => Outcome::AlreadyRecorded,
        Err(e) => Outcome::NotRecorded(e.to_string()),
    }
}

/// The desktop notification `title` / `body`, as [`record_then_show`]'s `show`.
pub fn desktop<'a, R: Runtime>(
    app: &'a AppHandle<R>,
    title: &'a str,
    body: &'a str,
) -> impl FnOnce() -> Result<(), tauri_plugin_notification::Error> + 'a {
    move || app.notification().builder().title(title).body(body).show()
}

/// Logs an outcome: `what` names the notice ("reminder", "desktop alert", ...), `id` its
/// record.
pub fn log(outcome: &Outcome, what: &str, id: impl Display) {
    match outcome {
        Outcome::Shown => tracing::info!(%id, "{what} shown"),
        Outcome::NotShown(e) => {
            tracing::warn!(%id, error = %e, "{what} recorded, but the desktop could not show it");
        }
        Outcome::AlreadyRecorded => {}
        Outcome::NotRecorded(e) => {
            tracing::warn!(%id, error = %e, "{what} could not be recorded: not shown");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[tokio::test]
    async fn a_notice_is_recorded_before_it_is_shown_and_shown_once() {
        let steps = Mutex::new(Vec::new());
        let step = |s: &'static str| steps.lock().unwrap().push(s);
        let out = record_then_show(
            async {
                step("record");
                Ok(true)
            },
            || {
                step("show");
                Ok::<(), String>(())
            },
        )
        .await;
        assert_eq!(out, Outcome::Shown);
        assert_eq!(
            *steps.lock().unwrap(),
            ["record", "show"],
            "the record is written before the notice shows"
        );

        let again = record_then_show(async { Ok(false) }, || -> Result<(), String> {
            panic!("a notice recorded before is not shown again")
        })
        .await;
        assert_eq!(again, Outcome::AlreadyRecorded);
    }

    #[tokio::test]
    async fn a_notice_that_could_not_be_recorded_is_not_shown() {
        let out = record_then_show(
            async {
                Err(rapport_client::StoreError::Validation(
                    rapport_domain::ValidationErrors(vec![rapport_domain::FieldError::new(
                        "alert",
                        "disk full",
                    )]),
                ))
            },
            || -> Result<(), String> { panic!("shown without a record") },
        )
        .await;
        assert!(matches!(out, Outcome::NotRecorded(_)), "{out:?}");
        let refused = record_then_show(async { Ok(true) }, || Err("no notification daemon")).await;
        assert_eq!(
            refused,
            Outcome::NotShown("no notification daemon".into()),
            "a refused notice stays recorded, with the reason"
        );
    }
}
