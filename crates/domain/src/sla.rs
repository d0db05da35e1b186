//! The response-time SLA clock, computed from a request's history (so it runs offline and
//! the central service computes the same).
//!
//! The rule (PRODUCT.md): `due = t_s + target(s)`, where `s` is the current severity and
//! `t_s` the earliest moment the request's severity was `s` or more severe. The first public
//! response by staff stops the clock. Only Professional Support accounts have targets.
//!
//! Decisions where the brief is silent:
//! - A response exactly at the due instant is `met` (the promise is "within" the target).
//! - `at_risk` is strictly under 25 % of the target left; exactly 25 % is still `on_track`.
//! - At the due instant itself (no response yet) the clock is `at_risk` with 0 left; it is
//!   `breached` once `now` is past the due instant.
//! - Once the clock has stopped, later severity changes do not move it: a response that
//!   met the P3 target stays met if the request is raised to P1 afterwards.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::account::Plan;
use crate::request::{RequestHistory, RequestSummary, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    OnTrack,
    /// Under 25 % of the target left, no response yet.
    AtRisk,
    /// Due passed, no response yet.
    Breached,
    /// First public response at or before due.
    Met,
    /// First public response after due.
    Missed,
}

impl SlaState {
    /// The clock no longer runs (a public staff response came).
    pub fn is_stopped(self) -> bool {
        matches!(self, SlaState::Met | SlaState::Missed)
    }
}

/// Where a request stands against its SLA at `now`. Durations are whole seconds, for
/// countdowns the UI ticks itself between recomputations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlaClock {
    /// The severity the clock runs for (the one at the stop, once stopped).
    pub severity: Severity,
    pub opened_at: DateTime<Utc>,
    /// `None` for accounts without Professional Support: elapsed time only.
    pub state: Option<SlaState>,
    pub due_at: Option<DateTime<Utc>>,
    /// The target of `severity`, in seconds (`None` without an SLA).
    pub target_secs: Option<i64>,
    /// When the first public staff response stopped the clock.
    pub stopped_at: Option<DateTime<Utc>>,
    /// The instant the running clock turns `at_risk` (due minus [`at_risk_window`]): after
    /// it the clock is at risk, after `due_at` breached, so a countdown between two
    /// computations knows its state without a threshold of its own. `None` once stopped or
    /// without an SLA.
    #[serde(default)]
    pub at_risk_at: Option<DateTime<Utc>>,
    /// `due_at` minus `now` (or minus `stopped_at` once stopped): negative once late.
    pub remaining_secs: Option<i64>,
    /// From opening to `now` (or to `stopped_at`); never negative.
    pub elapsed_secs: i64,
}

/// The clock of `history` for an account on `plan`, at `now`.
pub fn clock(history: &RequestHistory, plan: Plan, now: DateTime<Utc>) -> SlaClock {
    let opened_at = history.opened_at();
    let stopped_at = history.first_public_response().map(|e| e.at);
    let until = stopped_at.unwrap_or(now);
    let steps: Vec<(DateTime<Utc>, Severity)> = history
        .severity_steps()
        .into_iter()
        .filter(|(at, _)| stopped_at.is_none_or(|stop| *at <= stop))
        .collect();
    let severity = steps
        .last()
        .map_or_else(|| history.initial_severity(), |s| s.1);
    let elapsed_secs = (until - opened_at).num_seconds().max(0);

    if plan != Plan::ProfessionalSupport {
        return SlaClock {
            severity,
            opened_at,
            state: None,
            due_at: None,
            target_secs: None,
            stopped_at,
            at_risk_at: None,
            remaining_secs: None,
            elapsed_secs,
        };
    }

    let due_at = due(&steps, severity);
    let target = severity.target();
    let remaining = due_at - until;
    // remaining < 25 % of target  <=>  now > due - target / 4 (targets are whole minutes,
    // so the quarter is exact).
    let at_risk_at = due_at - at_risk_window(severity);
    let state = match stopped_at {
        Some(stop) if stop <= due_at => SlaState::Met,
        Some(_) => SlaState::Missed,
        None if now > due_at => SlaState::Breached,
        None if now > at_risk_at => SlaState::AtRisk,
        None => SlaState::OnTrack,
    };
    SlaClock {
        severity,
        opened_at,
        state: Some(state),
        due_at: Some(due_at),
        target_secs: Some(target.num_seconds()),
        stopped_at,
        at_risk_at: stopped_at.is_none().then_some(at_risk_at),
        remaining_secs: Some(remaining.num_seconds()),
        elapsed_secs,
    }
}

/// `t_s + target(s)` over the severity steps (in time order, first = opening).
fn due(steps: &[(DateTime<Utc>, Severity)], current: Severity) -> DateTime<Utc> {
    let t_s = steps
        .iter()
        .find(|(_, sev)| sev.at_least(current))
        .map(|(at, _)| *at)
        .expect("the current severity is one of the steps");
    t_s + current.target()
}

/// Orders clocks for the live board: the one closest to breaching first. Running clocks
/// come before stopped ones, and clocks without an SLA last (oldest first).
pub fn board_order(a: &SlaClock, b: &SlaClock) -> std::cmp::Ordering {
    let key = |c: &SlaClock| match (c.state, c.due_at) {
        (Some(s), Some(due)) if !s.is_stopped() => (0, due.timestamp(), c.opened_at),
        (None, _) => (1, c.opened_at.timestamp(), c.opened_at),
        _ => (2, c.opened_at.timestamp(), c.opened_at),
    };
    key(a).cmp(&key(b))
}

/// How long before due the `at_risk` state begins for `severity` (25 % of its target).
pub fn at_risk_window(severity: Severity) -> TimeDelta {
    severity.target() / 4
}

/// A desktop notification about a request. Each is shown once per request (the caller
/// keeps which were shown, so a restart does not repeat them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SlaAlert {
    /// A new P1/P2, or an urgent email.
    Urgent,
    AtRisk,
    Breached,
}

/// The alerts to show now that were not shown before. A clock found already breached
/// (the app was closed through the at-risk window) alerts `breached` only: at risk is moot.
pub fn alerts_due(summary: &RequestSummary, clock: &SlaClock, shown: &[SlaAlert]) -> Vec<SlaAlert> {
    let mut due = Vec::new();
    if summary.urgent_alert && !shown.contains(&SlaAlert::Urgent) {
        due.push(SlaAlert::Urgent);
    }
    let by_state = match clock.state {
        Some(SlaState::AtRisk) => Some(SlaAlert::AtRisk),
        Some(SlaState::Breached) => Some(SlaAlert::Breached),
        _ => None,
    };
    if let Some(alert) = by_state
        && !shown.contains(&alert)
    {
        due.push(alert);
    }
    due
}

/// One line of the SLA compliance report: a month and a severity (`None`: all of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ComplianceRow {
    /// `2026-03`, on the report's clock, by the month the request was opened in.
    pub month: String,
    pub severity: Option<Severity>,
    pub met: u32,
    pub missed: u32,
    pub breached: u32,
    /// Still running (on track or at risk): not counted in the percentage.
    pub running: u32,
    /// `met / (met + missed + breached) × 100`; `None` when nothing has a result yet.
    pub compliance_pct: Option<f64>,
    /// Median time to the first public response of the answered requests; with an even
    /// count, the mean of the two middle values (whole seconds, rounded down).
    pub median_first_response_secs: Option<i64>,
}

/// SLA compliance by month and severity, plus an all-severities row per month, in month
/// then severity order. Clocks without an SLA (standard plan) are left out.
pub fn compliance_report(clocks: &[SlaClock], tz: chrono_tz::Tz) -> Vec<ComplianceRow> {
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<(String, u8), Vec<&SlaClock>> = BTreeMap::new();
    for c in clocks.iter().filter(|c| c.state.is_some()) {
        let month = c.opened_at.with_timezone(&tz).format("%Y-%m").to_string();
        let sev_rank = match c.severity {
            Severity::P1 => 1,
            Severity::P2 => 2,
            Severity::P3 => 3,
            Severity::P4 => 4,
        };
        groups.entry((month.clone(), 0)).or_default().push(c);
        groups.entry((month, sev_rank)).or_default().push(c);
    }
    groups
        .into_iter()
        .map(|((month, rank), cs)| {
            compliance_row(
                month,
                (rank > 0).then(|| Severity::ALL[usize::from(rank) - 1]),
                &cs,
            )
        })
        .collect()
}

/// One line over every clock with an SLA, whatever its month and severity (`month` is
/// `"all"`): an account's or the team's whole record.
pub fn compliance_total(clocks: &[SlaClock]) -> ComplianceRow {
    let cs: Vec<&SlaClock> = clocks.iter().filter(|c| c.state.is_some()).collect();
    compliance_row("all".to_owned(), None, &cs)
}

fn compliance_row(month: String, severity: Option<Severity>, cs: &[&SlaClock]) -> ComplianceRow {
    let count = |s: SlaState| {
        u32::try_from(cs.iter().filter(|c| c.state == Some(s)).count()).unwrap_or(u32::MAX)
    };
    let (met, missed, breached) = (
        count(SlaState::Met),
        count(SlaState::Missed),
        count(SlaState::Breached),
    );
    let running = count(SlaState::OnTrack) + count(SlaState::AtRisk);
    let decided = met + missed + breached;
    let compliance_pct = (decided > 0).then(|| f64::from(met) * 100.0 / f64::from(decided));
    let mut responses: Vec<i64> = cs
        .iter()
        .filter(|c| c.stopped_at.is_some())
        .map(|c| c.elapsed_secs)
        .collect();
    responses.sort_unstable();
    let median_first_response_secs = match responses.len() {
        0 => None,
        n if n % 2 == 1 => Some(responses[n / 2]),
        n => Some((responses[n / 2 - 1] + responses[n / 2]).div_euclid(2)),
    };
    ComplianceRow {
        month,
        severity,
        met,
        missed,
        breached,
        running,
        compliance_pct,
        median_first_response_secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Actor, Channel, RequestEvent, RequestEventKind, Visibility};
    use chrono::TimeZone;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).unwrap()
    }

    const STAFF: Actor = Actor::Staff {
        user_id: Uuid::from_u128(42),
    };
    const CUSTOMER: Actor = Actor::Customer { contact_id: None };

    fn opened(sev: Severity, at: DateTime<Utc>) -> RequestEvent {
        RequestEvent {
            id: Uuid::from_u128(1),
            at,
            actor: CUSTOMER,
            kind: RequestEventKind::Opened {
                severity: sev,
                channel: Channel::Chat,
                needs_triage: false,
                title: "x".into(),
            },
        }
    }

    fn change(n: u128, at: DateTime<Utc>, from: Severity, to: Severity) -> RequestEvent {
        RequestEvent {
            id: Uuid::from_u128(n),
            at,
            actor: STAFF,
            kind: RequestEventKind::SeverityChanged { from, to },
        }
    }

    fn respond(n: u128, at: DateTime<Utc>, actor: Actor, visibility: Visibility) -> RequestEvent {
        RequestEvent {
            id: Uuid::from_u128(n),
            at,
            actor,
            kind: RequestEventKind::Response {
                visibility,
                text: "hi".into(),
            },
        }
    }

    fn pro(events: Vec<RequestEvent>, now: DateTime<Utc>) -> SlaClock {
        clock(
            &RequestHistory::new(events).unwrap(),
            Plan::ProfessionalSupport,
            now,
        )
    }

    #[test]
    fn upgrade_p3_to_p1_at_1400_is_due_1430() {
        let c = pro(
            vec![
                opened(Severity::P3, t(9, 0)),
                change(2, t(14, 0), Severity::P3, Severity::P1),
            ],
            t(14, 1),
        );
        assert_eq!(c.severity, Severity::P1);
        assert_eq!(c.due_at, Some(t(14, 30)), "t_P1 is the upgrade time");
        assert_eq!(c.remaining_secs, Some(29 * 60));
        assert_eq!(c.state, Some(SlaState::OnTrack));
    }

    #[test]
    fn downgrade_p1_to_p3_is_due_opened_plus_12h() {
        let c = pro(
            vec![
                opened(Severity::P1, t(8, 0)),
                change(2, t(8, 10), Severity::P1, Severity::P3),
            ],
            t(9, 0),
        );
        assert_eq!(
            c.due_at,
            Some(t(20, 0)),
            "t_P3 is the opening: it was P1 (more severe) then"
        );
        assert_eq!(c.state, Some(SlaState::OnTrack));
    }

    #[test]
    fn up_then_down_keeps_the_earliest_moment_at_least_as_severe() {
        // P4 at 08:00, P2 at 09:00, P1 at 10:00, P3 at 10:05: t_P3 = 09:00 (first time P2 ≤ P3).
        let c = pro(
            vec![
                opened(Severity::P4, t(8, 0)),
                change(2, t(9, 0), Severity::P4, Severity::P2),
                change(3, t(10, 0), Severity::P2, Severity::P1),
                change(4, t(10, 5), Severity::P1, Severity::P3),
            ],
            t(10, 6),
        );
        assert_eq!(c.due_at, Some(t(21, 0)));
    }

    #[test]
    fn response_exactly_at_the_due_instant_is_met() {
        let c = pro(
            vec![
                opened(Severity::P1, t(14, 0)),
                respond(2, t(14, 30), STAFF, Visibility::Public),
            ],
            t(18, 0),
        );
        assert_eq!(
            c.state,
            Some(SlaState::Met),
            "within 30 minutes includes the 30th minute"
        );
        assert_eq!(c.remaining_secs, Some(0));
        assert_eq!(c.elapsed_secs, 30 * 60, "elapsed stops with the clock");
    }

    #[test]
    fn response_one_second_late_is_missed() {
        let late = t(14, 30) + TimeDelta::seconds(1);
        let c = pro(
            vec![
                opened(Severity::P1, t(14, 0)),
                respond(2, late, STAFF, Visibility::Public),
            ],
            t(18, 0),
        );
        assert_eq!(c.state, Some(SlaState::Missed));
        assert_eq!(c.remaining_secs, Some(-1));
    }

    #[test]
    fn internal_and_customer_responses_do_not_stop_the_clock() {
        let c = pro(
            vec![
                opened(Severity::P1, t(14, 0)),
                respond(2, t(14, 5), STAFF, Visibility::Internal),
                respond(3, t(14, 6), CUSTOMER, Visibility::Public),
            ],
            t(14, 31),
        );
        assert_eq!(c.stopped_at, None);
        assert_eq!(
            c.state,
            Some(SlaState::Breached),
            "nobody answered the customer in time"
        );
        assert_eq!(c.remaining_secs, Some(-60));
    }

    #[test]
    fn at_risk_starts_strictly_under_a_quarter_of_the_target() {
        let h = vec![opened(Severity::P2, t(10, 0))]; // due 12:00, 25 % = 30 min
        assert_eq!(
            pro(h.clone(), t(11, 30)).state,
            Some(SlaState::OnTrack),
            "exactly 25 % left"
        );
        let just_after = t(11, 30) + TimeDelta::seconds(1);
        assert_eq!(pro(h.clone(), just_after).state, Some(SlaState::AtRisk));
        assert_eq!(
            pro(h.clone(), t(12, 0)).state,
            Some(SlaState::AtRisk),
            "due instant, 0 left"
        );
        let past = t(12, 0) + TimeDelta::seconds(1);
        assert_eq!(pro(h.clone(), past).state, Some(SlaState::Breached));
        assert_eq!(at_risk_window(Severity::P2), TimeDelta::minutes(30));
        for now in [t(10, 5), just_after, past] {
            assert_eq!(
                pro(h.clone(), now).at_risk_at,
                Some(t(11, 30)),
                "a running clock carries the instant it turns at risk, whatever `now` is"
            );
        }
    }

    #[test]
    fn at_risk_at_is_where_the_state_turns_and_absent_once_stopped() {
        let h = vec![opened(Severity::P1, t(14, 0))];
        let at = pro(h.clone(), t(14, 0))
            .at_risk_at
            .expect("running, with an SLA");
        assert_eq!(
            pro(h.clone(), at).state,
            Some(SlaState::OnTrack),
            "at the instant"
        );
        assert_eq!(
            pro(h.clone(), at + TimeDelta::nanoseconds(1)).state,
            Some(SlaState::AtRisk),
            "just after it"
        );
        let answered = pro(
            vec![
                opened(Severity::P1, t(14, 0)),
                respond(2, t(14, 10), STAFF, Visibility::Public),
            ],
            t(14, 25),
        );
        assert_eq!(
            answered.at_risk_at, None,
            "a stopped clock never turns at risk"
        );
    }

    #[test]
    fn standard_plan_shows_elapsed_time_only() {
        let h = RequestHistory::new(vec![opened(Severity::P1, t(14, 0))]).unwrap();
        let c = clock(&h, Plan::Standard, t(16, 0));
        assert_eq!(
            (
                c.state,
                c.due_at,
                c.remaining_secs,
                c.target_secs,
                c.at_risk_at
            ),
            (None, None, None, None, None)
        );
        assert_eq!(c.elapsed_secs, 2 * 3600);
    }

    #[test]
    fn request_created_offline_and_synced_later_reads_by_event_time() {
        // Arrival order: the response synced before the offline-created opening and upgrade.
        let arrived = vec![
            respond(3, t(14, 20), STAFF, Visibility::Public),
            change(2, t(14, 0), Severity::P3, Severity::P1),
            opened(Severity::P3, t(13, 0)),
        ];
        let c = pro(arrived, t(20, 0));
        assert_eq!(c.due_at, Some(t(14, 30)));
        assert_eq!(c.state, Some(SlaState::Met));
        assert_eq!(c.elapsed_secs, 80 * 60);
    }

    #[test]
    fn a_response_stamped_before_the_opening_by_a_skewed_clock_counts_at_the_opening() {
        let c = pro(
            vec![
                opened(Severity::P1, t(14, 0)),
                respond(2, t(13, 58), STAFF, Visibility::Public),
            ],
            t(15, 0),
        );
        assert_eq!(c.stopped_at, Some(t(14, 0)));
        assert_eq!((c.state, c.elapsed_secs), (Some(SlaState::Met), 0));
    }

    #[test]
    fn severity_changes_after_the_response_do_not_move_a_stopped_clock() {
        let c = pro(
            vec![
                opened(Severity::P3, t(8, 0)),
                respond(2, t(9, 0), STAFF, Visibility::Public),
                change(3, t(11, 0), Severity::P3, Severity::P1),
            ],
            t(12, 0),
        );
        assert_eq!(c.severity, Severity::P3);
        assert_eq!(c.state, Some(SlaState::Met));
    }

    #[test]
    fn upgrading_a_breached_request_restarts_it_on_the_stricter_target_as_decided() {
        // The t_s rule as PRODUCT.md decides it: a P3 opened at 01:00 is breached at 14:00
        // (due 13:00); raised to P1 at 14:00 it is due 14:30 and on track again. Reports
        // that must never forget a breach should keep the breached alert that was shown.
        let events = vec![opened(Severity::P3, t(1, 0))];
        assert_eq!(
            pro(events.clone(), t(14, 0)).state,
            Some(SlaState::Breached)
        );
        let mut raised = events;
        raised.push(change(2, t(14, 0), Severity::P3, Severity::P1));
        let c = pro(raised, t(14, 1));
        assert_eq!(
            (c.due_at, c.state),
            (Some(t(14, 30)), Some(SlaState::OnTrack))
        );
    }

    #[test]
    fn downgrade_after_a_late_upgrade_falls_back_to_the_earlier_deadline() {
        // P2 from 00:00 (due 02:00), P1 at 11:31, back to P2 at 11:32: due is 02:00 again,
        // so the request is breached, as it already was as a P2 before the upgrade.
        let c = pro(
            vec![
                opened(Severity::P2, t(0, 0)),
                change(2, t(11, 31), Severity::P2, Severity::P1),
                change(3, t(11, 32), Severity::P1, Severity::P2),
            ],
            t(11, 33),
        );
        assert_eq!(c.due_at, Some(t(2, 0)));
        assert_eq!(c.state, Some(SlaState::Breached));
    }

    #[test]
    fn urgent_email_is_p1_until_triage_confirms_a_severity() {
        let mut events = vec![opened(Severity::P1, t(14, 0))];
        assert_eq!(pro(events.clone(), t(14, 1)).due_at, Some(t(14, 30)));
        events.push(RequestEvent {
            id: Uuid::from_u128(5),
            at: t(14, 10),
            actor: STAFF,
            kind: RequestEventKind::TriageConfirmed {
                severity: Severity::P4,
            },
        });
        assert_eq!(
            pro(events, t(14, 11)).due_at,
            Some(t(14, 0) + TimeDelta::hours(24))
        );
    }

    #[test]
    fn board_puts_the_nearest_breach_first() {
        let a = pro(vec![opened(Severity::P3, t(8, 0))], t(9, 0)); // due 20:00
        let b = pro(vec![opened(Severity::P1, t(8, 50))], t(9, 0)); // due 09:20
        let c = pro(
            vec![
                opened(Severity::P1, t(8, 0)),
                respond(2, t(8, 1), STAFF, Visibility::Public),
            ],
            t(9, 0),
        );
        let std_clock = clock(
            &RequestHistory::new(vec![opened(Severity::P1, t(7, 0))]).unwrap(),
            Plan::Standard,
            t(9, 0),
        );
        let mut v = [a.clone(), c.clone(), std_clock.clone(), b.clone()];
        v.sort_by(board_order);
        assert_eq!(v, [b, a, std_clock, c]);
    }

    #[test]
    fn alerts_are_shown_once_each() {
        let h = RequestHistory::new(vec![opened(Severity::P1, t(14, 0))]).unwrap();
        let s = h.summary();
        let at = |now| clock(&h, Plan::ProfessionalSupport, now);
        assert_eq!(
            alerts_due(&s, &at(t(14, 1)), &[]),
            [SlaAlert::Urgent],
            "a new P1"
        );
        assert!(
            alerts_due(&s, &at(t(14, 1)), &[SlaAlert::Urgent]).is_empty(),
            "not twice"
        );
        assert_eq!(
            alerts_due(&s, &at(t(14, 25)), &[SlaAlert::Urgent]),
            [SlaAlert::AtRisk]
        );
        assert_eq!(
            alerts_due(&s, &at(t(14, 31)), &[SlaAlert::Urgent]),
            [SlaAlert::Breached],
            "closed through the at-risk window: breached only"
        );
        let p3 = RequestHistory::new(vec![opened(Severity::P3, t(14, 0))]).unwrap();
        let c = clock(&p3, Plan::ProfessionalSupport, t(14, 1));
        assert!(
            alerts_due(&p3.summary(), &c, &[]).is_empty(),
            "a P3 raises no urgent alert"
        );
    }

    #[test]
    fn compliance_by_month_and_severity() {
        let answered = |sev, open_h, resp_min| {
            let at = t(open_h, 0);
            pro(
                vec![
                    opened(sev, at),
                    respond(
                        2,
                        at + TimeDelta::minutes(resp_min),
                        STAFF,
                        Visibility::Public,
                    ),
                ],
                t(23, 0),
            )
        };
        let clocks = vec![
            answered(Severity::P1, 1, 10),                       // met, 10 min
            answered(Severity::P1, 2, 40),                       // missed, 40 min
            pro(vec![opened(Severity::P1, t(3, 0))], t(23, 0)),  // breached
            answered(Severity::P3, 4, 60),                       // met, 60 min
            pro(vec![opened(Severity::P4, t(22, 0))], t(23, 0)), // running
            clock(
                &RequestHistory::new(vec![opened(Severity::P1, t(5, 0))]).unwrap(),
                Plan::Standard,
                t(23, 0),
            ),
        ];
        let rows = compliance_report(&clocks, chrono_tz::UTC);
        let all = &rows[0];
        assert_eq!((all.month.as_str(), all.severity), ("2026-03", None));
        assert_eq!(
            (all.met, all.missed, all.breached, all.running),
            (2, 1, 1, 1),
            "the standard-plan clock is left out"
        );
        assert_eq!(all.compliance_pct, Some(50.0));
        assert_eq!(
            all.median_first_response_secs,
            Some(40 * 60),
            "10, 40, 60 minutes"
        );
        let p1 = &rows[1];
        assert_eq!(p1.severity, Some(Severity::P1));
        assert_eq!((p1.met, p1.missed, p1.breached), (1, 1, 1));
        assert!((p1.compliance_pct.unwrap() - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            p1.median_first_response_secs,
            Some(25 * 60),
            "mean of 10 and 40 minutes"
        );
        let p4 = rows
            .iter()
            .find(|r| r.severity == Some(Severity::P4))
            .unwrap();
        assert_eq!(
            (p4.running, p4.compliance_pct, p4.median_first_response_secs),
            (1, None, None)
        );
        assert_eq!(rows.len(), 4, "all, P1, P3, P4 for one month");
        let total = compliance_total(&clocks);
        assert_eq!(
            (
                total.month.as_str(),
                total.met,
                total.missed,
                total.breached,
                total.running
            ),
            ("all", 2, 1, 1, 1),
            "the whole record equals the month's when there is one month"
        );
        assert_eq!(total.median_first_response_secs, Some(40 * 60));
    }

    fn sev() -> impl Strategy<Value = Severity> {
        prop::sample::select(Severity::ALL.to_vec())
    }

    prop_compose! {
        /// An opening plus up to 6 severity changes at increasing minute offsets.
        fn history()(first in sev(), steps in prop::collection::vec((1i64..600, sev()), 0..6))
            -> Vec<RequestEvent> {
            let mut at = t(0, 0);
            let mut events = vec![opened(first, at)];
            let mut cur = first;
            for (i, (gap, to)) in steps.into_iter().enumerate() {
                at += TimeDelta::minutes(gap);
                events.push(change(10 + i as u128, at, cur, to));
                cur = to;
            }
            events
        }
    }

    proptest! {
        #[test]
        fn due_is_never_before_opening_plus_current_target(events in history(), now_min in 0i64..5000) {
            let now = t(0, 0) + TimeDelta::minutes(now_min);
            let c = pro(events, now);
            prop_assert!(c.due_at.unwrap() >= c.opened_at + c.severity.target(),
                "t_s is never before the opening");
        }

        #[test]
        fn due_is_never_later_than_target_after_the_last_change(events in history(), to in sev()) {
            let last_at = events.last().unwrap().at;
            let cur = pro(events.clone(), last_at).severity;
            let mut more = events;
            let at = last_at + TimeDelta::minutes(1);
            more.push(change(99, at, cur, to));
            let c = pro(more, at);
            prop_assert!(c.due_at.unwrap() <= at + to.target(),
                "a change never gives more than the new target from the change");
        }

        #[test]
        fn downgrading_never_makes_due_earlier_than_a_request_that_was_never_upgraded(
            events in history(), to in sev()
        ) {
            // The t_s rule: after a downgrade to `to` the due instant is what it would have
            // been had the request been `to` from the first moment it was at least that bad.
            let last_at = events.last().unwrap().at;
            let before = pro(events.clone(), last_at);
            prop_assume!(to > before.severity);
            let first_at_least = events.iter().find_map(|e| match e.kind {
                RequestEventKind::Opened { severity, .. }
                | RequestEventKind::SeverityChanged { to: severity, .. }
                    if severity.at_least(to) => Some(e.at),
                _ => None,
            }).unwrap();
            let mut more = events;
            let at = last_at + TimeDelta::minutes(1);
            more.push(change(99, at, before.severity, to));
            let after = pro(more, at);
            prop_assert_eq!(after.due_at, Some(first_at_least + to.target()));
        }

        #[test]
        fn a_stopped_clock_does_not_depend_on_now(events in history(), gap in 0i64..3000, later in 0i64..9000) {
            let at = events.last().unwrap().at + TimeDelta::minutes(gap);
            let mut more = events;
            more.push(respond(98, at, STAFF, Visibility::Public));
            let a = pro(more.clone(), at);
            let b = pro(more, at + TimeDelta::minutes(later));
            prop_assert!(a.state.unwrap().is_stopped());
            prop_assert_eq!(a, b, "once stopped, the result is final");
        }

        #[test]
        fn arrival_order_does_not_matter(events in history(), seed in any::<u64>(), now_min in 0i64..5000) {
            let now = t(0, 0) + TimeDelta::minutes(now_min);
            let mut shuffled = events.clone();
            // A deterministic shuffle from the seed.
            let n = shuffled.len();
            for i in 0..n {
                let j = (seed.rotate_left(i as u32) as usize) % n;
                shuffled.swap(i, j);
            }
            prop_assert_eq!(pro(events, now), pro(shuffled, now));
        }

        #[test]
        fn state_agrees_with_remaining_time(events in history(), now_min in 0i64..5000) {
            let now = t(0, 0) + TimeDelta::minutes(now_min);
            let c = pro(events, now);
            let due = c.due_at.unwrap();
            prop_assert_eq!(c.remaining_secs, Some((due - now).num_seconds()));
            prop_assert_eq!(c.state == Some(SlaState::Breached), now > due);
            prop_assert!(c.elapsed_secs >= 0);
        }
    }
}
