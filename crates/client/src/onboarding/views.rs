use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use rapport_domain::ics::{
    self, AttendeeRole, CalendarPerson, IcsAttendee, IcsEvent, IcsMethod, PartStat,
};
use rapport_domain::onboarding::{self, OnboardingSession, OnboardingStatus};
use rapport_domain::schedule::{self, Party, Slot, SlotOptions, SlotRequest};
use rapport_domain::{Contact, FieldError, Plan, ValidationErrors, WorkingHours};
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row, SqliteConnection};
use uuid::Uuid;

use crate::accounts::{account_by_id, user_by_id};
use crate::error::{Result, StoreError};
use crate::reviews::{Booked, Busy};
use crate::store::{Store, uuid_col};

use super::rows::{
    ROW_SELECT, SESSION_COLUMNS, account_contacts, my_rows_between, my_user, row_from_row,
    session_from_row, session_row, settings_in,
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

/// The facilitator's sessions that keep them busy (planned or scheduled). Reviews join
/// them in [`crate::reviews::busy_all`].
pub(crate) const BUSY_SESSIONS: Booked = Booked {
    sql: "SELECT s.starts_at, s.ends_at, s.id, a.name FROM onboarding_sessions s \
          JOIN accounts a ON a.id = s.account_id \
          WHERE s.facilitator_id = ?1 AND s.status IN ('planned', 'scheduled') \
          AND s.ends_at > ?2 AND s.starts_at < ?3 ORDER BY s.starts_at",
    what: "your onboarding session with",
};

pub(super) async fn ics_event(
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

/// The one naming policy of exported invitations (onboarding sessions and reviews): what it
/// is, whose, and the day, e.g. `review-bondi-analytics-2026-12-01.ics`.
pub(crate) fn ics_file_name(kind: &str, account_name: &str, start: DateTime<Utc>) -> String {
    format!(
        "{kind}-{}-{}.ics",
        file_slug(account_name),
        start.format("%Y-%m-%d")
    )
}

pub(super) fn file_slug(name: &str) -> String {
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

pub(super) fn zone(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        StoreError::Validation(ValidationErrors(vec![FieldError::new(
            "time_zone",
            format!("{name} is not a known IANA time zone"),
        )]))
    })
}

/// The first instant of `day` on the zone's clock (the earliest, if midnight repeats; the
/// first instant after the gap, if midnight is skipped).
pub(super) fn local_midnight(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let mut t = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..4 {
        if let Some(local) = tz.from_local_datetime(&t).earliest() {
            return local.with_timezone(&Utc);
        }
        t += TimeDelta::minutes(30);
    }
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

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
}
