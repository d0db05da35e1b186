use chrono::{DateTime, TimeDelta, Utc};
use rapport_domain::ValidationErrors;
use rapport_domain::links::LinkPolicy;
use rapport_domain::onboarding::{
    self, OnboardingSession, OnboardingSessionInput, OnboardingStatus, SessionContext,
};
use rapport_domain::schedule::{self};
use serde::{Deserialize, Serialize};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::accounts::account_by_id;
use crate::entity::record;
use crate::error::{Result, StoreError};
use crate::reviews::refuse_clash;
use crate::store::{Settings, Store, fmt_time, time_col, to_json, uuid_col};

use super::rows::{account_contacts, session_by_id, settings_in};
use super::views::OnboardingSettings;

/// Booking a slot: a new session on an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewSession {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub attendee_ids: Vec<Uuid>,
    pub meeting_link: Option<String>,
}

/// A reminder to show now (already recorded as shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueReminder {
    pub session_id: Uuid,
    pub account_name: String,
    pub starts_at: DateTime<Utc>,
    pub meeting_link: Option<String>,
}

pub(super) async fn check(
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

/// A session in this status holds its facilitator's time ([`super::BUSY_SESSIONS`]).
pub(super) fn keeps_busy(status: OnboardingStatus) -> bool {
    matches!(
        status,
        OnboardingStatus::Planned | OnboardingStatus::Scheduled
    )
}

impl Store {
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
        self.settings_put(
            Settings::Onboarding,
            &[
                ("agenda_template", to_json(&template)),
                ("reminder_minutes", settings.reminder_minutes.to_string()),
            ],
        )
        .await?;
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
        let taken = self.write(now, async |tx, me, now| {
            let minutes = settings_in(&mut *tx).await?.reminder_minutes;
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
            Ok(due)
        });
        match taken.await {
            // Nobody signed in: nobody to remind.
            Err(StoreError::NoProfile) => Ok(Vec::new()),
            other => other,
        }
    }
}
