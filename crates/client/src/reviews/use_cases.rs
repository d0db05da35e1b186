//! Quarterly use-case reviews & health checks: the quarter board, creating and booking a
//! review (slot finder + .ics), the health check itself, reminders, and the sync hooks.
//!
//! Every user write goes through [`record`] (the review's [`Synced`] contract), so the row and its one outbox
//! mutation land together; a write that changes what the health score reads refreshes the
//! account's score snapshot in the same transaction ([`crate::health::refresh`]).

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rapport_domain::ics::{
    AttendeeRole, CalendarPerson, IcsAttendee, IcsEvent, IcsMethod, PartStat, event_calendar,
};
use rapport_domain::links::LinkPolicy;
use rapport_domain::quarter::{Quarter, quarter_of};
use rapport_domain::review::{
    ActionItem, BoardColumn, BoardCounts, ChecklistEntry, QuarterKey, Review, ReviewState,
    board_column, check_completion, check_held_session, check_new_review, check_review_booking,
    check_review_transition, default_checklist, review_id,
};
use rapport_domain::schedule::{Party, Slot, SlotOptions, SlotRequest, next_free_slots};
use rapport_domain::sync::EntityKind;
use rapport_domain::{Account, Plan, User, WorkingHours};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row, SqliteConnection};
use uuid::Uuid;

use crate::accounts::{ACCOUNT_COLUMNS, account_from_row};
use crate::accounts::{account_by_id, user_by_id};
use crate::entity::{Synced, record};
use crate::error::{Result, StoreError};
use crate::health::rescore;
use crate::onboarding::IcsFile;
use crate::store::{
    Store, fmt_time, json_col, maybe_by_id, one_by_id, opt_uuid_col, parse_time, stamp, to_json,
    uuid_col,
};

// ---------------------------------------------------------------------------------------
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

/// The health check as the review page edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HealthCheckInput {
    pub checklist: Vec<ChecklistEntry>,
    pub findings: String,
    pub action_items: Vec<ActionItem>,
    pub sentiment: Option<u8>,
}

/// What the review's state becomes by a user's choice (completion has its own command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// The customer does not want one this quarter.
    Declined,
    /// Nobody from the customer came.
    NoShow,
    /// The session is off; the review waits to be booked again.
    Cancelled,
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

/// How long a review session lasts when booked from the board.
pub const REVIEW_MINUTES: u32 = 60;

// ---------------------------------------------------------------------------------------
// Use cases.

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

    /// Records that the customer asked for a review of the account's quarter `offset`
    /// quarters from now. Refused for a standard-plan account (`account_id`) and when the
    /// quarter already has its review (`quarter`).
    pub async fn review_create(
        &self,
        account_id: Uuid,
        offset: i32,
        now: DateTime<Utc>,
    ) -> Result<ReviewView> {
        let id = self
            .write(now, async |tx, me, now| {
                let account = account_by_id(tx, account_id).await?;
                let quarter = shift(account_quarter(&account, now)?, offset);
                let existing = quarters_with_reviews(tx, account_id).await?;
                check_new_review(account.plan, &quarter, &existing).map_err(fe)?;
                let key = QuarterKey::from(&quarter);
                let review = Review {
                    id: review_id(account_id, account.fiscal_year_start_month, key),
                    account_id,
                    fiscal_year: key.fiscal_year,
                    quarter: key.q,
                    fy_start_month: account.fiscal_year_start_month,
                    state: ReviewState::Requested,
                    rep_id: account.account_rep_id.or(Some(me)),
                    starts_at: None,
                    ends_at: None,
                    time_zone: account.time_zone.clone(),
                    meeting_link: None,
                    checklist: default_checklist(),
                    findings: String::new(),
                    action_items: Vec::new(),
                    sentiment: None,
                    sequence: 0,
                    completed_at: None,
                }
                .normalize()?;
                if review_by_id(tx, review.id).await?.is_some() {
                    // A deleted review of the same quarter: the id is the quarter's, so bring it back.
                    sqlx::query("DELETE FROM reviews WHERE id = ?1")
                        .bind(review.id.to_string())
                        .execute(&mut *tx)
                        .await?;
                }
                record(tx, None, &review, now).await?;
                tracing::info!(id = %review.id, quarter = %quarter.label(), "review requested");
                Ok(review.id)
            })
            .await?;
        self.review_get(id, stamp(now)).await
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

    /// Books (or rebooks) the review's session at `start`–`end` with me as the facilitator.
    pub async fn review_book(
        &self,
        id: Uuid,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        meeting_link: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<ReviewView> {
        let (start, end) = (stamp(start), stamp(end));
        self.write(now, async |tx, me, now| {
            let old = live_review(tx, id).await?;
            let account = account_by_id(tx, old.account_id).await?;
            let quarter = review_quarter(&old)?;
            let link = check_review_booking(
                &quarter,
                start,
                end,
                meeting_link.as_deref(),
                &LinkPolicy::default(),
                now,
            )?;
            if old.state != ReviewState::Scheduled {
                check_review_transition(old.state, ReviewState::Scheduled).map_err(fe)?;
            }
            refuse_clash(tx, me, start, end, old.id).await?;
            let new = Review {
                state: ReviewState::Scheduled,
                rep_id: Some(me),
                starts_at: Some(start),
                ends_at: Some(end),
                time_zone: account.time_zone.clone(),
                meeting_link: link,
                sequence: old.sequence + 1,
                ..old.clone()
            }
            .normalize()?;
            record(tx, Some(&old), &new, now).await?;
            sqlx::query("UPDATE reviews SET reminded_at = NULL WHERE id = ?1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            Ok(())
        })
        .await?;
        tracing::info!(%id, "review booked");
        self.review_get(id, stamp(now)).await
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

    /// One edit of a live review: `edit` gives its new state from the stored one, my id and
    /// `now`; the row and its one outbox entry are written in one transaction.
    async fn review_edit(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        edit: impl FnOnce(&Review, Uuid, DateTime<Utc>) -> Result<Review>,
    ) -> Result<()> {
        self.write(now, async |tx, me, now| {
            let old = live_review(tx, id).await?;
            let new = edit(&old, me, now)?;
            record(tx, Some(&old), &new, now).await?;
            Ok(())
        })
        .await
    }

    /// Saves the health check's checklist, findings, action items and sentiment.
    pub async fn review_save(
        &self,
        id: Uuid,
        input: HealthCheckInput,
        now: DateTime<Utc>,
    ) -> Result<ReviewView> {
        self.review_edit(id, now, |old, _, _| {
            if old.state == ReviewState::Declined {
                return Err(StoreError::invalid(
                    "state",
                    "the customer declined this review; there is no health check to write",
                ));
            }
            Review {
                checklist: input.checklist,
                findings: input.findings,
                action_items: input.action_items,
                sentiment: input.sentiment,
                ..old.clone()
            }
            .normalize()
            .map_err(Into::into)
        })
        .await?;
        self.review_get(id, stamp(now)).await
    }

    /// Completes the review. A session booked here must have started; a review held without
    /// being booked here gives its session as `held` (start and end, in the past).
    pub async fn review_complete(
        &self,
        id: Uuid,
        held: Option<Slot>,
        now: DateTime<Utc>,
    ) -> Result<ReviewView> {
        self.review_edit(id, now, |old, me, now| {
            let quarter = review_quarter(old)?;
            let mut new = old.clone();
            if let Some(h) = held {
                let (start, end) = (stamp(h.start), stamp(h.end));
                check_held_session(&quarter, start, end, now)?;
                if !matches!(
                    old.state,
                    ReviewState::Requested | ReviewState::Scheduled | ReviewState::NoShow
                ) {
                    check_review_transition(old.state, ReviewState::Scheduled).map_err(fe)?;
                }
                new.state = ReviewState::Scheduled;
                new.starts_at = Some(start);
                new.ends_at = Some(end);
                new.rep_id = new.rep_id.or(Some(me));
            }
            check_completion(new.state, new.starts_at, now).map_err(fe)?;
            new.state = ReviewState::Completed;
            new.completed_at = Some(now);
            new.normalize().map_err(Into::into)
        })
        .await?;
        tracing::info!(%id, "review completed");
        self.review_get(id, stamp(now)).await
    }

    /// Declined, no-show, or the session cancelled (back to requested).
    pub async fn review_set_outcome(
        &self,
        id: Uuid,
        outcome: ReviewOutcome,
        now: DateTime<Utc>,
    ) -> Result<ReviewView> {
        self.review_edit(id, now, |old, _, now| {
            let to = match outcome {
                ReviewOutcome::Declined => ReviewState::Declined,
                ReviewOutcome::NoShow => ReviewState::NoShow,
                ReviewOutcome::Cancelled => ReviewState::Requested,
            };
            check_review_transition(old.state, to).map_err(fe)?;
            if to == ReviewState::NoShow && old.starts_at.is_some_and(|s| s > now) {
                return Err(StoreError::invalid(
                    "state",
                    "the session has not started yet: it cannot be a no-show",
                ));
            }
            let mut new = Review {
                state: to,
                ..old.clone()
            };
            if outcome == ReviewOutcome::Cancelled {
                new.starts_at = None;
                new.ends_at = None;
                new.sequence += 1;
            }
            new.normalize().map_err(Into::into)
        })
        .await?;
        self.review_get(id, stamp(now)).await
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

    /// Notes that this desktop showed the review's reminder (local; not synced).
    pub async fn review_mark_reminded(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE reviews SET reminded_at = ?2 WHERE id = ?1")
            .bind(id.to_string())
            .bind(fmt_time(stamp(now)))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Sets the reminder lead time (Settings): 1 minute to 24 hours, else refused naming
    /// `reminder_minutes`.
    pub async fn review_reminder_minutes_set(&self, minutes: u32) -> Result<u32> {
        if !(1..=24 * 60).contains(&minutes) {
            return Err(StoreError::invalid(
                "reminder_minutes",
                format!("must be from 1 minute to 24 hours (1440), not {minutes}"),
            ));
        }
        sqlx::query(
            "INSERT INTO review_settings (key, value) VALUES ('reminder_minutes', ?1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(minutes.to_string())
        .execute(&self.writer)
        .await?;
        Ok(minutes)
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

// ---------------------------------------------------------------------------------------
// Reads shared with the health score and the sync engine.

/// One booked item that keeps a user busy: a session or a review, named for a message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Busy {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The session's or the review's id.
    pub id: Uuid,
    /// What it is, as a message names it: "your quarterly review with Acme".
    pub what: String,
}

impl Busy {
    pub fn slot(&self) -> Slot {
        Slot::new(self.start, self.end)
    }
}

/// The facilitator's booked reviews between `from` and `to`. The slot finders keep clear
/// of these and of onboarding sessions ([`busy_all`]).
pub(crate) async fn busy_reviews(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Busy>> {
    let rows = sqlx::query(
        "SELECT r.starts_at, r.ends_at, r.id, a.name FROM reviews r \
         JOIN accounts a ON a.id = r.account_id \
         WHERE r.deleted_at IS NULL AND r.rep_id = ?1 \
         AND r.state = 'scheduled' AND r.starts_at IS NOT NULL AND r.ends_at IS NOT NULL \
         AND r.starts_at < ?3 AND r.ends_at > ?2 ORDER BY r.starts_at",
    )
    .bind(user_id.to_string())
    .bind(fmt_time(from))
    .bind(fmt_time(to))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let name: String = r.try_get("name")?;
            Ok(Busy {
                start: crate::store::time_col(r, "starts_at")?,
                end: crate::store::time_col(r, "ends_at")?,
                id: uuid_col(r, "id")?,
                what: format!("your quarterly review with {name}"),
            })
        })
        .collect()
}

/// Everything that keeps the facilitator busy: their booked reviews and their onboarding
/// sessions. Both slot finders (reviews and onboarding) keep clear of it, and booking
/// either refuses to overlap it ([`refuse_clash`]).
pub(crate) async fn busy_all(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Busy>> {
    let mut busy = busy_reviews(&mut *conn, user_id, from, to).await?;
    busy.extend(crate::onboarding::busy_sessions(conn, user_id, from, to).await?);
    busy.sort();
    Ok(busy)
}

/// Refuses `start`–`end` for `user_id` when it overlaps one of their booked sessions or
/// reviews other than `itself` (the item being moved), naming the first one it meets, on
/// the user's clock (their profile's zone, UTC when unknown). Touching ends do not clash.
pub(crate) async fn refuse_clash(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    itself: Uuid,
) -> Result<()> {
    let wanted = Slot::new(start, end);
    let clash = busy_all(&mut *conn, user_id, start, end)
        .await?
        .into_iter()
        .find(|b| b.id != itself && b.slot().overlaps(&wanted));
    let Some(b) = clash else {
        return Ok(());
    };
    let zone: Tz = user_by_id(&mut *conn, user_id)
        .await?
        .and_then(|u| u.time_zone.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let (from, to) = (b.start.with_timezone(&zone), b.end.with_timezone(&zone));
    let to_fmt = if from.date_naive() == to.date_naive() {
        "%H:%M"
    } else {
        "%a %-d %b %H:%M"
    };
    Err(StoreError::invalid(
        "start",
        format!(
            "overlaps {} on {}–{} ({zone}); pick a free slot",
            b.what,
            from.format("%a %-d %b %H:%M"),
            to.format(to_fmt),
        ),
    ))
}

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

// ---------------------------------------------------------------------------------------
// The row.

/// A review: its completion and sentiment are parts of the account's health score; its
/// reminder (`reminded_at`) is kept unless its session moved, so a moved review is reminded
/// again.
impl Synced for Review {
    const KIND: EntityKind = EntityKind::Review;

    crate::entity::id_field!();

    async fn load(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Self>> {
        review_by_id(conn, id).await
    }

    async fn save(conn: &mut SqliteConnection, r: &Self, now: DateTime<Utc>) -> Result<()> {
        upsert_row(conn, r, now).await
    }

    /// Kept as a soft-deleted row.
    async fn remove(conn: &mut SqliteConnection, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE reviews SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL")
            .bind(id.to_string())
            .bind(fmt_time(stamp(at)))
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn effects(conn: &mut SqliteConnection, r: &Self, now: DateTime<Utc>) -> Result<()> {
        rescore(conn, r.account_id, now).await
    }
}

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

// ---------------------------------------------------------------------------------------
// Helpers.

const REVIEW_COLUMNS: &str = "id, account_id, fiscal_year, quarter, fy_start_month, state, \
    rep_id, starts_at, ends_at, time_zone, meeting_link, checklist, findings, action_items, \
    sentiment, sequence, completed_at";

fn review_from_row(row: &SqliteRow) -> Result<Review> {
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

async fn live_review(conn: &mut SqliteConnection, id: Uuid) -> Result<Review> {
    one_by_id(
        conn,
        format!("SELECT {REVIEW_COLUMNS} FROM reviews WHERE id = ?1 AND deleted_at IS NULL"),
        id,
        "review",
        review_from_row,
    )
    .await
}

async fn quarters_with_reviews(
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

async fn view(
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
async fn board_rows(
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

fn tz(name: &str, field: &str) -> Result<Tz> {
    name.parse()
        .map_err(|_| StoreError::invalid(field, format!("{name:?} is not an IANA time zone")))
}

fn account_quarter(account: &Account, now: DateTime<Utc>) -> Result<Quarter> {
    quarter_of(
        now,
        tz(&account.time_zone, "time_zone")?,
        account.fiscal_year_start_month,
    )
    .map_err(fe)
}

/// The quarter the review belongs to, on the calendar it was made on.
fn review_quarter(r: &Review) -> Result<Quarter> {
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

fn shift(mut q: Quarter, offset: i32) -> Quarter {
    for _ in 0..offset.unsigned_abs().min(400) {
        q = if offset > 0 { q.next() } else { q.previous() };
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_domain::AccountInput;
    use rapport_domain::review::{ActionStatus, CheckItem};

    use crate::testing::t0;

    fn account(name: &str, plan: Plan) -> AccountInput {
        crate::testing::account_input(name, plan, "America/New_York")
    }

    async fn setup() -> (Store, User, Account) {
        let store = Store::open_in_memory().await.unwrap();
        let me = store
            .profile_create(crate::testing::rep_input(), t0())
            .await
            .unwrap();
        let mut input = account("Acme", Plan::ProfessionalSupport);
        input.account_rep_id = Some(me.id);
        let acme = store.account_create(input, t0()).await.unwrap();
        (store, me, acme)
    }

    #[tokio::test]
    async fn the_board_moves_as_a_review_is_requested_booked_and_completed() {
        let (store, me, acme) = setup().await;
        store
            .account_create(account("Standard Co", Plan::Standard), t0())
            .await
            .unwrap();
        let board = store
            .quarter_board(1, &BoardFilter::default(), t0())
            .await
            .unwrap();
        assert_eq!(
            board.rows.len(),
            1,
            "standard accounts are not on the board"
        );
        assert_eq!(
            board.rows[0].quarter_label, "2027 Q1",
            "New York's next quarter"
        );
        assert_eq!(board.counts.due, 1);

        let review = store.review_create(acme.id, 1, t0()).await.unwrap();
        assert_eq!(review.review.state, ReviewState::Requested);
        assert_eq!(
            review.review.id,
            review_id(
                acme.id,
                1,
                QuarterKey {
                    fiscal_year: 2027,
                    q: 1
                }
            ),
            "the quarter's deterministic id"
        );
        let board = store
            .quarter_board(1, &BoardFilter::default(), t0())
            .await
            .unwrap();
        assert_eq!((board.counts.due, board.counts.requested), (0, 1));

        let slots = store.review_slots(review.review.id, t0()).await.unwrap();
        assert!(!slots.is_empty(), "slots are offered in 2027 Q1");
        let q = review_quarter(&review.review).unwrap();
        assert!(
            slots.iter().all(|s| q.contains(s.start)),
            "inside the quarter"
        );
        let slot = slots[0];
        let booked = store
            .review_book(
                review.review.id,
                slot.start,
                slot.end,
                Some("https://zoom.us/j/123".into()),
                t0(),
            )
            .await
            .unwrap();
        assert_eq!(booked.review.state, ReviewState::Scheduled);
        assert_eq!(booked.review.sequence, 1);
        let board = store
            .quarter_board(
                1,
                &BoardFilter {
                    rep_id: Some(me.id),
                    team_id: None,
                },
                t0(),
            )
            .await
            .unwrap();
        assert_eq!((board.counts.requested, board.counts.scheduled), (0, 1));
        let mut beta = account("Beta", Plan::ProfessionalSupport);
        beta.account_rep_id = Some(me.id);
        let beta = store.account_create(beta, t0()).await.unwrap();
        let beta_review = store.review_create(beta.id, 1, t0()).await.unwrap();
        let next = store
            .review_slots(beta_review.review.id, t0())
            .await
            .unwrap();
        assert!(!next.is_empty());
        assert!(
            next.iter()
                .all(|s| s.start >= slot.end + TimeDelta::minutes(15) || s.end <= slot.start),
            "my booked review is busy time (with its buffer)"
        );
        let clash = store
            .review_book(beta_review.review.id, slot.start, slot.end, None, t0())
            .await
            .unwrap_err();
        assert_eq!(clash.field(), Some("start"), "a double booking is refused");
        let ics = store.review_ics(review.review.id, t0()).await.unwrap();
        assert!(
            ics.content.contains("METHOD:REQUEST") && ics.content.contains("SEQUENCE:1"),
            "{ics:?}"
        );
        assert_eq!(
            ics.file_name,
            format!("review-acme-{}.ics", slot.start.format("%Y-%m-%d")),
            "named like an onboarding invitation: what, whose, which day"
        );

        // Too early to complete it.
        let early = store
            .review_complete(review.review.id, None, t0())
            .await
            .unwrap_err();
        assert_eq!(early.field(), Some("state"));
        let done = store
            .review_complete(review.review.id, None, slot.start + TimeDelta::minutes(30))
            .await
            .unwrap();
        assert_eq!(done.review.state, ReviewState::Completed);
        let board = store
            // In January, 2027 Q1 is this quarter.
            .quarter_board(
                0,
                &BoardFilter::default(),
                slot.start + TimeDelta::minutes(30),
            )
            .await
            .unwrap();
        assert_eq!(
            (board.counts.done, board.counts.requested),
            (1, 1),
            "Acme done, Beta asked"
        );
    }

    #[tokio::test]
    async fn the_board_filters_by_the_team_sync_recorded_for_each_account() {
        let (store, me, acme) = setup().await;
        let globex = store
            .account_create(account("Globex", Plan::ProfessionalSupport), t0())
            .await
            .unwrap();
        let never_synced = store
            .account_create(account("Initech", Plan::ProfessionalSupport), t0())
            .await
            .unwrap();
        let board = store
            .quarter_board(0, &BoardFilter::default(), t0())
            .await
            .unwrap();
        assert!(board.teams.is_empty(), "no team known before sign-in");
        assert_eq!(board.rows.len(), 3);

        // Sign-in stores my teams; the server's list replaces what was cached.
        let (east, west) = (Uuid::from_u128(0xea57), Uuid::from_u128(0x7e57));
        let gone = Uuid::from_u128(0x90e);
        for teams in [vec![(gone, "Gone")], vec![(west, "West"), (east, "East")]] {
            let me_wire = rapport_domain::sync::Me {
                user: me.clone(),
                teams: teams
                    .into_iter()
                    .map(|(id, name)| rapport_domain::sync::TeamRef {
                        id,
                        name: name.into(),
                    })
                    .collect(),
            };
            store
                .sync_signed_in("http://127.0.0.1:1", &me_wire)
                .await
                .unwrap();
        }
        let mut conn = store.writer.acquire().await.unwrap();
        for (id, team) in [(acme.id, east), (globex.id, west)] {
            sqlx::query(
                "INSERT INTO sync_versions (entity, id, team_id, version, deleted) \
                 VALUES ('account', ?1, ?2, 1, 0)",
            )
            .bind(id.to_string())
            .bind(team.to_string())
            .execute(&mut *conn)
            .await
            .unwrap();
        }
        // A note of Globex's in the east team does not put Globex there.
        sqlx::query(
            "INSERT INTO sync_versions (entity, id, team_id, version, deleted) \
             VALUES ('note', ?1, ?2, 1, 0)",
        )
        .bind(globex.id.to_string())
        .bind(east.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
        drop(conn);

        let names = |b: &QuarterBoard| {
            b.rows
                .iter()
                .map(|r| r.account_name.clone())
                .collect::<Vec<_>>()
        };
        let all = store
            .quarter_board(0, &BoardFilter::default(), t0())
            .await
            .unwrap();
        assert_eq!(
            all.teams
                .iter()
                .map(|t| (t.id, t.name.as_str()))
                .collect::<Vec<_>>(),
            vec![(east, "East"), (west, "West")],
            "my teams by name, the dropped one gone"
        );
        assert_eq!(names(&all), ["Acme", "Globex", "Initech"]);
        let filter = |team_id, rep_id| BoardFilter { rep_id, team_id };
        let board = store
            .quarter_board(0, &filter(Some(east), None), t0())
            .await
            .unwrap();
        assert_eq!(names(&board), ["Acme"]);
        assert_eq!(board.counts.due, 1, "counts follow the filter");
        let board = store
            .quarter_board(0, &filter(Some(west), None), t0())
            .await
            .unwrap();
        assert_eq!(names(&board), ["Globex"]);
        let board = store
            .quarter_board(0, &filter(Some(west), Some(me.id)), t0())
            .await
            .unwrap();
        assert!(board.rows.is_empty(), "team and rep filters combine");
        let board = store
            .quarter_board(0, &filter(Some(gone), None), t0())
            .await
            .unwrap();
        assert!(
            board.rows.iter().all(|r| r.account_id != never_synced.id) && board.rows.is_empty(),
            "an account never synced is in no team"
        );
    }

    #[tokio::test]
    async fn bad_input_is_refused_naming_the_field() {
        let (store, _me, acme) = setup().await;
        let standard = store
            .account_create(account("Standard Co", Plan::Standard), t0())
            .await
            .unwrap();
        let e = store.review_create(standard.id, 0, t0()).await.unwrap_err();
        assert_eq!(e.field(), Some("account_id"), "{e}");
        assert!(e.to_string().contains("standard plan"));
        store.review_create(acme.id, 0, t0()).await.unwrap();
        let twice = store.review_create(acme.id, 0, t0()).await.unwrap_err();
        assert_eq!(twice.field(), Some("quarter"), "{twice}");
        assert!(twice.to_string().contains("2026 Q4"));
        let outbox = store.outbox().await.unwrap();
        assert_eq!(
            outbox
                .iter()
                .filter(|m| m.entity == rapport_domain::sync::EntityKind::Review)
                .count(),
            1,
            "nothing saved for the refused ones"
        );
        let weights = rapport_domain::health::HealthWeights {
            sentiment: 50,
            ..Default::default()
        };
        let e = store.health_weights_set(weights, t0()).await.unwrap_err();
        assert_eq!(e.field(), Some("weights"), "{e}");
        assert_eq!(
            store.health_weights_get().await.unwrap(),
            rapport_domain::health::HealthWeights::default(),
            "the old weights stay"
        );
    }

    #[tokio::test]
    async fn a_held_health_check_with_an_action_item_moves_the_score() {
        let (store, _me, acme) = setup().await;
        // A customer for a year, never reviewed: the recency part scores low.
        let later = t0() + TimeDelta::days(20);
        let before = store.health_get(acme.id, later).await.unwrap();
        assert_eq!(
            before.current.score, None,
            "too new for any part to have data"
        );
        let r = store.review_create(acme.id, 0, later).await.unwrap();
        let start = later - TimeDelta::days(2);
        let mut checklist = default_checklist();
        checklist[0].done = true;
        checklist[0].findings = "usage up 20%".into();
        let saved = store
            .review_save(
                r.review.id,
                HealthCheckInput {
                    checklist,
                    findings: " Exports are slow ".into(),
                    action_items: vec![ActionItem {
                        id: Uuid::now_v7(),
                        title: "Add a read replica".into(),
                        owner: "Rita Rep".into(),
                        due: chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
                        status: ActionStatus::Open,
                    }],
                    sentiment: Some(4),
                },
                later,
            )
            .await
            .unwrap();
        assert_eq!(saved.review.findings, "Exports are slow");
        assert_eq!(saved.review.checklist[0].item, CheckItem::UsageReview);
        let done = store
            .review_complete(
                r.review.id,
                Some(Slot::new(start, start + TimeDelta::hours(1))),
                later,
            )
            .await
            .unwrap();
        assert_eq!(done.review.state, ReviewState::Completed);
        let h = store.health_get(acme.id, later).await.unwrap();
        assert_eq!(
            h.current.score,
            Some(89),
            "recency 100 at 20, sentiment 75 at 15: 3125/35"
        );
        assert!(
            h.history.len() >= 2,
            "a snapshot at each move: {:?}",
            h.history
        );
        assert_eq!(h.history.last().unwrap().score, Some(89));
        assert!(
            !store.health_refresh_all(later).await.unwrap().eq(&1),
            "no new snapshot while the score stands"
        );
        assert_eq!(
            store
                .health_refresh_all(later + TimeDelta::days(1))
                .await
                .unwrap(),
            1,
            "but one a day"
        );
        let bad = store
            .review_complete(
                r.review.id,
                Some(Slot::new(start, start + TimeDelta::hours(1))),
                later,
            )
            .await
            .unwrap_err();
        assert_eq!(bad.field(), Some("state"), "completed is final");
    }

    #[tokio::test]
    async fn the_outbox_fields_rebuild_the_same_row_elsewhere() {
        let (store, _me, acme) = setup().await;
        let r = store.review_create(acme.id, 1, t0()).await.unwrap();
        let slot = store.review_slots(r.review.id, t0()).await.unwrap()[0];
        store
            .review_book(r.review.id, slot.start, slot.end, None, t0())
            .await
            .unwrap();
        let other = Store::open_in_memory().await.unwrap();
        let mut conn = other.writer.acquire().await.unwrap();
        crate::accounts::insert_accounts(&mut conn, &[&acme])
            .await
            .unwrap();
        let mut fields = serde_json::Map::new();
        for m in store.outbox().await.unwrap() {
            if m.entity == rapport_domain::sync::EntityKind::Review {
                fields.extend(m.fields);
            }
        }
        crate::entity::apply_wire::<Review>(&mut conn, r.review.id, None, &fields, t0())
            .await
            .unwrap();
        let copy = review_by_id(&mut conn, r.review.id).await.unwrap().unwrap();
        let mine = store.review_get(r.review.id, t0()).await.unwrap().review;
        assert_eq!(copy, mine, "the pulled record is the same review");
        let merged = rapport_domain::sync::merge_fields(
            rapport_domain::sync::EntityKind::Review,
            None,
            &fields,
        )
        .unwrap();
        assert_eq!(
            merged["state"], "scheduled",
            "the server accepts what the client sends"
        );
        crate::entity::delete::<Review>(&mut conn, r.review.id, t0(), t0())
            .await
            .unwrap();
        drop(conn);
        assert!(matches!(
            other.review_get(r.review.id, t0()).await,
            Err(StoreError::NotFound { .. })
        ));
    }
    #[tokio::test]
    async fn a_reminder_is_due_once_in_the_minutes_before_the_start() {
        let (store, _me, acme) = setup().await;
        assert_eq!(
            store.review_reminder_minutes().await.unwrap(),
            15,
            "the default"
        );
        let e = store.review_reminder_minutes_set(0).await.unwrap_err();
        assert_eq!(e.field(), Some("reminder_minutes"));
        assert_eq!(store.review_reminder_minutes_set(30).await.unwrap(), 30);
        assert_eq!(store.review_reminder_minutes().await.unwrap(), 30, "kept");
        let r = store.review_create(acme.id, 1, t0()).await.unwrap();
        let slot = store.review_slots(r.review.id, t0()).await.unwrap()[0];
        store
            .review_book(r.review.id, slot.start, slot.end, None, t0())
            .await
            .unwrap();
        let at = |m: i64| slot.start - TimeDelta::minutes(m);
        assert!(
            store
                .review_reminders_due(15, at(16))
                .await
                .unwrap()
                .is_empty(),
            "not yet"
        );
        let due = store.review_reminders_due(15, at(15)).await.unwrap();
        assert_eq!(due.len(), 1, "15 minutes before");
        assert_eq!(due[0].account_name, "Acme");
        store
            .review_mark_reminded(r.review.id, at(15))
            .await
            .unwrap();
        assert!(
            store
                .review_reminders_due(15, at(10))
                .await
                .unwrap()
                .is_empty(),
            "shown once, also after a restart (it is recorded)"
        );
        // Rebooked: the new time gets its own reminder.
        let later = store.review_slots(r.review.id, t0()).await.unwrap();
        let other = later
            .iter()
            .find(|s| s.start != slot.start)
            .copied()
            .unwrap();
        store
            .review_book(r.review.id, other.start, other.end, None, t0())
            .await
            .unwrap();
        let due = store
            .review_reminders_due(15, other.start - TimeDelta::minutes(5))
            .await
            .unwrap();
        assert_eq!(due.len(), 1, "a moved session is reminded again");
        assert!(
            store
                .review_reminders_due(15, other.start)
                .await
                .unwrap()
                .is_empty(),
            "no reminder once it started"
        );
    }

    /// 2026-12-31 23:30 UTC: already 2027-01-01 13:30 in Kiritimati, still 2026-12-31
    /// 12:30 in Pago Pago. Each account's board reads its own calendar.
    #[tokio::test]
    async fn the_board_reads_each_account_s_own_quarter_at_the_year_s_edge() {
        let (store, _me, _acme) = setup().await;
        let edge = DateTime::parse_from_rfc3339("2026-12-31T23:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for (name, zone) in [
            ("East", "Pacific/Kiritimati"),
            ("West", "Pacific/Pago_Pago"),
        ] {
            store
                .account_create(
                    AccountInput {
                        time_zone: zone.into(),
                        ..account(name, Plan::ProfessionalSupport)
                    },
                    t0(),
                )
                .await
                .unwrap();
        }
        let board = store
            .quarter_board(0, &BoardFilter::default(), edge)
            .await
            .unwrap();
        let row = |n: &str| board.rows.iter().find(|r| r.account_name == n).unwrap();
        assert_eq!(
            (row("East").quarter_label.as_str(), row("East").column),
            ("2027 Q1", BoardColumn::Due),
            "Kiritimati's new quarter has just begun"
        );
        assert_eq!(
            (row("West").quarter_label.as_str(), row("West").column),
            ("2026 Q4", BoardColumn::Overdue),
            "Pago Pago's quarter ends in 11½ hours without a review"
        );
        let prev = store
            .quarter_board(-1, &BoardFilter::default(), edge)
            .await
            .unwrap();
        let east_prev = prev.rows.iter().find(|r| r.account_name == "East").unwrap();
        assert_eq!(
            (east_prev.quarter_label.as_str(), east_prev.column),
            ("2026 Q4", BoardColumn::Overdue),
            "ended without a completed review"
        );
    }
    #[tokio::test]
    async fn onboarding_sessions_are_busy_time_and_feed_the_score() {
        let (store, _me, acme) = setup().await;
        let r = store.review_create(acme.id, 1, t0()).await.unwrap();
        let first = store.review_slots(r.review.id, t0()).await.unwrap()[0];
        store
            .onboarding_session_create(
                acme.id,
                crate::onboarding::NewSession {
                    start: first.start,
                    end: first.end,
                    attendee_ids: vec![],
                    meeting_link: None,
                },
                t0(),
            )
            .await
            .unwrap();
        let slots = store.review_slots(r.review.id, t0()).await.unwrap();
        assert!(
            slots.iter().all(|s| !s.overlaps(&first)),
            "my onboarding session is busy time: {slots:?}"
        );
        let clash = store
            .review_book(r.review.id, first.start, first.end, None, t0())
            .await
            .unwrap_err();
        assert_eq!(clash.field(), Some("start"));
        let mut conn = store.reader.acquire().await.unwrap();
        assert_eq!(
            crate::health::onboarding_input(&mut conn, acme.id)
                .await
                .unwrap(),
            Some(false),
            "a session booked, not yet held: onboarding not done"
        );
    }
}
