use super::*;
use crate::request::{RequestEvent, Severity};
use chrono::{NaiveDate, TimeZone};
use rstest::rstest;

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).unwrap()
}

const LEAD: Actor = Actor::Staff {
    user_id: Uuid::from_u128(7),
};
const CUSTOMER: Actor = Actor::Customer { contact_id: None };

fn ev(n: u128, at: DateTime<Utc>, actor: Actor, kind: RequestEventKind) -> RequestEvent {
    RequestEvent {
        id: Uuid::from_u128(n),
        at,
        actor,
        kind,
    }
}

fn incident() -> RequestHistory {
    RequestHistory::new(vec![
        ev(
            1,
            t(14, 0),
            CUSTOMER,
            RequestEventKind::Opened {
                severity: Severity::P1,
                channel: Channel::Email,
                needs_triage: true,
                title: "[URGENT] Checkout | payments failing".into(),
            },
        ),
        ev(
            2,
            t(14, 5),
            LEAD,
            RequestEventKind::TriageConfirmed {
                severity: Severity::P1,
            },
        ),
        ev(
            3,
            t(14, 6),
            LEAD,
            RequestEventKind::Response {
                visibility: Visibility::Internal,
                text: "db?".into(),
            },
        ),
        ev(
            4,
            t(14, 10),
            LEAD,
            RequestEventKind::Response {
                visibility: Visibility::Public,
                text: "We are on it.\nCall link follows.".into(),
            },
        ),
        ev(
            5,
            t(14, 11),
            LEAD,
            RequestEventKind::CallLaunched {
                link: "https://meet.jit.si/rapport-x".into(),
            },
        ),
        ev(
            6,
            t(14, 40),
            LEAD,
            RequestEventKind::StatusChanged {
                from: RequestStatus::Open,
                to: RequestStatus::Mitigated,
            },
        ),
        ev(
            7,
            t(15, 25),
            LEAD,
            RequestEventKind::StatusChanged {
                from: RequestStatus::Mitigated,
                to: RequestStatus::Resolved,
            },
        ),
    ])
    .unwrap()
}

fn names(a: &Actor) -> String {
    match a {
        Actor::Staff { .. } => "Ana López".into(),
        Actor::Customer { .. } => "Acme (customer)".into(),
        Actor::System => "Rapport".into(),
    }
}

fn summary_at(severity: Severity, status: RequestStatus) -> RequestSummary {
    RequestSummary {
        severity,
        status,
        ..incident().summary()
    }
}

#[rstest]
#[case(Severity::P1, RequestStatus::Resolved, true)]
#[case(Severity::P2, RequestStatus::Closed, true)]
#[case(Severity::P1, RequestStatus::Mitigated, false)]
#[case(Severity::P3, RequestStatus::Resolved, false)]
#[case(Severity::P4, RequestStatus::Closed, false)]
fn an_rca_is_required_for_resolved_p1_and_p2(
    #[case] sev: Severity,
    #[case] status: RequestStatus,
    #[case] want: bool,
) {
    let s = summary_at(sev, status);
    assert_eq!(rca_required(&s), want, "{sev:?} {status:?}");
    assert_eq!(rca_due(&s, None), want);
    assert_eq!(
        rca_due(&s, Some(RcaState::InReview)),
        want,
        "due until published"
    );
    assert!(
        !rca_due(&s, Some(RcaState::Published)),
        "a published RCA is no longer due"
    );
}

#[test]
fn an_urgent_email_triaged_down_needs_no_rca() {
    let s = RequestSummary {
        worst_severity: Severity::P1,
        ..summary_at(Severity::P4, RequestStatus::Resolved)
    };
    assert!(!rca_required(&s), "the severity after triage decides");
}

#[rstest]
#[case(RcaState::Draft, RcaState::InReview, Role::Csm, true)]
#[case(RcaState::InReview, RcaState::Draft, Role::Csm, true)]
#[case(RcaState::InReview, RcaState::Published, Role::SupportLead, true)]
#[case(RcaState::InReview, RcaState::Published, Role::Admin, true)]
#[case(RcaState::InReview, RcaState::Published, Role::Csm, false)]
#[case(RcaState::InReview, RcaState::Published, Role::AccountRep, false)]
#[case(RcaState::Draft, RcaState::Published, Role::Admin, false)]
#[case(RcaState::Published, RcaState::Draft, Role::Admin, false)]
fn transitions_and_who_publishes(
    #[case] from: RcaState,
    #[case] to: RcaState,
    #[case] role: Role,
    #[case] ok: bool,
) {
    let r = check_rca_transition(from, to, role);
    assert_eq!(r.is_ok(), ok, "{from:?} -> {to:?} by {role:?}: {r:?}");
    if let Err(e) = r {
        assert_eq!(e.field, "state");
    }
}

#[test]
fn the_draft_is_prefilled_from_the_incident() {
    let rca = prefill(
        Uuid::from_u128(42),
        &incident(),
        Plan::ProfessionalSupport,
        t(16, 0),
        names,
    );
    assert_eq!(rca.state, RcaState::Draft);
    assert_eq!(rca.impact.start, t(14, 0));
    assert_eq!(rca.impact.end, Some(t(15, 25)), "resolved at 15:25");
    assert_eq!(rca.impact.duration(), Some(TimeDelta::minutes(85)));
    assert_eq!(
        rca.sla_result,
        Some(SlaState::Met),
        "first public response 10 minutes in"
    );
    let whats: Vec<&str> = rca.timeline.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(
        whats,
        [
            "Opened as P1 by email (needs triage): [URGENT] Checkout | payments failing",
            "Triage confirmed at P1",
            "First response: We are on it. Call link follows.",
            "Incident call launched",
            "Status changed from open to mitigated",
            "Status changed from mitigated to resolved",
        ],
        "internal responses stay out of the RCA"
    );
    assert_eq!(rca.timeline[0].who, "Acme (customer)");
}

fn complete() -> Rca {
    let mut rca = prefill(
        Uuid::from_u128(42),
        &incident(),
        Plan::ProfessionalSupport,
        t(16, 0),
        names,
    );
    rca.state = RcaState::InReview;
    rca.summary = "Checkout failed for **all** EU customers.".into();
    rca.impact.affected = "EU storefront customers".into();
    rca.root_cause = "A connection-pool limit was lowered in a config change.".into();
    rca.contributing_factors = "- No alert on pool saturation\n- Change made on a Friday".into();
    rca.resolution = "Limit restored; pool alert added.".into();
    rca.action_items = vec![ActionItem {
        id: Uuid::from_u128(1),
        title: "Alert on pool | saturation".into(),
        owner: "Bob (Acme)".into(),
        due: NaiveDate::from_ymd_opt(2026, 3, 16).unwrap(),
        status: ActionStatus::InProgress,
    }];
    rca
}

#[test]
fn publishing_needs_the_key_sections_and_a_lead() {
    assert!(check_publish(&complete(), Role::SupportLead).is_ok());
    let empty = prefill(
        Uuid::from_u128(42),
        &incident(),
        Plan::ProfessionalSupport,
        t(16, 0),
        names,
    );
    let fields: Vec<String> = check_publish(
        &Rca {
            impact: Impact {
                end: None,
                ..empty.impact.clone()
            },
            ..empty
        },
        Role::Csm,
    )
    .unwrap_err()
    .0
    .into_iter()
    .map(|e| e.field)
    .collect();
    assert_eq!(
        fields,
        ["state", "summary", "root_cause", "resolution", "impact.end"]
    );
    let backwards = Rca {
        impact: Impact {
            end: Some(t(13, 0)),
            ..complete().impact
        },
        ..complete()
    };
    assert_eq!(
        check_publish(&backwards, Role::Admin)
            .unwrap_err()
            .first()
            .field,
        "impact.end"
    );
}

#[test]
fn markdown_export_snapshot() {
    let md = to_markdown(&complete());
    let expected = "\
# Root-cause analysis: [URGENT] Checkout | payments failing

State: in review

## Summary

Checkout failed for **all** EU customers.

## Impact

- Start: 2026-03-02 14:00 UTC
- End: 2026-03-02 15:25 UTC
- Duration: 1 h 25 min
- Affected: EU storefront customers
- First-response SLA: met

## Timeline

| Time | Who | What |
|---|---|---|
| 2026-03-02 14:00 UTC | Acme (customer) | Opened as P1 by email (needs triage): [URGENT] Checkout \\| payments failing |
| 2026-03-02 14:05 UTC | Ana López | Triage confirmed at P1 |
| 2026-03-02 14:10 UTC | Ana López | First response: We are on it. Call link follows. |
| 2026-03-02 14:11 UTC | Ana López | Incident call launched |
| 2026-03-02 14:40 UTC | Ana López | Status changed from open to mitigated |
| 2026-03-02 15:25 UTC | Ana López | Status changed from mitigated to resolved |

## Root cause

A connection-pool limit was lowered in a config change.

## Contributing factors

- No alert on pool saturation
- Change made on a Friday

## Resolution

Limit restored; pool alert added.

## Action items

| Action | Owner | Due | Status |
|---|---|---|---|
| Alert on pool \\| saturation | Bob (Acme) | 2026-03-16 | in progress |
";
    assert_eq!(md, expected);
    assert_eq!(to_markdown(&complete()), md, "deterministic");
}

#[test]
fn markdown_of_an_empty_draft_says_what_is_missing() {
    let mut rca = prefill(
        Uuid::from_u128(42),
        &incident(),
        Plan::Standard,
        t(16, 0),
        names,
    );
    rca.impact.end = None;
    rca.timeline.clear();
    let md = to_markdown(&rca);
    assert!(
        md.contains("- End: not yet\n- Duration: ongoing\n- Affected: not recorded\n\n"),
        "{md}"
    );
    assert!(
        !md.contains("First-response SLA"),
        "standard plan: no SLA result"
    );
    assert_eq!(
        md.matches("_None recorded._").count(),
        6,
        "summary, timeline, root cause, factors, resolution, actions"
    );
}

#[test]
fn durations_in_words() {
    assert_eq!(human_duration(TimeDelta::minutes(45)), "45 min");
    assert_eq!(human_duration(TimeDelta::minutes(60)), "1 h 0 min");
    assert_eq!(
        human_duration(TimeDelta::minutes(3 * 1440 + 61)),
        "3 d 1 h 1 min"
    );
}

#[test]
fn rca_records_are_checked_and_publishing_needs_its_action() {
    use serde_json::json;
    let ok: crate::sync::Fields = [
        ("state", json!("draft")),
        ("request_id", json!(Uuid::from_u128(4))),
        ("summary", json!("s")),
        (
            "impact",
            json!({"start": "2026-11-26T09:00:00Z", "end": "2026-11-26T10:00:00Z", "affected": "EU"}),
        ),
        ("timeline", json!([])),
        (
            "action_items",
            json!([{"id": Uuid::from_u128(5), "title": " Rotate certs ", "owner": "Ana", "due": "2026-12-01", "status": "open"}]),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let n = normalize_fields(ok.clone()).unwrap();
    assert_eq!(n["action_items"][0]["title"], json!("Rotate certs"));
    for (field, bad, named) in [
        ("state", json!("approved"), "state"),
        (
            "impact",
            json!({"start": "2026-11-26T09:00:00Z", "end": "2026-11-26T08:00:00Z", "affected": ""}),
            "impact",
        ),
        (
            "action_items",
            json!([{"id": Uuid::from_u128(5), "title": " ", "owner": "Ana", "due": "2026-12-01", "status": "open"}]),
            "action_items.0.title",
        ),
        ("summary", json!(7), "summary"),
    ] {
        let mut f = ok.clone();
        f.insert(field.into(), bad);
        let e = normalize_fields(f).unwrap_err();
        assert_eq!(e.field.as_deref(), Some(named));
    }
    let draft: crate::sync::Fields = [("state".to_owned(), json!("in_review"))]
        .into_iter()
        .collect();
    let publish: crate::sync::Fields = [("state".to_owned(), json!("published"))]
        .into_iter()
        .collect();
    assert_eq!(
        extra_action(Some(&draft), &publish),
        Some(crate::authz::Action::PublishRca)
    );
    assert_eq!(
        extra_action(None, &publish),
        Some(crate::authz::Action::PublishRca)
    );
    assert_eq!(extra_action(Some(&draft), &draft), None, "editing a draft");
}
