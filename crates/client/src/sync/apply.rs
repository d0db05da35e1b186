//! Writing what the server says into the cache: one pull page in one transaction (with the
//! new cursor), tombstones, team purges, a reset, and the overlay that keeps local writes
//! not yet acknowledged visible on top of older server state.
//!
//! Every kind is applied the one way of `crate::entity` (the same row codec and effects as a
//! local write); [`on_kind`] is the one table from an [`EntityKind`] to the type that keeps
//! its contract. A record whose account has not arrived yet is parked in `sync_records`
//! until it does, and one this build cannot read (a newer server's value) is kept there
//! whole: nothing pulled is lost.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rapport_domain::sync::{Change, EntityKind, Fields, Mutation, MutationOp, PullResponse};
use rapport_domain::{Account, Contact, Note, User};
use serde_json::Value;
use sqlx::SqliteConnection;
use uuid::Uuid;

use crate::entity::{self, Synced};
use crate::error::{Result, StoreError};
use crate::store::{fmt_time, outbox};

/// Pending outbox mutations per record, oldest first.
pub(crate) type Pending = HashMap<(EntityKind, Uuid), Vec<Mutation>>;

pub(crate) async fn pending(conn: &mut SqliteConnection) -> Result<Pending> {
    let mut out: Pending = HashMap::new();
    for m in outbox(conn).await? {
        out.entry((m.entity, m.entity_id)).or_default().push(m);
    }
    Ok(out)
}

/// Applies one pull page: purges, then each change with the pending overlay, then the
/// parked children whose account arrived, then the cursor. The caller's transaction makes
/// it all or nothing. Returns the number of records received.
///
/// `from_start`: the page answers a pull from the start (the first sync, or after a reset or
/// a sign-out that kept rows): it opens a reconcile, and the last page of that pull closes
/// it by dropping every record the pull did not bring (see [`sweep`]).
///
/// `bulk`: with the first sync's bulk path ([`super::bulk`]), which leaves the same cache
/// faster; without it, every change takes the ordinary apply.
pub(crate) async fn apply_page(
    conn: &mut SqliteConnection,
    page: &PullResponse,
    from_start: bool,
    now: DateTime<Utc>,
    bulk: bool,
) -> Result<u64> {
    if from_start {
        begin_reconcile(conn).await?;
    }
    for team in &page.purge {
        purge_team(conn, *team, now).await?;
    }
    let pending = pending(conn).await?;
    let mut bulk = if bulk {
        super::bulk::Bulk::plan(conn, page, &pending).await?
    } else {
        super::bulk::Bulk::none()
    };
    for change in &page.changes {
        if bulk.takes(change) {
            bulk.apply(conn, change, now).await?;
            continue;
        }
        bulk.flush(conn).await?;
        let p = pending.get(&(change.entity, change.entity_id));
        apply_change(conn, change, p.map(Vec::as_slice), now).await?;
    }
    bulk.flush(conn).await?;
    unpark(conn, now).await?;
    let n = page.changes.len() as u64;
    sqlx::query(
        "UPDATE sync_state SET cursor = ?1, received = received + ?2, \
         total = coalesce(?3, total) WHERE singleton = 1",
    )
    .bind(&page.cursor)
    .bind(i64::try_from(n).unwrap_or(i64::MAX))
    .bind(page.total.and_then(|t| i64::try_from(t).ok()))
    .execute(&mut *conn)
    .await?;
    if !page.has_more {
        let reconciling: i64 =
            sqlx::query_scalar("SELECT reconciling FROM sync_state WHERE singleton = 1")
                .fetch_one(&mut *conn)
                .await?;
        if reconciling == 1 {
            sweep(conn, now).await?;
        }
    }
    Ok(n)
}

/// One record's server state, with the local writes not yet acknowledged re-applied on top.
pub(crate) async fn apply_change(
    conn: &mut SqliteConnection,
    change: &Change,
    pending: Option<&[Mutation]>,
    now: DateTime<Utc>,
) -> Result<()> {
    let (kind, id) = (change.entity, change.entity_id);
    let mut deleted = change.deleted;
    let mut fields = if deleted {
        None
    } else {
        Some(with_times(change))
    };
    if let Some(pending) = pending.filter(|p| !p.is_empty()) {
        if deleted {
            // The server deleted it, but a local write waits: what the user sees stays the
            // base (the server will re-create the record from it when the write arrives).
            fields = local_fields(conn, kind, id).await?;
        }
        lay_over(&mut fields, &mut deleted, pending);
    }
    record_version(conn, change).await?;
    match (deleted, fields) {
        (true, _) => delete_record(conn, kind, id, change.updated_at.max(now), now).await,
        (false, Some(f)) => write_record(conn, kind, id, change.team_id, f, now).await,
        (false, None) => Ok(()),
    }
}

/// The server's version of a pulled record (confirmed by this pull: not stale).
pub(crate) async fn record_version(conn: &mut SqliteConnection, change: &Change) -> Result<()> {
    record_versions(conn, std::slice::from_ref(&change)).await
}

/// [`record_version`] of several records, one statement per 1,000.
pub(crate) async fn record_versions(
    conn: &mut SqliteConnection,
    changes: &[&Change],
) -> Result<()> {
    for chunk in changes.chunks(1000) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO sync_versions (entity, id, team_id, version, deleted, stale) ",
        );
        q.push_values(chunk, |mut b, c| {
            b.push_bind(c.entity.as_str())
                .push_bind(c.entity_id.to_string())
                .push_bind(c.team_id.map(|t| t.to_string()))
                .push_bind(c.version)
                .push_bind(c.deleted)
                .push("0");
        });
        q.push(
            " ON CONFLICT (entity, id) DO UPDATE SET team_id = excluded.team_id, \
             version = excluded.version, deleted = excluded.deleted, stale = 0",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// A pulled record's full state as wire fields: its fields with the server's timestamps.
pub(crate) fn with_times(change: &Change) -> Fields {
    let mut f = change.fields.clone();
    f.insert(
        "created_at".into(),
        Value::String(fmt_time(change.created_at)),
    );
    f.insert(
        "updated_at".into(),
        Value::String(fmt_time(change.updated_at)),
    );
    f
}

/// What [`on_kind`] does with a record of a kind.
pub(crate) enum Op<'a> {
    /// Its full state (wire fields, timestamps included), merged over the stored one.
    Write {
        team_id: Option<Uuid>,
        fields: &'a Fields,
        now: DateTime<Utc>,
    },
    /// A tombstone, deleted `at`.
    Delete {
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// Out of the cache entirely, no tombstone kept.
    Forget { now: DateTime<Utc> },
    /// Its stored wire fields, answered.
    Load,
}

/// The one table of synced kinds: each [`EntityKind`] to the type keeping its
/// [`Synced`] contract.
pub(crate) async fn on_kind(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    op: Op<'_>,
) -> Result<Option<Fields>> {
    use crate::requests::{EventRecord, RequestRecord};
    use rapport_domain::onboarding::OnboardingSession;
    use rapport_domain::review::Review;
    match kind {
        EntityKind::Account => run::<Account>(conn, id, op).await,
        EntityKind::Contact => run::<Contact>(conn, id, op).await,
        EntityKind::Note => run::<Note>(conn, id, op).await,
        EntityKind::User => run::<User>(conn, id, op).await,
        EntityKind::OnboardingSession => run::<OnboardingSession>(conn, id, op).await,
        EntityKind::Review => run::<Review>(conn, id, op).await,
        EntityKind::Request => run::<RequestRecord>(conn, id, op).await,
        EntityKind::RequestEvent => run::<EventRecord>(conn, id, op).await,
        EntityKind::Rca => run::<crate::rca::RcaRecord>(conn, id, op).await,
    }
}

async fn run<T: Synced>(
    conn: &mut SqliteConnection,
    id: Uuid,
    op: Op<'_>,
) -> Result<Option<Fields>> {
    match op {
        Op::Write {
            team_id,
            fields,
            now,
        } => entity::apply_wire::<T>(conn, id, team_id, fields, now).await?,
        Op::Delete { at, now } => entity::delete::<T>(conn, id, at, now).await?,
        Op::Forget { now } => entity::forget::<T>(conn, id, now).await?,
        Op::Load => return entity::load_fields::<T>(conn, id).await,
    }
    Ok(None)
}

/// Lays local writes not yet acknowledged over a record's state (`None`: not in the cache):
/// an upsert's fields on top, a delete deletes.
pub(crate) fn lay_over(fields: &mut Option<Fields>, deleted: &mut bool, pending: &[Mutation]) {
    for m in pending {
        match m.op {
            MutationOp::Upsert => {
                fields
                    .get_or_insert_with(Fields::new)
                    .extend(m.fields.clone());
                *deleted = false;
            }
            MutationOp::Delete => *deleted = true,
        }
    }
}

/// Writes a record's full state (wire fields, timestamps included) to its table.
pub(crate) async fn write_record(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    team_id: Option<Uuid>,
    fields: Fields,
    now: DateTime<Utc>,
) -> Result<()> {
    let op = Op::Write {
        team_id,
        fields: &fields,
        now,
    };
    match on_kind(conn, kind, id, op).await {
        Err(StoreError::Validation(e)) => {
            // A state this build cannot read (a newer server's value): keep it whole in
            // the generic store rather than stop syncing or lose it.
            tracing::warn!(entity = kind.as_str(), %id, error = %e, "pulled record kept unread");
            entity::keep(conn, kind, id, team_id, &fields, false).await
        }
        other => other.map(drop),
    }
}

/// Deletes a record as a tombstone does: contacts, notes, reviews, requests and RCAs are
/// soft-deleted (as a local delete does), an account goes with everything hanging off it,
/// users are never deleted.
pub(crate) async fn delete_record(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    on_kind(conn, kind, id, Op::Delete { at, now })
        .await
        .map(drop)
}

/// Removes a record from the cache entirely (a team purge, a reset, a create the server
/// refused): no tombstone kept.
pub(crate) async fn forget_record(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    on_kind(conn, kind, id, Op::Forget { now }).await?;
    entity::drop_kept(&mut *conn, kind, id).await?;
    sqlx::query("DELETE FROM sync_versions WHERE entity = ?1 AND id = ?2")
        .bind(kind.as_str())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The user left a team: every record of it leaves the cache.
async fn purge_team(conn: &mut SqliteConnection, team: Uuid, now: DateTime<Utc>) -> Result<()> {
    let rows: Vec<(String, String)> =
        // Accounts first: each takes what hangs off it, so no child re-scores an account
        // about to go.
        sqlx::query_as(
            "SELECT entity, id FROM sync_versions WHERE team_id = ?1 ORDER BY entity <> 'account'",
        )
            .bind(team.to_string())
            .fetch_all(&mut *conn)
            .await?;
    for (entity, id) in rows {
        if let (Some(kind), Ok(id)) = (EntityKind::parse(&entity), Uuid::parse_str(&id)) {
            forget_record(conn, kind, id, now).await?;
        }
    }
    sqlx::query("DELETE FROM sync_records WHERE team_id = ?1")
        .bind(team.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `reset_required`: the server's log no longer reaches back to the cursor. Pull again from
/// the start; the rows stay on screen meanwhile, and the reconcile that pull opens drops
/// every one it does not bring back (pending writes and what they need stay).
pub(crate) async fn reset(conn: &mut SqliteConnection) -> Result<()> {
    sqlx::query(
        "UPDATE sync_state SET cursor = '', received = 0, total = NULL WHERE singleton = 1",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Another user signs in on this desktop: nothing of the previous user's may stay. Called
/// once their outbox and refused writes are put aside, so nothing is pending: every synced
/// row goes, and the pull starts over.
pub(crate) async fn wipe(conn: &mut SqliteConnection, now: DateTime<Utc>) -> Result<()> {
    begin_reconcile(conn).await?;
    sweep(conn, now).await?;
    sqlx::query("DELETE FROM sync_versions")
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM sync_records")
        .execute(&mut *conn)
        .await?;
    reset(conn).await
}

/// Opens a reconcile: every record the cache knows is unconfirmed until a page brings it.
async fn begin_reconcile(conn: &mut SqliteConnection) -> Result<()> {
    sqlx::query("UPDATE sync_versions SET stale = 1")
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE sync_state SET reconciling = 1 WHERE singleton = 1")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The synced tables, accounts first (each takes what hangs off it), with the kind each
/// holds.
const SYNCED_TABLES: &[(EntityKind, &str)] = &[
    (EntityKind::Account, "accounts"),
    (EntityKind::Contact, "contacts"),
    (EntityKind::Note, "notes"),
    (EntityKind::OnboardingSession, "onboarding_sessions"),
    (EntityKind::Review, "reviews"),
    (EntityKind::RequestEvent, "request_events"),
    (EntityKind::Rca, "rcas"),
    (EntityKind::Request, "requests"),
];

/// Closes a reconcile (full reconcile by id sets): the pull from the start brought every
/// record the server lets this user see, so every row it did not confirm goes, whatever its
/// origin (pulled at a version, pushed and awaiting its echo, or on no list at all), unless a
/// pending write still needs it (the record itself, or the account a pending record hangs
/// off). Returns how many records were dropped.
pub(crate) async fn sweep(conn: &mut SqliteConnection, now: DateTime<Utc>) -> Result<u64> {
    let pending = pending(conn).await?;
    let mut keep_accounts = std::collections::HashSet::new();
    for (kind, id) in pending.keys() {
        if *kind == EntityKind::Account {
            keep_accounts.insert(*id);
        } else if let Some(account) = local_fields(conn, *kind, *id)
            .await?
            .as_ref()
            .and_then(|f| f.get("account_id"))
            .and_then(Value::as_str)
            .and_then(|a| Uuid::parse_str(a).ok())
        {
            keep_accounts.insert(account);
        }
    }
    let mut dropped = 0;
    for (kind, table) in SYNCED_TABLES {
        let sql = format!(
            "SELECT id FROM {table} WHERE id NOT IN \
             (SELECT id FROM sync_versions WHERE entity = ?1 AND stale = 0)"
        );
        let ids: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(kind.as_str())
            .fetch_all(&mut *conn)
            .await?;
        for id in ids.iter().filter_map(|i| Uuid::parse_str(i).ok()) {
            if pending.contains_key(&(*kind, id))
                || (*kind == EntityKind::Account && keep_accounts.contains(&id))
            {
                continue;
            }
            forget_record(conn, *kind, id, now).await?;
            dropped += 1;
        }
    }
    let kept: Vec<(String, String)> = sqlx::query_as(
        "SELECT entity, id FROM sync_records r WHERE NOT EXISTS (SELECT 1 FROM sync_versions v \
         WHERE v.entity = r.entity AND v.id = r.id AND v.stale = 0)",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (entity, id) in kept {
        if let (Some(kind), Ok(id)) = (EntityKind::parse(&entity), Uuid::parse_str(&id))
            && !pending.contains_key(&(kind, id))
        {
            forget_record(conn, kind, id, now).await?;
            dropped += 1;
        }
    }
    for (kind, id) in pending.keys() {
        sqlx::query("UPDATE sync_versions SET stale = 0 WHERE entity = ?1 AND id = ?2")
            .bind(kind.as_str())
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM sync_versions WHERE stale = 1")
        .execute(&mut *conn)
        .await?;
    // Profiles of people no longer in any of the user's teams (the user's own stays).
    sqlx::query(
        "DELETE FROM users WHERE id NOT IN (SELECT user_id FROM profile) AND id NOT IN \
         (SELECT id FROM sync_versions WHERE entity = 'user')",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE sync_state SET reconciling = 0 WHERE singleton = 1")
        .execute(&mut *conn)
        .await?;
    if dropped > 0 {
        tracing::info!(
            dropped,
            "reconcile: records the server no longer has for this user dropped"
        );
    }
    Ok(dropped)
}

/// The server applied a local write: the record is now the server's too, awaiting its echo
/// in a pull. Recorded with version 0 and its team, so a team purge, a reset or a change of
/// user finds it before the pull does.
pub(crate) async fn record_pushed(conn: &mut SqliteConnection, m: &Mutation) -> Result<()> {
    if m.entity == EntityKind::User {
        return Ok(());
    }
    let field = |f: &Fields, name: &str| f.get(name).and_then(Value::as_str).map(str::to_owned);
    let account = if m.entity == EntityKind::Account {
        Some(m.entity_id.to_string())
    } else {
        match local_fields(conn, m.entity, m.entity_id).await? {
            Some(f) => field(&f, "account_id"),
            None => None,
        }
        .or_else(|| field(&m.fields, "account_id"))
    };
    let team: Option<String> = sqlx::query_scalar(
        "SELECT coalesce(\
         (SELECT team_id FROM sync_versions WHERE entity = ?1 AND id = ?2), \
         (SELECT team_id FROM sync_versions WHERE entity = 'account' AND id = ?3), \
         ?4, (SELECT default_team_id FROM sync_state WHERE singleton = 1))",
    )
    .bind(m.entity.as_str())
    .bind(m.entity_id.to_string())
    .bind(account)
    .bind(field(&m.fields, "team_id"))
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO sync_versions (entity, id, team_id, version, deleted, stale) \
         VALUES (?1, ?2, ?3, 0, ?4, 0) ON CONFLICT (entity, id) DO UPDATE SET \
         team_id = coalesce(sync_versions.team_id, excluded.team_id), stale = 0",
    )
    .bind(m.entity.as_str())
    .bind(m.entity_id.to_string())
    .bind(team)
    .bind(m.op == MutationOp::Delete)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A record's current fields in the cache, by wire name (timestamps included): its row, or
/// what `sync_records` keeps of it (parked, or unreadable by this build); `None` when the
/// cache holds neither.
pub(crate) async fn local_fields(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
) -> Result<Option<Fields>> {
    if let Some(f) = on_kind(&mut *conn, kind, id, Op::Load).await? {
        return Ok(Some(f));
    }
    let kept: Option<String> = sqlx::query_scalar(
        "SELECT fields FROM sync_records WHERE entity = ?1 AND id = ?2 AND NOT deleted",
    )
    .bind(kind.as_str())
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(kept.and_then(|s| serde_json::from_str(&s).ok()))
}

/// Writes the parked records whose account is now in the cache.
pub(crate) async fn unpark(conn: &mut SqliteConnection, now: DateTime<Utc>) -> Result<()> {
    let rows: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT r.entity, r.id, r.team_id, r.fields FROM sync_records r \
         JOIN accounts a ON a.id = json_extract(r.fields, '$.account_id') WHERE r.parked = 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (entity, id, team, fields) in rows {
        let (Some(kind), Ok(id)) = (EntityKind::parse(&entity), Uuid::parse_str(&id)) else {
            continue;
        };
        let fields: Fields = serde_json::from_str(&fields).unwrap_or_default();
        let team = team.as_deref().and_then(|t| Uuid::parse_str(t).ok());
        sqlx::query("DELETE FROM sync_records WHERE entity = ?1 AND id = ?2")
            .bind(&entity)
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
        write_record(conn, kind, id, team, fields, now).await?;
    }
    Ok(())
}
