//! Everything the service stores, one module per area. Functions take a connection or a
//! transaction (`&mut PgConnection`) so one serves both.

pub mod identity;
pub mod sync;

use sqlx::PgConnection;

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
