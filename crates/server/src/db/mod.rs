//! Everything the service stores, one module per area. Functions take a connection or a
//! transaction (`&mut PgConnection`) so one serves both.

pub mod identity;
pub mod sync;

use sqlx::PgConnection;
use sqlx::postgres::PgConnectOptions;

/// The session settings of the service's connections, given at connect time (no round trip).
///
/// `plan_cache_mode = force_generic_plan`: every statement of the service is a short,
/// parameterised one that sqlx prepares once per connection; with PostgreSQL's default
/// (`auto`) the pull's statement was planned afresh on every execution (a custom plan,
/// ~1 ms of planning for ~0.5 ms of work), because its generic plan is estimated a little
/// dearer. The generic plan is the same index walk (EXPLAIN in docs/BENCHMARKS.md,
/// "Central service: the pull's SQL").
pub fn session_settings(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("plan_cache_mode", "force_generic_plan")])
}

/// Takes the next `n` numbers of the global change sequence and returns the first.
///
/// This UPDATE locks the single `sync_clock` row until the transaction ends, so transactions
/// that change synced data commit in the order of their numbers: once a reader sees number
/// `k`, every number below `k` is committed (or was never handed out: a rolled-back
/// transaction hands its numbers back). Call it last, just before the writes, to keep the
/// lock short.
pub async fn next_seqs(conn: &mut PgConnection, n: i64) -> Result<i64, sqlx::Error> {
    let last = sqlx::query_scalar!(
        "UPDATE sync_clock SET last_seq = last_seq + $1 RETURNING last_seq",
        n
    )
    .fetch_one(conn)
    .await?;
    Ok(last - n + 1)
}
