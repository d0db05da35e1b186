//! rapport-client integration tests: one binary, one module per area.

mod common;

mod accounts;
mod demo;
mod durability;
mod notes;
mod outbox;
mod requests;
mod search;
mod validation;
