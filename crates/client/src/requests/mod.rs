//! Urgent requests and incidents: intake (chat and `.eml`), the timeline, status and
//! severity, the incident call, the live board and the desktop alerts.
//!
//! A request is its event history (`rapport_domain::request`): every action appends one
//! event. The `requests` row keeps what lists filter on (severity, status, triage, the
//! call link, the thread's Message-IDs) and travels as its own record, so the central
//! service can judge a severity change by role. The SLA clock is never stored: it is
//! computed from the events each time (`rapport_domain::sla::clock`).
//!
//! One user action may write two records (the request and its new event), each through
//! `entity::record` with its one outbox mutation, in one transaction: both or neither. Both
//! kinds keep the `entity::Synced` contract here.
//!
//! - `views`: what the UI reads (the board, a request's timeline, the alerts to show);
//! - `use_cases`: the `Store` methods that write (open, import an email, respond, assign,
//!   status, severity, the call, the call settings, a shown alert);
//! - `wire`: the two records as they travel and their `entity::Synced` contract;
//! - `rows`: the SQL row codecs and the reads of one request and its timeline;
//! - `email`: reading an `.eml`.

mod email;
mod rows;
mod use_cases;
mod views;
mod wire;

pub use email::{MAX_EML_BYTES, ParsedEmail, parse_email};
pub(crate) use rows::{history_of, write_event, write_request};
pub use use_cases::{EmailImportOutcome, LaunchedCall};
pub use views::{
    CallSettings, PendingAlert, RequestBoard, RequestDetail, RequestRow, TimelineItem,
};
pub(crate) use views::{actor_names, all_clocks, health_inputs};
pub(crate) use wire::{EventRecord, RequestRecord};

#[cfg(test)]
mod tests;
