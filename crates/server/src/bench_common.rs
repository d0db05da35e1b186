//! What the service's bench binaries (`rapport-server-bench`, `rapport-oncall-bench`) share:
//! a fresh database for each run, dropped after it; the bench team and its staff; and the
//! machine line printed with the figures. The service itself does not use it.

use std::future::Future;

use anyhow::Context;
use rapport_domain::Role;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use uuid::Uuid;

use crate::AppState;
use crate::routes::admin::{CreateUser, create_team_with, create_user_with};

/// The password of every bench user.
pub const PASSWORD: &str = "bench password 123";

/// Where a bench runs: the `--database-url` flag both benches take.
#[derive(Debug, clap::Args)]
pub struct Database {
    /// A PostgreSQL URL on which the bench may create (and drop) a database.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub database_url: String,
}

/// The number after `key` in a `/proc` status file (`/proc/meminfo`, `/proc/<pid>/status`):
/// kB for the memory lines. 0 when the file or the line is missing.
pub fn proc_kb(path: &str, key: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The CPU, its cores and the memory of this machine, as the figures are printed with.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem_kb = proc_kb("/proc/meminfo", "MemTotal");
    #[allow(clippy::cast_precision_loss)]
    let gib = mem_kb as f64 / 1024.0 / 1024.0;
    format!("{cpu}, {cores} cores, {gib:.1} GiB memory")
}

/// Runs `bench` on a fresh database `<prefix>_<uuid>` created on the PostgreSQL of
/// `database_url` (which needs a `/database` part to replace), and drops it afterwards,
/// whether the bench succeeded or not.
pub async fn with_fresh_database<F, Fut>(
    database_url: &str,
    prefix: &str,
    bench: F,
) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let (server_url, _) = database_url
        .rsplit_once('/')
        .context("--database-url needs a /database part")?;
    let db = format!("{prefix}_{}", Uuid::now_v7().simple());
    let mut admin = PgConnection::connect(database_url)
        .await
        .context("connecting to PostgreSQL")?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut admin)
        .await?;
    let result = bench(format!("{server_url}/{db}")).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    result
}

/// Creates the team `Bench` with one member of each of `roles` (`bench<i>@bench.example.com`,
/// time zone UTC, password [`PASSWORD`]); returns the team and the members' emails.
pub async fn seed_team(state: &AppState, roles: &[Role]) -> anyhow::Result<(Uuid, Vec<String>)> {
    let team = create_team_with(state, "Bench")
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let mut emails = Vec::with_capacity(roles.len());
    for (i, role) in roles.iter().enumerate() {
        let user = create_user_with(
            state,
            CreateUser {
                name: format!("Bench {i}"),
                email: format!("bench{i}@bench.example.com"),
                role: *role,
                time_zone: "UTC".into(),
                working_hours: None,
                password: PASSWORD.into(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
        let mut tx = state.pool.begin().await?;
        crate::db::identity::add_member(&mut tx, team.id, user.id).await?;
        tx.commit().await?;
        emails.push(user.email);
    }
    Ok((team.id, emails))
}
