use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rapport_domain::ics::{
    AttendeeRole, CalendarPerson, IcsAttendee, IcsEvent, IcsMethod, PartStat, event_calendar,
};
use rapport_domain::quarter::{Quarter, quarter_of};
use rapport_domain::review::{
    BoardColumn, BoardCounts, QuarterKey, Review, ReviewState, board_column,
};
use rapport_domain::schedule::{Party, Slot, SlotOptions, SlotRequest, next_free_slots};
use rapport_domain::{Account, Plan, User, WorkingHours};
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row, SqliteConnection};
use uuid::Uuid;

use crate::accounts::{ACCOUNT_COLUMNS, account_from_row};
use crate::accounts::{account_by_id, user_by_id};
use crate::error::{Result, StoreError};
use crate::onboarding::IcsFile;
use crate::store::{Store, fmt_time, parse_time, uuid_col};

use super::busy::busy_all;
use super::rows::{REVIEW_COLUMNS, live_review, review_from_row};
use super::use_cases::REVIEW_MINUTES;

// What the UI reads.

/// One Professional Support account on the quarter board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BoardRow {
    pub account_id: Uuid,
    pub account_name: String,
    /// The customer's IANA zone.
    pub time_zone: String,
    pub rep_id: Option<Uuid>,
    pub rep_name: Option<String>,
    /// The account's quarter shown (its own calendar: `2027 Q1`, `FY2027 Q2`).
    pub quarter_label: String,
    pub quarter_end: DateTime<Utc>,
    /// The review of that quarter, when there is one.
    pub review_id: Option<Uuid>,
    /// `None`: not requested (no review yet).
    pub state: Option<ReviewState>,
    pub column: BoardColumn,
    pub starts_at: Option<DateTime<Utc>>,
}

/// The quarter board: `offset` quarters from each account's current quarter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuarterBoard {
    pub offset: i32,
    /// The calendar quarter in my time zone at that offset (accounts on fiscal calendars
    /// show their own label in each row).
    pub label: String,
    pub counts: BoardCounts,
    /// By account name.
    pub rows: Vec<BoardRow>,
    /// The teams the board can be filtered by (mine, as the server named them at sign-in),
    /// by name; empty when the cache knows no team.
    pub teams: Vec<BoardTeam>,
}

/// A team the board can be filtered by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BoardTeam {
    pub id: Uuid,
    pub name: String,
}

/// Who the board shows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BoardFilter {
    /// Accounts whose account rep is this user.
    pub rep_id: Option<Uuid>,
    /// Accounts the server keeps in this team (as last synced); an account never synced is
    /// in no team.
    pub team_id: Option<Uuid>,
}

/// A review with what its page shows around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReviewView {
    pub review: Review,
    pub account_name: String,
    pub account_time_zone: String,
    pub quarter_label: String,
    pub quarter_start: DateTime<Utc>,
    pub quarter_end: DateTime<Utc>,
    pub rep_name: Option<String>,
    pub column: BoardColumn,
}

/// A reminder to show now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReviewReminder {
    pub review_id: Uuid,
    pub account_name: String,
    pub starts_at: DateTime<Utc>,
    pub meeting_link: Option<String>,
}

/// Minutes before a review's start its reminder shows, unless Settings say otherwise.
pub const DEFAULT_REMINDER_MINUTES: u32 = 15;

/// Days after a quarter's end its missed review stays on Today.
pub const LATE_REVIEW_DAYS: i64 = 31;

/// When the account's last review was completed, and the sentiment of its latest review
/// that recorded one (health score inputs).
pub(crate) async fn review_inputs(
    conn: &mut SqliteConnection,
    account_id: Uuid,
) -> Result<(Option<DateTime<Utc>>, Option<u8>)> {
    let last: Option<String> = sqlx::query_scalar(
        "SELECT max(completed_at) FROM reviews WHERE account_id = ?1 AND deleted_at IS NULL \
         AND state = 'completed'",
    )
    .bind(account_id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    let sentiment: Option<i64> = sqlx::query_scalar(
        "SELECT sentiment FROM reviews WHERE account_id = ?1 AND deleted_at IS NULL \
         AND sentiment IS NOT NULL ORDER BY fiscal_year DESC, quarter DESC, updated_at DESC \
         LIMIT 1",
    )
    .bind(account_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok((
        last.as_deref().map(parse_time).transpose()?,
        sentiment.and_then(|s| u8::try_from(s).ok()),
    ))
}

pub(super) async fn quarters_with_reviews(
    conn: &mut SqliteConnection,
    account_id: Uuid,
) -> Result<Vec<QuarterKey>> {
    let rows: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT fiscal_year, quarter FROM reviews WHERE account_id = ?1 AND deleted_at IS NULL",
    )
    .bind(account_id.to_string())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(fiscal_year, q)| QuarterKey {
            fiscal_year,
            q: u8::try_from(q).unwrap_or(0),
        })
        .collect())
}

pub(super) async fn view(
    conn: &mut SqliteConnection,
    review: Review,
    now: DateTime<Utc>,
) -> Result<ReviewView> {
    let account = account_by_id(&mut *conn, review.account_id).await?;
    let rep_name = match review.rep_id {
        Some(u) => user_by_id(&mut *conn, u).await?.map(|u| u.name),
        None => None,
    };
    let quarter = review_quarter(&review)?;
    let column =
        board_column(account.plan, Some(review.state), &quarter, now).unwrap_or(BoardColumn::Done);
    Ok(ReviewView {
        account_name: account.name,
        account_time_zone: account.time_zone,
        quarter_label: quarter.label(),
        quarter_start: quarter.start_utc,
        quarter_end: quarter.end_utc,
        rep_name,
        column,
        review,
    })
}

/// Every Professional Support account (of rep `rep`, when given) with its review of the
/// quarter `offset` quarters from its current one.
pub(super) async fn board_rows(
    conn: &mut SqliteConnection,
    offset: i32,
    rep: Option<Uuid>,
    team: Option<Uuid>,
    mine: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Vec<BoardRow>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS}, u.name AS rep_name FROM accounts a \
         LEFT JOIN users u ON u.id = a.account_rep_id \
         WHERE a.plan = 'professional_support' AND (?1 IS NULL OR a.account_rep_id = ?1) \
         AND (?2 IS NULL OR EXISTS (SELECT 1 FROM sync_versions v \
              WHERE v.entity = 'account' AND v.id = a.id AND v.team_id = ?2)) \
         AND (?3 IS NULL OR a.account_rep_id = ?3 OR a.owner_csm_id = ?3) \
         ORDER BY a.name_key, a.id"
    )))
    .bind(rep.map(|u| u.to_string()))
    .bind(team.map(|t| t.to_string()))
    .bind(mine.map(|u| u.to_string()))
    .fetch_all(&mut *conn)
    .await?;
    let reviews = sqlx::query(AssertSqlSafe(format!(
        "SELECT {REVIEW_COLUMNS} FROM reviews WHERE deleted_at IS NULL"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let mut by_account: std::collections::HashMap<Uuid, Vec<Review>> =
        std::collections::HashMap::new();
    for r in &reviews {
        let r = review_from_row(r)?;
        by_account.entry(r.account_id).or_default().push(r);
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let account = account_from_row(row)?;
        let rep_name: Option<String> = row.try_get("rep_name")?;
        let Ok(current) = account_quarter(&account, now) else {
            continue;
        };
        let quarter = shift(current, offset);
        let key = QuarterKey::from(&quarter);
        let review = by_account
            .get(&account.id)
            .and_then(|rs| rs.iter().find(|r| r.key() == key));
        let state = review.map(|r| r.state);
        let Some(column) = board_column(Plan::ProfessionalSupport, state, &quarter, now) else {
            continue;
        };
        out.push(BoardRow {
            account_id: account.id,
            account_name: account.name,
            time_zone: account.time_zone,
            rep_id: account.account_rep_id,
            rep_name,
            quarter_label: quarter.label(),
            quarter_end: quarter.end_utc,
            review_id: review.map(|r| r.id),
            state,
            column,
            starts_at: review.and_then(|r| r.starts_at),
        });
    }
    Ok(out)
}

/// One refused field as a store error.
pub(crate) fn fe(e: rapport_domain::FieldError) -> StoreError {
    StoreError::Validation(rapport_domain::ValidationErrors(vec![e]))
}

pub(super) fn tz(name: &str, field: &str) -> Result<Tz> {
    name.parse()
        .map_err(|_| StoreError::invalid(field, format!("{name:?} is not an IANA time zone")))
}

pub(super) fn account_quarter(account: &Account, now: DateTime<Utc>) -> Result<Quarter> {
    quarter_of(
        now,
        tz(&account.time_zone, "time_zone")?,
        account.fiscal_year_start_month,
    )
    .map_err(fe)
}

/// The quarter the review belongs to, on the calendar it was made on.
pub(super) fn review_quarter(r: &Review) -> Result<Quarter> {
    let zone = tz(&r.time_zone, "time_zone")?;
    // Any instant of the quarter will do: find the quarter from its fiscal year's first day.
    let first_month0 = i32::from(r.fy_start_month) - 1 + (i32::from(r.quarter) - 1) * 3;
    let fy_start_year = if r.fy_start_month == 1 {
        r.fiscal_year
    } else {
        r.fiscal_year - 1
    };
    let year = fy_start_year + first_month0 / 12;
    let month = u32::try_from(first_month0 % 12 + 1).unwrap_or(1);
    let day = chrono::NaiveDate::from_ymd_opt(year, month, 15)
        .ok_or_else(|| StoreError::invalid("quarter", "not a quarter of a real year"))?;
    let mid = rapport_domain::quarter::local_midnight(day, zone);
    quarter_of(mid, zone, r.fy_start_month).map_err(fe)
}

pub(super) fn shift(mut q: Quarter, offset: i32) -> Quarter {
    for _ in 0..offset.unsigned_abs().min(400) {
        q = if offset > 0 { q.next() } else { q.previous() };
    }
    q
}

impl Store {
    /// The quarter board `offset` quarters from now (0 = this quarter, -1 = the previous).
    pub async fn quarter_board(
        &self,
        offset: i32,
        filter: &BoardFilter,
        now: DateTime<Utc>,
    ) -> Result<QuarterBoard> {
        let mut conn = self.reader.acquire().await?;
        let me = match Store::me(&mut conn).await {
            Ok(id) => user_by_id(&mut conn, id).await?,
            Err(_) => None,
        };
        let my_tz: Tz = me
            .as_ref()
            .and_then(|u| u.time_zone.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        let label = shift(quarter_of(now, my_tz, 1).map_err(fe)?, offset).label();
        let rows = board_rows(&mut conn, offset, filter.rep_id, filter.team_id, None, now).await?;
        let counts = BoardCounts::tally(rows.iter().map(|r| r.column));
        let teams = sqlx::query("SELECT id, name FROM teams ORDER BY name, id")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| {
                Ok(BoardTeam {
                    id: uuid_col(r, "id")?,
                    name: r.try_get("name")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(QuarterBoard {
            offset,
            label,
            counts,
            rows,
            teams,
        })
    }

    /// My overdue reviews (Today), on the accounts I own as CSM or serve as account rep:
    /// this quarter's overdue ones, and those of the quarter just ended that were never
    /// held, for [`LATE_REVIEW_DAYS`] days after it ended (a review missed at a quarter's
    /// end is what needs attention in the first weeks of the next).
    pub async fn reviews_overdue_mine(&self, now: DateTime<Utc>) -> Result<Vec<BoardRow>> {
        let mut conn = self.reader.acquire().await?;
        let me = Store::me(&mut conn).await?;
        let mut rows = Vec::new();
        for offset in [-1, 0] {
            rows.extend(
                board_rows(&mut conn, offset, None, None, Some(me), now)
                    .await?
                    .into_iter()
                    .filter(|r| {
                        r.column == BoardColumn::Overdue
                            && (offset == 0
                                || now - r.quarter_end <= TimeDelta::days(LATE_REVIEW_DAYS))
                    }),
            );
        }
        Ok(rows)
    }

    /// The review page.
    pub async fn review_get(&self, id: Uuid, now: DateTime<Utc>) -> Result<ReviewView> {
        let mut conn = self.reader.acquire().await?;
        let review = live_review(&mut conn, id).await?;
        view(&mut conn, review, now).await
    }

    /// Free slots for the review's session: inside my working hours and the customer's
    /// (09:00–17:00 Mon–Fri in the account's zone), clear of my other reviews, inside the
    /// review's quarter.
    pub async fn review_slots(&self, id: Uuid, now: DateTime<Utc>) -> Result<Vec<Slot>> {
        let mut conn = self.reader.acquire().await?;
        let me_id = Store::me(&mut conn).await?;
        let me = user_by_id(&mut conn, me_id)
            .await?
            .ok_or(StoreError::NoProfile)?;
        let review = live_review(&mut conn, id).await?;
        let account = account_by_id(&mut conn, review.account_id).await?;
        let quarter = review_quarter(&review)?;
        if now >= quarter.end_utc {
            return Err(StoreError::invalid(
                "quarter",
                format!("{} has ended: no slot can be booked in it", quarter.label()),
            ));
        }
        let from = now.max(quarter.start_utc);
        let horizon_days = u32::try_from((quarter.end_utc - from).num_days() + 1)
            .unwrap_or(1)
            .clamp(1, 366);
        // Rebooking: this review's own session does not block its new one.
        let busy: Vec<Slot> = busy_all(&mut conn, me_id, from, quarter.end_utc)
            .await?
            .into_iter()
            .filter(|b| b.id != review.id)
            .map(|b| b.slot())
            .collect();
        let request = SlotRequest {
            customer: Party {
                time_zone: tz(&account.time_zone, "time_zone")?,
                hours: WorkingHours::default(),
            },
            facilitator: Party {
                time_zone: tz(&me.time_zone, "time_zone")?,
                hours: me.working_hours.clone(),
            },
            busy,
            options: SlotOptions {
                length_minutes: REVIEW_MINUTES,
                count: 6,
                horizon_days,
                ..SlotOptions::default()
            },
            now: from,
        };
        let slots = next_free_slots(&request)?;
        Ok(slots
            .into_iter()
            .filter(|s| quarter.contains(s.start))
            .collect())
    }

    /// The review's session as an iCalendar invitation (RFC 5545, METHOD:REQUEST).
    /// Named as onboarding invitations are ([`crate::onboarding::ics_file_name`]).
    pub async fn review_ics(&self, id: Uuid, now: DateTime<Utc>) -> Result<IcsFile> {
        let mut conn = self.reader.acquire().await?;
        let review = live_review(&mut conn, id).await?;
        let (Some(start), Some(end)) = (review.starts_at, review.ends_at) else {
            return Err(StoreError::invalid(
                "starts_at",
                "the review has no session booked",
            ));
        };
        let account = account_by_id(&mut conn, review.account_id).await?;
        let rep = match review.rep_id {
            Some(u) => user_by_id(&mut conn, u).await?,
            None => None,
        };
        let contacts: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, email FROM contacts WHERE account_id = ?1 AND deleted_at IS NULL \
             ORDER BY lower(name), id",
        )
        .bind(account.id.to_string())
        .fetch_all(&mut *conn)
        .await?;
        let quarter = review_quarter(&review)?;
        let organizer = rep.map_or_else(
            || CalendarPerson {
                name: "Rapport".into(),
                email: "reviews@rapport.invalid".into(),
            },
            |u: User| CalendarPerson {
                name: u.name,
                email: u.email,
            },
        );
        let event = IcsEvent {
            id: review.id,
            sequence: review.sequence,
            start,
            end,
            summary: format!(
                "{}: use-case review & health check ({})",
                account.name,
                quarter.label()
            ),
            description: rapport_domain::review::CheckItem::ALL
                .iter()
                .map(|i| format!("- {}", i.title()))
                .collect::<Vec<_>>()
                .join("\n"),
            meeting_link: review.meeting_link.clone(),
            organizer,
            attendees: contacts
                .into_iter()
                .map(|(name, email)| IcsAttendee {
                    name,
                    email,
                    role: AttendeeRole::ReqParticipant,
                    partstat: PartStat::NeedsAction,
                    rsvp: true,
                })
                .collect(),
            cancelled: false,
            alarm_minutes_before: Some(DEFAULT_REMINDER_MINUTES),
        };
        Ok(IcsFile {
            file_name: crate::onboarding::ics_file_name("review", &account.name, start),
            content: event_calendar(&event, IcsMethod::Request, now),
        })
    }

    /// My booked reviews whose reminder should show at `now` (not shown before on this
    /// desktop), `minutes_before` their start.
    pub async fn review_reminders_due(
        &self,
        minutes_before: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<ReviewReminder>> {
        let mut conn = self.reader.acquire().await?;
        let Ok(me) = Store::me(&mut conn).await else {
            return Ok(Vec::new());
        };
        let until = now + TimeDelta::minutes(i64::from(minutes_before));
        let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT r.id, a.name, r.starts_at, r.meeting_link FROM reviews r \
             JOIN accounts a ON a.id = r.account_id \
             WHERE r.deleted_at IS NULL AND r.state = 'scheduled' AND r.rep_id = ?1 \
             AND r.reminded_at IS NULL AND r.starts_at > ?2 AND r.starts_at <= ?3 \
             ORDER BY r.starts_at",
        )
        .bind(me.to_string())
        .bind(fmt_time(now))
        .bind(fmt_time(until))
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        for (id, account_name, starts_at, meeting_link) in rows {
            let starts_at = parse_time(&starts_at)?;
            if rapport_domain::schedule::reminder_due(starts_at, minutes_before, now, false) {
                out.push(ReviewReminder {
                    review_id: Uuid::parse_str(&id).map_err(|_| StoreError::NotFound {
                        entity: "review",
                        id: Uuid::nil(),
                    })?,
                    account_name,
                    starts_at,
                    meeting_link,
                });
            }
        }
        Ok(out)
    }

    /// The reminder lead time in minutes (Settings; [`DEFAULT_REMINDER_MINUTES`] unset).
    pub async fn review_reminder_minutes(&self) -> Result<u32> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT value FROM review_settings WHERE key = 'reminder_minutes'")
                .fetch_optional(&self.reader)
                .await?;
        Ok(v.and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_REMINDER_MINUTES))
    }
}
