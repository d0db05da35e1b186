//! rapport-server's integration tests, one binary. Each test gets its own PostgreSQL
//! database from `#[sqlx::test]`, which needs `DATABASE_URL` pointing at a server it may
//! create databases on, e.g. `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres`.

mod auth;
mod authz;
mod common;
mod concurrency;
mod hardening;
mod hostile;
mod intake;
mod oncall;
mod oncall_kill;
mod openapi;
mod processes;
mod requests;
mod rules;
mod sync;
