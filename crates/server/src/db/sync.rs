//! The synced records: applying one mutation, reading one page of changes, purging old
//! tombstones.

use chrono::{DateTime, Utc};
use rapport_domain::authz::{self, Denial};
use rapport_domain::sync::{
    self, Change, Cursor, EntityKind, Mutation, MutationOp, MutationResult, PullResponse,
    RejectCode, Rejection,
};
use rapport_domain::{Role, User};
use serde_json::{Map, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::identity::{self, UserRow};
use super::next_seqs;
use crate::events::{self, Event};

type Fields = Map<String, Value>;

#[derive(Debug, sqlx::FromRow)]
struct RecordRow {
    team_id: Uuid,
    account_id: Option<Uuid>,
    fields: sqlx::types::Json<Fields>,
    deleted: bool,
    version: i64,
}

/// Applies one mutation in its own transaction. Idempotent: a mutation id that was applied
/// before answers `applied` and changes nothing. A rejected mutation changes nothing.
pub async fn apply_mutation(
    pool: &PgPool,
    user_id: Uuid,
    role: Role,
    m: &Mutation,
    now: DateTime<Utc>,
) -> Result<MutationResult, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Claiming the id first makes a concurrent retry of the same mutation wait for this
    // transaction, then find the id taken (if this one commits) or free (if it rolls back).
    let claimed = sqlx::query(
        "INSERT INTO applied_mutations (id, user_id, entity, entity_id, applied_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(m.id)
    .bind(user_id)
    .bind(m.entity.as_str())
    .bind(m.entity_id)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if claimed == 0 {
        tx.rollback().await?;
        return Ok(MutationResult::applied(m.id));
    }
    let outcome = match m.entity {
        EntityKind::User => apply_profile(&mut tx, user_id, m, now).await?,
        _ => apply_record(&mut tx, user_id, role, m, now).await?,
    };
    match outcome {
        Ok(()) => {
            tx.commit().await?;
            Ok(MutationResult::applied(m.id))
        }
        Err(rejection) => {
            tx.rollback().await?;
            Ok(MutationResult::rejected(m.id, rejection))
        }
    }
}

fn denial(d: Denial) -> Rejection {
    match d {
        Denial::Role { role, action } => Rejection::new(
            RejectCode::ForbiddenRole,
            format!(
                "a {} may not {}",
                role.as_str(),
                action.as_str().replace('_', " ")
            ),
        ),
        Denial::Team => Rejection::new(
            RejectCode::ForbiddenTeam,
            "this record belongs to a team you are not in",
        ),
    }
}

fn uuid_field(set: &Fields, field: &str) -> Result<Option<Uuid>, Rejection> {
    match set.get(field) {
        None => Ok(None),
        Some(v) => serde_json::from_value::<Uuid>(v.clone())
            .map(Some)
            .map_err(|_| {
                Rejection::field(
                    RejectCode::InvalidField,
                    field,
                    format!("{field}: expected a UUID"),
                )
            }),
    }
}

async fn lock_record(
    conn: &mut PgConnection,
    entity: EntityKind,
    id: Uuid,
) -> Result<Option<RecordRow>, sqlx::Error> {
    // Serialises writers of one record, including two creates of the same new id.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2::text, 0))")
        .bind(entity.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query_as(
        "SELECT team_id, account_id, fields, deleted, version FROM records WHERE entity = $1 AND id = $2 FOR UPDATE",
    )
    .bind(entity.as_str())
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The live account `id` (locked against a concurrent delete), as (team_id).
async fn live_account(conn: &mut PgConnection, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    let row: Option<(Uuid,)> =
        sqlx::query_as("SELECT team_id FROM records WHERE entity = 'account' AND id = $1 AND NOT deleted FOR SHARE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|r| r.0))
}

async fn apply_record(
    conn: &mut PgConnection,
    user_id: Uuid,
    role: Role,
    m: &Mutation,
    now: DateTime<Utc>,
) -> Result<Result<(), Rejection>, sqlx::Error> {
    let teams = identity::team_ids_of(conn, user_id).await?;
    let current = lock_record(conn, m.entity, m.entity_id).await?;
    let mut set = m.fields.clone();

    // 1. Which team owns the record, and is the user in it?
    let (team_id, account_id) = match (&current, m.entity) {
        (Some(row), _) => (row.team_id, row.account_id),
        (None, _) if m.op == MutationOp::Delete => return Ok(Ok(())), // nothing to delete
        (None, EntityKind::Account) => {
            let team = match uuid_field(&set, "team_id") {
                Err(r) => return Ok(Err(r)),
                Ok(Some(t)) => t,
                Ok(None) => match teams.as_slice() {
                    [only] => *only,
                    [] => {
                        return Ok(Err(Rejection::new(
                            RejectCode::ForbiddenTeam,
                            "you are in no team yet: ask an admin",
                        )));
                    }
                    _ => {
                        return Ok(Err(Rejection::field(
                            RejectCode::MissingField,
                            "team_id",
                            "team_id: you are in several teams, so say which team the account belongs to",
                        )));
                    }
                },
            };
            set.insert("team_id".into(), Value::String(team.to_string()));
            (team, None)
        }
        (None, _) => {
            let account = match uuid_field(&set, "account_id") {
                Err(r) => return Ok(Err(r)),
                Ok(Some(a)) => a,
                Ok(None) => {
                    return Ok(Err(Rejection::field(
                        RejectCode::MissingField,
                        "account_id",
                        format!("account_id: required to create a {}", m.entity.as_str()),
                    )));
                }
            };
            let Some(team) = live_account(conn, account).await? else {
                return Ok(Err(Rejection::field(
                    RejectCode::NotFound,
                    "account_id",
                    format!("account_id: account {account} does not exist or was deleted"),
                )));
            };
            (team, Some(account))
        }
    };
    if !teams.contains(&team_id) {
        return Ok(Err(denial(Denial::Team)));
    }
    // 2. May the role do it?
    if let Err(d) = authz::check(role, authz::action_for(m.entity, m.op)) {
        return Ok(Err(denial(d)));
    }
    let live = current.as_ref().filter(|c| !c.deleted).map(|c| &c.fields.0);
    if let Some(action) = sync::extra_action(m.entity, live, &m.fields)
        && let Err(d) = authz::check(role, action)
    {
        return Ok(Err(denial(d)));
    }
    // 3. Version rule.
    if let Err(r) = sync::check_base_version(
        sync::versioned_fields(m.entity),
        &m.fields,
        m.base_version,
        current.as_ref().map(|c| c.version),
    ) {
        return Ok(Err(r));
    }

    match m.op {
        MutationOp::Delete => {
            let row = current.as_ref().filter(|r| !r.deleted);
            if row.is_none() {
                return Ok(Ok(())); // deleted already
            }
            // An account's contacts and notes go with it.
            let mut targets: Vec<(String, Uuid)> =
                vec![(m.entity.as_str().to_owned(), m.entity_id)];
            if m.entity == EntityKind::Account {
                let children: Vec<(String, Uuid)> = sqlx::query_as(
                    "SELECT entity, id FROM records WHERE account_id = $1 AND NOT deleted ORDER BY entity, id FOR UPDATE",
                )
                .bind(m.entity_id)
                .fetch_all(&mut *conn)
                .await?;
                targets.extend(children);
            }
            let n = i64::try_from(targets.len()).unwrap_or(i64::MAX);
            let first = next_seqs(conn, n).await?;
            let (ents, ids): (Vec<String>, Vec<Uuid>) = targets.into_iter().unzip();
            let seqs: Vec<i64> = (first..first + n).collect();
            sqlx::query(
                "UPDATE records r SET deleted = true, version = r.version + 1, seq = t.seq, updated_at = $4, updated_by = $5
                 FROM unnest($1::text[], $2::uuid[], $3::bigint[]) AS t(entity, id, seq)
                 WHERE r.entity = t.entity AND r.id = t.id",
            )
            .bind(&ents)
            .bind(&ids)
            .bind(&seqs)
            .bind(now)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        }
        MutationOp::Upsert => {
            if let Some(row) = &current
                && let Some(acc) = row.account_id
                && live_account(conn, acc).await?.is_none()
            {
                return Ok(Err(Rejection::field(
                    RejectCode::NotFound,
                    "account_id",
                    format!("account_id: account {acc} was deleted"),
                )));
            }
            if m.entity == EntityKind::Note && current.is_none() {
                match uuid_field(&set, "author_id") {
                    Err(r) => return Ok(Err(r)),
                    Ok(Some(a)) if a != user_id => {
                        return Ok(Err(Rejection::field(
                            RejectCode::InvalidField,
                            "author_id",
                            "author_id: a note's author is the user who writes it",
                        )));
                    }
                    Ok(_) => {
                        set.insert("author_id".into(), Value::String(user_id.to_string()));
                    }
                }
            }
            let merged =
                match sync::merge_fields(m.entity, current.as_ref().map(|c| &c.fields.0), &set) {
                    Ok(f) => f,
                    Err(r) => return Ok(Err(r)),
                };
            let seq = next_seqs(conn, 1).await?;
            sqlx::query(
                "INSERT INTO records (entity, id, team_id, account_id, fields, deleted, version, seq, created_at, updated_at, updated_by)
                 VALUES ($1, $2, $3, $4, $5, false, 1, $6, $7, $7, $8)
                 ON CONFLICT (entity, id) DO UPDATE SET fields = EXCLUDED.fields, deleted = false,
                   version = records.version + 1, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at,
                   updated_by = EXCLUDED.updated_by",
            )
            .bind(m.entity.as_str())
            .bind(m.entity_id)
            .bind(team_id)
            .bind(account_id)
            .bind(sqlx::types::Json(&merged))
            .bind(seq)
            .bind(now)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        }
    }
    events::notify(conn, Event::Team(team_id)).await?;
    Ok(Ok(()))
}

fn profile_fields(u: &User) -> Fields {
    match serde_json::to_value(u) {
        Ok(Value::Object(mut m)) => {
            m.remove("id");
            m
        }
        _ => Fields::new(),
    }
}

/// A user's edit of their own profile (name, time zone, working hours).
async fn apply_profile(
    conn: &mut PgConnection,
    user_id: Uuid,
    m: &Mutation,
    now: DateTime<Utc>,
) -> Result<Result<(), Rejection>, sqlx::Error> {
    if m.entity_id != user_id || m.op == MutationOp::Delete {
        return Ok(Err(Rejection::new(
            RejectCode::ForbiddenRecord,
            "you can edit only your own profile; an admin manages the others",
        )));
    }
    let row: Option<UserRow> = sqlx::query_as(
        "SELECT id, email, name, role, time_zone, working_hours, password_hash, disabled, version, seq, created_at, updated_at
         FROM users WHERE id = $1 FOR UPDATE",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Err(Rejection::new(
            RejectCode::NotFound,
            "your user no longer exists",
        )));
    };
    if let Err(r) = sync::check_base_version(
        sync::versioned_fields(EntityKind::User),
        &m.fields,
        m.base_version,
        Some(row.version),
    ) {
        return Ok(Err(r));
    }
    let current = profile_fields(&row.to_user());
    let merged = match sync::merge_fields(EntityKind::User, Some(&current), &m.fields) {
        Ok(f) => f,
        Err(r) => return Ok(Err(r)),
    };
    let mut with_id = merged;
    with_id.insert("id".into(), Value::String(user_id.to_string()));
    let user: User = match serde_json::from_value(Value::Object(with_id)) {
        Ok(u) => u,
        Err(e) => {
            return Ok(Err(Rejection::new(
                RejectCode::InvalidField,
                format!("the profile does not fit: {e}"),
            )));
        }
    };
    let seq = next_seqs(conn, 1).await?;
    sqlx::query(
        "UPDATE users SET name = $2, time_zone = $3, working_hours = $4, version = version + 1, seq = $5, updated_at = $6
         WHERE id = $1",
    )
    .bind(user_id)
    .bind(&user.name)
    .bind(&user.time_zone)
    .bind(sqlx::types::Json(&user.working_hours))
    .bind(seq)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    identity::notify_user_and_teams(conn, user_id).await?;
    Ok(Ok(()))
}

#[derive(Debug, sqlx::FromRow)]
struct ChangeRow {
    entity: String,
    id: Uuid,
    team_id: Uuid,
    deleted: bool,
    version: i64,
    fields: sqlx::types::Json<Fields>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    seq: i64,
    pos: i64,
}

fn change_of(r: ChangeRow) -> Option<Change> {
    Some(Change {
        entity: EntityKind::parse(&r.entity)?,
        entity_id: r.id,
        team_id: Some(r.team_id),
        deleted: r.deleted,
        version: r.version,
        fields: if r.deleted { Fields::new() } else { r.fields.0 },
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn user_change(u: &UserRow) -> Change {
    Change {
        entity: EntityKind::User,
        entity_id: u.id,
        team_id: None,
        deleted: false,
        version: u.version,
        fields: profile_fields(&u.to_user()),
        created_at: u.created_at,
        updated_at: u.updated_at,
    }
}

/// One page of the changes `user_id` may see after `cursor`, read in one snapshot.
pub async fn pull(
    pool: &PgPool,
    user_id: Uuid,
    cursor: Cursor,
    limit: u32,
) -> Result<PullResponse, sqlx::Error> {
    // One snapshot for the clock and every query below.
    let mut tx = pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let (last_seq, horizon): (i64, i64) =
        sqlx::query_as("SELECT last_seq, horizon_seq FROM sync_clock")
            .fetch_one(&mut *tx)
            .await?;
    let a = cursor.position;
    if cursor != Cursor::START && a < horizon {
        tx.commit().await?;
        return Ok(PullResponse {
            purge: vec![],
            changes: vec![],
            cursor: Cursor::START.to_string(),
            has_more: false,
            reset_required: true,
            total: None,
        });
    }
    let purge: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT DISTINCT team_id FROM team_removals WHERE user_id = $1 AND seq > $2 ORDER BY team_id",
    )
    .bind(user_id)
    .bind(a)
    .fetch_all(&mut *tx)
    .await?;

    // A record's position in this user's stream is the later of its last change and the
    // user's joining its team. Part 1: records changed after the cursor (index on team, seq);
    // part 2: the older records of teams joined at or after the cursor. Each part is cut to
    // the page size in its own order first, so a page reads a page of rows, not the log.
    let rows: Vec<ChangeRow> = sqlx::query_as(
        "SELECT * FROM (
           (SELECT r.entity, r.id, r.team_id, r.deleted, r.version, r.fields, r.created_at, r.updated_at,
                   r.seq, r.seq AS pos
            FROM team_members m JOIN records r ON r.team_id = m.team_id
            WHERE m.user_id = $1 AND r.seq > $2 AND r.seq > m.joined_seq AND NOT (r.deleted AND $2 = 0)
            ORDER BY r.seq LIMIT $4)
           UNION ALL
           (SELECT r.entity, r.id, r.team_id, r.deleted, r.version, r.fields, r.created_at, r.updated_at,
                   r.seq, m.joined_seq AS pos
            FROM team_members m JOIN records r ON r.team_id = m.team_id
            WHERE m.user_id = $1 AND m.joined_seq >= $2 AND r.seq < m.joined_seq AND NOT r.deleted
              AND (m.joined_seq > $2 OR r.seq > $3)
            ORDER BY m.joined_seq, r.seq LIMIT $4)
         ) page ORDER BY pos, seq LIMIT $4",
    )
    .bind(user_id)
    .bind(a)
    .bind(cursor.seq)
    .bind(i64::from(limit) + 1)
    .fetch_all(&mut *tx)
    .await?;

    // Profiles of the user and their team-mates that changed, or became visible, after the cursor.
    let users: Vec<UserRow> = sqlx::query_as(
        "SELECT u.id, u.email, u.name, u.role, u.time_zone, u.working_hours, u.password_hash, u.disabled,
                u.version, u.seq, u.created_at, u.updated_at
         FROM users u
         WHERE (u.id = $1 AND u.seq > $2)
            OR EXISTS (SELECT 1 FROM team_members mine JOIN team_members theirs ON theirs.team_id = mine.team_id
                       WHERE mine.user_id = $1 AND theirs.user_id = u.id
                         AND (u.seq > $2 OR mine.joined_seq > $2 OR theirs.joined_seq > $2))
         ORDER BY u.id",
    )
    .bind(user_id)
    .bind(a)
    .fetch_all(&mut *tx)
    .await?;
    // A pull from the start tells the client how much the whole sync brings (first-sync
    // progress): the live records of the user's teams, counted in the same snapshot.
    let total = if cursor == Cursor::START {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM team_members m JOIN records r ON r.team_id = m.team_id
             WHERE m.user_id = $1 AND NOT r.deleted",
        )
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        Some(u64::try_from(n).unwrap_or(0) + users.len() as u64)
    } else {
        None
    };
    tx.commit().await?;

    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_more = rows.len() > limit;
    let mut rows = rows;
    rows.truncate(limit);
    let next = if has_more {
        rows.last().map_or(cursor, |r| Cursor {
            position: r.pos,
            seq: r.seq,
        })
    } else {
        // Everything numbered up to `last_seq` is committed and was in this snapshot.
        cursor.max(Cursor {
            position: last_seq,
            seq: last_seq,
        })
    };
    let mut changes: Vec<Change> = users.iter().map(user_change).collect();
    changes.extend(rows.into_iter().filter_map(change_of));
    Ok(PullResponse {
        purge: purge.into_iter().map(|r| r.0).collect(),
        changes,
        cursor: next.to_string(),
        has_more,
        reset_required: false,
        total,
    })
}

/// Why one record cannot be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadDenied {
    NotFound,
    ForbiddenTeam,
}

/// One record, if it is in one of the user's teams.
pub async fn get_record(
    pool: &PgPool,
    user_id: Uuid,
    entity: EntityKind,
    id: Uuid,
) -> Result<Result<Change, ReadDenied>, sqlx::Error> {
    let row: Option<ChangeRow> = sqlx::query_as(
        "SELECT entity, id, team_id, deleted, version, fields, created_at, updated_at, seq, seq AS pos
         FROM records WHERE entity = $1 AND id = $2",
    )
    .bind(entity.as_str())
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(Err(ReadDenied::NotFound));
    };
    let member: Option<(i64,)> =
        sqlx::query_as("SELECT joined_seq FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(row.team_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    if member.is_none() {
        return Ok(Err(ReadDenied::ForbiddenTeam));
    }
    Ok(change_of(row).ok_or(ReadDenied::NotFound))
}

/// Deletes tombstones last changed before `older_than` and moves the retention horizon past
/// them: a client whose cursor is older is told to reset. Returns how many were purged.
pub async fn purge_tombstones(
    pool: &PgPool,
    older_than: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let purged: Vec<(i64,)> =
        sqlx::query_as("DELETE FROM records WHERE deleted AND updated_at < $1 RETURNING seq")
            .bind(older_than)
            .fetch_all(&mut *tx)
            .await?;
    if let Some(max) = purged.iter().map(|r| r.0).max() {
        sqlx::query("UPDATE sync_clock SET horizon_seq = greatest(horizon_seq, $1)")
            .bind(max)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM team_removals WHERE seq <= $1")
            .bind(max)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(purged.len() as u64)
}

/// Creates or changes one record on behalf of intake (the service itself, no user): the
/// fields are merged and checked by the entity's own rules as a mutation's are, the record
/// takes the next sequence number, and the team's desktops are told. `updated_by` is
/// [`rapport_domain::intake::INTAKE_ACTOR_ID`]. Runs in the caller's transaction, so what
/// intake records beside it (a mailbox's last UID, a conversation id) commits with it.
pub async fn write_intake_record(
    conn: &mut PgConnection,
    entity: EntityKind,
    id: Uuid,
    team_id: Uuid,
    account_id: Uuid,
    set: &Fields,
    now: DateTime<Utc>,
) -> Result<Result<(), Rejection>, sqlx::Error> {
    let current = lock_record(conn, entity, id).await?;
    if let Some(row) = &current
        && (row.team_id != team_id || row.account_id != Some(account_id))
    {
        return Ok(Err(Rejection::field(
            RejectCode::ImmutableField,
            "account_id",
            format!("the {} belongs to another account", entity.as_str()),
        )));
    }
    let mut set = set.clone();
    set.insert("account_id".into(), Value::String(account_id.to_string()));
    let merged = match sync::merge_fields(entity, current.as_ref().map(|c| &c.fields.0), &set) {
        Ok(f) => f,
        Err(r) => return Ok(Err(r)),
    };
    let seq = next_seqs(conn, 1).await?;
    sqlx::query(
        "INSERT INTO records (entity, id, team_id, account_id, fields, deleted, version, seq, created_at, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, false, 1, $6, $7, $7, $8)
         ON CONFLICT (entity, id) DO UPDATE SET fields = EXCLUDED.fields, deleted = false,
           version = records.version + 1, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at,
           updated_by = EXCLUDED.updated_by",
    )
    .bind(entity.as_str())
    .bind(id)
    .bind(team_id)
    .bind(account_id)
    .bind(sqlx::types::Json(&merged))
    .bind(seq)
    .bind(now)
    .bind(rapport_domain::intake::INTAKE_ACTOR_ID)
    .execute(&mut *conn)
    .await?;
    events::notify(conn, Event::Team(team_id)).await?;
    Ok(Ok(()))
}
