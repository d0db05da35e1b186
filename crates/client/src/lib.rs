//! rapport-client: the desktop's SQLite cache, outbox, queries and use cases.
//!
//! - [`Store`]: the local cache (`<data_dir>/cache.sqlite3`); every user write goes through
//!   one path that writes the row and one outbox [`rapport_domain::sync::Mutation`] in the
//!   same transaction.
//! - [`views`]: the shapes the UI reads (docs/IPC.md).
//! - [`markdown`]: notes rendered to sanitised HTML.
//! - [`demo`]: the deterministic demo and scale workspaces.
//! - [`intake`]: the Unmatched queue and the admin's intake keys, mailboxes and errors,
//!   asked of the central service directly (not synced).

mod accounts;
pub mod demo;
mod entity;
mod error;
pub mod health;
pub mod intake;
pub mod markdown;
mod notes;
pub mod onboarding;
pub mod oncall;
pub mod rca;
pub mod reports;
pub mod requests;
pub mod reviews;
pub mod search;
mod store;
pub mod sync;
#[cfg(test)]
mod testing;
pub mod views;

pub use accounts::DeletedAccount;
pub use demo::{DemoSpec, DemoWorkspace};
pub use error::{Result, StoreError};
pub use store::MutationState;
pub use store::{CACHE_FILE, RECENT_NOTES_DAYS, Store};
