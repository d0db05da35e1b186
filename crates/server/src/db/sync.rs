//! The synced records: applying one mutation, reading one page of changes, purging old
//! tombstones.

use chrono::{DateTime, Utc};
use rapport_domain::Role;
use rapport_domain::rules;
use rapport_domain::sync::{
    Change, Cursor, EntityKind, Mutation, MutationResult, PullResponse, RejectCode, Rejection,
};
use rapport_domain::write_plan::{self, ProfilePlan, Read, StoredRecord, WritePlan};
use serde_json::{Map, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::identity;
use super::next_seqs;
use crate::events::{self, Event};

type Fields = Map<String, Value>;

#[derive(Debug)]
struct RecordRow {
    team_id: Uuid,
    account_id: Option<Uuid>,
    fields: sqlx::types::Json<Fields>,
    deleted: bool,
    version: i64,
}

impl RecordRow {
    fn stored(&self) -> StoredRecord<'_> {
        StoredRecord {
            team_id: self.team_id,
            account_id: self.account_id,
            fields: &self.fields.0,
            deleted: self.deleted,
            version: self.version,
        }
    }
}

/// Applies one group of a push ([`rapport_domain::sync::write_groups`]): refused as a whole
/// when a value in it is over its size limit (before anything reads it), else a single
/// mutation in its own transaction ([`apply_mutation`]) or the group in one
/// ([`apply_together`]). One result per mutation, in order; refusals are logged.
pub async fn apply_group(
    pool: &PgPool,
    user_id: Uuid,
    role: Role,
    ms: &[Mutation],
    now: DateTime<Utc>,
) -> Result<Vec<MutationResult>, sqlx::Error> {
    let results = match (write_plan::refuse_oversized(ms), ms) {
        (Some(refused), _) => refused,
        (None, [m]) => vec![apply_mutation(pool, user_id, role, m, now).await?],
        (None, _) => {
            let mut tx = pool.begin().await?;
            let results = apply_together(&mut tx, user_id, role, ms, now).await?;
            tx.commit().await?;
            results
        }
    };
    for (m, r) in ms.iter().zip(&results) {
        if let Some(code) = r.code {
            tracing::info!(mutation = %m.id, code = code.as_str(), "mutation rejected");
        }
    }
    Ok(results)
}

/// Applies one mutation in its own transaction. Idempotent: a mutation id that was applied
/// before answers `applied` and changes nothing. A rejected mutation changes nothing, and
/// its refusal is final: the id is remembered with its reason, so a late copy of the same
/// mutation gets the same refusal and never applies.
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
    if !claim(&mut tx, user_id, m, now).await? {
        tx.rollback().await?;
        return Ok(MutationResult::applied(m.id));
    }
    // The claim waited for any concurrent copy; one that was refused is refused again.
    if let Some(rejection) = refusal_of(&mut tx, m.id).await? {
        tx.rollback().await?;
        return Ok(MutationResult::rejected(m.id, rejection));
    }
    sqlx::query("SAVEPOINT mutation").execute(&mut *tx).await?;
    match apply_one(&mut tx, user_id, role, m, now).await? {
        Ok(()) => {
            tx.commit().await?;
            Ok(MutationResult::applied(m.id))
        }
        Err(rejection) => {
            // Undo the mutation's effects and its claim, and remember the refusal by id in
            // the same commit, so a copy waiting on the claim finds it.
            sqlx::query("ROLLBACK TO SAVEPOINT mutation")
                .execute(&mut *tx)
                .await?;
            remember_refusal(&mut tx, user_id, m, &rejection, now).await?;
            tx.commit().await?;
            Ok(MutationResult::rejected(m.id, rejection))
        }
    }
}

/// Applies mutations that belong together (a request and the timeline entries written
/// with it, [`rapport_domain::sync::write_groups`]) in ONE transaction, the caller's: all
/// apply, or none
/// does and each is refused (the first refusal for the mutation it names, the others as
/// refused with it), every refusal remembered by id as [`apply_mutation`] does. So the
/// server never holds a request without the opening events written with it, whatever
/// answer is lost or process killed.
async fn apply_together(
    conn: &mut PgConnection,
    user_id: Uuid,
    role: Role,
    ms: &[Mutation],
    now: DateTime<Utc>,
) -> Result<Vec<MutationResult>, sqlx::Error> {
    // All the claims first, in order (a concurrent copy of the group waits on the first).
    let mut fresh = Vec::with_capacity(ms.len());
    for m in ms {
        fresh.push(claim(conn, user_id, m, now).await?);
    }
    sqlx::query("SAVEPOINT together")
        .execute(&mut *conn)
        .await?;
    let mut refused: Option<(usize, Rejection)> = None;
    for (i, m) in ms.iter().enumerate() {
        if !fresh[i] {
            continue; // applied before: answers `applied`, changes nothing
        }
        if let Some(r) = refusal_of(conn, m.id).await? {
            refused = Some((i, r));
            break;
        }
        if let Err(r) = apply_one(conn, user_id, role, m, now).await? {
            refused = Some((i, r));
            break;
        }
    }
    let Some((bad, why)) = refused else {
        return Ok(ms.iter().map(|m| MutationResult::applied(m.id)).collect());
    };
    sqlx::query("ROLLBACK TO SAVEPOINT together")
        .execute(&mut *conn)
        .await?;
    let mut results = Vec::with_capacity(ms.len());
    for (i, m) in ms.iter().enumerate() {
        if !fresh[i] {
            results.push(MutationResult::applied(m.id));
            continue;
        }
        let r = if i == bad {
            why.clone()
        } else {
            write_plan::refused_with(&ms[bad], &why)
        };
        remember_refusal(conn, user_id, m, &r, now).await?;
        results.push(MutationResult::rejected(m.id, r));
    }
    Ok(results)
}

/// Claims a mutation id in `applied_mutations`; false when it was taken (applied before).
async fn claim(
    conn: &mut PgConnection,
    user_id: Uuid,
    m: &Mutation,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query!(
        "INSERT INTO applied_mutations (id, user_id, entity, entity_id, applied_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        m.id,
        user_id,
        m.entity.as_str(),
        m.entity_id,
        now
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(claimed > 0)
}

async fn lock_record(
    conn: &mut PgConnection,
    entity: EntityKind,
    id: Uuid,
) -> Result<Option<RecordRow>, sqlx::Error> {
    // Serialises writers of one record, including two creates of the same new id.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended($1::text || ':' || $2::uuid::text, 0))",
        entity.as_str(),
        id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_as!(
        RecordRow,
        r#"SELECT team_id, account_id, fields AS "fields: sqlx::types::Json<Fields>", deleted, version
           FROM records WHERE entity = $1 AND id = $2 FOR UPDATE"#,
        entity.as_str(),
        id
    )
    .fetch_optional(conn)
    .await
}

/// The live account `id` (locked against a concurrent delete), as (team_id).
async fn live_account(conn: &mut PgConnection, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT team_id FROM records WHERE entity = 'account' AND id = $1 AND NOT deleted FOR SHARE",
        id
    )
    .fetch_optional(conn)
    .await
}

/// The request `id` as stored (locked against a concurrent write of it).
async fn parent_request(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<rules::ParentRequest>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT team_id, account_id, deleted, fields AS "fields: sqlx::types::Json<Fields>"
           FROM records WHERE entity = 'request' AND id = $1 FOR SHARE"#,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|r| {
        r.account_id.map(|account_id| rules::ParentRequest {
            id,
            team_id: r.team_id,
            account_id,
            deleted: r.deleted,
            needs_rca: rules::request_needs_rca(&r.fields.0),
        })
    }))
}

/// Carries out one mutation: a profile through [`apply_profile`]; a record hanging off a
/// team by reading what the plan needs (the pusher's teams, the stored record, then what
/// [`write_plan::lookups`] names), asking [`write_plan::plan_write`], and carrying the plan
/// out.
async fn apply_one(
    conn: &mut PgConnection,
    user_id: Uuid,
    role: Role,
    m: &Mutation,
    now: DateTime<Utc>,
) -> Result<Result<(), Rejection>, sqlx::Error> {
    if m.entity == EntityKind::User {
        return apply_profile(conn, user_id, m, now).await;
    }
    let teams = identity::team_ids_of(conn, user_id).await?;
    let current = lock_record(conn, m.entity, m.entity_id).await?;
    let stored = current.as_ref().map(RecordRow::stored);
    let needs = write_plan::lookups(m, stored.as_ref(), &teams);
    let live_account_team = match needs.account {
        Some(account) => live_account(conn, account).await?,
        None => None,
    };
    let request = match needs.request_once(live_account_team) {
        Some(id) => parent_request(conn, id).await?,
        None => None,
    };
    let plan = write_plan::plan_write(
        &Read {
            mutation: m,
            pusher: user_id,
            role,
            teams: &teams,
            stored,
            live_account_team,
            request,
        },
        now,
    );
    carry_out(conn, m.entity, m.entity_id, plan, user_id).await
}

/// Carries out a record's [`WritePlan`], stamped as written by `by`, and tells the team's
/// desktops when anything changed.
async fn carry_out(
    conn: &mut PgConnection,
    entity: EntityKind,
    id: Uuid,
    plan: WritePlan,
    by: Uuid,
) -> Result<Result<(), Rejection>, sqlx::Error> {
    let team_id = match plan {
        WritePlan::Refuse(r) => return Ok(Err(r)),
        WritePlan::Nothing => return Ok(Ok(())),
        WritePlan::Tombstone {
            team_id,
            children,
            at,
        } => {
            let mut targets: Vec<(String, Uuid)> = vec![(entity.as_str().to_owned(), id)];
            if children {
                let hanging = sqlx::query!(
                    "SELECT entity, id FROM records WHERE account_id = $1 AND NOT deleted ORDER BY entity, id FOR UPDATE",
                    id
                )
                .fetch_all(&mut *conn)
                .await?;
                targets.extend(hanging.into_iter().map(|r| (r.entity, r.id)));
            }
            let n = i64::try_from(targets.len()).unwrap_or(i64::MAX);
            let first = next_seqs(conn, n).await?;
            let (ents, ids): (Vec<String>, Vec<Uuid>) = targets.into_iter().unzip();
            let seqs: Vec<i64> = (first..first + n).collect();
            sqlx::query!(
                "UPDATE records r SET deleted = true, version = r.version + 1, seq = t.seq, updated_at = $4, updated_by = $5
                 FROM unnest($1::text[], $2::uuid[], $3::bigint[]) AS t(entity, id, seq)
                 WHERE r.entity = t.entity AND r.id = t.id",
                &ents[..],
                &ids[..],
                &seqs[..],
                at,
                by
            )
            .execute(&mut *conn)
            .await?;
            team_id
        }
        WritePlan::Write(w) => {
            let seq = next_seqs(conn, 1).await?;
            sqlx::query!(
                "INSERT INTO records (entity, id, team_id, account_id, fields, deleted, version, seq, created_at, updated_at, updated_by)
                 VALUES ($1, $2, $3, $4, $5, false, $6, $7, $8, $8, $9)
                 ON CONFLICT (entity, id) DO UPDATE SET fields = EXCLUDED.fields, deleted = false,
                   version = EXCLUDED.version, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at,
                   updated_by = EXCLUDED.updated_by",
                entity.as_str(),
                id,
                w.team_id,
                w.account_id,
                sqlx::types::Json(&w.fields) as _,
                w.version,
                seq,
                w.at,
                by
            )
            .execute(&mut *conn)
            .await?;
            w.team_id
        }
    };
    events::notify(conn, Event::Team(team_id)).await?;
    Ok(Ok(()))
}

/// A user's edit of their own profile (name, time zone, working hours), as
/// [`write_plan::plan_profile`] plans it.
async fn apply_profile(
    conn: &mut PgConnection,
    user_id: Uuid,
    m: &Mutation,
    now: DateTime<Utc>,
) -> Result<Result<(), Rejection>, sqlx::Error> {
    let row = identity::lock_user(conn, user_id).await?;
    let stored = row.as_ref().map(|r| (r.to_user(), r.version));
    let w = match write_plan::plan_profile(m, user_id, stored.as_ref().map(|(u, v)| (u, *v)), now) {
        ProfilePlan::Refuse(r) => return Ok(Err(r)),
        ProfilePlan::Nothing => return Ok(Ok(())),
        ProfilePlan::Write(w) => w,
    };
    let seq = next_seqs(conn, 1).await?;
    sqlx::query!(
        "UPDATE users SET name = $2, time_zone = $3, working_hours = $4, version = $5, seq = $6, updated_at = $7
         WHERE id = $1",
        user_id,
        w.user.name,
        w.user.time_zone,
        sqlx::types::Json(&w.user.working_hours) as _,
        w.version,
        seq,
        w.at
    )
    .execute(&mut *conn)
    .await?;
    identity::notify_user_and_teams(conn, user_id).await?;
    Ok(Ok(()))
}

#[derive(Debug)]
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

/// A profile as the pull statement hands it over (one JSON object per user).
#[derive(Debug, serde::Deserialize)]
struct ProfileRow {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    time_zone: String,
    working_hours: rapport_domain::WorkingHours,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn user_change(u: ProfileRow) -> Change {
    let user = rapport_domain::User {
        id: u.id,
        name: u.name,
        email: u.email,
        role: Role::parse(&u.role).unwrap_or(Role::Csm),
        time_zone: u.time_zone,
        working_hours: u.working_hours,
    };
    Change {
        entity: EntityKind::User,
        entity_id: u.id,
        team_id: None,
        deleted: false,
        version: u.version,
        fields: write_plan::profile_fields(&user),
        created_at: u.created_at,
        updated_at: u.updated_at,
    }
}

/// One page of the changes `user_id` may see after `cursor`, read in one snapshot: ONE
/// statement (a statement sees one snapshot, so it needs no transaction of its own, and it is
/// one round trip where the clock, the purge list, the page, the profiles and the total were
/// six). Its rows are the page's records, each carrying the clock; the first (or the only
/// one, when the page is empty) also carries the purge list, the profiles and the total.
pub async fn pull(
    pool: &PgPool,
    user_id: Uuid,
    cursor: Cursor,
    limit: u32,
) -> Result<PullResponse, sqlx::Error> {
    let a = cursor.position;
    // A record's position in this user's stream is the later of its last change and the
    // user's joining its team. Part 1: records changed after the cursor (index on team, seq);
    // part 2: the older records of teams joined at or after the cursor. Each part is cut to
    // the page size in its own order first, so a page reads a page of rows, not the log.
    // The page is then cut by bytes too: it ends with the record that takes its fields
    // past `MAX_PULL_PAGE_BYTES` (one record at least), counted in the database from the
    // stored `fields_bytes`; the rows past the cut come without their fields (`in_page`
    // false), so an oversized page is never read into this process.
    // Profiles: the user's and their team-mates' that changed, or became visible, after the
    // cursor. The total (a pull from the start: the live records of the user's teams, for
    // first-sync progress) is counted only when asked for.
    let rows = sqlx::query_file!(
        "src/db/pull.sql",
        user_id,
        a,
        cursor.seq,
        i64::from(limit) + 1,
        i64::try_from(rapport_domain::limits::MAX_PULL_PAGE_BYTES).unwrap_or(i64::MAX),
        cursor == Cursor::START
    )
    .fetch_all(pool)
    .await?;
    let mut rows = rows;
    let first = rows.first_mut().ok_or(sqlx::Error::RowNotFound)?;
    let (last_seq, horizon) = (first.last_seq, first.horizon_seq);
    if cursor.needs_reset(horizon) {
        return Ok(PullResponse {
            purge: vec![],
            changes: vec![],
            cursor: Cursor::START.to_string(),
            has_more: false,
            reset_required: true,
            total: None,
        });
    }
    let purge = first.purge.take().unwrap_or_default();
    let users = first.users.take().map(|u| u.0).unwrap_or_default();
    let total = first
        .total
        .map(|n| u64::try_from(n).unwrap_or(0) + users.len() as u64);
    // How many rows the count alone would have given (`page_rows`), and those within the
    // byte cut.
    let mut page_rows = 0usize;
    let mut page = Vec::with_capacity(rows.len());
    for r in rows {
        let (Some(entity), Some(id), Some(team_id), Some(deleted), Some(version)) =
            (r.entity, r.id, r.team_id, r.deleted, r.version)
        else {
            continue; // the clock's row of an empty page
        };
        let (Some(created_at), Some(updated_at), Some(seq), Some(pos)) =
            (r.created_at, r.updated_at, r.seq, r.pos)
        else {
            continue;
        };
        page_rows += 1;
        if r.in_page == Some(true) {
            page.push(ChangeRow {
                entity,
                id,
                team_id,
                deleted,
                version,
                fields: r.fields.unwrap_or_default(),
                created_at,
                updated_at,
                seq,
                pos,
            });
        }
    }
    let mut rows = page;

    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let cut_by_bytes = page_rows > rows.len();
    let has_more = rows.len() > limit || cut_by_bytes;
    rows.truncate(limit);
    let next = if has_more {
        rows.last().map_or(cursor, |r| Cursor {
            position: r.pos,
            seq: r.seq,
            horizon,
        })
    } else {
        // Everything numbered up to `last_seq` is committed and was in this snapshot.
        cursor.max(Cursor {
            position: last_seq,
            seq: last_seq,
            horizon,
        })
    };
    // Made now: it has seen every purge up to this snapshot's horizon.
    let next = Cursor { horizon, ..next };
    let mut changes: Vec<Change> = users.into_iter().map(user_change).collect();
    changes.extend(rows.into_iter().filter_map(change_of));
    Ok(PullResponse {
        purge,
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
    let row = sqlx::query_as!(
        ChangeRow,
        r#"SELECT entity, id, team_id, deleted, version, fields AS "fields: sqlx::types::Json<Fields>",
                  created_at, updated_at, seq, seq AS pos
           FROM records WHERE entity = $1 AND id = $2"#,
        entity.as_str(),
        id
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(Err(ReadDenied::NotFound));
    };
    let member = sqlx::query_scalar!(
        "SELECT joined_seq FROM team_members WHERE team_id = $1 AND user_id = $2",
        row.team_id,
        user_id
    )
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
    let purged = sqlx::query_scalar!(
        "DELETE FROM records WHERE deleted AND updated_at < $1 RETURNING seq",
        older_than
    )
    .fetch_all(&mut *tx)
    .await?;
    if let Some(max) = purged.iter().copied().max() {
        sqlx::query!(
            "UPDATE sync_clock SET horizon_seq = greatest(horizon_seq, $1)",
            max
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!("DELETE FROM team_removals WHERE seq <= $1", max)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(purged.len() as u64)
}

/// The refusal remembered for a mutation id, if it was refused before.
async fn refusal_of(conn: &mut PgConnection, id: Uuid) -> Result<Option<Rejection>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT code, field, message FROM refused_mutations WHERE id = $1",
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Rejection {
        code: reject_code(&r.code),
        message: r.message,
        field: r.field,
    }))
}

/// Records a refusal (and drops the mutation's claim on `applied_mutations`).
async fn remember_refusal(
    conn: &mut PgConnection,
    user_id: Uuid,
    m: &Mutation,
    r: &Rejection,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM applied_mutations WHERE id = $1", m.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "INSERT INTO refused_mutations (id, user_id, entity, entity_id, code, field, message, refused_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
        m.id,
        user_id,
        m.entity.as_str(),
        m.entity_id,
        r.code.as_str(),
        r.field.as_deref(),
        r.message,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A stored refusal code read back (every code this server writes is one of these).
fn reject_code(s: &str) -> RejectCode {
    [
        RejectCode::InvalidField,
        RejectCode::UnknownField,
        RejectCode::MissingField,
        RejectCode::ImmutableField,
        RejectCode::ForbiddenRole,
        RejectCode::ForbiddenTeam,
        RejectCode::ForbiddenRecord,
        RejectCode::NotFound,
        RejectCode::VersionConflict,
    ]
    .into_iter()
    .find(|c| c.as_str() == s)
    .unwrap_or(RejectCode::InvalidField)
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
    let stored = current.as_ref().map(RecordRow::stored);
    let plan = write_plan::plan_intake(entity, stored, team_id, account_id, set, now);
    carry_out(
        conn,
        entity,
        id,
        plan,
        rapport_domain::intake::INTAKE_ACTOR_ID,
    )
    .await
}
