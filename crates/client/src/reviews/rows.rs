use chrono::{DateTime, Utc};
use rapport_domain::review::Review;
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::store::{
    fmt_time, json_col, maybe_by_id, one_by_id, opt_uuid_col, parse_time, stamp, to_json, uuid_col,
};

/// Writes the row (insert, or every field of an existing one). `reminded_at` is kept unless
/// the session moved.
pub(crate) async fn upsert_row(
    conn: &mut SqliteConnection,
    r: &Review,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO reviews (id, account_id, fiscal_year, quarter, fy_start_month, state, \
         rep_id, starts_at, ends_at, time_zone, meeting_link, checklist, findings, \
         action_items, sentiment, sequence, completed_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
         ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, \
         fiscal_year = excluded.fiscal_year, quarter = excluded.quarter, \
         fy_start_month = excluded.fy_start_month, state = excluded.state, \
         rep_id = excluded.rep_id, \
         reminded_at = CASE WHEN reviews.starts_at IS excluded.starts_at \
             THEN reviews.reminded_at END, \
         starts_at = excluded.starts_at, ends_at = excluded.ends_at, \
         time_zone = excluded.time_zone, meeting_link = excluded.meeting_link, \
         checklist = excluded.checklist, findings = excluded.findings, \
         action_items = excluded.action_items, sentiment = excluded.sentiment, \
         sequence = excluded.sequence, completed_at = excluded.completed_at, \
         updated_at = excluded.updated_at, deleted_at = NULL",
    )
    .bind(r.id.to_string())
    .bind(r.account_id.to_string())
    .bind(r.fiscal_year)
    .bind(i64::from(r.quarter))
    .bind(i64::from(r.fy_start_month))
    .bind(r.state.as_str())
    .bind(r.rep_id.map(|u| u.to_string()))
    .bind(r.starts_at.map(fmt_time))
    .bind(r.ends_at.map(fmt_time))
    .bind(&r.time_zone)
    .bind(r.meeting_link.as_deref())
    .bind(to_json(&r.checklist))
    .bind(&r.findings)
    .bind(to_json(&r.action_items))
    .bind(r.sentiment.map(i64::from))
    .bind(i64::from(r.sequence))
    .bind(r.completed_at.map(fmt_time))
    .bind(fmt_time(stamp(now)))
    .execute(conn)
    .await?;
    Ok(())
}

// Helpers.

pub(super) const REVIEW_COLUMNS: &str = "id, account_id, fiscal_year, quarter, fy_start_month, state, \
    rep_id, starts_at, ends_at, time_zone, meeting_link, checklist, findings, action_items, \
    sentiment, sequence, completed_at";

pub(super) fn review_from_row(row: &SqliteRow) -> Result<Review> {
    let state: String = row.try_get("state")?;
    let opt_time = |col: &str| -> Result<Option<DateTime<Utc>>> {
        let s: Option<String> = row.try_get(col)?;
        s.as_deref().map(parse_time).transpose()
    };
    let small = |col: &str| -> Result<u8> {
        let v: i64 = row.try_get(col)?;
        u8::try_from(v).map_err(|_| StoreError::invalid(col, "out of range in the cache"))
    };
    let sentiment: Option<i64> = row.try_get("sentiment")?;
    let sequence: i64 = row.try_get("sequence")?;
    Ok(Review {
        id: uuid_col(row, "id")?,
        account_id: uuid_col(row, "account_id")?,
        fiscal_year: row.try_get("fiscal_year")?,
        quarter: small("quarter")?,
        fy_start_month: small("fy_start_month")?,
        state: serde_json::from_value(Value::String(state.clone()))
            .map_err(|_| StoreError::invalid("state", format!("unknown state {state:?}")))?,
        rep_id: opt_uuid_col(row, "rep_id")?,
        starts_at: opt_time("starts_at")?,
        ends_at: opt_time("ends_at")?,
        time_zone: row.try_get("time_zone")?,
        meeting_link: row.try_get("meeting_link")?,
        checklist: json_col(row, "checklist")?,
        findings: row.try_get("findings")?,
        action_items: json_col(row, "action_items")?,
        sentiment: sentiment.and_then(|s| u8::try_from(s).ok()),
        sequence: u32::try_from(sequence).unwrap_or(0),
        completed_at: opt_time("completed_at")?,
    })
}

pub(crate) async fn review_by_id(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Review>> {
    maybe_by_id(
        conn,
        format!("SELECT {REVIEW_COLUMNS} FROM reviews WHERE id = ?1"),
        id,
        review_from_row,
    )
    .await
}

pub(super) async fn live_review(conn: &mut SqliteConnection, id: Uuid) -> Result<Review> {
    one_by_id(
        conn,
        format!("SELECT {REVIEW_COLUMNS} FROM reviews WHERE id = ?1 AND deleted_at IS NULL"),
        id,
        "review",
        review_from_row,
    )
    .await
}
