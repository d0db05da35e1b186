//! The local cache: opening it, the outbox, and the codecs every row shares.
//!
//! The rows of each synced kind are its own module's (`crate::entity::Synced`); the one
//! write path that ends in [`queue`] is `crate::entity`.
//!
//! One SQLite file per data folder (`<data_dir>/cache.sqlite3`), in WAL mode. Writes go
//! through one connection (a pool of one), so they are serialised; reads use a separate
//! pool of read-only connections, which WAL lets run while a write is in progress.
//!
//! Durability: `synchronous = NORMAL` in WAL mode. A committed write is in the WAL (in the
//! OS page cache) before `commit` returns, so it survives the app being killed (SIGKILL)
//! at any moment; only an OS crash or power cut can lose the last transactions, never
//! corrupt the file.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use rapport_domain::sync::{EntityKind, Mutation, MutationOp};
use rapport_domain::{LifecycleStage, Plan};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::error::{Result, StoreError};

/// The cache file inside a data folder.
pub const CACHE_FILE: &str = "cache.sqlite3";

/// Today's "recent notes" look this many days back.
pub const RECENT_NOTES_DAYS: i64 = 30;

/// How long a connection waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/cache");

/// The desktop's local cache. Cheap to clone (the pools are shared).
#[derive(Debug, Clone)]
pub struct Store {
    /// The one connection every write goes through.
    pub(crate) writer: SqlitePool,
    /// Read-only connections (the writer itself for an in-memory store).
    pub(crate) reader: SqlitePool,
    path: Option<PathBuf>,
    /// One sync at a time per cache: a pull from the start and its reconcile must not
    /// interleave with another sync's pages (see `sync::apply::sweep`).
    pub(crate) sync_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens (creating it if needed) the cache in `data_dir`, and brings its schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(CACHE_FILE);
        let base = SqliteConnectOptions::new()
            .filename(&path)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            // A local file: a connection does not go stale, and the ping before each
            // use was a second round trip to the SQLite thread for every query.
            .test_before_acquire(false)
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal),
            )
            .await?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            // A local file: a connection does not go stale, and the ping before each
            // use was a second round trip to the SQLite thread for every query.
            .test_before_acquire(false)
            .connect_with(base.read_only(true))
            .await?;
        Ok(Store {
            writer,
            reader,
            path: Some(path),
            sync_gate: std::sync::Arc::default(),
        })
    }

    /// A cache that lives in memory only (tests, previews). One connection serves reads
    /// and writes, so everything sees the same database.
    pub async fn open_in_memory() -> Result<Store> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            // A local file: a connection does not go stale, and the ping before each
            // use was a second round trip to the SQLite thread for every query.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Store {
            writer: pool.clone(),
            reader: pool,
            path: None,
            sync_gate: std::sync::Arc::default(),
        })
    }

    /// The cache file, or `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Closes every connection (checkpointing the WAL). Further calls fail.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Every outbox entry not yet pushed, oldest first.
    pub async fn outbox(&self) -> Result<Vec<Mutation>> {
        outbox(&mut *self.reader.acquire().await?).await
    }

    /// The id of the newest local write of a record still waiting in the outbox (the write
    /// a use case just made, read right after it): what a caller follows end to end with
    /// [`Store::mutation_state`]. `None` when nothing of that record waits.
    pub async fn pending_mutation_of(&self, entity: EntityKind, id: Uuid) -> Result<Option<Uuid>> {
        let m: Option<String> = sqlx::query_scalar(
            "SELECT id FROM outbox WHERE entity = ?1 AND entity_id = ?2 ORDER BY seq DESC LIMIT 1",
        )
        .bind(entity.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.reader)
        .await?;
        m.as_deref().map(|s| parse_uuid("id", s)).transpose()
    }

    /// Where one local write is: still in the outbox, refused (needs attention), or neither
    /// (acknowledged by the server, or discarded).
    pub async fn mutation_state(&self, mutation: Uuid) -> Result<MutationState> {
        let (pending, refused): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM outbox WHERE id = ?1), \
             (SELECT count(*) FROM sync_attention WHERE id = ?1)",
        )
        .bind(mutation.to_string())
        .fetch_one(&self.reader)
        .await?;
        Ok(if pending > 0 {
            MutationState::Pending
        } else if refused > 0 {
            MutationState::NeedsAttention
        } else {
            MutationState::Settled
        })
    }

    /// How many local writes wait to be pushed.
    pub async fn pending_changes(&self) -> Result<u32> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&self.reader)
            .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// The status bar: pending changes and the time of the last local write.
    pub async fn status_get(&self) -> Result<crate::views::StoreStatus> {
        let pending_changes = self.pending_changes().await?;
        let last: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'last_write_at'")
                .fetch_optional(&self.reader)
                .await?;
        let last_write_at = last.as_deref().map(parse_time).transpose()?;
        Ok(crate::views::StoreStatus {
            pending_changes,
            last_write_at,
        })
    }

    /// The opening and closing every use case that writes shares: one transaction on the
    /// writer connection, `now` stamped to what the cache stores, the local profile's id
    /// (`NoProfile` before the first start); `f` does the work, and its `Ok` commits.
    pub(crate) async fn write<T>(
        &self,
        now: DateTime<Utc>,
        f: impl AsyncFnOnce(&mut SqliteConnection, Uuid, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        let me = Store::me(&mut tx).await?;
        let out = f(&mut *tx, me, now).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The local profile's user id, or `NoProfile`.
    pub(crate) async fn me(conn: &mut SqliteConnection) -> Result<Uuid> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT user_id FROM profile WHERE singleton = 1")
                .fetch_optional(conn)
                .await?;
        id.as_deref()
            .map(|s| parse_uuid("user_id", s))
            .transpose()?
            .ok_or(StoreError::NoProfile)
    }
}

/// Where one local write is (see [`Store::mutation_state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum MutationState {
    /// In the outbox, not acknowledged yet.
    Pending,
    /// The server refused it; it waits in "needs attention".
    NeedsAttention,
    /// Neither: the server applied it (or the user discarded it).
    Settled,
}

// ---------------------------------------------------------------------------------------
// The outbox.

/// Every outbox entry, oldest first.
pub(crate) async fn outbox(conn: &mut SqliteConnection) -> Result<Vec<Mutation>> {
    let rows = sqlx::query(
        "SELECT id, entity, entity_id, op, fields, base_version, client_time \
         FROM outbox ORDER BY seq",
    )
    .fetch_all(conn)
    .await?;
    rows.iter().map(mutation_from_row).collect()
}

/// Appends one outbox [`Mutation`] (a fresh UUIDv7) for a local write of `entity_id` and
/// stamps the last write time, in the caller's transaction: the end of the one write path
/// (`crate::entity::record`). The service's limits are checked first: refused here by field
/// (rolling the row back with the transaction), not rejected later by the server.
pub(crate) async fn queue(
    conn: &mut SqliteConnection,
    entity: EntityKind,
    entity_id: Uuid,
    op: MutationOp,
    fields: Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Mutation> {
    rapport_domain::limits::check_fields_input(entity, &fields)
        .map_err(|e| StoreError::Validation(rapport_domain::ValidationErrors(vec![e])))?;
    let mutation = Mutation {
        id: Uuid::now_v7(),
        entity,
        entity_id,
        op,
        fields,
        base_version: None,
        client_time: now,
    };
    sqlx::query(
        "INSERT INTO outbox (id, entity, entity_id, op, fields, base_version, client_time) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(mutation.id.to_string())
    .bind(mutation.entity.as_str())
    .bind(mutation.entity_id.to_string())
    .bind(mutation.op.as_str())
    .bind(Value::Object(mutation.fields.clone()).to_string())
    .bind(mutation.base_version)
    .bind(fmt_time(now))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('last_write_at', ?1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(fmt_time(now))
    .execute(&mut *conn)
    .await?;
    Ok(mutation)
}

/// Truncates to what the cache stores (microseconds), so a value read back equals the one
/// written.
pub(crate) fn stamp(now: DateTime<Utc>) -> DateTime<Utc> {
    now.trunc_subsecs(6)
}

/// The key/value tables of the settings local to this desktop (not synced: no outbox entry).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Settings {
    /// `onboarding_settings`: the agenda template, the reminder lead time.
    Onboarding,
    /// `call_settings`: my meeting link, the allow-list.
    Call,
    /// `review_settings`: the review reminder lead time, the health score's weights.
    Review,
}

/// Stores each `(key, value)` in the settings table, inserted or replaced.
pub(crate) async fn put_settings(
    conn: &mut SqliteConnection,
    table: Settings,
    pairs: &[(&str, String)],
) -> Result<()> {
    let table = match table {
        Settings::Onboarding => "onboarding_settings",
        Settings::Call => "call_settings",
        Settings::Review => "review_settings",
    };
    let sql = format!(
        "INSERT INTO {table} (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    );
    for (key, value) in pairs {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(*key)
            .bind(value)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Saves local settings (one transaction: all of `pairs` or none).
    pub(crate) async fn settings_put(
        &self,
        table: Settings,
        pairs: &[(&str, String)],
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        put_settings(&mut tx, table, pairs).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Rows per INSERT statement when loading many (9-14 columns: far below SQLite's
/// 32,766 bound parameters).
pub(crate) const INSERT_BATCH: usize = 200;

// ---------------------------------------------------------------------------------------
// Shared codecs.

pub(crate) fn mutation_from_row(row: &SqliteRow) -> Result<Mutation> {
    let entity: String = row.try_get("entity")?;
    let op: String = row.try_get("op")?;
    Ok(Mutation {
        id: uuid_col(row, "id")?,
        entity: EntityKind::parse(&entity).ok_or_else(|| bad_value("entity", &entity))?,
        entity_id: uuid_col(row, "entity_id")?,
        op: MutationOp::parse(&op).ok_or_else(|| bad_value("op", &op))?,
        fields: json_col(row, "fields")?,
        base_version: row.try_get("base_version")?,
        client_time: time_col(row, "client_time")?,
    })
}

/// The row `sql` finds for `id` (bound as `?1`), decoded; `NotFound` naming `entity` when
/// there is none.
pub(crate) async fn one_by_id<T>(
    conn: &mut SqliteConnection,
    sql: String,
    id: Uuid,
    entity: &'static str,
    decode: fn(&SqliteRow) -> Result<T>,
) -> Result<T> {
    maybe_by_id(conn, sql, id, decode)
        .await?
        .ok_or(StoreError::NotFound { entity, id })
}

/// The row `sql` finds for `id` (bound as `?1`), decoded, if any.
pub(crate) async fn maybe_by_id<T>(
    conn: &mut SqliteConnection,
    sql: String,
    id: Uuid,
    decode: fn(&SqliteRow) -> Result<T>,
) -> Result<Option<T>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(decode).transpose()
}

pub(crate) fn plan_col(row: &SqliteRow) -> Result<Plan> {
    let s: String = row.try_get("plan")?;
    Plan::parse(&s).ok_or_else(|| bad_value("plan", &s))
}

pub(crate) fn stage_col(row: &SqliteRow) -> Result<LifecycleStage> {
    let s: String = row.try_get("stage")?;
    LifecycleStage::parse(&s).ok_or_else(|| bad_value("stage", &s))
}

pub(crate) fn uuid_col(row: &SqliteRow, col: &str) -> Result<Uuid> {
    let s: String = row.try_get(col)?;
    parse_uuid(col, &s)
}

pub(crate) fn opt_uuid_col(row: &SqliteRow, col: &str) -> Result<Option<Uuid>> {
    let s: Option<String> = row.try_get(col)?;
    s.as_deref().map(|s| parse_uuid(col, s)).transpose()
}

pub(crate) fn time_col(row: &SqliteRow, col: &str) -> Result<DateTime<Utc>> {
    let s: String = row.try_get(col)?;
    parse_time(&s)
}

pub(crate) fn json_col<T: DeserializeOwned>(row: &SqliteRow, col: &str) -> Result<T> {
    let s: String = row.try_get(col)?;
    serde_json::from_str(&s).map_err(|e| decode(col, e))
}

pub(crate) fn parse_uuid(col: &str, s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| decode(col, e))
}

pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| decode("timestamp", e))
}

/// A file-name part from `text`: lowercase ASCII letters and digits, each other run of
/// characters one `-`, at most `words` words.
pub(crate) fn slug(text: &str, words: usize) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .take(words)
        .collect::<Vec<_>>()
        .join("-")
}

/// Fixed-width RFC 3339 UTC with microseconds, so stored times sort as text.
pub(crate) fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    // Vec<String>, WorkingHours and NoteLink always serialise.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

pub(crate) fn decode(col: &str, e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Database(sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: Box::new(e),
    })
}

pub(crate) fn bad_value(col: &str, value: &str) -> StoreError {
    StoreError::Database(sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: format!("unexpected value {value:?}").into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_migration_runs_on_open() {
        let store = Store::open_in_memory().await.unwrap();
        let applied: i64 =
            sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&store.reader)
                .await
                .unwrap();
        assert_eq!(
            applied,
            i64::try_from(MIGRATOR.iter().count()).unwrap(),
            "all migrations applied"
        );
        assert!(
            applied >= 2,
            "the embedded set includes the tuning migration"
        );
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
            "EXPLAIN QUERY PLAN SELECT id FROM accounts a ORDER BY a.name_key, a.id",
        )
        .fetch_all(&store.reader)
        .await
        .unwrap();
        assert!(
            plan.iter().all(|(.., d)| !d.contains("TEMP B-TREE")),
            "the list's default order comes from an index: {plan:?}"
        );
    }

    #[test]
    fn stored_times_sort_as_text() {
        let a = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let b = a + chrono::Duration::microseconds(1);
        assert_eq!(
            fmt_time(a),
            "2026-01-02T03:04:05.000000Z",
            "fixed width, Z suffix"
        );
        assert!(fmt_time(a) < fmt_time(b), "text order is time order");
        assert_eq!(
            parse_time(&fmt_time(b)).unwrap(),
            b,
            "a stored time reads back equal"
        );
    }
}
