//! The cache's schema version, and what happens when this build cannot bring a cache up to
//! it: the cache is rebuilt from the server, keeping what only this computer has.
//!
//! The schema version is the last migration applied (sqlx's `_sqlx_migrations` table, one
//! row per migration, in the cache file). A newer app runs the migrations it adds on open. When
//! that fails (the file was written by a newer Rapport whose migrations this one does not know,
//! or a migration cannot apply), [`Store::open_or_rebuild`] moves the file aside, creates a
//! fresh cache, and carries over the local profile, the connection (server, user, team), the
//! pending outbox (re-applied to the new tables so the user still sees those writes) and the
//! writes needing attention. The cursor starts over, so the next sync pulls everything back.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rapport_domain::sync::EntityKind;
use serde_json::Value;
use sqlx::{Connection, Row, SqliteConnection};
use uuid::Uuid;

use super::apply;
use crate::error::{Result, StoreError};
use crate::store::{CACHE_FILE, Store};

/// What a rebuild kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuilt {
    /// Where the unreadable cache was moved.
    pub moved_to: PathBuf,
    pub outbox_kept: usize,
    pub reason: String,
}

/// Rows carried from the old cache, read with the columns every schema version has.
#[derive(Default)]
struct Carried {
    user: Option<Vec<(String, Value)>>,
    outbox: Vec<Vec<(String, Value)>>,
    attention: Vec<Vec<(String, Value)>>,
    /// Another user's writes put aside (absent in caches older than that table: none).
    parked_outbox: Vec<Vec<(String, Value)>>,
    parked_attention: Vec<Vec<(String, Value)>>,
    sync_state: Option<Vec<(String, Value)>>,
}

const OUTBOX_COLUMNS: &[&str] = &[
    "id",
    "entity",
    "entity_id",
    "op",
    "fields",
    "base_version",
    "client_time",
];
/// A refused write: the outbox entry, and the refusal.
const REFUSAL_COLUMNS: &[&str] = &["code", "message", "field", "rejected_at"];
const USER_COLUMNS: &[&str] = &["id", "name", "email", "role", "time_zone", "working_hours"];
const STATE_COLUMNS: &[&str] = &["server_url", "user_id", "email", "default_team_id"];

fn cell(row: &sqlx::sqlite::SqliteRow, col: &str) -> Value {
    if let Ok(Some(s)) = row.try_get::<Option<String>, _>(col) {
        return Value::String(s);
    }
    if let Ok(Some(i)) = row.try_get::<Option<i64>, _>(col) {
        return Value::from(i);
    }
    Value::Null
}

async fn read_rows(
    conn: &mut SqliteConnection,
    table: &str,
    cols: &[&str],
    filter: &str,
) -> Vec<Vec<(String, Value)>> {
    let sql = format!("SELECT {} FROM {table} {filter}", cols.join(", "));
    match sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(conn).await {
        Ok(rows) => rows
            .iter()
            .map(|r| cols.iter().map(|c| ((*c).to_owned(), cell(r, c))).collect())
            .collect(),
        Err(e) => {
            tracing::warn!(table, error = %e, "could not read from the old cache");
            Vec::new()
        }
    }
}

async fn carry(path: &Path) -> Result<Carried> {
    let url = format!("sqlite://{}?mode=ro", path.display());
    let mut conn = SqliteConnection::connect(&url).await?;
    let attention = [OUTBOX_COLUMNS, REFUSAL_COLUMNS].concat();
    let parked = |cols: &[&'static str]| [&["user_id"], cols].concat();
    let mut c = Carried {
        outbox: read_rows(&mut conn, "outbox", OUTBOX_COLUMNS, "ORDER BY seq").await,
        attention: read_rows(&mut conn, "sync_attention", &attention, "ORDER BY seq").await,
        parked_outbox: read_rows(
            &mut conn,
            "parked_outbox",
            &parked(OUTBOX_COLUMNS),
            "ORDER BY seq",
        )
        .await,
        parked_attention: read_rows(
            &mut conn,
            "parked_attention",
            &parked(&attention),
            "ORDER BY seq",
        )
        .await,
        ..Carried::default()
    };
    c.user = read_rows(
        &mut conn,
        "users",
        USER_COLUMNS,
        "WHERE id = (SELECT user_id FROM profile WHERE singleton = 1)",
    )
    .await
    .into_iter()
    .next();
    c.sync_state = read_rows(
        &mut conn,
        "sync_state",
        STATE_COLUMNS,
        "WHERE singleton = 1",
    )
    .await
    .into_iter()
    .next();
    conn.close().await?;
    Ok(c)
}

async fn insert(conn: &mut SqliteConnection, table: &str, row: &[(String, Value)]) -> Result<()> {
    let cols: Vec<&str> = row.iter().map(|(c, _)| c.as_str()).collect();
    let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        cols.join(", "),
        marks.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (_, v) in row {
        q = match v {
            Value::String(s) => q.bind(s.clone()),
            Value::Number(n) => q.bind(n.as_i64()),
            _ => q.bind(None::<String>),
        };
    }
    q.execute(conn).await?;
    Ok(())
}

impl Store {
    /// The cache's schema version: the last migration applied.
    pub async fn schema_version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT coalesce(max(version), 0) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(&self.reader)
        .await?)
    }

    /// Opens the cache in `data_dir`, migrating it; when it cannot be migrated, rebuilds it
    /// (see the module doc) and says so.
    pub async fn open_or_rebuild(data_dir: &Path) -> Result<(Store, Option<Rebuilt>)> {
        let reason = match Store::open(data_dir).await {
            Ok(s) => return Ok((s, None)),
            Err(StoreError::Migration(e)) => e.to_string(),
            Err(e) => return Err(e),
        };
        let path = data_dir.join(CACHE_FILE);
        tracing::warn!(%reason, "the cache cannot be migrated: rebuilding it from the server");
        let carried = carry(&path).await?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let moved_to = data_dir.join(format!("{CACHE_FILE}.unmigrated-{stamp}"));
        std::fs::rename(&path, &moved_to).map_err(|source| StoreError::DataDir {
            path: moved_to.clone(),
            source,
        })?;
        for ext in ["-wal", "-shm"] {
            let side = data_dir.join(format!("{CACHE_FILE}{ext}"));
            if side.exists() {
                let _ =
                    std::fs::rename(&side, data_dir.join(format!("{}{ext}", moved_to.display())));
            }
        }
        let store = Store::open(data_dir).await?;
        let mut tx = store.writer.begin().await?;
        if let Some(user) = &carried.user {
            insert(&mut tx, "users", user).await?;
            let id = user.iter().find(|(c, _)| c == "id").map(|(_, v)| v.clone());
            if let Some(Value::String(id)) = id {
                sqlx::query("INSERT INTO profile (singleton, user_id) VALUES (1, ?1)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if let Some(state) = &carried.sync_state {
            for (col, v) in state {
                let sql = format!("UPDATE sync_state SET {col} = ?1 WHERE singleton = 1");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(v.as_str().map(str::to_owned))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for row in &carried.outbox {
            insert(&mut tx, "outbox", row).await?;
        }
        for row in &carried.attention {
            insert(&mut tx, "sync_attention", row).await?;
        }
        for row in &carried.parked_outbox {
            insert(&mut tx, "parked_outbox", row).await?;
        }
        for row in &carried.parked_attention {
            insert(&mut tx, "parked_attention", row).await?;
        }
        // Show the pending writes again: a create carries every field; an edit of a record
        // the new cache does not hold yet waits for the pull (which re-applies it on top).
        // In outbox order (an account before the notes written on it), then the parked.
        let pending = apply::pending(&mut tx).await?;
        let mut order: Vec<(EntityKind, Uuid)> = Vec::new();
        for row in &carried.outbox {
            let get = |c: &str| {
                row.iter()
                    .find(|(k, _)| k == c)
                    .and_then(|(_, v)| v.as_str())
            };
            if let (Some(kind), Some(id)) = (
                get("entity").and_then(EntityKind::parse),
                get("entity_id").and_then(|s| Uuid::parse_str(s).ok()),
            ) && !order.contains(&(kind, id))
            {
                order.push((kind, id));
            }
        }
        for key in order {
            if let Some(muts) = pending.get(&key) {
                rematerialize(&mut tx, key.0, key.1, muts, Utc::now()).await?;
            }
        }
        apply::unpark(&mut tx, Utc::now()).await?;
        tx.commit().await?;
        let kept = carried.outbox.len();
        tracing::info!(outbox_kept = kept, moved_to = %moved_to.display(), "cache rebuilt");
        Ok((
            store,
            Some(Rebuilt {
                moved_to,
                outbox_kept: kept,
                reason,
            }),
        ))
    }
}

/// Shows pending writes again in a cache that lost their rows (a rebuild, or the writes of
/// a user put aside while another used this desktop): a create carries every field; an edit
/// of a record the cache does not hold yet waits for the pull, which re-applies it on top.
pub(crate) async fn rematerialize(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    muts: &[rapport_domain::sync::Mutation],
    now: DateTime<Utc>,
) -> Result<()> {
    let mut fields = apply::local_fields(conn, kind, id).await?;
    let mut deleted = false;
    apply::lay_over(&mut fields, &mut deleted, muts);
    match (deleted, fields) {
        (false, Some(f)) => {
            if let Err(e) = apply::write_record(conn, kind, id, None, f, now).await {
                tracing::debug!(error = %e, "a pending write waits for the pull to show");
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use rapport_domain::{Plan, Role, UserInput};

    #[tokio::test]
    async fn a_cache_from_a_newer_app_is_rebuilt_keeping_the_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let version = store.schema_version().await.unwrap();
        assert!(
            version >= 20_261_126_171_000,
            "the cache records its schema version"
        );
        let me = store
            .profile_create(
                UserInput {
                    name: "Ana".into(),
                    email: "ana@example.com".into(),
                    role: Role::Csm,
                    time_zone: "UTC".into(),
                    working_hours: Default::default(),
                },
                Utc::now(),
            )
            .await
            .unwrap();
        let acc = store
            .account_create(
                crate::testing::account_input("Acme", Plan::Standard, "UTC"),
                Utc::now(),
            )
            .await
            .unwrap();
        store
            .note_create(acc.id, crate::testing::note_input("kept"), Utc::now())
            .await
            .unwrap();
        let before = store.outbox().await.unwrap();
        // A newer Rapport applied a migration this build does not know.
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99990101000000, 'from a newer app', 1, X'00', 0)",
        )
        .execute(&store.writer)
        .await
        .unwrap();
        store.close().await;
        assert!(
            matches!(Store::open(dir.path()).await, Err(StoreError::Migration(_))),
            "plain open refuses it"
        );

        let (store, rebuilt) = Store::open_or_rebuild(dir.path()).await.unwrap();
        let rebuilt = rebuilt.expect("rebuilt");
        assert_eq!(rebuilt.outbox_kept, before.len());
        assert!(rebuilt.moved_to.exists(), "the old file is kept aside");
        assert_eq!(
            store.outbox().await.unwrap(),
            before,
            "the pending outbox is kept as it was"
        );
        assert_eq!(
            store.profile_get().await.unwrap().map(|u| u.id),
            Some(me.id)
        );
        assert_eq!(
            store.account_get(acc.id).await.unwrap().account.name,
            "Acme",
            "pending writes still show"
        );
        assert_eq!(store.notes_list(acc.id, None).await.unwrap().len(), 1);
        assert_eq!(store.schema_version().await.unwrap(), version);
        assert_eq!(
            store.sync_cursor().await.unwrap(),
            "",
            "the next sync pulls everything"
        );

        // A healthy cache opens without a rebuild.
        store.close().await;
        let (_, again) = Store::open_or_rebuild(dir.path()).await.unwrap();
        assert!(again.is_none());
    }
}
