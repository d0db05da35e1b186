//! The local cache: opening it, the single write path, and the row codecs.
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
use rapport_domain::{Account, Contact, LifecycleStage, Note, Plan, Role, User, WorkingHours};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
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
        let rows = sqlx::query(
            "SELECT id, entity, entity_id, op, fields, base_version, client_time \
             FROM outbox ORDER BY seq",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(mutation_from_row).collect()
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
// The single write path.

/// One user write: the new state of the row, with the state it replaces where the write
/// edits one. [`record`] turns it into the row change plus exactly one outbox entry.
pub(crate) enum Write<'a> {
    Profile {
        old: Option<&'a User>,
        new: &'a User,
    },
    Account {
        old: Option<&'a Account>,
        new: &'a Account,
    },
    /// An account goes, with everything hanging off it (as the server cascades a delete).
    AccountDelete(&'a Account),
    /// Undo of a delete: the account comes back with all its fields (a create on the wire,
    /// which the server takes as re-creating the tombstone); what hung off it stays deleted.
    AccountRestore(&'a Account),
    Contact {
        old: Option<&'a Contact>,
        new: &'a Contact,
    },
    ContactDelete(&'a Contact),
    ContactRestore(&'a Contact),
    Note {
        old: Option<&'a Note>,
        new: &'a Note,
    },
    NoteDelete(&'a Note),
    NoteRestore(&'a Note),
    OnboardingSession {
        old: Option<&'a rapport_domain::onboarding::OnboardingSession>,
        new: &'a rapport_domain::onboarding::OnboardingSession,
    },
    Review {
        old: Option<&'a rapport_domain::review::Review>,
        new: &'a rapport_domain::review::Review,
    },
    Request {
        old: Option<&'a crate::requests::RequestRecord>,
        new: &'a crate::requests::RequestRecord,
    },
    RequestEvent(&'a crate::requests::EventRecord),
    Rca {
        old: Option<&'a crate::rca::RcaRecord>,
        new: &'a crate::rca::RcaRecord,
    },
}

/// THE write path. Inside the caller's transaction: writes the row, then appends one
/// outbox [`Mutation`] (a fresh UUIDv7, the fields this write set: all of them on a create
/// or a restore, the changed ones on an edit, none on a delete) and stamps the last write
/// time. Callers validate first, open the transaction, call this once and commit; an error
/// anywhere drops the transaction, so neither the row nor the outbox entry is kept.
pub(crate) async fn record(
    conn: &mut SqliteConnection,
    write: Write<'_>,
    now: DateTime<Utc>,
) -> Result<Mutation> {
    let (entity, entity_id, op, fields) = match write {
        Write::Profile { old, new } => {
            upsert_user(&mut *conn, new).await?;
            sqlx::query(
                "INSERT INTO profile (singleton, user_id) VALUES (1, ?1) \
                 ON CONFLICT (singleton) DO UPDATE SET user_id = excluded.user_id",
            )
            .bind(new.id.to_string())
            .execute(&mut *conn)
            .await?;
            (
                EntityKind::User,
                new.id,
                MutationOp::Upsert,
                fields_set(old, new),
            )
        }
        Write::Account { old, new } => {
            if old.is_some() {
                update_account(&mut *conn, new).await?;
            } else {
                insert_accounts(&mut *conn, &[new]).await?;
            }
            (
                EntityKind::Account,
                new.id,
                MutationOp::Upsert,
                fields_set(old, new),
            )
        }
        Write::AccountDelete(a) => {
            crate::sync::delete_record(&mut *conn, EntityKind::Account, a.id, now).await?;
            (EntityKind::Account, a.id, MutationOp::Delete, Map::new())
        }
        Write::AccountRestore(a) => {
            insert_accounts(&mut *conn, &[a]).await?;
            (
                EntityKind::Account,
                a.id,
                MutationOp::Upsert,
                fields_set(None, a),
            )
        }
        Write::Contact { old, new } => {
            if old.is_some() {
                update_contact(&mut *conn, new).await?;
            } else {
                insert_contacts(&mut *conn, &[new]).await?;
            }
            (
                EntityKind::Contact,
                new.id,
                MutationOp::Upsert,
                fields_set(old, new),
            )
        }
        Write::ContactDelete(c) => {
            set_deleted(&mut *conn, "contacts", c.id, Some(now)).await?;
            (EntityKind::Contact, c.id, MutationOp::Delete, Map::new())
        }
        Write::ContactRestore(c) => {
            set_deleted(&mut *conn, "contacts", c.id, None).await?;
            (
                EntityKind::Contact,
                c.id,
                MutationOp::Upsert,
                fields_set(None, c),
            )
        }
        Write::Note { old, new } => {
            if old.is_some() {
                update_note(&mut *conn, new).await?;
            } else {
                insert_notes(&mut *conn, &[new]).await?;
            }
            (
                EntityKind::Note,
                new.id,
                MutationOp::Upsert,
                fields_set(old, new),
            )
        }
        Write::NoteDelete(n) => {
            set_deleted(&mut *conn, "notes", n.id, Some(now)).await?;
            (EntityKind::Note, n.id, MutationOp::Delete, Map::new())
        }
        Write::NoteRestore(n) => {
            set_deleted(&mut *conn, "notes", n.id, None).await?;
            (
                EntityKind::Note,
                n.id,
                MutationOp::Upsert,
                fields_set(None, n),
            )
        }
        Write::OnboardingSession { old, new } => {
            crate::onboarding::upsert_session(&mut *conn, new).await?;
            // Onboarding done is a part of the account's health score.
            crate::health::refresh(&mut *conn, new.account_id, now).await?;
            (
                EntityKind::OnboardingSession,
                new.id,
                MutationOp::Upsert,
                fields_set(old, new),
            )
        }
        Write::Review { old, new } => {
            crate::reviews::upsert_row(&mut *conn, new, now).await?;
            (
                EntityKind::Review,
                new.id,
                MutationOp::Upsert,
                fields_set(old, new),
            )
        }
        Write::Request { old, new } => {
            crate::requests::write_request(&mut *conn, new).await?;
            (
                EntityKind::Request,
                new.id,
                MutationOp::Upsert,
                fields_set(old, new),
            )
        }
        Write::RequestEvent(e) => {
            crate::requests::write_event(&mut *conn, e).await?;
            // Open requests and SLA results are parts of the account's health score; the
            // event is what changes them (the request row is written before its events).
            crate::health::refresh(&mut *conn, e.account_id, now).await?;
            (
                EntityKind::RequestEvent,
                e.id,
                MutationOp::Upsert,
                fields_set(None, e),
            )
        }
        Write::Rca { old, new } => {
            crate::rca::write_rca(&mut *conn, new).await?;
            (
                EntityKind::Rca,
                new.id,
                MutationOp::Upsert,
                fields_set(old, new),
            )
        }
    };
    // The service's limits, checked before the write is queued: refused here by field
    // (rolling the row back with the transaction), not rejected later by the server.
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

/// The wire fields a write sets: every field but `id` when there is no previous state,
/// otherwise the fields whose value changed.
fn fields_set<T: Serialize>(old: Option<&T>, new: &T) -> Map<String, Value> {
    let mut new = to_object(new);
    new.remove("id");
    match old {
        None => new,
        Some(old) => {
            let old = to_object(old);
            new.into_iter()
                .filter(|(k, v)| old.get(k) != Some(v))
                .collect()
        }
    }
}

fn to_object<T: Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        // The entities are plain structs: they always serialise to an object.
        _ => Map::new(),
    }
}

/// Truncates to what the cache stores (microseconds), so a value read back equals the one
/// written.
pub(crate) fn stamp(now: DateTime<Utc>) -> DateTime<Utc> {
    now.trunc_subsecs(6)
}

// ---------------------------------------------------------------------------------------
// Row writers (used by `record` and by the demo loader).

/// Rows per INSERT statement when loading many (9-14 columns: far below SQLite's
/// 32,766 bound parameters).
pub(crate) const INSERT_BATCH: usize = 200;

pub(crate) async fn upsert_user(conn: &mut SqliteConnection, u: &User) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, name, email, role, time_zone, working_hours) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, \
         role = excluded.role, time_zone = excluded.time_zone, \
         working_hours = excluded.working_hours",
    )
    .bind(u.id.to_string())
    .bind(&u.name)
    .bind(&u.email)
    .bind(u.role.as_str())
    .bind(&u.time_zone)
    .bind(to_json(&u.working_hours))
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts accounts in one statement (the demo loader passes up to [`INSERT_BATCH`]).
pub(crate) async fn insert_accounts(conn: &mut SqliteConnection, rows: &[&Account]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO accounts (id, name, name_key, plan, time_zone, fiscal_year_start_month, \
         owner_csm_id, account_rep_id, slack_channel, support_email_domains, stage, tags, \
         created_at, updated_at) ",
    );
    q.push_values(rows, |mut b, a| {
        b.push_bind(a.id.to_string())
            .push_bind(a.name.clone())
            .push_bind(a.name.to_lowercase())
            .push_bind(a.plan.as_str())
            .push_bind(a.time_zone.clone())
            .push_bind(i64::from(a.fiscal_year_start_month))
            .push_bind(a.owner_csm_id.map(|u| u.to_string()))
            .push_bind(a.account_rep_id.map(|u| u.to_string()))
            .push_bind(a.slack_channel.clone())
            .push_bind(to_json(&a.support_email_domains))
            .push_bind(a.stage.as_str())
            .push_bind(to_json(&a.tags))
            .push_bind(fmt_time(a.created_at))
            .push_bind(fmt_time(a.updated_at));
    });
    q.build().execute(conn).await?;
    Ok(())
}

async fn update_account(conn: &mut SqliteConnection, a: &Account) -> Result<()> {
    sqlx::query(
        "UPDATE accounts SET name = ?2, name_key = ?3, plan = ?4, time_zone = ?5, \
         fiscal_year_start_month = ?6, owner_csm_id = ?7, account_rep_id = ?8, \
         slack_channel = ?9, support_email_domains = ?10, stage = ?11, tags = ?12, \
         updated_at = ?13 WHERE id = ?1",
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
    .bind(fmt_time(a.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts live contacts in one statement.
pub(crate) async fn insert_contacts(conn: &mut SqliteConnection, rows: &[&Contact]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO contacts (id, account_id, name, email, role, time_zone, created_at, \
         updated_at) ",
    );
    q.push_values(rows, |mut b, c| {
        b.push_bind(c.id.to_string())
            .push_bind(c.account_id.to_string())
            .push_bind(c.name.clone())
            .push_bind(c.email.clone())
            .push_bind(c.role.clone())
            .push_bind(c.time_zone.clone())
            .push_bind(fmt_time(c.created_at))
            .push_bind(fmt_time(c.updated_at));
    });
    q.build().execute(conn).await?;
    Ok(())
}

async fn update_contact(conn: &mut SqliteConnection, c: &Contact) -> Result<()> {
    sqlx::query(
        "UPDATE contacts SET name = ?2, email = ?3, role = ?4, time_zone = ?5, updated_at = ?6 \
         WHERE id = ?1",
    )
    .bind(c.id.to_string())
    .bind(&c.name)
    .bind(&c.email)
    .bind(&c.role)
    .bind(c.time_zone.as_deref())
    .bind(fmt_time(c.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts live notes in one statement.
pub(crate) async fn insert_notes(conn: &mut SqliteConnection, rows: &[&Note]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO notes (id, account_id, author_id, body, pinned, link, created_at, \
         updated_at) ",
    );
    q.push_values(rows, |mut b, n| {
        b.push_bind(n.id.to_string())
            .push_bind(n.account_id.to_string())
            .push_bind(n.author_id.to_string())
            .push_bind(n.body.clone())
            .push_bind(n.pinned)
            .push_bind(n.link.as_ref().map(to_json))
            .push_bind(fmt_time(n.created_at))
            .push_bind(fmt_time(n.updated_at));
    });
    q.build().execute(conn).await?;
    Ok(())
}

async fn update_note(conn: &mut SqliteConnection, n: &Note) -> Result<()> {
    sqlx::query(
        "UPDATE notes SET body = ?2, pinned = ?3, link = ?4, updated_at = ?5 WHERE id = ?1",
    )
    .bind(n.id.to_string())
    .bind(&n.body)
    .bind(n.pinned)
    .bind(n.link.as_ref().map(to_json))
    .bind(fmt_time(n.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

async fn set_deleted(
    conn: &mut SqliteConnection,
    table: &'static str,
    id: Uuid,
    deleted_at: Option<DateTime<Utc>>,
) -> Result<()> {
    let sql = match table {
        "contacts" => "UPDATE contacts SET deleted_at = ?2 WHERE id = ?1",
        _ => "UPDATE notes SET deleted_at = ?2 WHERE id = ?1",
    };
    sqlx::query(sql)
        .bind(id.to_string())
        .bind(deleted_at.map(fmt_time))
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Row readers.

pub(crate) const USER_COLUMNS: &str = "id, name, email, role, time_zone, working_hours";

pub(crate) fn user_from_row(row: &SqliteRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: uuid_col(row, "id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| bad_value("role", &role))?,
        time_zone: row.try_get("time_zone")?,
        working_hours: json_col::<WorkingHours>(row, "working_hours")?,
    })
}

pub(crate) const ACCOUNT_COLUMNS: &str = "a.id, a.name, a.plan, a.time_zone, \
    a.fiscal_year_start_month, a.owner_csm_id, a.account_rep_id, a.slack_channel, \
    a.support_email_domains, a.stage, a.tags, a.created_at, a.updated_at";

pub(crate) fn account_from_row(row: &SqliteRow) -> Result<Account> {
    let month: i64 = row.try_get("fiscal_year_start_month")?;
    Ok(Account {
        id: uuid_col(row, "id")?,
        name: row.try_get("name")?,
        plan: plan_col(row)?,
        time_zone: row.try_get("time_zone")?,
        fiscal_year_start_month: u8::try_from(month)
            .map_err(|_| bad_value("fiscal_year_start_month", &month.to_string()))?,
        owner_csm_id: opt_uuid_col(row, "owner_csm_id")?,
        account_rep_id: opt_uuid_col(row, "account_rep_id")?,
        slack_channel: row.try_get("slack_channel")?,
        support_email_domains: json_col(row, "support_email_domains")?,
        stage: stage_col(row)?,
        tags: json_col(row, "tags")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

pub(crate) const CONTACT_COLUMNS: &str =
    "c.id, c.account_id, c.name, c.email, c.role, c.time_zone, c.created_at, c.updated_at";

pub(crate) fn contact_from_row(row: &SqliteRow) -> Result<Contact> {
    Ok(Contact {
        id: uuid_col(row, "id")?,
        account_id: uuid_col(row, "account_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        role: row.try_get("role")?,
        time_zone: row.try_get("time_zone")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

pub(crate) const NOTE_COLUMNS: &str =
    "n.id, n.account_id, n.author_id, n.body, n.pinned, n.link, n.created_at, n.updated_at";

pub(crate) fn note_from_row(row: &SqliteRow) -> Result<Note> {
    let link: Option<String> = row.try_get("link")?;
    Ok(Note {
        id: uuid_col(row, "id")?,
        account_id: uuid_col(row, "account_id")?,
        author_id: uuid_col(row, "author_id")?,
        body: row.try_get("body")?,
        pinned: row.try_get("pinned")?,
        link: link
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| decode("link", e))?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

fn mutation_from_row(row: &SqliteRow) -> Result<Mutation> {
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

fn parse_uuid(col: &str, s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| decode(col, e))
}

pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| decode("timestamp", e))
}

/// Fixed-width RFC 3339 UTC with microseconds, so stored times sort as text.
pub(crate) fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    // Vec<String>, WorkingHours and NoteLink always serialise.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn decode(col: &str, e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Database(sqlx::Error::ColumnDecode {
        index: col.to_owned(),
        source: Box::new(e),
    })
}

fn bad_value(col: &str, value: &str) -> StoreError {
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
