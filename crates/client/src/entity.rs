//! The one contract every synced kind keeps, and the one path of a write through it.
//!
//! A kind (an account, a note, an onboarding session, a request event, ...) implements
//! [`Synced`] in its own module: its row codec ([`Synced::load`], [`Synced::save`],
//! [`Synced::remove`]) and the effects a write of it has on the rest of the cache
//! ([`Synced::effects`]: the health re-score, ...). FTS indexes follow the rows through
//! SQLite triggers, and reminders through the rows' own columns (a moved session or review is
//! reminded again), so both come with [`Synced::save`].
//!
//! Everything else is written once, here, for every kind:
//! - a **local write** ([`record`], [`record_delete`]): the row, its effects, then exactly one
//!   outbox mutation, in the caller's transaction;
//! - a **pulled change** ([`apply_wire`], [`apply_delete`]): the wire fields merged over the
//!   stored record (the sync engine has already laid the pending local writes on top), the row,
//!   the same effects. A record whose account has not arrived yet is parked until it does.
//!
//! So a local write and the same state pulled leave the cache alike. Dependencies point one
//! way: the feature modules implement this trait; this module knows none of them (the sync
//! engine's `sync::apply::on_kind` is the one table of kinds).

use std::future::Future;

use chrono::{DateTime, Utc};
use rapport_domain::sync::{EntityKind, Fields, Mutation, MutationOp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sqlx::SqliteConnection;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::store::queue;

/// One synced kind: its record, how its row is read and written, and what a write of it
/// changes elsewhere. The record serialises to its wire fields (plus `id`).
pub(crate) trait Synced: Serialize + DeserializeOwned + Send + Sync + Sized {
    /// The kind on the wire and in the outbox.
    const KIND: EntityKind;

    /// The record's id.
    fn id(&self) -> Uuid;

    /// The stored record, `None` when the cache does not hold it.
    fn load(
        conn: &mut SqliteConnection,
        id: Uuid,
    ) -> impl Future<Output = Result<Option<Self>>> + Send;

    /// Writes the row: inserts it, or replaces every column of the stored one (a
    /// soft-deleted row comes back).
    fn save(
        conn: &mut SqliteConnection,
        record: &Self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Deletes the row as a delete leaves it (soft-deleted where the kind keeps tombstones,
    /// gone where it does not; an account takes everything hanging off it).
    fn remove(
        conn: &mut SqliteConnection,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Takes the row out of the cache entirely (a team purge, a reconcile, a refused create).
    /// By default what [`Synced::remove`] does.
    fn forget(
        conn: &mut SqliteConnection,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send {
        Self::remove(conn, id, now)
    }

    /// What a write of this record changes elsewhere in the cache, after its row is written
    /// (or removed: then `record` is the state before). The same for a local write and a
    /// pulled one. By default nothing.
    fn effects(
        conn: &mut SqliteConnection,
        record: &Self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (conn, record, now);
        async { Ok(()) }
    }
}

/// [`Synced::id`] of a record whose `id` field is its id.
macro_rules! id_field {
    () => {
        fn id(&self) -> uuid::Uuid {
            self.id
        }
    };
}
pub(crate) use id_field;

// ---------------------------------------------------------------------------------------
// A local write.

/// THE local write: inside the caller's transaction, writes the row and its effects, then
/// appends one outbox [`Mutation`] with the fields this write set (all of them on a create or
/// a restore, the changed ones on an edit) and stamps the last write time. Callers validate
/// first, call this and commit; an error drops the transaction, row and outbox entry alike.
pub(crate) async fn record<T: Synced>(
    conn: &mut SqliteConnection,
    old: Option<&T>,
    new: &T,
    now: DateTime<Utc>,
) -> Result<Mutation> {
    T::save(&mut *conn, new, now).await?;
    T::effects(&mut *conn, new, now).await?;
    let fields = fields_set(old, new);
    queue(conn, T::KIND, new.id(), MutationOp::Upsert, fields, now).await
}

/// A local delete: the row goes as a pulled tombstone takes it, then one `delete` mutation.
pub(crate) async fn record_delete<T: Synced>(
    conn: &mut SqliteConnection,
    old: &T,
    now: DateTime<Utc>,
) -> Result<Mutation> {
    delete::<T>(&mut *conn, old.id(), now, now).await?;
    queue(conn, T::KIND, old.id(), MutationOp::Delete, Map::new(), now).await
}

/// [`Synced::remove`] of a kind that keeps tombstones: the live row `id` of `table` is
/// marked deleted at `at` (a pulled later write brings it back).
pub(crate) async fn soft_delete(
    conn: &mut SqliteConnection,
    table: &'static str,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    let sql = format!("UPDATE {table} SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .bind(crate::store::fmt_time(at))
        .execute(conn)
        .await?;
    Ok(())
}

/// The wire fields a write sets: every field but `id` when there is no previous state,
/// otherwise the fields whose value changed.
pub(crate) fn fields_set<T: Serialize>(old: Option<&T>, new: &T) -> Map<String, Value> {
    let new = to_fields(new);
    match old {
        None => new,
        Some(old) => {
            let old = to_fields(old);
            new.into_iter()
                .filter(|(k, v)| old.get(k) != Some(v))
                .collect()
        }
    }
}

/// A record's wire fields, without `id`.
pub(crate) fn to_fields<T: Serialize>(v: &T) -> Fields {
    match serde_json::to_value(v) {
        Ok(Value::Object(mut m)) => {
            m.remove("id");
            m
        }
        // The records are plain structs: they always serialise to an object.
        _ => Fields::new(),
    }
}

// ---------------------------------------------------------------------------------------
// A pulled change (also: a pending write shown again, a resent change).

/// Merges `fields` (wire names) over the stored record (or nothing), with `id`.
pub(crate) fn merged<T: Synced>(current: Option<&T>, id: Uuid, fields: &Fields) -> Result<T> {
    let mut map = current.map(to_fields).unwrap_or_default();
    for (k, v) in fields {
        map.insert(k.clone(), v.clone());
    }
    map.insert("id".into(), Value::String(id.to_string()));
    serde_json::from_value(Value::Object(map)).map_err(|e| {
        StoreError::invalid(
            T::KIND.as_str(),
            format!("a pulled {} could not be read: {e}", T::KIND.as_str()),
        )
    })
}

/// Writes a record's state from its wire fields (merged over the stored record), then its
/// effects; parks it when the account it hangs off is not in the cache yet. A state this
/// build cannot read is a validation error (the caller keeps it whole).
pub(crate) async fn apply_wire<T: Synced>(
    conn: &mut SqliteConnection,
    id: Uuid,
    team_id: Option<Uuid>,
    fields: &Fields,
    now: DateTime<Utc>,
) -> Result<()> {
    if let Some(account) = fields.get("account_id").and_then(Value::as_str)
        && !account_exists(&mut *conn, account).await?
    {
        // Pages follow the server's order, in which an account edited after its notes
        // comes after them.
        return keep(conn, T::KIND, id, team_id, fields, true).await;
    }
    let current = T::load(&mut *conn, id).await?;
    let new: T = merged(current.as_ref(), id, fields)?;
    T::save(&mut *conn, &new, now).await?;
    T::effects(conn, &new, now).await
}

/// Deletes a record (a tombstone pulled, or a local delete): its parked or kept copy, the
/// row, then the effects on what it hung off.
pub(crate) async fn delete<T: Synced>(
    conn: &mut SqliteConnection,
    id: Uuid,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    drop_kept(&mut *conn, T::KIND, id).await?;
    let old = T::load(&mut *conn, id).await?;
    T::remove(&mut *conn, id, at).await?;
    after_removal(conn, old, now).await
}

/// Takes a record out of the cache (no tombstone), with its effects.
pub(crate) async fn forget<T: Synced>(
    conn: &mut SqliteConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    let old = T::load(&mut *conn, id).await?;
    T::forget(&mut *conn, id, now).await?;
    after_removal(conn, old, now).await
}

/// The effects of a removal, on what the record (as it was) hung off.
async fn after_removal<T: Synced>(
    conn: &mut SqliteConnection,
    old: Option<T>,
    now: DateTime<Utc>,
) -> Result<()> {
    match old {
        Some(old) => T::effects(conn, &old, now).await,
        None => Ok(()),
    }
}

/// A record's stored wire fields (timestamps included), `None` when the cache lacks it.
pub(crate) async fn load_fields<T: Synced>(
    conn: &mut SqliteConnection,
    id: Uuid,
) -> Result<Option<Fields>> {
    Ok(T::load(conn, id).await?.as_ref().map(to_fields))
}

/// A read that answers `NotFound` for a missing record, as `None`.
pub(crate) fn found<T>(read: Result<T>) -> Result<Option<T>> {
    match read {
        Ok(r) => Ok(Some(r)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

pub(crate) async fn account_exists(conn: &mut SqliteConnection, account: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM accounts WHERE id = ?1")
        .bind(account)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Keeps a pulled record in `sync_records`: parked until its account arrives, or whole
/// because this build cannot read it (a newer server's value).
pub(crate) async fn keep(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    team_id: Option<Uuid>,
    fields: &Fields,
    parked: bool,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sync_records (entity, id, team_id, fields, deleted, parked) \
         VALUES (?1, ?2, ?3, ?4, 0, ?5) ON CONFLICT (entity, id) DO UPDATE SET \
         team_id = excluded.team_id, fields = excluded.fields, deleted = 0, \
         parked = excluded.parked",
    )
    .bind(kind.as_str())
    .bind(id.to_string())
    .bind(team_id.map(|t| t.to_string()))
    .bind(Value::Object(fields.clone()).to_string())
    .bind(parked)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Drops what `sync_records` keeps of a record.
pub(crate) async fn drop_kept(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
) -> Result<()> {
    sqlx::query("DELETE FROM sync_records WHERE entity = ?1 AND id = ?2")
        .bind(kind.as_str())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod property;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_set_keeps_only_changes() {
        #[derive(Serialize)]
        struct T {
            id: u8,
            a: u8,
            b: &'static str,
        }
        let old = T {
            id: 1,
            a: 1,
            b: "x",
        };
        let new = T {
            id: 1,
            a: 2,
            b: "x",
        };
        let all = fields_set(None, &new);
        assert_eq!(
            all.keys().collect::<Vec<_>>(),
            vec!["a", "b"],
            "a create sets all but id"
        );
        let changed = fields_set(Some(&old), &new);
        assert_eq!(
            changed.keys().collect::<Vec<_>>(),
            vec!["a"],
            "an edit sets what changed"
        );
    }
}
