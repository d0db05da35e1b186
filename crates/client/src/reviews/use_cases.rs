use chrono::{DateTime, Utc};
use rapport_domain::links::LinkPolicy;
use rapport_domain::review::{
    ActionItem, ChecklistEntry, QuarterKey, Review, ReviewState, check_completion,
    check_held_session, check_new_review, check_review_booking, check_review_transition,
    default_checklist, review_id,
};
use rapport_domain::schedule::Slot;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::accounts::account_by_id;
use crate::entity::record;
use crate::error::{Result, StoreError};
use crate::store::{Settings, Store, fmt_time, stamp};

use super::busy::refuse_clash;
use super::rows::{live_review, review_by_id};
use super::views::{ReviewView, account_quarter, fe, quarters_with_reviews, review_quarter, shift};

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

/// How long a review session lasts when booked from the board.
pub const REVIEW_MINUTES: u32 = 60;

impl Store {
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
        self.settings_put(
            Settings::Review,
            &[("reminder_minutes", minutes.to_string())],
        )
        .await?;
        Ok(minutes)
    }
}
