//! Quarterly use-case reviews & health checks: the quarter board, creating and booking a
//! review (slot finder + .ics), the health check itself, reminders, and the sync hooks.
//!
//! Every user write goes through `entity::record` (the review's `entity::Synced` contract),
//! so the row and its one outbox mutation land together; a write that changes what the
//! health score reads refreshes the account's score snapshot in the same transaction
//! ([`crate::health::refresh`]).
//!
//! - `views`: what the UI reads (the quarter board, a review, its slots and `.ics`, the
//!   reminders due) and the quarter arithmetic they share with the writes;
//! - `use_cases`: the `Store` methods that write (create, book, save, complete, outcome,
//!   reminders);
//! - `busy`: the facilitator's booked time that both slot finders (reviews and onboarding)
//!   keep clear of and that booking refuses to overlap;
//! - `wire`: the review's `entity::Synced` contract;
//! - `rows`: the SQL row codec.

mod busy;
mod rows;
mod use_cases;
mod views;
mod wire;

pub(crate) use busy::{Booked, Busy, busy_all, refuse_clash};
pub(crate) use rows::upsert_row;
pub use use_cases::{HealthCheckInput, REVIEW_MINUTES, ReviewOutcome};
pub(crate) use views::review_inputs;
pub use views::{
    BoardFilter, BoardRow, BoardTeam, DEFAULT_REMINDER_MINUTES, LATE_REVIEW_DAYS, QuarterBoard,
    ReviewReminder, ReviewView,
};

#[cfg(test)]
mod tests;
