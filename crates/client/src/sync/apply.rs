//! Writing what the server says into the cache: one pull page in one transaction (with the
//! new cursor), tombstones, team purges, a reset, and the overlay that keeps local writes
//! not yet acknowledged visible on top of older server state.
//!
//! Dispatch is one match arm per [`EntityKind`]. Accounts, contacts, notes and users are
//! written to their own tables here; onboarding sessions, reviews, requests, request events
//! and RCAs through their modules' `upsert_*from_wire` / `delete_*from_wire`. A record
//! whose account has not arrived yet is parked in `sync_records` until it does, and one
//! this build cannot read (a newer server's value) is kept there whole: nothing pulled is
//! lost.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rapport_domain::sync::{Change, EntityKind, Fields, Mutation, MutationOp, PullResponse};
use rapport_domain::{Account, Contact, Note, User};
use serde_json::Value;
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::store::{fmt_time, to_json, upsert_user};

/// Pending outbox mutations per record, oldest first.
pub(crate) type Pending = HashMap<(EntityKind, Uuid), Vec<Mutation>>;

pub(crate) async fn pending(conn: &mut SqliteConnection) -> Result<Pending> {
    let rows = sqlx::query(
        "SELECT id, entity, entity_id, op, fields, base_version, client_time \
         FROM outbox ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Pending = HashMap::new();
    for row in &rows {
        let m = mutation_from_row(row)?;
        out.entry((m.entity, m.entity_id)).or_default().push(m);
    }
    Ok(out)
}

pub(crate) fn mutation_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Mutation> {
    use crate::store::{json_col, time_col, uuid_col};
    let entity: String = row.try_get("entity")?;
    let op: String = row.try_get("op")?;
    let bad = |what: &str, v: &str| {
        StoreError::invalid(what, format!("unexpected value {v:?} in the outbox"))
    };
    Ok(Mutation {
        id: uuid_col(row, "id")?,
        entity: EntityKind::parse(&entity).ok_or_else(|| bad("entity", &entity))?,
        entity_id: uuid_col(row, "entity_id")?,
        op: MutationOp::parse(&op).ok_or_else(|| bad("op", &op))?,
        fields: json_col(row, "fields")?,
        base_version: row.try_get("base_version")?,
        client_time: time_col(row, "client_time")?,
    })
}

/// Applies one pull page: purges, then each change with the pending overlay, then the
/// parked children whose account arrived, then the cursor. The caller's transaction makes
/// it all or nothing. Returns the number of records received.
///
/// `from_start`: the page answers a pull from the start (the first sync, or after a reset or
/// a sign-out that kept rows): it opens a reconcile, and the last page of that pull closes
/// it by dropping every record the pull did not bring (see [`sweep`]).
pub(crate) async fn apply_page(
    conn: &mut SqliteConnection,
    page: &PullResponse,
    from_start: bool,
    now: DateTime<Utc>,
) -> Result<u64> {
    if from_start {
        begin_reconcile(conn).await?;
    }
    for team in &page.purge {
        purge_team(conn, *team).await?;
    }
    let pending = pending(conn).await?;
    for change in &page.changes {
        let p = pending.get(&(change.entity, change.entity_id));
        apply_change(conn, change, p.map(Vec::as_slice), now).await?;
    }
    unpark(conn).await?;
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
            sweep(conn).await?;
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
        let mut f = change.fields.clone();
        f.insert(
            "created_at".into(),
            Value::String(fmt_time(change.created_at)),
        );
        f.insert(
            "updated_at".into(),
            Value::String(fmt_time(change.updated_at)),
        );
        Some(f)
    };
    if let Some(pending) = pending.filter(|p| !p.is_empty()) {
        if deleted {
            // The server deleted it, but a local write waits: what the user sees stays the
            // base (the server will re-create the record from it when the write arrives).
            fields = local_fields(conn, kind, id).await?;
        }
        for m in pending {
            match m.op {
                MutationOp::Upsert => {
                    fields
                        .get_or_insert_with(Fields::new)
                        .extend(m.fields.clone());
                    deleted = false;
                }
                MutationOp::Delete => deleted = true,
            }
        }
    }
    sqlx::query(
        "INSERT INTO sync_versions (entity, id, team_id, version, deleted, stale) \
         VALUES (?1, ?2, ?3, ?4, ?5, 0) ON CONFLICT (entity, id) DO UPDATE SET \
         team_id = excluded.team_id, version = excluded.version, deleted = excluded.deleted, \
         stale = 0",
    )
    .bind(kind.as_str())
    .bind(id.to_string())
    .bind(change.team_id.map(|t| t.to_string()))
    .bind(change.version)
    .bind(change.deleted)
    .execute(&mut *conn)
    .await?;
    match (deleted, fields) {
        (true, _) => delete_record(conn, kind, id, change.updated_at.max(now)).await,
        (false, Some(f)) => write_record(conn, kind, id, change.team_id, f).await,
        (false, None) => Ok(()),
    }
}

/// Writes a record's full state (wire fields, timestamps included) to its table.
pub(crate) async fn write_record(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    team_id: Option<Uuid>,
    fields: Fields,
) -> Result<()> {
    let written = match kind {
        EntityKind::Account => upsert_account(conn, id, &fields).await,
        EntityKind::Contact => upsert_child(conn, kind, id, team_id, &fields).await,
        EntityKind::Note => upsert_child(conn, kind, id, team_id, &fields).await,
        EntityKind::User => upsert_user_wire(conn, id, &fields).await,
        EntityKind::OnboardingSession
        | EntityKind::Review
        | EntityKind::Request
        | EntityKind::RequestEvent
        | EntityKind::Rca => upsert_account_record(conn, kind, id, team_id, &fields).await,
    };
    match written {
        Err(StoreError::Validation(e)) => {
            // A state this build cannot read (a newer server's value): keep it whole in
            // the generic store rather than stop syncing or lose it.
            tracing::warn!(entity = kind.as_str(), %id, error = %e, "pulled record kept unread");
            keep_generic(conn, kind, id, team_id, &fields).await
        }
        other => other,
    }
}

/// Deletes a record: contacts and notes are soft-deleted (as a local delete does),
/// an account goes with its contacts and notes, users are never deleted.
pub(crate) async fn delete_record(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("DELETE FROM sync_records WHERE entity = ?1 AND id = ?2 AND parked = 1")
        .bind(kind.as_str())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    match kind {
        EntityKind::Account => remove_account(conn, id).await?,
        EntityKind::Contact => {
            sqlx::query("UPDATE contacts SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL")
                .bind(id.to_string())
                .bind(fmt_time(at))
                .execute(&mut *conn)
                .await?;
        }
        EntityKind::Note => {
            sqlx::query("UPDATE notes SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL")
                .bind(id.to_string())
                .bind(fmt_time(at))
                .execute(&mut *conn)
                .await?;
        }
        EntityKind::User => {}
        EntityKind::OnboardingSession
        | EntityKind::Review
        | EntityKind::Request
        | EntityKind::RequestEvent
        | EntityKind::Rca => {
            delete_account_record(conn, kind, id).await?;
            sqlx::query("DELETE FROM sync_records WHERE entity = ?1 AND id = ?2")
                .bind(kind.as_str())
                .bind(id.to_string())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Removes a record from the cache entirely (a team purge, a reset, a create the server
/// refused): hard deletes, no tombstone kept.
pub(crate) async fn forget_record(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
) -> Result<()> {
    let sid = id.to_string();
    match kind {
        EntityKind::Account => remove_account(conn, id).await?,
        EntityKind::Contact => {
            sqlx::query("DELETE FROM contacts WHERE id = ?1")
                .bind(&sid)
                .execute(&mut *conn)
                .await?;
        }
        EntityKind::Note => {
            sqlx::query("DELETE FROM notes WHERE id = ?1")
                .bind(&sid)
                .execute(&mut *conn)
                .await?;
        }
        // Profiles stay: they are referenced by accounts and notes.
        EntityKind::User => {}
        EntityKind::OnboardingSession
        | EntityKind::Review
        | EntityKind::Request
        | EntityKind::RequestEvent
        | EntityKind::Rca => delete_account_record(conn, kind, id).await?,
    }
    sqlx::query("DELETE FROM sync_records WHERE entity = ?1 AND id = ?2")
        .bind(kind.as_str())
        .bind(&sid)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM sync_versions WHERE entity = ?1 AND id = ?2")
        .bind(kind.as_str())
        .bind(&sid)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The user left a team: every record of it leaves the cache.
async fn purge_team(conn: &mut SqliteConnection, team: Uuid) -> Result<()> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT entity, id FROM sync_versions WHERE team_id = ?1")
            .bind(team.to_string())
            .fetch_all(&mut *conn)
            .await?;
    for (entity, id) in rows {
        if let (Some(kind), Ok(id)) = (EntityKind::parse(&entity), Uuid::parse_str(&id)) {
            forget_record(conn, kind, id).await?;
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
pub(crate) async fn wipe(conn: &mut SqliteConnection) -> Result<()> {
    begin_reconcile(conn).await?;
    sweep(conn).await?;
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

/// The synced tables, children before their accounts, with the kind each holds.
const SYNCED_TABLES: &[(EntityKind, &str)] = &[
    (EntityKind::Contact, "contacts"),
    (EntityKind::Note, "notes"),
    (EntityKind::OnboardingSession, "onboarding_sessions"),
    (EntityKind::Review, "reviews"),
    (EntityKind::RequestEvent, "request_events"),
    (EntityKind::Rca, "rcas"),
    (EntityKind::Request, "requests"),
    (EntityKind::Account, "accounts"),
];

/// Closes a reconcile (full reconcile by id sets): the pull from the start brought every
/// record the server lets this user see, so every row it did not confirm goes, whatever its
/// origin (pulled at a version, pushed and awaiting its echo, or on no list at all), unless a
/// pending write still needs it (the record itself, or the account a pending record hangs
/// off). Returns how many records were dropped.
pub(crate) async fn sweep(conn: &mut SqliteConnection) -> Result<u64> {
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
            forget_record(conn, *kind, id).await?;
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
            forget_record(conn, kind, id).await?;
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

/// A record's current fields in the cache, by wire name (timestamps included); `None` when
/// the cache does not hold it.
pub(crate) async fn local_fields(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
) -> Result<Option<Fields>> {
    use crate::store::{
        ACCOUNT_COLUMNS, CONTACT_COLUMNS, NOTE_COLUMNS, USER_COLUMNS, account_from_row,
        contact_from_row, note_from_row, user_from_row,
    };
    let sid = id.to_string();
    let obj = match kind {
        EntityKind::Account => {
            let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = ?1");
            row_fields(conn, sql, &sid, account_from_row).await?
        }
        EntityKind::Contact => {
            let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = ?1");
            row_fields(conn, sql, &sid, contact_from_row).await?
        }
        EntityKind::Note => {
            let sql = format!("SELECT {NOTE_COLUMNS} FROM notes n WHERE n.id = ?1");
            row_fields(conn, sql, &sid, note_from_row).await?
        }
        EntityKind::User => {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
            row_fields(conn, sql, &sid, user_from_row).await?
        }
        EntityKind::OnboardingSession => crate::onboarding::session_by_id(conn, id)
            .await
            .map(|r| Some(to_fields(&r)))
            .or_else(not_found_is_none)?,
        EntityKind::Review => crate::reviews::review_by_id(conn, id)
            .await?
            .map(|r| to_fields(&r)),
        EntityKind::Request => crate::requests::request_by_id(conn, id)
            .await
            .map(|r| Some(to_fields(&r)))
            .or_else(not_found_is_none)?,
        EntityKind::Rca => crate::rca::rca_by_id(conn, id)
            .await
            .map(|r| Some(to_fields(&r)))
            .or_else(not_found_is_none)?,
        // Timeline entries are written once and never edited: the pulled copy is the one.
        EntityKind::RequestEvent => {
            let row = sqlx::query(
                "SELECT fields FROM sync_records WHERE entity = ?1 AND id = ?2 AND NOT deleted",
            )
            .bind(kind.as_str())
            .bind(&sid)
            .fetch_optional(&mut *conn)
            .await?;
            match row {
                Some(r) => {
                    let s: String = r.try_get("fields")?;
                    serde_json::from_str(&s).ok()
                }
                None => None,
            }
        }
    };
    Ok(obj)
}

pub(crate) fn to_fields<T: serde::Serialize>(v: &T) -> Fields {
    match serde_json::to_value(v) {
        Ok(Value::Object(mut m)) => {
            m.remove("id");
            m
        }
        _ => Fields::new(),
    }
}

fn decode<T: serde::de::DeserializeOwned>(
    kind: EntityKind,
    id: Uuid,
    fields: &Fields,
) -> Result<T> {
    let mut obj = fields.clone();
    obj.insert("id".into(), Value::String(id.to_string()));
    serde_json::from_value(Value::Object(obj)).map_err(|e| {
        StoreError::invalid(
            kind.as_str(),
            format!("a pulled {} could not be read: {e}", kind.as_str()),
        )
    })
}

async fn upsert_account(conn: &mut SqliteConnection, id: Uuid, fields: &Fields) -> Result<()> {
    let a: Account = decode(EntityKind::Account, id, fields)?;
    sqlx::query(
        "INSERT INTO accounts (id, name, name_key, plan, time_zone, fiscal_year_start_month, \
         owner_csm_id, account_rep_id, slack_channel, support_email_domains, stage, tags, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key, \
         plan = excluded.plan, time_zone = excluded.time_zone, \
         fiscal_year_start_month = excluded.fiscal_year_start_month, \
         owner_csm_id = excluded.owner_csm_id, account_rep_id = excluded.account_rep_id, \
         slack_channel = excluded.slack_channel, \
         support_email_domains = excluded.support_email_domains, stage = excluded.stage, \
         tags = excluded.tags, created_at = excluded.created_at, updated_at = excluded.updated_at",
    )
    .bind(a.id.to_string())
    .bind(&a.name)
    .bind(a.name.to_lowercase())
    .bind(a.plan.as_str())
    .bind(&a.time_zone)
    .bind(i64::from(a.fiscal_year_start_month))
    .bind(a.owner_csm_id.map(|u| u.to_string()))
    .bind(a.account_rep_id.map(|u| u.to_string()))
    .bind(a.slack_channel.as_deref())
    .bind(to_json(&a.support_email_domains))
    .bind(a.stage.as_str())
    .bind(to_json(&a.tags))
    .bind(fmt_time(a.created_at))
    .bind(fmt_time(a.updated_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A contact or a note: written to its table when its account is in the cache, parked in
/// `sync_records` until then (pages follow the server's order, in which an account edited
/// after its notes comes after them).
async fn upsert_child(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    team_id: Option<Uuid>,
    fields: &Fields,
) -> Result<()> {
    let account = fields
        .get("account_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let has_account: Option<i64> = sqlx::query_scalar("SELECT 1 FROM accounts WHERE id = ?1")
        .bind(&account)
        .fetch_optional(&mut *conn)
        .await?;
    if has_account.is_none() {
        return park(conn, kind, id, team_id, fields).await;
    }
    if kind == EntityKind::Contact {
        let c: Contact = decode(kind, id, fields)?;
        sqlx::query(
            "INSERT INTO contacts (id, account_id, name, email, role, time_zone, created_at, \
             updated_at, deleted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, \
             role = excluded.role, time_zone = excluded.time_zone, \
             created_at = excluded.created_at, updated_at = excluded.updated_at, deleted_at = NULL",
        )
        .bind(c.id.to_string())
        .bind(c.account_id.to_string())
        .bind(&c.name)
        .bind(&c.email)
        .bind(&c.role)
        .bind(c.time_zone.as_deref())
        .bind(fmt_time(c.created_at))
        .bind(fmt_time(c.updated_at))
        .execute(&mut *conn)
        .await?;
    } else {
        let n: Note = decode(kind, id, fields)?;
        sqlx::query(
            "INSERT INTO notes (id, account_id, author_id, body, pinned, link, created_at, \
             updated_at, deleted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, pinned = excluded.pinned, \
             link = excluded.link, created_at = excluded.created_at, \
             updated_at = excluded.updated_at, deleted_at = NULL",
        )
        .bind(n.id.to_string())
        .bind(n.account_id.to_string())
        .bind(n.author_id.to_string())
        .bind(&n.body)
        .bind(n.pinned)
        .bind(n.link.as_ref().map(to_json))
        .bind(fmt_time(n.created_at))
        .bind(fmt_time(n.updated_at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn upsert_user_wire(conn: &mut SqliteConnection, id: Uuid, fields: &Fields) -> Result<()> {
    let u: User = decode(EntityKind::User, id, fields)?;
    upsert_user(conn, &u).await
}

async fn keep_generic(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    team_id: Option<Uuid>,
    fields: &Fields,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sync_records (entity, id, team_id, fields, deleted, parked) \
         VALUES (?1, ?2, ?3, ?4, 0, 0) ON CONFLICT (entity, id) DO UPDATE SET \
         team_id = excluded.team_id, fields = excluded.fields, deleted = 0, parked = 0",
    )
    .bind(kind.as_str())
    .bind(id.to_string())
    .bind(team_id.map(|t| t.to_string()))
    .bind(Value::Object(fields.clone()).to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The wire fields of the row `sql` finds for `id` (bound as `?1`), decoded by `decode`.
async fn row_fields<T: serde::Serialize>(
    conn: &mut SqliteConnection,
    sql: String,
    id: &str,
    decode: fn(&sqlx::sqlite::SqliteRow) -> Result<T>,
) -> Result<Option<Fields>> {
    match sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    {
        Some(r) => Ok(Some(to_fields(&decode(&r)?))),
        None => Ok(None),
    }
}

/// A missing record read as "not in the cache".
fn not_found_is_none(e: StoreError) -> Result<Option<Fields>> {
    match e {
        StoreError::NotFound { .. } => Ok(None),
        other => Err(other),
    }
}

/// Removes an account with everything that hangs off it (its contacts and notes, its
/// onboarding sessions, reviews, health history, requests with their timelines, alerts and
/// RCAs), so no row is left pointing at it.
async fn remove_account(conn: &mut SqliteConnection, id: Uuid) -> Result<()> {
    for sql in [
        "DELETE FROM contacts WHERE account_id = ?1",
        "DELETE FROM notes WHERE account_id = ?1",
        "DELETE FROM onboarding_reminders WHERE session_id IN \
         (SELECT id FROM onboarding_sessions WHERE account_id = ?1)",
        "DELETE FROM onboarding_sessions WHERE account_id = ?1",
        "DELETE FROM reviews WHERE account_id = ?1",
        "DELETE FROM health_snapshots WHERE account_id = ?1",
        "DELETE FROM health_latest WHERE account_id = ?1",
        "DELETE FROM request_alerts WHERE request_id IN \
         (SELECT id FROM requests WHERE account_id = ?1)",
        "DELETE FROM request_events WHERE account_id = ?1",
        "DELETE FROM rcas WHERE account_id = ?1",
        "DELETE FROM requests WHERE account_id = ?1",
        "DELETE FROM accounts WHERE id = ?1",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Writes a pulled record of a kind that hangs off an account through its module, or
/// parks it until its account arrives.
async fn upsert_account_record(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    team_id: Option<Uuid>,
    fields: &Fields,
) -> Result<()> {
    let account = fields
        .get("account_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let has_account: Option<i64> = sqlx::query_scalar("SELECT 1 FROM accounts WHERE id = ?1")
        .bind(&account)
        .fetch_optional(&mut *conn)
        .await?;
    if has_account.is_none() {
        return park(conn, kind, id, team_id, fields).await;
    }
    match kind {
        EntityKind::OnboardingSession => {
            crate::onboarding::upsert_from_wire(conn, id, fields).await
        }
        EntityKind::Review => crate::reviews::upsert_from_wire(conn, id, fields).await,
        EntityKind::Request => crate::requests::upsert_request_from_wire(conn, id, fields).await,
        EntityKind::RequestEvent => crate::requests::upsert_event_from_wire(conn, id, fields).await,
        EntityKind::Rca => crate::rca::upsert_rca_from_wire(conn, id, fields).await,
        EntityKind::Account | EntityKind::Contact | EntityKind::Note | EntityKind::User => {
            keep_generic(conn, kind, id, team_id, fields).await
        }
    }
}

/// Removes a record of a kind that hangs off an account, through its module.
async fn delete_account_record(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
) -> Result<()> {
    match kind {
        EntityKind::OnboardingSession => crate::onboarding::delete_from_wire(conn, id).await,
        EntityKind::Review => crate::reviews::delete_from_wire(conn, id).await,
        EntityKind::Request => crate::requests::delete_request_from_wire(conn, id).await,
        EntityKind::RequestEvent => crate::requests::delete_event_from_wire(conn, id).await,
        EntityKind::Rca => crate::rca::delete_rca_from_wire(conn, id).await,
        EntityKind::Account | EntityKind::Contact | EntityKind::Note | EntityKind::User => Ok(()),
    }
}

/// Keeps a record whose account is not in the cache yet; [`unpark`] writes it once it is.
async fn park(
    conn: &mut SqliteConnection,
    kind: EntityKind,
    id: Uuid,
    team_id: Option<Uuid>,
    fields: &Fields,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sync_records (entity, id, team_id, fields, deleted, parked) \
         VALUES (?1, ?2, ?3, ?4, 0, 1) ON CONFLICT (entity, id) DO UPDATE SET \
         team_id = excluded.team_id, fields = excluded.fields, deleted = 0, parked = 1",
    )
    .bind(kind.as_str())
    .bind(id.to_string())
    .bind(team_id.map(|t| t.to_string()))
    .bind(Value::Object(fields.clone()).to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes the parked records whose account is now in the cache.
pub(crate) async fn unpark(conn: &mut SqliteConnection) -> Result<()> {
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
        write_record(conn, kind, id, team, fields).await?;
    }
    Ok(())
}
