//! The account health score, 0–100, from explainable weighted parts.
//!
//! Each part scores 0–100 on its own; the score is the weighted mean of the parts that have
//! data (a part without data drops out and its weight is shared pro-rata among the rest).
//! Decisions where the issue is silent (the formulas and thresholds):
//! - open requests: 100 minus 40 per open P1, 25 per P2, 10 per P3, 5 per P4 (floor 0);
//! - SLA misses: the share of SLA clocks that ended met in the last 90 days (missed and
//!   breached count against); no clock in the window → no data;
//! - review recency: 100 up to 92 days since the last completed review, falling linearly to
//!   0 at 365 days; never reviewed → counted from when the account became a customer, and
//!   no data while that is under 92 days;
//! - onboarding: done 100, not done 0;
//! - CSM sentiment 1–5: 0, 25, 50, 75, 100;
//! - bands: healthy ≥ 70, neutral 40–69, at risk < 40;
//! - the biggest driver is the part that loses the most points (ties: the order above);
//!   no driver when nothing loses points.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::validation::{FieldError, ValidationErrors};

/// The weight of each part, in percent; they add up to 100. Edited in Settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HealthWeights {
    pub open_requests: i32,
    pub sla_misses: i32,
    pub review_recency: i32,
    pub onboarding: i32,
    pub sentiment: i32,
}

impl Default for HealthWeights {
    fn default() -> Self {
        HealthWeights {
            open_requests: 30,
            sla_misses: 25,
            review_recency: 20,
            onboarding: 10,
            sentiment: 15,
        }
    }
}

impl HealthWeights {
    fn by_part(&self) -> [(HealthPart, i32); 5] {
        [
            (HealthPart::OpenRequests, self.open_requests),
            (HealthPart::SlaMisses, self.sla_misses),
            (HealthPart::ReviewRecency, self.review_recency),
            (HealthPart::Onboarding, self.onboarding),
            (HealthPart::Sentiment, self.sentiment),
        ]
    }

    /// Each weight at least 0, all adding up to 100; errors name `weights.<part>` or
    /// `weights`.
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut errors = Vec::new();
        for (part, w) in self.by_part() {
            if w < 0 {
                errors.push(FieldError::new(
                    format!("weights.{}", part.as_str()),
                    format!("must not be negative ({w})"),
                ));
            }
        }
        let sum: i32 = self.by_part().iter().map(|(_, w)| w).sum();
        if errors.is_empty() && sum != 100 {
            errors.push(FieldError::new(
                "weights",
                format!("must add up to 100, not {sum}"),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum HealthPart {
    OpenRequests,
    SlaMisses,
    ReviewRecency,
    Onboarding,
    Sentiment,
}

impl HealthPart {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthPart::OpenRequests => "open_requests",
            HealthPart::SlaMisses => "sla_misses",
            HealthPart::ReviewRecency => "review_recency",
            HealthPart::Onboarding => "onboarding",
            HealthPart::Sentiment => "sentiment",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OpenRequestCounts {
    pub p1: u32,
    pub p2: u32,
    pub p3: u32,
    pub p4: u32,
}

/// SLA results of the requests whose clock ended (or breached) in the last 90 days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlaRecord {
    pub met: u32,
    /// Missed and breached.
    pub missed: u32,
}

/// What the score is computed from; `None` where there is no data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HealthInputs {
    pub open_requests: Option<OpenRequestCounts>,
    pub sla_last_90_days: Option<SlaRecord>,
    pub last_completed_review: Option<DateTime<Utc>>,
    /// When the account became a customer: the review clock starts there.
    pub customer_since: DateTime<Utc>,
    pub onboarding_done: Option<bool>,
    /// The CSM's sentiment, 1 (bad) to 5 (great).
    pub sentiment: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum HealthBand {
    Healthy,
    Neutral,
    AtRisk,
}

impl HealthBand {
    pub fn of(score: u8) -> Self {
        match score {
            70.. => HealthBand::Healthy,
            40..=69 => HealthBand::Neutral,
            _ => HealthBand::AtRisk,
        }
    }
}

/// One part as the account page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PartScore {
    pub part: HealthPart,
    /// The part's own score, 0–100; `None` without data.
    pub score: Option<u8>,
    /// The configured weight (percent).
    pub weight: i32,
    /// The weight after the parts without data dropped out (percent; 0 without data).
    pub effective_weight: f64,
    /// What the part adds to the total: `score × effective_weight / 100`.
    pub points: f64,
    /// In words: "2 open P1 requests", "no review for 200 days", "no data".
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HealthScore {
    /// `None` when no part has data (or every part with data weighs 0).
    pub score: Option<u8>,
    pub band: Option<HealthBand>,
    pub parts: Vec<PartScore>,
    /// The part that costs the most points, in words.
    pub driver: Option<String>,
}

/// Days without a completed review at which the recency part starts to fall, and reaches 0.
pub const REVIEW_FRESH_DAYS: i64 = 92;
pub const REVIEW_STALE_DAYS: i64 = 365;

/// The health score of an account at `now`.
pub fn health_score(
    inputs: &HealthInputs,
    weights: &HealthWeights,
    now: DateTime<Utc>,
) -> Result<HealthScore, ValidationErrors> {
    weights.check()?;
    if let Some(s) = inputs.sentiment
        && !(1..=5).contains(&s)
    {
        return Err(ValidationErrors(vec![FieldError::new(
            "sentiment",
            format!("must be from 1 to 5, not {s}"),
        )]));
    }
    let raw: Vec<(HealthPart, i32, Option<Scored>)> = weights
        .by_part()
        .into_iter()
        .map(|(part, w)| (part, w, part_score(part, inputs, now)))
        .collect();
    let present_weight: i32 = raw
        .iter()
        .filter(|(_, _, s)| s.is_some())
        .map(|(_, w, _)| w)
        .sum();
    let mut parts = Vec::new();
    let mut total = 0.0;
    for (part, weight, s) in raw {
        let (score, summary) = match s {
            Some((score, summary)) => (Some(score), summary),
            None => (None, "no data".to_owned()),
        };
        let effective_weight = match score {
            Some(_) if present_weight > 0 => f64::from(weight) * 100.0 / f64::from(present_weight),
            _ => 0.0,
        };
        let points = score.map_or(0.0, |s| f64::from(s) * effective_weight / 100.0);
        total += points;
        parts.push(PartScore {
            part,
            score,
            weight,
            effective_weight,
            points,
            summary,
        });
    }
    if present_weight == 0 {
        return Ok(HealthScore {
            score: None,
            band: None,
            parts,
            driver: None,
        });
    }
    // 0.0..=100.0 by construction; rounding half away from zero.
    let score = total.round().clamp(0.0, 100.0) as u8;
    let lost = |p: &PartScore| {
        p.score
            .map_or(0.0, |s| f64::from(100 - s) * p.effective_weight / 100.0)
    };
    let mut driver: Option<&PartScore> = None;
    for p in &parts {
        if lost(p) > 0.0 && driver.is_none_or(|d| lost(p) > lost(d)) {
            driver = Some(p);
        }
    }
    let driver = driver.map(|p| p.summary.clone());
    Ok(HealthScore {
        score: Some(score),
        band: Some(HealthBand::of(score)),
        parts,
        driver,
    })
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A part's own score and its summary in words.
type Scored = (u8, String);

fn part_score(part: HealthPart, i: &HealthInputs, now: DateTime<Utc>) -> Option<Scored> {
    match part {
        HealthPart::OpenRequests => {
            let c = i.open_requests?;
            let penalty = 40 * u64::from(c.p1)
                + 25 * u64::from(c.p2)
                + 10 * u64::from(c.p3)
                + 5 * u64::from(c.p4);
            let score = u8::try_from(100u64.saturating_sub(penalty)).expect("at most 100");
            let mut words: Vec<String> = [(c.p1, "P1"), (c.p2, "P2"), (c.p3, "P3"), (c.p4, "P4")]
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, sev)| {
                    plural(
                        n,
                        &format!("open {sev} request"),
                        &format!("open {sev} requests"),
                    )
                })
                .collect();
            if words.is_empty() {
                words.push("no open requests".to_owned());
            }
            Some((score, words.join(", ")))
        }
        HealthPart::SlaMisses => {
            let r = i.sla_last_90_days?;
            let all = r.met + r.missed;
            if all == 0 {
                return None;
            }
            let score = u8::try_from(u64::from(r.met) * 100 / u64::from(all)).expect("at most 100");
            let summary = if r.missed == 0 {
                format!("no SLA misses in the last 90 days ({} met)", r.met)
            } else {
                format!(
                    "{} in the last 90 days",
                    plural(r.missed, "SLA miss", "SLA misses")
                )
            };
            Some((score, summary))
        }
        HealthPart::ReviewRecency => {
            let (since, what) = match i.last_completed_review {
                Some(t) => (t, "no review for"),
                None => (i.customer_since, "never reviewed, customer for"),
            };
            let days = (now - since).num_days().max(0);
            if i.last_completed_review.is_none() && days < REVIEW_FRESH_DAYS {
                return None;
            }
            let score = if days <= REVIEW_FRESH_DAYS {
                100
            } else {
                let left = (REVIEW_STALE_DAYS - days).max(0);
                u8::try_from(left * 100 / (REVIEW_STALE_DAYS - REVIEW_FRESH_DAYS))
                    .expect("at most 100")
            };
            let summary = if i.last_completed_review.is_some() && days <= REVIEW_FRESH_DAYS {
                format!("reviewed {days} days ago")
            } else {
                format!("{what} {days} days")
            };
            Some((score, summary))
        }
        HealthPart::Onboarding => {
            let done = i.onboarding_done?;
            Some(if done {
                (100, "onboarding done".to_owned())
            } else {
                (0, "onboarding not done".to_owned())
            })
        }
        HealthPart::Sentiment => {
            let s = i.sentiment?;
            Some(((s - 1) * 25, format!("CSM sentiment {s}/5")))
        }
    }
}

/// Whether a new point of the trend should be stored: the score moved, or the last point
/// is a day old or more (at least daily while the app runs), or there is none yet.
pub fn should_snapshot(
    last: Option<(DateTime<Utc>, Option<u8>)>,
    score: Option<u8>,
    now: DateTime<Utc>,
) -> bool {
    match last {
        None => true,
        Some((at, last_score)) => last_score != score || now - at >= TimeDelta::days(1),
    }
}

/// The request inputs of an account's score at `now`, from its requests (each with the plan
/// its SLA clock runs on): the active ones by severity (`None` with no request at all), and
/// the SLA results that became final in the 90 days before `now` (the first public
/// response, or the due instant of a breach; `None` when none did). The cache and the demo's
/// replay of past days both read them here.
pub fn request_inputs<'a>(
    requests: impl IntoIterator<Item = (&'a crate::request::RequestHistory, crate::account::Plan)>,
    now: DateTime<Utc>,
) -> (Option<OpenRequestCounts>, Option<SlaRecord>) {
    use crate::request::Severity;
    use crate::sla::SlaState;
    let since = now - TimeDelta::days(90);
    let mut any_request = false;
    let mut open = OpenRequestCounts::default();
    let mut record = SlaRecord::default();
    for (history, plan) in requests {
        any_request = true;
        let summary = history.summary();
        if summary.status.is_active() {
            match summary.severity {
                Severity::P1 => open.p1 += 1,
                Severity::P2 => open.p2 += 1,
                Severity::P3 => open.p3 += 1,
                Severity::P4 => open.p4 += 1,
            }
        }
        let clock = crate::sla::clock(history, plan, now);
        let ended = match clock.state {
            Some(SlaState::Met | SlaState::Missed) => clock.stopped_at,
            Some(SlaState::Breached) => clock.due_at,
            _ => None,
        };
        if ended.is_some_and(|at| at > since && at <= now) {
            if clock.state == Some(SlaState::Met) {
                record.met += 1;
            } else {
                record.missed += 1;
            }
        }
    }
    let any_result = record.met + record.missed > 0;
    (any_request.then_some(open), any_result.then_some(record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn days_ago(d: i64) -> DateTime<Utc> {
        now() - TimeDelta::days(d)
    }

    fn full() -> HealthInputs {
        HealthInputs {
            open_requests: Some(OpenRequestCounts::default()),
            sla_last_90_days: Some(SlaRecord { met: 10, missed: 0 }),
            last_completed_review: Some(days_ago(30)),
            customer_since: days_ago(700),
            onboarding_done: Some(true),
            sentiment: Some(5),
        }
    }

    fn score(i: &HealthInputs) -> HealthScore {
        health_score(i, &HealthWeights::default(), now()).unwrap()
    }

    fn part(h: &HealthScore, p: HealthPart) -> &PartScore {
        h.parts.iter().find(|x| x.part == p).unwrap()
    }

    #[test]
    fn a_perfect_account_scores_100_with_no_driver() {
        let h = score(&full());
        assert_eq!(h.score, Some(100));
        assert_eq!(h.band, Some(HealthBand::Healthy));
        assert_eq!(h.driver, None, "nothing costs points");
        let weights: f64 = h.parts.iter().map(|p| p.effective_weight).sum();
        assert!(
            (weights - 100.0).abs() < 1e-9,
            "effective weights add up to 100"
        );
    }

    #[test]
    fn open_p1s_drive_the_score_down_and_are_named() {
        let i = HealthInputs {
            open_requests: Some(OpenRequestCounts {
                p1: 2,
                p2: 0,
                p3: 1,
                p4: 0,
            }),
            ..full()
        };
        let h = score(&i);
        // open requests: 100 - 80 - 10 = 10 points of 100 at weight 30 → 3; others full: 70.
        assert_eq!(part(&h, HealthPart::OpenRequests).score, Some(10));
        assert_eq!(h.score, Some(73));
        assert_eq!(
            h.driver.as_deref(),
            Some("2 open P1 requests, 1 open P3 request")
        );
    }

    #[test]
    fn a_part_without_data_shares_its_weight_pro_rata() {
        // No sentiment (15) and no SLA data (25): the remaining 60 scale up to 100.
        let i = HealthInputs {
            sentiment: None,
            sla_last_90_days: Some(SlaRecord { met: 0, missed: 0 }),
            onboarding_done: Some(false),
            ..full()
        };
        let h = score(&i);
        assert_eq!(part(&h, HealthPart::Sentiment).effective_weight, 0.0);
        assert_eq!(part(&h, HealthPart::Sentiment).summary, "no data");
        assert_eq!(
            part(&h, HealthPart::SlaMisses).score,
            None,
            "no clock ended in 90 days: no data"
        );
        assert!(
            (part(&h, HealthPart::OpenRequests).effective_weight - 50.0).abs() < 1e-9,
            "30 of 60"
        );
        assert!(
            (part(&h, HealthPart::ReviewRecency).effective_weight - 100.0 / 3.0).abs() < 1e-9,
            "20 of 60"
        );
        assert!(
            (part(&h, HealthPart::Onboarding).effective_weight - 100.0 / 6.0).abs() < 1e-9,
            "10 of 60"
        );
        // 50 + 33.33 + 0 = 83.33
        assert_eq!(h.score, Some(83));
        assert_eq!(h.driver.as_deref(), Some("onboarding not done"));
    }

    #[test]
    fn review_recency_falls_from_92_to_365_days() {
        let at = |d: i64| {
            score(&HealthInputs {
                last_completed_review: Some(days_ago(d)),
                ..full()
            })
        };
        assert_eq!(part(&at(92), HealthPart::ReviewRecency).score, Some(100));
        assert_eq!(
            part(&at(200), HealthPart::ReviewRecency).score,
            Some(60),
            "(365-200)*100/273 = 60"
        );
        assert_eq!(part(&at(365), HealthPart::ReviewRecency).score, Some(0));
        assert_eq!(part(&at(900), HealthPart::ReviewRecency).score, Some(0));
        assert_eq!(
            part(&at(200), HealthPart::ReviewRecency).summary,
            "no review for 200 days"
        );
        let h = at(400);
        assert_eq!(
            h.driver.as_deref(),
            Some("no review for 400 days"),
            "20 points lost, the most"
        );
        let never_new = HealthInputs {
            last_completed_review: None,
            customer_since: days_ago(30),
            ..full()
        };
        assert_eq!(
            part(&score(&never_new), HealthPart::ReviewRecency).score,
            None,
            "too new to have had one"
        );
        let never_old = HealthInputs {
            last_completed_review: None,
            customer_since: days_ago(300),
            ..full()
        };
        assert_eq!(
            part(&score(&never_old), HealthPart::ReviewRecency).summary,
            "never reviewed, customer for 300 days"
        );
    }

    #[test]
    fn sla_misses_and_sentiment() {
        let i = HealthInputs {
            sla_last_90_days: Some(SlaRecord { met: 2, missed: 2 }),
            sentiment: Some(2),
            ..full()
        };
        let h = score(&i);
        assert_eq!(part(&h, HealthPart::SlaMisses).score, Some(50));
        assert_eq!(part(&h, HealthPart::Sentiment).score, Some(25));
        // Lost: SLA 50% of 25 = 12.5; sentiment 75% of 15 = 11.25.
        assert_eq!(
            h.driver.as_deref(),
            Some("2 SLA misses in the last 90 days")
        );
        assert_eq!(h.score, Some(76), "100 - 12.5 - 11.25 = 76.25");
    }

    #[test]
    fn bands_at_their_thresholds() {
        assert_eq!(HealthBand::of(70), HealthBand::Healthy);
        assert_eq!(HealthBand::of(69), HealthBand::Neutral);
        assert_eq!(HealthBand::of(40), HealthBand::Neutral);
        assert_eq!(HealthBand::of(39), HealthBand::AtRisk);
        let bad = HealthInputs {
            open_requests: Some(OpenRequestCounts {
                p1: 3,
                ..OpenRequestCounts::default()
            }),
            sla_last_90_days: Some(SlaRecord { met: 0, missed: 3 }),
            onboarding_done: Some(false),
            sentiment: Some(1),
            ..full()
        };
        let h = score(&bad);
        assert_eq!(
            (h.score, h.band),
            (Some(20), Some(HealthBand::AtRisk)),
            "only the recent review scores"
        );
    }

    #[test]
    fn no_data_at_all_gives_no_score() {
        let i = HealthInputs {
            open_requests: None,
            sla_last_90_days: None,
            last_completed_review: None,
            customer_since: days_ago(1),
            onboarding_done: None,
            sentiment: None,
        };
        let h = score(&i);
        assert_eq!((h.score, h.band, h.driver), (None, None, None));
    }

    #[test]
    fn weights_must_be_non_negative_and_add_up_to_100() {
        let off = HealthWeights {
            sentiment: 20,
            ..HealthWeights::default()
        };
        let e = off.check().unwrap_err();
        assert_eq!(e.first().field, "weights");
        assert!(e.first().reason.contains("105"), "{e}");
        let negative = HealthWeights {
            onboarding: -10,
            sentiment: 35,
            ..HealthWeights::default()
        };
        assert_eq!(
            negative.check().unwrap_err().first().field,
            "weights.onboarding"
        );
        assert!(
            health_score(&full(), &off, now()).is_err(),
            "the score refuses bad weights"
        );
        let only_sentiment = HealthWeights {
            open_requests: 0,
            sla_misses: 0,
            review_recency: 0,
            onboarding: 0,
            sentiment: 100,
        };
        let h = health_score(
            &HealthInputs {
                sentiment: Some(4),
                ..full()
            },
            &only_sentiment,
            now(),
        )
        .unwrap();
        assert_eq!(h.score, Some(75));
    }

    #[test]
    fn sentiment_outside_1_to_5_is_refused() {
        let e = health_score(
            &HealthInputs {
                sentiment: Some(6),
                ..full()
            },
            &HealthWeights::default(),
            now(),
        )
        .unwrap_err();
        assert_eq!(e.first().field, "sentiment");
    }

    #[test]
    fn snapshots_on_change_or_daily() {
        assert!(should_snapshot(None, Some(80), now()));
        assert!(!should_snapshot(
            Some((now() - TimeDelta::hours(23), Some(80))),
            Some(80),
            now()
        ));
        assert!(
            should_snapshot(
                Some((now() - TimeDelta::hours(24), Some(80))),
                Some(80),
                now()
            ),
            "daily"
        );
        assert!(
            should_snapshot(
                Some((now() - TimeDelta::minutes(1), Some(80))),
                Some(79),
                now()
            ),
            "moved"
        );
    }

    proptest::proptest! {
        #[test]
        fn the_score_is_a_weighted_mean_of_the_parts_with_data(
            p1 in 0u32..3, p3 in 0u32..5, met in 0u32..5, missed in 0u32..5,
            review in proptest::option::of(0i64..800), onboarding in proptest::option::of(proptest::bool::ANY),
            sentiment in proptest::option::of(1u8..=5), has_open in proptest::bool::ANY,
        ) {
            let i = HealthInputs {
                open_requests: has_open.then_some(OpenRequestCounts { p1, p2: 0, p3, p4: 0 }),
                sla_last_90_days: Some(SlaRecord { met, missed }),
                last_completed_review: review.map(days_ago),
                customer_since: days_ago(1000),
                onboarding_done: onboarding,
                sentiment,
            };
            let h = score(&i);
            let with_data: Vec<&PartScore> = h.parts.iter().filter(|p| p.score.is_some()).collect();
            let weights: f64 = h.parts.iter().map(|p| p.effective_weight).sum();
            if with_data.is_empty() {
                proptest::prop_assert_eq!(h.score, None);
            } else {
                proptest::prop_assert!((weights - 100.0).abs() < 1e-9, "weights redistribute to 100");
                let lo = with_data.iter().filter_map(|p| p.score).min().unwrap();
                let hi = with_data.iter().filter_map(|p| p.score).max().unwrap();
                let s = h.score.unwrap();
                proptest::prop_assert!(lo <= s && s <= hi, "a mean lies between its parts: {} <= {} <= {}", lo, s, hi);
                proptest::prop_assert_eq!(h.driver.is_none(), lo == 100, "a driver exactly when points are lost");
            }
        }
    }
}
