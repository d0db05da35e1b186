//! Fixtures the unit tests share (a fixed clock, and the forms they fill in).

use chrono::{DateTime, Utc};
use rapport_domain::{AccountInput, NoteInput, Plan, Role, UserInput, WorkingHours};

/// Thursday 26 Nov 2026, 09:00 UTC: tests never read the real clock.
pub(crate) fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// An active account with no owner, rep, channel, domains or tags.
pub(crate) fn account_input(name: &str, plan: Plan, time_zone: &str) -> AccountInput {
    AccountInput::active(name, plan, time_zone)
}

/// A staff member working the default hours.
pub(crate) fn user_input(name: &str, email: &str, role: Role, time_zone: &str) -> UserInput {
    UserInput {
        name: name.into(),
        email: email.into(),
        role,
        time_zone: time_zone.into(),
        working_hours: WorkingHours::default(),
    }
}

/// Rita, an account rep in Berlin.
pub(crate) fn rep_input() -> UserInput {
    user_input(
        "Rita Rep",
        "rita@rapport-vendor.com",
        Role::AccountRep,
        "Europe/Berlin",
    )
}

/// An unpinned note without a link.
pub(crate) fn note_input(body: &str) -> NoteInput {
    NoteInput {
        body: body.into(),
        pinned: false,
        link: None,
    }
}
