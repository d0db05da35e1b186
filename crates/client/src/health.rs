//! The account health score: gathering its inputs from the cache, the weights setting, and
//! the score's history (snapshots, local to this desktop).
//!
//! Inputs and where they come from:
//! - open requests by severity, SLA misses in the last 90 days: [`request_inputs`], from
//!   the requests' histories (an account that never had a request, or no SLA result in the
//!   90 days, has no data for that part: it drops out and its weight is shared).
//! - onboarding done: [`onboarding_input`], from the account's onboarding sessions.
//! - review recency and the CSM's sentiment: the reviews of this module's sibling
//!   ([`crate::reviews`]); the sentiment is recorded with the health check.
//! - the customer-since date: the account's creation.
//!
//! A snapshot is stored whenever the score moves (every write that changes an input calls
//! [`refresh`] in its own transaction) and at least daily while the app runs (the desktop
//! calls [`Store::health_refresh_all`] at start and on a timer).

use chrono::{DateTime, TimeDelta, Utc};
use rapport_domain::health::{
    HealthBand, HealthInputs, HealthScore, HealthWeights, OpenRequestCounts, PartScore, SlaRecord,
    health_score, should_snapshot,
};
use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;
use uuid::Uuid;

use crate::accounts::account_by_id;
use crate::error::{Result, StoreError};
use crate::store::{Settings, Store, fmt_time, parse_time, put_settings, stamp, to_json};

/// One point of the trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HealthPoint {
    pub taken_at: DateTime<Utc>,
    pub score: Option<u8>,
    pub parts: Vec<PartScore>,
}

/// The account page's health panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HealthView {
    /// The score now, from the current inputs and weights.
    pub current: HealthScore,
    /// The stored snapshots, oldest first (the last 365 days).
    pub history: Vec<HealthPoint>,
    /// The score now minus the score 30 days ago (the last snapshot at or before then);
    /// `None` without both.
    pub change_30_days: Option<i32>,
}

/// The open requests by severity and the SLA record of the last 90 days, for the score
/// (see [`crate::requests::health_inputs`]).
pub(crate) async fn request_inputs(
    conn: &mut SqliteConnection,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(Option<OpenRequestCounts>, Option<SlaRecord>)> {
    crate::requests::health_inputs(conn, account_id, now).await
}

/// Whether the account's onboarding is done: `Some(true)` once one of its onboarding
/// sessions is completed, `Some(false)` while it has sessions but none completed, `None`
/// ("no data": the part drops out) when it has none.
pub(crate) async fn onboarding_input(
    conn: &mut SqliteConnection,
    account_id: Uuid,
) -> Result<Option<bool>> {
    let (sessions, completed): (i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(status = 'completed'), 0) FROM onboarding_sessions \
         WHERE account_id = ?1 AND status <> 'cancelled'",
    )
    .bind(account_id.to_string())
    .fetch_one(conn)
    .await?;
    Ok((sessions > 0).then_some(completed > 0))
}

/// Everything the score of `account_id` is computed from, at `now`.
pub(crate) async fn inputs(
    conn: &mut SqliteConnection,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<HealthInputs> {
    let account = account_by_id(&mut *conn, account_id).await?;
    let (open_requests, sla_last_90_days) = request_inputs(&mut *conn, account_id, now).await?;
    let onboarding_done = onboarding_input(&mut *conn, account_id).await?;
    let (last_completed_review, sentiment) =
        crate::reviews::review_inputs(&mut *conn, account_id).await?;
    Ok(HealthInputs {
        open_requests,
        sla_last_90_days,
        last_completed_review,
        customer_since: account.created_at,
        onboarding_done,
        sentiment,
    })
}

pub(crate) async fn weights(conn: &mut SqliteConnection) -> Result<HealthWeights> {
    let v: Option<String> =
        sqlx::query_scalar("SELECT value FROM review_settings WHERE key = 'health_weights'")
            .fetch_optional(conn)
            .await?;
    Ok(v.and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

async fn score_of(
    conn: &mut SqliteConnection,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<HealthScore> {
    let i = inputs(&mut *conn, account_id, now).await?;
    let w = weights(&mut *conn).await?;
    Ok(health_score(&i, &w, now)?)
}

/// Computes the account's score, stores a snapshot when it moved or the last one is a day
/// old (or there is none), and always brings what the accounts list shows (`health_latest`)
/// up to the score now, so the list and the account page agree. Returns whether a
/// snapshot was stored.
pub(crate) async fn refresh(
    conn: &mut SqliteConnection,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    let now = stamp(now);
    let score = score_of(&mut *conn, account_id, now).await?;
    let last: Option<(String, Option<i64>)> = sqlx::query_as(
        "SELECT taken_at, score FROM health_snapshots WHERE account_id = ?1 \
         ORDER BY taken_at DESC, seq DESC LIMIT 1",
    )
    .bind(account_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let last = match last {
        Some((at, s)) => Some((parse_time(&at)?, s.and_then(|s| u8::try_from(s).ok()))),
        None => None,
    };
    let stored = should_snapshot(last, score.score, now);
    if stored {
        store_snapshot(&mut *conn, account_id, now, &score).await?;
    }
    let change = change_30_days(&mut *conn, account_id, score.score, now).await?;
    sqlx::query(
        "INSERT INTO health_latest (account_id, score, change_30_days) VALUES (?1, ?2, ?3) \
         ON CONFLICT (account_id) DO UPDATE SET score = excluded.score, \
         change_30_days = excluded.change_30_days",
    )
    .bind(account_id.to_string())
    .bind(score.score.map(i64::from))
    .bind(change)
    .execute(&mut *conn)
    .await?;
    Ok(stored)
}

/// The score now minus the score 30 days ago (the last snapshot at or before then); `None`
/// without both.
async fn change_30_days(
    conn: &mut SqliteConnection,
    account_id: Uuid,
    score: Option<u8>,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let then: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT score FROM health_snapshots WHERE account_id = ?1 AND taken_at <= ?2 \
         ORDER BY taken_at DESC, seq DESC LIMIT 1",
    )
    .bind(account_id.to_string())
    .bind(fmt_time(now - TimeDelta::days(30)))
    .fetch_optional(conn)
    .await?;
    Ok(match (score, then.flatten()) {
        (Some(s), Some(t)) => Some(i64::from(s) - t),
        _ => None,
    })
}

/// The re-score after a write of one of the score's inputs (the `effects` of those kinds'
/// `crate::entity::Synced`): [`refresh`] when the account is in the cache, except that an
/// account never scored whose score still has no data stays unscored (a review requested,
/// a session cancelled: no point of "no data" in its history, nothing in the list).
pub(crate) async fn rescore(
    conn: &mut SqliteConnection,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    // A purge may take a child after its account.
    if !crate::entity::account_exists(&mut *conn, &account_id.to_string()).await? {
        return Ok(());
    }
    let scored: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM health_latest WHERE account_id = ?1")
            .bind(account_id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    if scored.is_none() && score_of(&mut *conn, account_id, now).await?.score.is_none() {
        return Ok(());
    }
    refresh(conn, account_id, now).await?;
    Ok(())
}

/// Stores one point of the account's history, taken at `at`.
pub(crate) async fn store_snapshot(
    conn: &mut SqliteConnection,
    account_id: Uuid,
    at: DateTime<Utc>,
    score: &HealthScore,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO health_snapshots (account_id, taken_at, score, band, parts, driver) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(account_id.to_string())
    .bind(fmt_time(stamp(at)))
    .bind(score.score.map(i64::from))
    .bind(score.band.map(band_str))
    .bind(to_json(&score.parts))
    .bind(score.driver.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

fn band_str(b: HealthBand) -> &'static str {
    match b {
        HealthBand::Healthy => "healthy",
        HealthBand::Neutral => "neutral",
        HealthBand::AtRisk => "at_risk",
    }
}

impl Store {
    /// The health panel of an account.
    pub async fn health_get(&self, account_id: Uuid, now: DateTime<Utc>) -> Result<HealthView> {
        let mut conn = self.reader.acquire().await?;
        let current = score_of(&mut conn, account_id, now).await?;
        let since = now - TimeDelta::days(365);
        let rows: Vec<(String, Option<i64>, String)> = sqlx::query_as(
            "SELECT taken_at, score, parts FROM health_snapshots \
             WHERE account_id = ?1 AND taken_at >= ?2 ORDER BY taken_at, seq",
        )
        .bind(account_id.to_string())
        .bind(fmt_time(since))
        .fetch_all(&mut *conn)
        .await?;
        let history = rows
            .into_iter()
            .map(|(at, score, parts)| {
                Ok(HealthPoint {
                    taken_at: parse_time(&at)?,
                    score: score.and_then(|s| u8::try_from(s).ok()),
                    parts: serde_json::from_str(&parts).map_err(|e| {
                        StoreError::invalid("parts", format!("a stored snapshot is malformed: {e}"))
                    })?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let change_30_days = change_30_days(&mut conn, account_id, current.score, now)
            .await?
            .and_then(|c| i32::try_from(c).ok());
        Ok(HealthView {
            current,
            history,
            change_30_days,
        })
    }

    /// The score's weights (Settings).
    pub async fn health_weights_get(&self) -> Result<HealthWeights> {
        let mut conn = self.reader.acquire().await?;
        weights(&mut conn).await
    }

    /// Saves the weights (refused, naming `weights`, unless they add up to 100) and
    /// re-scores every account, storing a snapshot where the score moved.
    pub async fn health_weights_set(
        &self,
        w: HealthWeights,
        now: DateTime<Utc>,
    ) -> Result<HealthWeights> {
        w.check()?;
        let mut tx = self.writer.begin().await?;
        put_settings(
            &mut tx,
            Settings::Review,
            &[("health_weights", to_json(&w))],
        )
        .await?;
        refresh_all(&mut tx, now).await?;
        tx.commit().await?;
        tracing::info!(?w, "health weights saved");
        Ok(w)
    }

    /// Scores every Professional Support account and stores the snapshots due (at start
    /// and on the desktop's timer: at least one a day). Returns how many were stored.
    pub async fn health_refresh_all(&self, now: DateTime<Utc>) -> Result<u32> {
        let mut tx = self.writer.begin().await?;
        let n = refresh_all(&mut tx, now).await?;
        tx.commit().await?;
        Ok(n)
    }
}

async fn refresh_all(conn: &mut SqliteConnection, now: DateTime<Utc>) -> Result<u32> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM accounts WHERE plan = 'professional_support'")
            .fetch_all(&mut *conn)
            .await?;
    let mut stored = 0;
    for id in ids {
        let id = Uuid::parse_str(&id).map_err(|_| StoreError::invalid("id", "not a UUID"))?;
        if refresh(&mut *conn, id, now).await? {
            stored += 1;
        }
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reviews::HealthCheckInput;
    use crate::views::{AccountQuery, AccountSort};
    use rapport_domain::Plan;
    use rapport_domain::review::default_checklist;
    use rapport_domain::schedule::Slot;

    use crate::testing::t0;

    async fn reviewed(store: &Store, name: &str, sentiment: Option<u8>) -> Uuid {
        let a = store
            .account_create(
                crate::testing::account_input(name, Plan::ProfessionalSupport, "Europe/Paris"),
                t0(),
            )
            .await
            .unwrap();
        if let Some(s) = sentiment {
            let r = store.review_create(a.id, 0, t0()).await.unwrap();
            store
                .review_save(
                    r.review.id,
                    HealthCheckInput {
                        checklist: default_checklist(),
                        findings: String::new(),
                        action_items: vec![],
                        sentiment: Some(s),
                    },
                    t0(),
                )
                .await
                .unwrap();
            let start = t0() - TimeDelta::days(2);
            store
                .review_complete(
                    r.review.id,
                    Some(Slot::new(start, start + TimeDelta::hours(1))),
                    t0(),
                )
                .await
                .unwrap();
        }
        a.id
    }

    #[tokio::test]
    async fn the_accounts_list_sorts_by_score_and_by_its_30_day_change() {
        let store = Store::open_in_memory().await.unwrap();
        store
            .profile_create(crate::testing::rep_input(), t0())
            .await
            .unwrap();
        let a = reviewed(&store, "Alpha", Some(5)).await;
        let b = reviewed(&store, "Beta", Some(3)).await;
        let c = reviewed(&store, "Gamma", None).await;
        // 200 days on, only Alpha is re-scored: its review has aged (recency 60).
        let later = t0() + TimeDelta::days(200);
        let mut conn = store.writer.acquire().await.unwrap();
        assert!(refresh(&mut conn, a, later).await.unwrap());
        drop(conn);
        let order = |sort, descending| {
            let store = store.clone();
            async move {
                store
                    .accounts_list(&AccountQuery {
                        sort,
                        descending,
                        ..AccountQuery::default()
                    })
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| (r.id, r.health_score, r.health_change_30_days))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            order(AccountSort::HealthScore, false).await,
            [
                (a, Some(77), Some(-23)),
                (b, Some(79), None),
                (c, None, None)
            ],
            "lowest first, no score last: (60×20 + 100×15)/35 = 77; (100×20 + 50×15)/35 = 79"
        );
        assert_eq!(
            order(AccountSort::HealthScore, true)
                .await
                .iter()
                .map(|r| r.0)
                .collect::<Vec<_>>(),
            [b, a, c],
            "no score stays last"
        );
        assert_eq!(
            order(AccountSort::HealthChange, false).await[0].0,
            a,
            "the biggest fall first"
        );
        let view = store.health_get(a, later).await.unwrap();
        assert_eq!(view.change_30_days, Some(-23));
        let scores: Vec<Option<u8>> = view.history.iter().map(|p| p.score).collect();
        assert_eq!(
            scores,
            [Some(100), Some(77)],
            "a point when the sentiment came (completing kept 100: no point), one as it aged"
        );
    }
}
