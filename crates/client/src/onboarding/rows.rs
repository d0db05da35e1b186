use chrono::{DateTime, Utc};
use rapport_domain::onboarding::{self, OnboardingSession};
use rapport_domain::{Contact, User};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row, SqliteConnection};
use uuid::Uuid;

use crate::accounts::user_by_id;
use crate::error::{Result, StoreError};
use crate::notes::{CONTACT_COLUMNS, contact_from_row};
use crate::store::{Store, fmt_time, json_col, one_by_id, plan_col, time_col, to_json, uuid_col};

use super::views::{DEFAULT_REMINDER_MINUTES, OnboardingSettings, SessionRow};

pub(super) const SESSION_COLUMNS: &str = "s.id, s.account_id, s.facilitator_id, s.attendee_ids, \
    s.starts_at, s.ends_at, s.time_zone, s.meeting_link, s.agenda, s.status, s.outcome, \
    s.follow_ups, s.sequence, s.created_at, s.updated_at";

pub(super) const ROW_SELECT: &str = "SELECT s.id, s.account_id, s.facilitator_id, s.attendee_ids, \
    s.starts_at, s.ends_at, s.time_zone, s.meeting_link, s.agenda, s.status, s.outcome, \
    s.follow_ups, s.sequence, s.created_at, s.updated_at, a.name AS account_name, a.plan, \
    u.name AS facilitator_name, u.time_zone AS facilitator_time_zone \
    FROM onboarding_sessions s JOIN accounts a ON a.id = s.account_id \
    LEFT JOIN users u ON u.id = s.facilitator_id";

/// Writes the row of a session (insert, or replace every column of the stored one).
pub(crate) async fn upsert_session(
    conn: &mut SqliteConnection,
    s: &OnboardingSession,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO onboarding_sessions (id, account_id, facilitator_id, attendee_ids, \
         starts_at, ends_at, time_zone, meeting_link, agenda, status, outcome, follow_ups, \
         sequence, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
         ON CONFLICT (id) DO UPDATE SET facilitator_id = excluded.facilitator_id, \
         attendee_ids = excluded.attendee_ids, starts_at = excluded.starts_at, \
         ends_at = excluded.ends_at, time_zone = excluded.time_zone, \
         meeting_link = excluded.meeting_link, agenda = excluded.agenda, \
         status = excluded.status, outcome = excluded.outcome, \
         follow_ups = excluded.follow_ups, sequence = excluded.sequence, \
         updated_at = excluded.updated_at",
    )
    .bind(s.id.to_string())
    .bind(s.account_id.to_string())
    .bind(s.facilitator_id.to_string())
    .bind(to_json(&s.attendee_ids))
    .bind(fmt_time(s.starts_at))
    .bind(fmt_time(s.ends_at))
    .bind(&s.time_zone)
    .bind(s.meeting_link.as_deref())
    .bind(to_json(&s.agenda))
    .bind(s.status.as_str())
    .bind(&s.outcome)
    .bind(to_json(&s.follow_ups))
    .bind(i64::from(s.sequence))
    .bind(fmt_time(s.created_at))
    .bind(fmt_time(s.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn settings_in(conn: &mut SqliteConnection) -> Result<OnboardingSettings> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM onboarding_settings")
        .fetch_all(conn)
        .await?;
    let mut s = OnboardingSettings {
        agenda_template: onboarding::default_agenda()
            .into_iter()
            .map(|a| a.title)
            .collect(),
        reminder_minutes: DEFAULT_REMINDER_MINUTES,
    };
    for (k, v) in rows {
        match k.as_str() {
            "agenda_template" => {
                if let Ok(t) = serde_json::from_str(&v) {
                    s.agenda_template = t;
                }
            }
            "reminder_minutes" => {
                if let Ok(m) = v.parse() {
                    s.reminder_minutes = m;
                }
            }
            _ => {}
        }
    }
    Ok(s)
}

pub(super) async fn my_user(conn: &mut SqliteConnection) -> Result<User> {
    let me = Store::me(&mut *conn).await?;
    user_by_id(conn, me).await?.ok_or(StoreError::NoProfile)
}

pub(crate) async fn session_by_id(
    conn: &mut SqliteConnection,
    id: Uuid,
) -> Result<OnboardingSession> {
    one_by_id(
        conn,
        format!("SELECT {SESSION_COLUMNS} FROM onboarding_sessions s WHERE s.id = ?1"),
        id,
        "onboarding session",
        session_from_row,
    )
    .await
}

pub(super) async fn session_row(conn: &mut SqliteConnection, id: Uuid) -> Result<SessionRow> {
    let row = sqlx::query(AssertSqlSafe(format!("{ROW_SELECT} WHERE s.id = ?1")))
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?;
    match row {
        Some(r) => row_from_row(&r),
        None => Err(StoreError::NotFound {
            entity: "onboarding session",
            id,
        }),
    }
}

pub(super) async fn my_rows_between(
    conn: &mut SqliteConnection,
    me: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SessionRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "{ROW_SELECT} WHERE s.facilitator_id = ?1 AND s.starts_at >= ?2 AND s.starts_at < ?3 \
         ORDER BY s.starts_at, s.seq"
    )))
    .bind(me.to_string())
    .bind(fmt_time(from))
    .bind(fmt_time(to))
    .fetch_all(conn)
    .await?;
    rows.iter().map(row_from_row).collect()
}

pub(super) async fn account_contacts(
    conn: &mut SqliteConnection,
    account_id: Uuid,
) -> Result<Vec<Contact>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c \
         WHERE c.account_id = ?1 AND c.deleted_at IS NULL ORDER BY c.name, c.id"
    )))
    .bind(account_id.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(contact_from_row).collect()
}

pub(super) fn session_from_row(row: &SqliteRow) -> Result<OnboardingSession> {
    let status: String = row.try_get("status")?;
    let sequence: i64 = row.try_get("sequence")?;
    Ok(OnboardingSession {
        id: uuid_col(row, "id")?,
        account_id: uuid_col(row, "account_id")?,
        facilitator_id: uuid_col(row, "facilitator_id")?,
        attendee_ids: json_col(row, "attendee_ids")?,
        starts_at: time_col(row, "starts_at")?,
        ends_at: time_col(row, "ends_at")?,
        time_zone: row.try_get("time_zone")?,
        meeting_link: row.try_get("meeting_link")?,
        agenda: json_col(row, "agenda")?,
        status: serde_json::from_value(Value::String(status.clone())).map_err(|_| {
            StoreError::Database(sqlx::Error::ColumnDecode {
                index: "status".into(),
                source: format!("unexpected value {status:?}").into(),
            })
        })?,
        outcome: row.try_get("outcome")?,
        follow_ups: json_col(row, "follow_ups")?,
        sequence: u32::try_from(sequence).unwrap_or_default(),
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

pub(super) fn row_from_row(row: &SqliteRow) -> Result<SessionRow> {
    Ok(SessionRow {
        session: session_from_row(row)?,
        account_name: row.try_get("account_name")?,
        account_plan: plan_col(row)?,
        facilitator_name: row.try_get("facilitator_name")?,
        facilitator_time_zone: row.try_get("facilitator_time_zone")?,
    })
}
