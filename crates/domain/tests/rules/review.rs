//! An account rep's quarter: the board at the extreme zones, booking a review, and the
//! health score moving when it is done.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Pacific::Kiritimati;
use rapport_domain::Plan;
use rapport_domain::health::{
    HealthInputs, HealthWeights, OpenRequestCounts, SlaRecord, health_score,
};
use rapport_domain::quarter::quarter_of;
use rapport_domain::review::{
    BoardColumn, QuarterKey, ReviewState, board_column, check_new_review, check_review_transition,
};

#[test]
fn a_kiritimati_account_through_its_quarter() {
    let now: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).unwrap();
    let q = quarter_of(now, Kiritimati, 1).unwrap();
    assert_eq!(q.label(), "2027 Q1", "already 2027 in Kiritimati");
    check_new_review(Plan::ProfessionalSupport, &q, &[]).unwrap();
    assert_eq!(
        board_column(Plan::ProfessionalSupport, None, &q, now),
        Some(BoardColumn::Due)
    );
    check_review_transition(ReviewState::NotRequested, ReviewState::Requested).unwrap();
    check_review_transition(ReviewState::Requested, ReviewState::Scheduled).unwrap();
    assert_eq!(
        board_column(
            Plan::ProfessionalSupport,
            Some(ReviewState::Scheduled),
            &q,
            now
        ),
        Some(BoardColumn::Scheduled)
    );
    let late = q.end_utc - TimeDelta::days(14);
    assert_eq!(
        board_column(
            Plan::ProfessionalSupport,
            Some(ReviewState::Requested),
            &q,
            late
        ),
        Some(BoardColumn::Overdue)
    );
    let second =
        check_new_review(Plan::ProfessionalSupport, &q, &[QuarterKey::from(&q)]).unwrap_err();
    assert_eq!(second.field, "quarter");

    let before = HealthInputs {
        open_requests: Some(OpenRequestCounts::default()),
        sla_last_90_days: Some(SlaRecord { met: 4, missed: 0 }),
        last_completed_review: Some(now - TimeDelta::days(300)),
        customer_since: now - TimeDelta::days(800),
        onboarding_done: Some(true),
        sentiment: Some(4),
    };
    let w = HealthWeights::default();
    let stale = health_score(&before, &w, now).unwrap();
    assert_eq!(stale.driver.as_deref(), Some("no review for 300 days"));
    let after = HealthInputs {
        last_completed_review: Some(now),
        ..before
    };
    let fresh = health_score(&after, &w, now).unwrap();
    assert!(
        fresh.score > stale.score,
        "completing the review raises the score"
    );
    assert_eq!(fresh.driver.as_deref(), Some("CSM sentiment 4/5"));
}
