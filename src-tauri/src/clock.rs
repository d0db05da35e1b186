//! The desktop's one clock. The background loops (session and review reminders, the
//! health snapshots, the desktop alerts, the on-call pages), the sync task (each sync, and
//! a refused change sent again) and every command take `now` from it, so they
//! agree on the time and a test can move it for all of them at once: under WebDriver only
//! (`TAURI_WEBVIEW_AUTOMATION=true`), `--test-clock-offset-minutes=N` shifts it, so a story
//! can reopen the app "on the day of the session". Elsewhere it is the system clock.

use std::sync::LazyLock;

use chrono::{DateTime, TimeDelta, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    offset: TimeDelta,
}

impl Clock {
    /// The system clock moved by `offset`.
    pub fn shifted(offset: TimeDelta) -> Clock {
        Clock { offset }
    }

    /// The desktop's clock (the one managed as the app's state).
    pub fn desktop() -> Clock {
        *DESKTOP
    }

    pub fn now(self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// "Now" on the desktop's one clock: what every command passes to the use cases it calls.
pub fn now() -> DateTime<Utc> {
    Clock::desktop().now()
}

static DESKTOP: LazyLock<Clock> = LazyLock::new(|| {
    let automated = std::env::var_os("TAURI_WEBVIEW_AUTOMATION").is_some_and(|v| v == "true");
    let minutes = std::env::args()
        .find_map(|a| {
            a.strip_prefix("--test-clock-offset-minutes=")
                .and_then(|m| m.parse::<i64>().ok())
        })
        .filter(|_| automated)
        .unwrap_or(0);
    if minutes != 0 {
        tracing::warn!(minutes, "test clock: the desktop runs with a shifted clock");
    }
    Clock::shifted(TimeDelta::minutes(minutes))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_runs_ahead_by_its_offset() {
        let ahead = Clock::shifted(TimeDelta::minutes(90));
        let gap = ahead.now() - Clock::shifted(TimeDelta::zero()).now();
        assert!(
            (gap - TimeDelta::minutes(90)).num_seconds().abs() < 5,
            "every reader of a shifted clock sees the same offset: {gap}"
        );
    }
}
