//! Users, teams, memberships, tokens and the login rate limit.

use chrono::{DateTime, Utc};
use rapport_domain::sync::TeamRef;
use rapport_domain::{Role, User, WorkingHours};
use sqlx::PgConnection;
use uuid::Uuid;

use super::next_seqs;
use crate::events::{self, Event};

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub time_zone: String,
    pub working_hours: sqlx::types::Json<WorkingHours>,
    pub password_hash: String,
    pub disabled: bool,
    pub version: i64,
    pub seq: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserRow {
    pub fn to_user(&self) -> User {
        User {
            id: self.id,
            name: self.name.clone(),
            email: self.email.clone(),
            role: Role::parse(&self.role).unwrap_or(Role::Csm),
            time_zone: self.time_zone.clone(),
            working_hours: self.working_hours.0.clone(),
        }
    }
}

/// `query_as!(UserRow, ...)` over every column of `users`, the rest of the statement
/// (`WHERE ...`, `ORDER BY ...`) and its arguments given: the column list is written once and
/// the statement is still one literal the macro checks.
macro_rules! select_users {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            $crate::db::identity::UserRow,
            r#"SELECT id, email, name, role, time_zone,
                      working_hours AS "working_hours: sqlx::types::Json<rapport_domain::WorkingHours>",
                      password_hash, disabled, version, seq, created_at, updated_at
               FROM users "# + $rest
            $(, $arg)*
        )
    };
}

/// Why a user could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("a user with email {0} exists already")]
    EmailTaken(String),
    #[error("a team named {0} exists already")]
    TeamNameTaken(String),
    #[error("no such user")]
    NoSuchUser,
    #[error("no such team")]
    NoSuchTeam,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .is_some_and(|c| c == "23505")
}

pub async fn create_user(
    conn: &mut PgConnection,
    user: &User,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let seq = next_seqs(conn, 1).await?;
    let r = sqlx::query!(
        "INSERT INTO users (id, email, name, role, time_zone, working_hours, password_hash, seq, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        user.id,
        user.email,
        user.name,
        user.role.as_str(),
        user.time_zone,
        sqlx::types::Json(&user.working_hours) as _,
        password_hash,
        seq,
        now,
    )
    .execute(conn)
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if unique_violation(&e) => Err(IdentityError::EmailTaken(user.email.clone())),
        Err(e) => Err(e.into()),
    }
}

pub async fn user_by_email(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    select_users!("WHERE lower(email) = lower($1)", email)
        .fetch_optional(conn)
        .await
}

pub async fn user_by_id(conn: &mut PgConnection, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    select_users!("WHERE id = $1", id)
        .fetch_optional(conn)
        .await
}

/// The user `id`, locked until the transaction ends (a profile write reads it so).
pub async fn lock_user(conn: &mut PgConnection, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    select_users!("WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(conn)
        .await
}

pub async fn list_users(conn: &mut PgConnection) -> Result<Vec<UserRow>, sqlx::Error> {
    select_users!("ORDER BY lower(name), id")
        .fetch_all(conn)
        .await
}

/// Writes an admin's change of a user (profile, role, disabled); a disabled user's tokens
/// are revoked in the same transaction.
pub async fn update_user(
    conn: &mut PgConnection,
    user: &User,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    // Row first, clock last: the order every writer takes, so none waits on the other in a circle.
    let found = sqlx::query_scalar!("SELECT id FROM users WHERE id = $1 FOR UPDATE", user.id)
        .fetch_optional(&mut *conn)
        .await?;
    if found.is_none() {
        return Err(IdentityError::NoSuchUser);
    }
    let seq = next_seqs(conn, 1).await?;
    let r = sqlx::query!(
        "UPDATE users SET email = $2, name = $3, role = $4, time_zone = $5, working_hours = $6, disabled = $7,
                version = version + 1, seq = $8, updated_at = $9 WHERE id = $1",
        user.id,
        user.email,
        user.name,
        user.role.as_str(),
        user.time_zone,
        sqlx::types::Json(&user.working_hours) as _,
        disabled,
        seq,
        now,
    )
    .execute(&mut *conn)
    .await;
    match r {
        Ok(done) if done.rows_affected() == 0 => return Err(IdentityError::NoSuchUser),
        Ok(_) => {}
        Err(e) if unique_violation(&e) => {
            return Err(IdentityError::EmailTaken(user.email.clone()));
        }
        Err(e) => return Err(e.into()),
    }
    if disabled {
        revoke_all_tokens(conn, user.id, now).await?;
    }
    notify_user_and_teams(conn, user.id).await?;
    Ok(())
}

/// Sets a new password and revokes every token of the user.
pub async fn set_password(
    conn: &mut PgConnection,
    user_id: Uuid,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let done = sqlx::query!(
        "UPDATE users SET password_hash = $2 WHERE id = $1",
        user_id,
        password_hash
    )
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(IdentityError::NoSuchUser);
    }
    revoke_all_tokens(conn, user_id, now).await?;
    Ok(())
}

pub async fn notify_user_and_teams(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    events::notify(conn, Event::User(user_id)).await?;
    for t in team_ids_of(conn, user_id).await? {
        events::notify(conn, Event::Team(t)).await?;
    }
    Ok(())
}

pub async fn team_ids_of(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT team_id FROM team_members WHERE user_id = $1",
        user_id
    )
    .fetch_all(conn)
    .await
}

pub async fn teams_of(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<TeamRef>, sqlx::Error> {
    sqlx::query_as!(
        TeamRef,
        "SELECT t.id, t.name FROM teams t JOIN team_members m ON m.team_id = t.id
         WHERE m.user_id = $1 ORDER BY lower(t.name)",
        user_id
    )
    .fetch_all(conn)
    .await
}

pub async fn create_team(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> Result<TeamRef, IdentityError> {
    let r = sqlx::query!(
        "INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)",
        id,
        name,
        now
    )
    .execute(conn)
    .await;
    match r {
        Ok(_) => Ok(TeamRef {
            id,
            name: name.to_owned(),
        }),
        Err(e) if unique_violation(&e) => Err(IdentityError::TeamNameTaken(name.to_owned())),
        Err(e) => Err(e.into()),
    }
}

pub async fn team_by_name(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Option<TeamRef>, sqlx::Error> {
    sqlx::query_as!(
        TeamRef,
        "SELECT id, name FROM teams WHERE lower(name) = lower($1)",
        name
    )
    .fetch_optional(conn)
    .await
}

/// Every team with its members' ids.
pub async fn list_teams(conn: &mut PgConnection) -> Result<Vec<(TeamRef, Vec<Uuid>)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT t.id, t.name,
                  coalesce(array_agg(m.user_id ORDER BY m.user_id) FILTER (WHERE m.user_id IS NOT NULL), '{}')
                    AS "members!: Vec<Uuid>"
           FROM teams t LEFT JOIN team_members m ON m.team_id = t.id
           GROUP BY t.id, t.name ORDER BY lower(t.name)"#,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                TeamRef {
                    id: r.id,
                    name: r.name,
                },
                r.members,
            )
        })
        .collect())
}

/// Adds a member; their pull then delivers the team's records. Adding a member twice is a no-op.
pub async fn add_member(
    conn: &mut PgConnection,
    team_id: Uuid,
    user_id: Uuid,
) -> Result<bool, IdentityError> {
    let team = sqlx::query_scalar!("SELECT id FROM teams WHERE id = $1 FOR UPDATE", team_id)
        .fetch_optional(&mut *conn)
        .await?;
    if team.is_none() {
        return Err(IdentityError::NoSuchTeam);
    }
    if user_by_id(conn, user_id).await?.is_none() {
        return Err(IdentityError::NoSuchUser);
    }
    let exists = sqlx::query_scalar!(
        "SELECT joined_seq FROM team_members WHERE team_id = $1 AND user_id = $2",
        team_id,
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    if exists.is_some() {
        return Ok(false);
    }
    let seq = next_seqs(conn, 1).await?;
    sqlx::query!(
        "INSERT INTO team_members (team_id, user_id, joined_seq) VALUES ($1, $2, $3)",
        team_id,
        user_id,
        seq
    )
    .execute(&mut *conn)
    .await?;
    membership_changed(conn, team_id, user_id).await?;
    Ok(true)
}

/// Tells the user's and the team's desktops that `user_id`'s membership in `team_id`
/// changed (the caller has written the change under the next sequence number).
async fn membership_changed(
    conn: &mut PgConnection,
    team_id: Uuid,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    events::notify(conn, Event::User(user_id)).await?;
    events::notify(conn, Event::Team(team_id)).await
}

/// Removes a member; their next pull tells their client to purge the team's data.
pub async fn remove_member(
    conn: &mut PgConnection,
    team_id: Uuid,
    user_id: Uuid,
) -> Result<bool, IdentityError> {
    let gone = sqlx::query!(
        "DELETE FROM team_members WHERE team_id = $1 AND user_id = $2",
        team_id,
        user_id
    )
    .execute(&mut *conn)
    .await?;
    if gone.rows_affected() == 0 {
        return Ok(false);
    }
    let seq = next_seqs(conn, 1).await?;
    sqlx::query!(
        "INSERT INTO team_removals (team_id, user_id, seq) VALUES ($1, $2, $3)",
        team_id,
        user_id,
        seq
    )
    .execute(&mut *conn)
    .await?;
    membership_changed(conn, team_id, user_id).await?;
    Ok(true)
}

pub async fn insert_token(
    conn: &mut PgConnection,
    hash: &[u8],
    user_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        hash,
        user_id,
        now,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn revoke_token(
    conn: &mut PgConnection,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE auth_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        hash,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn revoke_all_tokens(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE auth_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        user_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts one sign-in attempt of (email, ip) against the limit, in one statement: the
/// attempt is recorded only when fewer than `max` were made since `since`. The row lock
/// of the upsert serialises parallel attempts (from any process), so exactly `max` pass
/// in a window. `Ok(None)`: counted, go on and check the password; `Ok(Some(oldest))`:
/// refused, the oldest attempt of the window (when the next one is allowed again).
pub async fn reserve_login_attempt(
    conn: &mut PgConnection,
    email: &str,
    ip: &str,
    now: DateTime<Utc>,
    since: DateTime<Utc>,
    max: i64,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let counted = sqlx::query_scalar!(
        r#"INSERT INTO login_attempts AS l (email, ip, attempts, last_at)
         VALUES (lower($1), $2, ARRAY[$3::timestamptz], $3)
         ON CONFLICT (email, ip) DO UPDATE
           SET attempts = ARRAY(SELECT a FROM unnest(l.attempts) AS a WHERE a > $4 ORDER BY a)
                          || $3::timestamptz,
               last_at = $3
           WHERE (SELECT count(*) FROM unnest(l.attempts) AS a WHERE a > $4) < $5
         RETURNING 1 AS "counted!""#,
        email,
        ip,
        now,
        since,
        max
    )
    .fetch_optional(&mut *conn)
    .await?;
    if counted.is_some() {
        return Ok(None);
    }
    let oldest = sqlx::query_scalar!(
        "SELECT min(a) AS oldest FROM login_attempts l, unnest(l.attempts) AS a
         WHERE l.email = lower($1) AND l.ip = $2 AND a > $3",
        email,
        ip,
        since
    )
    .fetch_one(conn)
    .await?;
    Ok(Some(oldest.unwrap_or(now)))
}

/// Forgets the attempts of (email, ip) after a right password, and every row whose last
/// attempt is older than `before` (it no longer counts).
pub async fn clear_login_failures(
    conn: &mut PgConnection,
    email: &str,
    ip: &str,
    before: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM login_attempts WHERE (email = lower($1) AND ip = $2) OR last_at <= $3",
        email,
        ip,
        before
    )
    .execute(conn)
    .await?;
    Ok(())
}
