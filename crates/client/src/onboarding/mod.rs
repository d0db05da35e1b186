//! Onboarding sessions: the board, the session page, the week calendar, Today's sessions,
//! the slot search, the calendar export, the local settings (agenda template, reminder lead
//! time) and the reminders already shown. Every user write goes through `entity::record`.
//!
//! Decisions where the issue is silent:
//! - The facilitator of a new session is the local profile; the slot search uses the
//!   profile's zone and working hours.
//! - The customer's hours are the account's time zone with the default Mon–Fri 09:00–17:00,
//!   editable per search (the form's "customer hours"), since accounts and contacts carry no
//!   working hours of their own.
//! - A booked session starts `scheduled` (the invite is the next step); `planned` is a
//!   session taken back off the calendar (`scheduled → planned`).
//! - Completing a session is what marks the account's onboarding done: the account page
//!   derives it from its sessions (`rapport_domain::onboarding::onboarding_done`).
//!
//! - `views`: what the UI reads (the board, a session, the week, Today, the slot search,
//!   the `.ics` files, the invite text, the settings);
//! - `use_cases`: the `Store` methods that write (create, update, status, settings, the
//!   reminders taken);
//! - `wire`: the session's `entity::Synced` contract;
//! - `rows`: the SQL row codecs and the reads they serve.

mod rows;
mod use_cases;
mod views;
mod wire;

pub(crate) use rows::upsert_session;
pub use use_cases::{DueReminder, NewSession};
pub use views::{
    AccountOnboarding, AccountToOnboard, DEFAULT_REMINDER_MINUTES, IcsFile, OnboardingBoard,
    OnboardingSettings, SessionDetail, SessionRow, SlotQuery, WeekView,
};
pub(crate) use views::{BUSY_SESSIONS, ics_file_name};

#[cfg(test)]
mod tests;
