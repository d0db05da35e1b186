//! Onboarding sessions: the board, the session page, the week calendar, Today's sessions,
//! the slot search, the calendar export, the local settings (agenda template, reminder lead
//! time) and the reminders already shown. Every user write goes through [`record`].
//!
//! Decisions where the issue is silent:
//! - The facilitator of a new session is the local profile; the slot search uses the
//!   profile's zone and working hours.
//! - The customer's hours are the account's time zone with the default Mon–Fri 09:00–17:00,
//!   editable per search (the form's "customer hours"), since accounts and contacts carry no
//!   working hours of their own.
//! - A booked session starts `scheduled` (the invite is the next step); `planned` is a
//!   session taken back off the calendar (`scheduled → planned`).
//! - Completing a session is what marks the account's onboarding done: the account page
//!   derives it from its sessions (`rapport_domain::onboarding::onboarding_done`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use rapport_domain::ics::{
    self, AttendeeRole, CalendarPerson, IcsAttendee, IcsEvent, IcsMethod, PartStat,
};
use rapport_domain::links::LinkPolicy;
use rapport_domain::onboarding::{
    self, OnboardingSession, OnboardingSessionInput, OnboardingStatus, SessionContext,
};
use rapport_domain::schedule::{self, Party, Slot, SlotOptions, SlotRequest};
use rapport_domain::sync::EntityKind;
use rapport_domain::{Contact, FieldError, Plan, User, ValidationErrors, WorkingHours};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row, SqliteConnection};
use uuid::Uuid;

use crate::accounts::{account_by_id, user_by_id};
use crate::entity::{Synced, found, record};
use crate::error::{Result, StoreError};
use crate::health::rescore;
use crate::notes::{CONTACT_COLUMNS, contact_from_row};
use crate::reviews::{Busy, refuse_clash};
use crate::store::{
    Store, fmt_time, json_col, one_by_id, plan_col, stamp, time_col, to_json, uuid_col,
};

/// Default minutes before a session for its reminder.
pub const DEFAULT_REMINDER_MINUTES: u32 = 15;

/// One session with what a list shows beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionRow {
    pub session: OnboardingSession,
    pub account_name: String,
    pub account_plan: Plan,
    pub facilitator_name: Option<String>,
    /// The facilitator's zone (`null` when the user is unknown here).
    pub facilitator_time_zone: Option<String>,
}

/// A Professional Support account with no onboarding done or on its way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountToOnboard {
    pub id: Uuid,
    pub name: String,
    pub time_zone: String,
}

/// The board: every session (grouped by status in the UI) and the accounts to flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnboardingBoard {
    pub sessions: Vec<SessionRow>,
    pub needs_onboarding: Vec<AccountToOnboard>,
}

/// The session page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionDetail {
    pub row: SessionRow,
    /// The account's live contacts: the attendees are chosen among them.
    pub contacts: Vec<Contact>,
    /// The local profile's zone (the other clock shown beside the customer's).
    pub my_time_zone: String,
}

/// The onboarding block of an account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountOnboarding {
    pub account_id: Uuid,
    pub plan: Plan,
    pub time_zone: String,
    /// One of its sessions is completed.
    pub done: bool,
    /// Professional Support with nothing done or on its way.
    pub needs_onboarding: bool,
    /// Latest first.
    pub sessions: Vec<OnboardingSession>,
}

/// My sessions in one week (Monday to Monday on my clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WeekView {
    /// The Monday, on my clock.
    pub week_start: NaiveDate,
    pub my_time_zone: String,
    pub sessions: Vec<SessionRow>,
}

/// The "find a slot" form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlotQuery {
    pub length_minutes: u32,
    pub count: u32,
    /// The customer's working hours for this search, minutes after local midnight
    /// (default 09:00–17:00 in the account's zone).
    pub customer_start_minute: u16,
    pub customer_end_minute: u16,
}

/// Booking a slot: a new session on an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewSession {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub attendee_ids: Vec<Uuid>,
    pub meeting_link: Option<String>,
}

/// The local onboarding settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnboardingSettings {
    pub agenda_template: Vec<String>,
    pub reminder_minutes: u32,
}

/// A calendar file to write: its suggested name and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IcsFile {
    pub file_name: String,
    pub content: String,
}

/// A reminder to show now (already recorded as shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueReminder {
    pub session_id: Uuid,
    pub account_name: String,
    pub starts_at: DateTime<Utc>,
    pub meeting_link: Option<String>,
}

const SESSION_COLUMNS: &str = "s.id, s.account_id, s.facilitator_id, s.attendee_ids, \
    s.starts_at, s.ends_at, s.time_zone, s.meeting_link, s.agenda, s.status, s.outcome, \
    s.follow_ups, s.sequence, s.created_at, s.updated_at";

const ROW_SELECT: &str = "SELECT s.id, s.account_id, s.facilitator_id, s.attendee_ids, \
    s.starts_at, s.ends_at, s.time_zone, s.meeting_link, s.agenda, s.status, s.outcome, \
    s.follow_ups, s.sequence, s.created_at, s.updated_at, a.name AS account_name, a.plan, \
    u.name AS facilitator_name, u.time_zone AS facilitator_time_zone \
    FROM onboarding_sessions s JOIN accounts a ON a.id = s.account_id \
    LEFT JOIN users u ON u.id = s.facilitator_id";

impl Store {
    /// Every session, soonest first, and the Professional Support accounts to onboard.
    pub async fn onboarding_board(&self) -> Result<OnboardingBoard> {
        let mut conn = self.reader.acquire().await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{ROW_SELECT} ORDER BY s.starts_at, s.seq"
        )))
        .fetch_all(&mut *conn)
        .await?;
        let sessions = rows.iter().map(row_from_row).collect::<Result<Vec<_>>>()?;
        let flagged = sqlx::query(
            "SELECT a.id, a.name, a.time_zone FROM accounts a \
             WHERE a.plan = 'professional_support' AND NOT EXISTS ( \
               SELECT 1 FROM onboarding_sessions s WHERE s.account_id = a.id \
               AND s.status IN ('planned', 'scheduled', 'completed')) \
             ORDER BY a.name_key, a.id",
        )
        .fetch_all(&mut *conn)
        .await?;
        let needs_onboarding = flagged
            .iter()
            .map(|r| {
                Ok(AccountToOnboard {
                    id: uuid_col(r, "id")?,
                    name: r.try_get("name")?,
                    time_zone: r.try_get("time_zone")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(OnboardingBoard {
            sessions,
            needs_onboarding,
        })
    }

    /// One session with its account's contacts.
    pub async fn onboarding_session_get(&self, id: Uuid) -> Result<SessionDetail> {
        let mut conn = self.reader.acquire().await?;
        let me = my_user(&mut conn).await?;
        let row = session_row(&mut conn, id).await?;
        let contacts = account_contacts(&mut conn, row.session.account_id).await?;
        Ok(SessionDetail {
            row,
            contacts,
            my_time_zone: me.time_zone,
        })
    }

    /// The onboarding block of an account page.
    pub async fn onboarding_for_account(&self, account_id: Uuid) -> Result<AccountOnboarding> {
        let mut conn = self.reader.acquire().await?;
        let account = account_by_id(&mut conn, account_id).await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM onboarding_sessions s WHERE s.account_id = ?1 \
             ORDER BY s.starts_at DESC, s.seq DESC"
        )))
        .bind(account_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
        let sessions = rows
            .iter()
            .map(session_from_row)
            .collect::<Result<Vec<_>>>()?;
        let statuses: Vec<OnboardingStatus> = sessions.iter().map(|s| s.status).collect();
        Ok(AccountOnboarding {
            account_id,
            plan: account.plan,
            time_zone: account.time_zone,
            done: onboarding::onboarding_done(&statuses),
            needs_onboarding: onboarding::needs_onboarding(account.plan, &statuses),
            sessions,
        })
    }

    /// The sessions I facilitate in the week holding `day` (my clock), or this week.
    pub async fn onboarding_week(
        &self,
        day: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<WeekView> {
        let mut conn = self.reader.acquire().await?;
        let me = my_user(&mut conn).await?;
        let tz = zone(&me.time_zone)?;
        let day = day.unwrap_or_else(|| now.with_timezone(&tz).date_naive());
        let week_start = day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday()));
        let from = local_midnight(tz, week_start);
        let to = local_midnight(tz, week_start + TimeDelta::days(7));
        let sessions = my_rows_between(&mut conn, me.id, from, to).await?;
        Ok(WeekView {
            week_start,
            my_time_zone: me.time_zone,
            sessions,
        })
    }

    /// The sessions I facilitate today (my clock), cancelled ones left out.
    pub async fn onboarding_today(&self, now: DateTime<Utc>) -> Result<Vec<SessionRow>> {
        let mut conn = self.reader.acquire().await?;
        let me = my_user(&mut conn).await?;
        let tz = zone(&me.time_zone)?;
        let today = now.with_timezone(&tz).date_naive();
        let from = local_midnight(tz, today);
        let to = local_midnight(tz, today + TimeDelta::days(1));
        let rows = my_rows_between(&mut conn, me.id, from, to).await?;
        Ok(rows
            .into_iter()
            .filter(|r| r.session.status != OnboardingStatus::Cancelled)
            .collect())
    }

    /// The next free slots for a session with `account_id`'s customer, inside my working
    /// hours and the customer's (the account's zone, the hours of the query), clear of my
    /// other sessions and reviews (`reviews::busy_all`) with the default buffer and notice.
    pub async fn onboarding_slots(
        &self,
        account_id: Uuid,
        query: SlotQuery,
        now: DateTime<Utc>,
    ) -> Result<Vec<Slot>> {
        let mut conn = self.reader.acquire().await?;
        let me = my_user(&mut conn).await?;
        let account = account_by_id(&mut conn, account_id).await?;
        let options = SlotOptions {
            length_minutes: query.length_minutes,
            count: query.count,
            ..SlotOptions::default()
        };
        let horizon = now + TimeDelta::days(i64::from(options.horizon_days) + 1);
        let busy = crate::reviews::busy_all(&mut conn, me.id, now - TimeDelta::days(1), horizon)
            .await?
            .iter()
            .map(Busy::slot)
            .collect();
        let request = SlotRequest {
            customer: Party {
                time_zone: zone(&account.time_zone)?,
                hours: WorkingHours {
                    start_minute: query.customer_start_minute,
                    end_minute: query.customer_end_minute,
                    ..WorkingHours::default()
                },
            },
            facilitator: Party {
                time_zone: zone(&me.time_zone)?,
                hours: me.working_hours.clone(),
            },
            busy,
            options,
            now,
        };
        Ok(schedule::next_free_slots(&request)?)
    }

    /// Books a session on an account, facilitated by me, with the agenda template.
    pub async fn onboarding_session_create(
        &self,
        account_id: Uuid,
        new: NewSession,
        now: DateTime<Utc>,
    ) -> Result<OnboardingSession> {
        self.write(now, async |tx, me, now| {
            let account = account_by_id(tx, account_id).await?;
            let template = settings_in(tx).await?.agenda_template;
            let input = OnboardingSessionInput {
                account_id,
                facilitator_id: me,
                attendee_contact_ids: new.attendee_ids,
                start: new.start,
                end: new.end,
                customer_time_zone: account.time_zone,
                meeting_link: new.meeting_link,
                agenda: onboarding::agenda_from_template(&template),
                outcome: String::new(),
                follow_ups: Vec::new(),
            };
            let input = check(tx, input, now, None).await?;
            let id = Uuid::now_v7();
            refuse_clash(tx, me, input.start, input.end, id).await?;
            let session = OnboardingSession {
                id,
                account_id,
                facilitator_id: me,
                attendee_ids: input.attendee_contact_ids,
                starts_at: input.start,
                ends_at: input.end,
                time_zone: input.customer_time_zone,
                meeting_link: input.meeting_link,
                agenda: input.agenda,
                status: OnboardingStatus::Scheduled,
                outcome: input.outcome,
                follow_ups: input.follow_ups,
                sequence: 0,
                created_at: now,
                updated_at: now,
            };
            record(tx, None, &session, now).await?;
            Ok(session)
        })
        .await
    }

    /// Applies the whole session form (times, attendees, link, agenda, outcome,
    /// follow-ups). The account and the facilitator stay those stored.
    pub async fn onboarding_session_update(
        &self,
        id: Uuid,
        input: OnboardingSessionInput,
        now: DateTime<Utc>,
    ) -> Result<OnboardingSession> {
        self.write(now, async |tx, _, now| {
            let old = session_by_id(tx, id).await?;
            let input = OnboardingSessionInput {
                account_id: old.account_id,
                facilitator_id: old.facilitator_id,
                ..input
            };
            let input = check(tx, input, now, Some((old.starts_at, old.ends_at))).await?;
            let moved = (input.start, input.end) != (old.starts_at, old.ends_at);
            if moved && keeps_busy(old.status) {
                refuse_clash(tx, old.facilitator_id, input.start, input.end, id).await?;
            }
            let new = old.with_input(input, now);
            record(tx, Some(&old), &new, now).await?;
            Ok(new)
        })
        .await
    }

    /// Moves a session along `planned → scheduled → completed | cancelled | no_show`.
    /// A cancellation or a rebooking is news to the attendees: the sequence grows.
    pub async fn onboarding_session_set_status(
        &self,
        id: Uuid,
        status: OnboardingStatus,
        now: DateTime<Utc>,
    ) -> Result<OnboardingSession> {
        self.write(now, async |tx, _, now| {
            let old = session_by_id(tx, id).await?;
            let checked = if status == OnboardingStatus::Completed {
                onboarding::check_completion(old.status, old.starts_at, now)
            } else {
                onboarding::check_onboarding_transition(old.status, status)
            };
            checked.map_err(|e| StoreError::Validation(ValidationErrors(vec![e])))?;
            if keeps_busy(status) && !keeps_busy(old.status) {
                // Back on the calendar (after a no-show): its time must still be free.
                refuse_clash(tx, old.facilitator_id, old.starts_at, old.ends_at, id).await?;
            }
            let news = matches!(
                status,
                OnboardingStatus::Cancelled | OnboardingStatus::Scheduled
            );
            let new = OnboardingSession {
                status,
                sequence: old.sequence + u32::from(news),
                updated_at: now,
                ..old.clone()
            };
            record(tx, Some(&old), &new, now).await?;
            Ok(new)
        })
        .await
    }

    /// One session as an iCalendar invitation (`METHOD:REQUEST`), or a cancellation
    /// (`METHOD:CANCEL`) once it is cancelled.
    pub async fn onboarding_session_ics(&self, id: Uuid, now: DateTime<Utc>) -> Result<IcsFile> {
        let mut conn = self.reader.acquire().await?;
        let minutes = settings_in(&mut conn).await?.reminder_minutes;
        let row = session_row(&mut conn, id).await?;
        let event = ics_event(&mut conn, &row, minutes).await?;
        let method = if row.session.status == OnboardingStatus::Cancelled {
            IcsMethod::Cancel
        } else {
            IcsMethod::Request
        };
        Ok(IcsFile {
            file_name: ics_file_name("onboarding", &row.account_name, row.session.starts_at),
            content: ics::event_calendar(&event, method, now),
        })
    }

    /// My sessions of the week holding `day` (cancelled ones left out) as one calendar.
    pub async fn onboarding_week_ics(
        &self,
        day: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<IcsFile> {
        let week = self.onboarding_week(day, now).await?;
        let mut conn = self.reader.acquire().await?;
        let minutes = settings_in(&mut conn).await?.reminder_minutes;
        let mut events = Vec::new();
        for row in week
            .sessions
            .iter()
            .filter(|r| r.session.status != OnboardingStatus::Cancelled)
        {
            events.push(ics_event(&mut conn, row, minutes).await?);
        }
        Ok(IcsFile {
            file_name: format!("onboarding-week-{}.ics", week.week_start),
            content: ics::week_calendar(&events, now),
        })
    }

    /// "Copy invite": the plain-text invitation, with the customer's and my local times.
    pub async fn onboarding_invite_text(&self, id: Uuid) -> Result<String> {
        let mut conn = self.reader.acquire().await?;
        let me = my_user(&mut conn).await?;
        let row = session_row(&mut conn, id).await?;
        let event = ics_event(&mut conn, &row, 0).await?;
        Ok(ics::invite_text(
            &event,
            zone(&me.time_zone)?,
            zone(&row.session.time_zone)?,
        ))
    }

    pub async fn onboarding_settings_get(&self) -> Result<OnboardingSettings> {
        let mut conn = self.reader.acquire().await?;
        settings_in(&mut conn).await
    }

    /// Saves the agenda template (for sessions booked from now on) and the reminder lead
    /// time. Local to this desktop: no outbox entry.
    pub async fn onboarding_settings_set(
        &self,
        settings: OnboardingSettings,
    ) -> Result<OnboardingSettings> {
        let template = onboarding::normalize_agenda_template(&settings.agenda_template)
            .map_err(|e| StoreError::Validation(ValidationErrors(vec![e])))?;
        if !(1..=24 * 60).contains(&settings.reminder_minutes) {
            return Err(StoreError::invalid(
                "reminder_minutes",
                "must be from 1 minute to 24 hours",
            ));
        }
        let mut tx = self.writer.begin().await?;
        for (key, value) in [
            ("agenda_template", to_json(&template)),
            ("reminder_minutes", settings.reminder_minutes.to_string()),
        ] {
            sqlx::query(
                "INSERT INTO onboarding_settings (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(OnboardingSettings {
            agenda_template: template,
            reminder_minutes: settings.reminder_minutes,
        })
    }

    /// The reminders to show now for sessions I facilitate (scheduled, starting within
    /// the lead time), each recorded as shown in the same transaction, so a reminder shows
    /// once, even across restarts. Works on the cache alone.
    pub async fn onboarding_take_due_reminders(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<DueReminder>> {
        let now = stamp(now);
        let mut tx = self.writer.begin().await?;
        let Ok(me) = Store::me(&mut tx).await else {
            return Ok(Vec::new());
        };
        let minutes = settings_in(&mut tx).await?.reminder_minutes;
        let until = now + TimeDelta::minutes(i64::from(minutes));
        let rows = sqlx::query(
            "SELECT s.id, s.starts_at, s.meeting_link, a.name AS account_name \
             FROM onboarding_sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.facilitator_id = ?1 AND s.status = 'scheduled' \
             AND s.starts_at > ?2 AND s.starts_at <= ?3 \
             AND NOT EXISTS (SELECT 1 FROM onboarding_reminders r \
               WHERE r.session_id = s.id AND r.starts_at = s.starts_at) \
             ORDER BY s.starts_at",
        )
        .bind(me.to_string())
        .bind(fmt_time(now))
        .bind(fmt_time(until))
        .fetch_all(&mut *tx)
        .await?;
        let mut due = Vec::new();
        for r in &rows {
            let starts_at = time_col(r, "starts_at")?;
            if !schedule::reminder_due(starts_at, minutes, now, false) {
                continue;
            }
            let session_id = uuid_col(r, "id")?;
            sqlx::query(
                "INSERT INTO onboarding_reminders (session_id, starts_at, shown_at) \
                 VALUES (?1, ?2, ?3)",
            )
            .bind(session_id.to_string())
            .bind(fmt_time(starts_at))
            .bind(fmt_time(now))
            .execute(&mut *tx)
            .await?;
            due.push(DueReminder {
                session_id,
                account_name: r.try_get("account_name")?,
                starts_at,
                meeting_link: r.try_get("meeting_link")?,
            });
        }
        tx.commit().await?;
        Ok(due)
    }
}

/// The facilitator's sessions between `from` and `to` that keep them busy (planned or
/// scheduled). Reviews join them in [`crate::reviews::busy_all`].
pub(crate) async fn busy_sessions(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Busy>> {
    let rows = sqlx::query(
        "SELECT s.starts_at, s.ends_at, s.id, a.name FROM onboarding_sessions s \
         JOIN accounts a ON a.id = s.account_id \
         WHERE s.facilitator_id = ?1 AND s.status IN ('planned', 'scheduled') \
         AND s.ends_at > ?2 AND s.starts_at < ?3 ORDER BY s.starts_at",
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
                start: time_col(r, "starts_at")?,
                end: time_col(r, "ends_at")?,
                id: uuid_col(r, "id")?,
                what: format!("your onboarding session with {name}"),
            })
        })
        .collect()
}

/// An onboarding session: its done state is a part of the account's health score; its
/// reminder is keyed by its start (`onboarding_reminders`), so a moved session is reminded
/// again.
impl Synced for OnboardingSession {
    const KIND: EntityKind = EntityKind::OnboardingSession;

    crate::entity::id_field!();

    async fn load(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Self>> {
        found(session_by_id(conn, id).await)
    }

    async fn save(conn: &mut SqliteConnection, s: &Self, _now: DateTime<Utc>) -> Result<()> {
        upsert_session(conn, s).await
    }

    async fn remove(conn: &mut SqliteConnection, id: Uuid, _at: DateTime<Utc>) -> Result<()> {
        sqlx::query("DELETE FROM onboarding_sessions WHERE id = ?1")
            .bind(id.to_string())
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn effects(conn: &mut SqliteConnection, s: &Self, now: DateTime<Utc>) -> Result<()> {
        rescore(conn, s.account_id, now).await
    }
}

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

async fn check(
    conn: &mut SqliteConnection,
    input: OnboardingSessionInput,
    now: DateTime<Utc>,
    stored_times: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<OnboardingSessionInput> {
    let contacts: Vec<Uuid> = account_contacts(conn, input.account_id)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let policy = LinkPolicy::default();
    let ctx = SessionContext {
        account_contact_ids: &contacts,
        link_policy: &policy,
        now,
        stored_times,
    };
    Ok(input.normalize(&ctx)?)
}

/// A session in this status holds its facilitator's time ([`busy_sessions`]).
fn keeps_busy(status: OnboardingStatus) -> bool {
    matches!(
        status,
        OnboardingStatus::Planned | OnboardingStatus::Scheduled
    )
}

async fn settings_in(conn: &mut SqliteConnection) -> Result<OnboardingSettings> {
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

async fn my_user(conn: &mut SqliteConnection) -> Result<User> {
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

async fn session_row(conn: &mut SqliteConnection, id: Uuid) -> Result<SessionRow> {
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

async fn my_rows_between(
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

async fn account_contacts(conn: &mut SqliteConnection, account_id: Uuid) -> Result<Vec<Contact>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts c \
         WHERE c.account_id = ?1 AND c.deleted_at IS NULL ORDER BY c.name, c.id"
    )))
    .bind(account_id.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(contact_from_row).collect()
}

async fn ics_event(
    conn: &mut SqliteConnection,
    row: &SessionRow,
    alarm_minutes: u32,
) -> Result<IcsEvent> {
    let s = &row.session;
    let organizer = user_by_id(&mut *conn, s.facilitator_id).await?.map_or_else(
        || CalendarPerson {
            name: row.facilitator_name.clone().unwrap_or_default(),
            email: String::new(),
        },
        |u| CalendarPerson {
            name: u.name,
            email: u.email,
        },
    );
    let contacts = account_contacts(conn, s.account_id).await?;
    let attendees = s
        .attendee_ids
        .iter()
        .filter_map(|id| contacts.iter().find(|c| c.id == *id))
        .map(|c| IcsAttendee {
            name: c.name.clone(),
            email: c.email.clone(),
            role: AttendeeRole::ReqParticipant,
            partstat: PartStat::NeedsAction,
            rsvp: true,
        })
        .collect();
    let agenda: Vec<String> = s.agenda.iter().map(|a| format!("- {}", a.title)).collect();
    Ok(IcsEvent {
        id: s.id,
        sequence: s.sequence,
        start: s.starts_at,
        end: s.ends_at,
        summary: format!("Onboarding: {}", row.account_name),
        description: format!("Agenda:\n{}", agenda.join("\n")),
        meeting_link: s.meeting_link.clone(),
        organizer,
        attendees,
        cancelled: s.status == OnboardingStatus::Cancelled,
        alarm_minutes_before: (alarm_minutes > 0).then_some(alarm_minutes),
    })
}

/// Writes a calendar file into `dir` (created if needed), replacing an earlier export of
/// the same name; returns its path.
pub fn write_ics(dir: &Path, file: &IcsFile) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(&file.file_name);
    let tmp = dir.join(format!(".{}.tmp", file.file_name));
    std::fs::write(&tmp, file.content.as_bytes())?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// The one naming policy of exported invitations (onboarding sessions and reviews): what it
/// is, whose, and the day, e.g. `review-bondi-analytics-2026-12-01.ics`.
pub(crate) fn ics_file_name(kind: &str, account_name: &str, start: DateTime<Utc>) -> String {
    format!(
        "{kind}-{}-{}.ics",
        file_slug(account_name),
        start.format("%Y-%m-%d")
    )
}

fn file_slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "session".to_owned()
    } else {
        out
    }
}

fn zone(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        StoreError::Validation(ValidationErrors(vec![FieldError::new(
            "time_zone",
            format!("{name} is not a known IANA time zone"),
        )]))
    })
}

/// The first instant of `day` on the zone's clock (the earliest, if midnight repeats; the
/// first instant after the gap, if midnight is skipped).
fn local_midnight(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let mut t = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..4 {
        if let Some(local) = tz.from_local_datetime(&t).earliest() {
            return local.with_timezone(&Utc);
        }
        t += TimeDelta::minutes(30);
    }
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

fn session_from_row(row: &SqliteRow) -> Result<OnboardingSession> {
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

fn row_from_row(row: &SqliteRow) -> Result<SessionRow> {
    Ok(SessionRow {
        session: session_from_row(row)?,
        account_name: row.try_get("account_name")?,
        account_plan: plan_col(row)?,
        facilitator_name: row.try_get("facilitator_name")?,
        facilitator_time_zone: row.try_get("facilitator_time_zone")?,
    })
}

#[cfg(test)]
mod tests;
