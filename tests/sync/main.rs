//! Sync between real clients and the real server (in-process, TCP on 127.0.0.1, a fresh
//! PostgreSQL database per test from `DATABASE_URL`). `make sync-test` runs them.

mod conflicts;
mod features;
mod intake;
mod intake_client;
mod integrity;
mod kill;
mod property;
mod proxy;
