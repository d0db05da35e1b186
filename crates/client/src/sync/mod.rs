//! Sync with the central service.
//!
//! - [`transport`]: the HTTP seam ([`Transport`]), the real reqwest transport and a
//!   fault-injecting one for tests.
//! - [`engine`]: [`SyncClient`] pushes the outbox in batches and pulls pages from the cursor.
//! - `apply`: a pull page goes into the cache in ONE SQLite transaction together with its
//!   cursor, so a crash mid-page leaves the previous page and cursor intact; local writes
//!   not yet acknowledged are re-applied on top of the pulled state (the pending overlay).
//!
//! Identity: the desktop makes a local profile at first start, before it knows any server.
//! At sign-in the cache ADOPTS the server's user id: the profile row, the notes it authored,
//! the accounts it owns and the pending outbox are rewritten from the local id to the
//! server's, in one transaction; pending edits of the profile itself are dropped (the
//! server's profile wins at sign-in). See docs/ARCHITECTURE.md, "Sync engine".

pub(crate) mod apply;
mod bulk;
pub mod engine;
mod rebuild;
pub mod transport;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rapport_domain::sync::{
    Change, EntityKind, Fields, MAX_PUSH_BATCH, Me, Mutation, MutationOp, MutationResult,
    MutationStatus, PullResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use uuid::Uuid;

pub use engine::{SyncClient, SyncError, SyncReport, login, logout, me};
pub use rebuild::Rebuilt;

/// Everything hanging off an account leaves the cache with it (a local account delete
/// cascades as the server's does).
pub use transport::{Fault, FaultyTransport, HttpTransport, Transport};

use crate::error::{Result, StoreError};
use crate::store::{Store, fmt_time, parse_time};

/// What the cache knows of its connection (no token: that is in the OS keyring).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncInfo {
    /// `None` when signed out.
    pub server_url: Option<String>,
    pub email: Option<String>,
    pub user_id: Option<Uuid>,
    pub last_synced_at: Option<DateTime<Utc>>,
    /// First sync: records received so far, of `total` (when the server said).
    pub received: u64,
    pub total: Option<u64>,
    pub pending_changes: u32,
    pub needs_attention: u32,
}

/// A local write the server refused for good, kept with the user's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttentionItem {
    /// The refused mutation's id.
    pub id: Uuid,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub entity: EntityKind,
    pub entity_id: Uuid,
    /// `"upsert"` or `"delete"`.
    pub op: String,
    /// The user's content: the fields the write set, by wire name.
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub fields: Fields,
    /// Why: a stable code (`invalid_field`, `forbidden_team`, ...) and words a user can act on.
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    pub client_time: DateTime<Utc>,
    pub rejected_at: DateTime<Utc>,
}

impl Store {
    /// The connection and progress the cache records.
    pub async fn sync_info(&self) -> Result<SyncInfo> {
        let row = sqlx::query(
            "SELECT server_url, email, user_id, last_synced_at, received, total, \
             (SELECT count(*) FROM outbox) AS pending, \
             (SELECT count(*) FROM sync_attention) AS attention \
             FROM sync_state WHERE singleton = 1",
        )
        .fetch_one(&self.reader)
        .await?;
        let last: Option<String> = row.try_get("last_synced_at")?;
        let user: Option<String> = row.try_get("user_id")?;
        let received: i64 = row.try_get("received")?;
        let total: Option<i64> = row.try_get("total")?;
        let pending: i64 = row.try_get("pending")?;
        let attention: i64 = row.try_get("attention")?;
        Ok(SyncInfo {
            server_url: row.try_get("server_url")?,
            email: row.try_get("email")?,
            user_id: user.as_deref().and_then(|u| Uuid::parse_str(u).ok()),
            last_synced_at: last.as_deref().map(parse_time).transpose()?,
            received: u64::try_from(received).unwrap_or(0),
            total: total.and_then(|t| u64::try_from(t).ok()),
            pending_changes: u32::try_from(pending).unwrap_or(u32::MAX),
            needs_attention: u32::try_from(attention).unwrap_or(u32::MAX),
        })
    }

    /// The cursor of the last applied page (`""` before the first).
    pub async fn sync_cursor(&self) -> Result<String> {
        Ok(
            sqlx::query_scalar("SELECT cursor FROM sync_state WHERE singleton = 1")
                .fetch_one(&self.reader)
                .await?,
        )
    }

    /// After a successful login: the cache becomes the server user's (see the module doc).
    /// Signing in as another user than the cache last synced drops what was pulled for
    /// that user (the pending outbox stays).
    pub async fn sync_signed_in(&self, server_url: &str, me: &Me) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let previous: Option<String> =
            sqlx::query_scalar("SELECT user_id FROM sync_state WHERE singleton = 1")
                .fetch_one(&mut *tx)
                .await?;
        let new_id = me.user.id;
        if let Some(previous) = previous.filter(|p| *p != new_id.to_string()) {
            // Another user on this desktop: the previous user's unsynced and refused writes
            // are put aside under their id, and nothing of their teams stays in the cache.
            park_writes(&mut tx, &previous).await?;
            apply::wipe(&mut tx, Utc::now()).await?;
        }
        let local: Option<String> =
            sqlx::query_scalar("SELECT user_id FROM profile WHERE singleton = 1")
                .fetch_optional(&mut *tx)
                .await?;
        crate::accounts::upsert_user(&mut tx, &me.user).await?;
        let (new, old) = (new_id.to_string(), local.unwrap_or_default());
        // The server's profile wins at sign-in: pending edits of the local one are dropped.
        sqlx::query("DELETE FROM outbox WHERE entity = 'user'")
            .execute(&mut *tx)
            .await?;
        if !old.is_empty() && old != new {
            for sql in [
                "UPDATE notes SET author_id = ?2 WHERE author_id = ?1",
                "UPDATE accounts SET owner_csm_id = ?2 WHERE owner_csm_id = ?1",
                "UPDATE accounts SET account_rep_id = ?2 WHERE account_rep_id = ?1",
                "UPDATE outbox SET fields = replace(fields, ?1, ?2) WHERE instr(fields, ?1) > 0",
                "UPDATE sync_attention SET fields = replace(fields, ?1, ?2) WHERE instr(fields, ?1) > 0",
            ] {
                sqlx::query(sql)
                    .bind(&old)
                    .bind(&new)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query(
            "INSERT INTO profile (singleton, user_id) VALUES (1, ?1) \
             ON CONFLICT (singleton) DO UPDATE SET user_id = excluded.user_id",
        )
        .bind(&new)
        .execute(&mut *tx)
        .await?;
        // This user's writes put aside when someone else signed in here come back.
        let restored = unpark_writes(&mut tx, &new).await?;
        if !old.is_empty() && old != new {
            sqlx::query("DELETE FROM users WHERE id = ?1")
                .bind(&old)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE sync_state SET server_url = ?1, user_id = ?2, email = ?3, \
             default_team_id = ?4 WHERE singleton = 1",
        )
        .bind(server_url)
        .bind(&new)
        .bind(&me.user.email)
        .bind(me.teams.first().map(|t| t.id.to_string()))
        .execute(&mut *tx)
        .await?;
        // The teams the quarter board filters by: the server's list replaces the cached one.
        sqlx::query("DELETE FROM teams").execute(&mut *tx).await?;
        for t in &me.teams {
            sqlx::query("INSERT INTO teams (id, name) VALUES (?1, ?2)")
                .bind(t.id.to_string())
                .bind(&t.name)
                .execute(&mut *tx)
                .await?;
        }
        if restored > 0 {
            // The server's profile wins at sign-in, for the writes put aside too.
            sqlx::query("DELETE FROM outbox WHERE entity = 'user'")
                .execute(&mut *tx)
                .await?;
            let pending = apply::pending(&mut tx).await?;
            let outbox: Vec<(String, String)> =
                sqlx::query_as("SELECT entity, entity_id FROM outbox ORDER BY seq")
                    .fetch_all(&mut *tx)
                    .await?;
            let mut seen = std::collections::HashSet::new();
            for (entity, id) in outbox {
                if let (Some(kind), Ok(id)) = (EntityKind::parse(&entity), Uuid::parse_str(&id))
                    && seen.insert((kind, id))
                    && let Some(muts) = pending.get(&(kind, id))
                {
                    rebuild::rematerialize(&mut tx, kind, id, muts, Utc::now()).await?;
                }
            }
            apply::unpark(&mut tx, Utc::now()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sign-out. `keep_pending`: the unsynced changes stay (in the cache and the outbox) and
    /// are pushed at the next sign-in; otherwise they are discarded: their records are
    /// dropped from the cache and pulled again fresh at the next sign-in.
    pub async fn sync_signed_out(&self, keep_pending: bool) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        if !keep_pending {
            let pending = apply::pending(&mut tx).await?;
            for (kind, id) in pending.keys() {
                apply::forget_record(&mut tx, *kind, *id, Utc::now()).await?;
            }
            sqlx::query("DELETE FROM outbox").execute(&mut *tx).await?;
            // What was dropped must come back: pull everything again next time.
            sqlx::query(
                "UPDATE sync_state SET cursor = '', received = 0, total = NULL WHERE singleton = 1",
            )
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE sync_state SET server_url = NULL, email = NULL, default_team_id = NULL \
             WHERE singleton = 1",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The oldest `n` mutations of the outbox, never ending inside a group that travels
    /// together (a request and the timeline entries written with it,
    /// [`rapport_domain::sync::write_groups`]): the batch stops before a group that would
    /// not fit, or holds a longer first group whole.
    pub(crate) async fn sync_outbox_batch(&self, n: usize) -> Result<Vec<Mutation>> {
        let limit = MAX_PUSH_BATCH;
        let rows = sqlx::query(
            "SELECT id, entity, entity_id, op, fields, base_version, client_time \
             FROM outbox ORDER BY seq LIMIT ?1",
        )
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.writer)
        .await?;
        let all: Vec<Mutation> = rows
            .iter()
            .map(crate::store::mutation_from_row)
            .collect::<Result<_>>()?;
        let mut end = 0;
        for g in rapport_domain::sync::write_groups(&all) {
            // The last group read may go on past what was read: it waits for a later batch.
            let maybe_cut = all.len() == limit && g.end == all.len();
            if end > 0 && (g.end > n || maybe_cut) {
                break;
            }
            end = g.end;
            if end >= n {
                break;
            }
        }
        let mut all = all;
        all.truncate(end);
        Ok(all)
    }

    /// The team to name when pushing an account: the one the server said, else the default.
    pub(crate) async fn sync_account_team(&self, id: Uuid) -> Result<Option<Uuid>> {
        let t: Option<String> = sqlx::query_scalar(
            "SELECT coalesce((SELECT team_id FROM sync_versions WHERE entity = 'account' AND id = ?1), \
             (SELECT default_team_id FROM sync_state WHERE singleton = 1))",
        )
        .bind(id.to_string())
        .fetch_one(&self.writer)
        .await?;
        Ok(t.as_deref().and_then(|t| Uuid::parse_str(t).ok()))
    }

    /// Records a push's answers in one transaction: applied mutations leave the outbox,
    /// refused ones move to `sync_attention`. Returns the records of the refused ones.
    pub(crate) async fn sync_ack(
        &self,
        batch: &[Mutation],
        results: &[MutationResult],
        now: DateTime<Utc>,
    ) -> Result<Vec<(EntityKind, Uuid)>> {
        let mut tx = self.writer.begin().await?;
        let mut refused = Vec::new();
        for (m, r) in batch.iter().zip(results) {
            if r.status == MutationStatus::Rejected {
                sqlx::query(
                    "INSERT INTO sync_attention (id, entity, entity_id, op, fields, base_version, \
                     client_time, code, message, field, rejected_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(m.id.to_string())
                .bind(m.entity.as_str())
                .bind(m.entity_id.to_string())
                .bind(m.op.as_str())
                .bind(Value::Object(m.fields.clone()).to_string())
                .bind(m.base_version)
                .bind(fmt_time(m.client_time))
                .bind(r.code.map_or("rejected", |c| c.as_str()))
                .bind(
                    r.message
                        .as_deref()
                        .unwrap_or("the server refused this change"),
                )
                .bind(r.field.as_deref())
                .bind(fmt_time(now))
                .execute(&mut *tx)
                .await?;
                tracing::info!(mutation = %m.id, entity = m.entity.as_str(), code = ?r.code, "change refused by the server: needs attention");
                refused.push((m.entity, m.entity_id));
                if m.entity == EntityKind::Account && m.op == MutationOp::Delete {
                    // The local delete took everything hanging off the account, which the
                    // reload of the account alone does not bring back: the pull starts over,
                    // and its reconcile restores them as the server has them.
                    apply::reset(&mut tx).await?;
                }
            } else {
                // Applied: final on the server, so it is no longer anything to attend to,
                // and the record is known as the server's until its echo is pulled.
                apply::record_pushed(&mut tx, m).await?;
                sqlx::query("DELETE FROM sync_attention WHERE id = ?1")
                    .bind(m.id.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM outbox WHERE id = ?1")
                .bind(m.id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(refused)
    }

    /// Records of refused writes not reloaded from the server yet.
    pub(crate) async fn sync_to_reload(&self) -> Result<Vec<(EntityKind, Uuid)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT entity, entity_id FROM sync_attention WHERE reloaded = 0",
        )
        .fetch_all(&self.writer)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(e, id)| Some((EntityKind::parse(&e)?, Uuid::parse_str(&id).ok()?)))
            .collect())
    }

    pub(crate) async fn sync_reloaded(&self, kind: EntityKind, id: Uuid) -> Result<()> {
        sqlx::query("UPDATE sync_attention SET reloaded = 1 WHERE entity = ?1 AND entity_id = ?2")
            .bind(kind.as_str())
            .bind(id.to_string())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Applies pull pages, each with its cursor, in one transaction (`bulk`: with the first
    /// sync's bulk path, see `bulk`); `from_start`: the first answers a pull from the start.
    /// Returns the records received since the sync from the start began, and the total the
    /// server announced.
    pub(crate) async fn sync_apply_pages(
        &self,
        pages: &[PullResponse],
        from_start: bool,
        bulk: bool,
        now: DateTime<Utc>,
    ) -> Result<(u64, Option<u64>)> {
        let mut tx = self.writer.begin().await?;
        for (i, page) in pages.iter().enumerate() {
            apply::apply_page(&mut tx, page, from_start && i == 0, now, bulk).await?;
        }
        let (received, total): (i64, Option<i64>) =
            sqlx::query_as("SELECT received, total FROM sync_state WHERE singleton = 1")
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok((
            u64::try_from(received).unwrap_or(0),
            total.and_then(|t| u64::try_from(t).ok()),
        ))
    }

    /// Applies one record's server state (with the pending overlay), outside a page.
    pub(crate) async fn sync_apply_one(&self, change: &Change, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let pending = apply::pending(&mut tx).await?;
        let p = pending.get(&(change.entity, change.entity_id));
        apply::apply_change(&mut tx, change, p.map(Vec::as_slice), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The server has no such record for us: drop it, unless a later local write waits.
    pub(crate) async fn sync_forget_unless_pending(
        &self,
        kind: EntityKind,
        id: Uuid,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let pending = apply::pending(&mut tx).await?;
        if !pending.contains_key(&(kind, id)) {
            apply::forget_record(&mut tx, kind, id, Utc::now()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `reset_required`: pull again from the start; the reconcile that pull opens drops
    /// what the server no longer has for this user (pending writes stay).
    pub async fn sync_reset(&self) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        apply::reset(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn sync_mark_synced(&self, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE sync_state SET last_synced_at = ?1, received = 0, total = NULL WHERE singleton = 1")
            .bind(fmt_time(now))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The refused writes, newest first.
    pub async fn attention_list(&self) -> Result<Vec<AttentionItem>> {
        let rows = sqlx::query(
            "SELECT id, entity, entity_id, op, fields, code, message, field, client_time, \
             rejected_at FROM sync_attention ORDER BY seq DESC",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                use crate::store::{json_col, time_col, uuid_col};
                let entity: String = r.try_get("entity")?;
                Ok(AttentionItem {
                    id: uuid_col(r, "id")?,
                    entity: EntityKind::parse(&entity)
                        .ok_or_else(|| StoreError::invalid("entity", "unknown entity"))?,
                    entity_id: uuid_col(r, "entity_id")?,
                    op: r.try_get("op")?,
                    fields: json_col(r, "fields")?,
                    code: r.try_get("code")?,
                    message: r.try_get("message")?,
                    field: r.try_get("field")?,
                    client_time: time_col(r, "client_time")?,
                    rejected_at: time_col(r, "rejected_at")?,
                })
            })
            .collect()
    }

    /// Drops a refused write for good (the record stays as the server has it).
    pub async fn attention_discard(&self, id: Uuid) -> Result<()> {
        let n = sqlx::query("DELETE FROM sync_attention WHERE id = ?1")
            .bind(id.to_string())
            .execute(&self.writer)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                entity: "change needing attention",
                id,
            });
        }
        Ok(())
    }

    /// Sends a refused write again, with the fields the user corrected (`None`: as it was):
    /// a new outbox mutation (new id), shown in the cache at once like any local write.
    pub async fn attention_resend(
        &self,
        id: Uuid,
        fields: Option<Fields>,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let item = self
            .attention_list()
            .await?
            .into_iter()
            .find(|i| i.id == id)
            .ok_or(StoreError::NotFound {
                entity: "change needing attention",
                id,
            })?;
        let op = MutationOp::parse(&item.op).unwrap_or(MutationOp::Upsert);
        let fields = fields.unwrap_or(item.fields);
        // Asked before the transaction: the cache has one writer connection, and asking
        // through it while the transaction holds it waited out the pool's acquire timeout
        // (30 s) before every edited resend.
        let team = match op {
            MutationOp::Upsert => self.sync_account_team(item.entity_id).await.ok().flatten(),
            MutationOp::Delete => None,
        };
        let mut tx = self.writer.begin().await?;
        // The one outbox path of every local write: the service's limits checked by field.
        let new_id = crate::store::queue(
            &mut tx,
            item.entity,
            item.entity_id,
            op,
            fields.clone(),
            now,
        )
        .await?
        .id;
        match op {
            MutationOp::Delete => {
                apply::delete_record(&mut tx, item.entity, item.entity_id, now, now).await?;
            }
            MutationOp::Upsert => {
                let mut current = apply::local_fields(&mut tx, item.entity, item.entity_id)
                    .await?
                    .unwrap_or_default();
                current.extend(fields);
                // A record the cache cannot show yet (incomplete) is still queued.
                if let Err(e) =
                    apply::write_record(&mut tx, item.entity, item.entity_id, team, current, now)
                        .await
                {
                    tracing::warn!(error = %e, "resent change queued but not shown until the server answers");
                }
            }
        }
        sqlx::query("DELETE FROM sync_attention WHERE id = ?1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(new_id)
    }

    /// The cache's live accounts, contacts and notes as wire fields (server-stamped times
    /// left out), by (entity, id): what convergence tests compare with the server.
    pub async fn sync_snapshot(&self) -> Result<BTreeMap<(String, Uuid), Fields>> {
        let mut out = BTreeMap::new();
        let mut conn = self.reader.acquire().await?;
        for (kind, sql) in [
            (EntityKind::Account, "SELECT id FROM accounts"),
            (
                EntityKind::Contact,
                "SELECT id FROM contacts WHERE deleted_at IS NULL",
            ),
            (
                EntityKind::Note,
                "SELECT id FROM notes WHERE deleted_at IS NULL",
            ),
        ] {
            let ids: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut *conn).await?;
            for id in ids {
                let id =
                    Uuid::parse_str(&id).map_err(|e| StoreError::invalid("id", e.to_string()))?;
                if let Some(mut f) = apply::local_fields(&mut conn, kind, id).await? {
                    f.remove("created_at");
                    f.remove("updated_at");
                    out.insert((kind.as_str().to_owned(), id), f);
                }
            }
        }
        Ok(out)
    }
}

/// Puts the outbox and the refused writes aside under `user` (another user signs in here).
async fn park_writes(conn: &mut sqlx::SqliteConnection, user: &str) -> Result<()> {
    for sql in [
        "INSERT INTO parked_outbox (user_id, id, entity, entity_id, op, fields, base_version, \
         client_time) SELECT ?1, id, entity, entity_id, op, fields, base_version, client_time \
         FROM outbox ORDER BY seq",
        "DELETE FROM outbox",
        "INSERT INTO parked_attention (user_id, id, entity, entity_id, op, fields, \
         base_version, client_time, code, message, field, rejected_at) SELECT ?1, id, entity, \
         entity_id, op, fields, base_version, client_time, code, message, field, rejected_at \
         FROM sync_attention ORDER BY seq",
        "DELETE FROM sync_attention",
    ] {
        sqlx::query(sql).bind(user).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Brings back the writes put aside for `user`, after their own current ones. Returns how
/// many outbox entries came back.
async fn unpark_writes(conn: &mut sqlx::SqliteConnection, user: &str) -> Result<u64> {
    let n = sqlx::query(
        "INSERT INTO outbox (id, entity, entity_id, op, fields, base_version, client_time) \
         SELECT id, entity, entity_id, op, fields, base_version, client_time \
         FROM parked_outbox WHERE user_id = ?1 ORDER BY seq",
    )
    .bind(user)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    for sql in [
        "DELETE FROM parked_outbox WHERE user_id = ?1",
        "INSERT INTO sync_attention (id, entity, entity_id, op, fields, base_version, \
         client_time, code, message, field, rejected_at) SELECT id, entity, entity_id, op, \
         fields, base_version, client_time, code, message, field, rejected_at \
         FROM parked_attention WHERE user_id = ?1 ORDER BY seq",
        "DELETE FROM parked_attention WHERE user_id = ?1",
    ] {
        sqlx::query(sql).bind(user).execute(&mut *conn).await?;
    }
    Ok(n)
}
