//! An urgent email opens an incident, a second urgent email escalates another request, the
//! lead triages, responds, launches a call, resolves, and the RCA comes due and is exported.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rapport_domain::Plan;
use rapport_domain::Role;
use rapport_domain::links::{LinkPolicy, check_meeting_link, jitsi_room_url};
use rapport_domain::rca::{self, RcaState};
use rapport_domain::request::{
    Actor, Channel, RequestEvent, RequestEventKind, RequestHistory, RequestStatus, Severity,
    Visibility, check_severity_change, check_status_transition, check_triage_confirmation,
};
use rapport_domain::sla::{self, SlaState};
use rapport_domain::triage::{self, IncomingEmail, ThreadCandidate, ThreadMatch};
use uuid::Uuid;

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, h, m, 0).unwrap()
}

const LEAD: Actor = Actor::Staff {
    user_id: Uuid::from_u128(1),
};
const ACCOUNT: Uuid = Uuid::from_u128(500);

fn event(n: u128, at: DateTime<Utc>, actor: Actor, kind: RequestEventKind) -> RequestEvent {
    RequestEvent {
        id: Uuid::from_u128(n),
        at,
        actor,
        kind,
    }
}

#[test]
fn urgent_email_to_published_rca() {
    // Intake: the decoded subject of an urgent email.
    let subject = "Re: [URGENT] Checkout down for EU customers";
    let open = triage::initial_triage(subject);
    assert_eq!(
        (open.severity, open.needs_triage, open.urgent_alert),
        (Severity::P1, true, true)
    );
    let mut events = vec![event(
        1,
        t(14, 0),
        Actor::Customer { contact_id: None },
        RequestEventKind::Opened {
            severity: open.severity,
            channel: Channel::Email,
            needs_triage: open.needs_triage,
            title: triage::normalize_subject(subject),
        },
    )];
    let clock = |events: &[RequestEvent], now| {
        sla::clock(
            &RequestHistory::new(events.to_vec()).unwrap(),
            Plan::ProfessionalSupport,
            now,
        )
    };
    assert_eq!(
        clock(&events, t(14, 20)).state,
        Some(SlaState::OnTrack),
        "10 of 30 min left"
    );
    assert_eq!(
        clock(&events, t(14, 25)).state,
        Some(SlaState::AtRisk),
        "5 of 30: under 25 %"
    );

    // Only a lead confirms triage; a CSM is refused with the field named.
    let summary = RequestHistory::new(events.clone()).unwrap().summary();
    assert_eq!(
        check_triage_confirmation(&summary, Role::Csm)
            .unwrap_err()
            .field,
        "severity"
    );
    check_triage_confirmation(&summary, Role::SupportLead).unwrap();
    events.push(event(
        2,
        t(14, 5),
        LEAD,
        RequestEventKind::TriageConfirmed {
            severity: Severity::P2,
        },
    ));
    // Downgraded to P2: due opened + 2 h, not triage + 2 h.
    assert_eq!(clock(&events, t(14, 20)).due_at, Some(t(16, 0)));

    // The incident call: a generated Jitsi room passes the link policy.
    let link = jitsi_room_url([7; 16]);
    check_meeting_link("meeting_link", &link, &LinkPolicy::default()).unwrap();
    events.push(event(
        3,
        t(14, 6),
        LEAD,
        RequestEventKind::CallLaunched { link: link.clone() },
    ));
    events.push(event(
        4,
        t(14, 7),
        LEAD,
        RequestEventKind::Response {
            visibility: Visibility::Public,
            text: "We are on the call.".into(),
        },
    ));
    assert_eq!(clock(&events, t(20, 0)).state, Some(SlaState::Met));

    check_status_transition(
        RequestStatus::Open,
        RequestStatus::Resolved,
        Role::SupportLead,
    )
    .unwrap();
    let history_before = RequestHistory::new(events.clone()).unwrap().summary();
    assert!(!rca::rca_due(&history_before, None), "not resolved yet");
    events.push(event(
        5,
        t(15, 30),
        LEAD,
        RequestEventKind::StatusChanged {
            from: RequestStatus::Open,
            to: RequestStatus::Resolved,
        },
    ));
    let history = RequestHistory::new(events).unwrap();
    let summary = history.summary();
    assert_eq!(summary.call_link.as_deref(), Some(link.as_str()));
    assert!(rca::rca_due(&summary, None), "a resolved P2 needs an RCA");

    let mut draft = rca::prefill(
        Uuid::from_u128(9),
        &history,
        Plan::ProfessionalSupport,
        t(16, 0),
        |_| "Lead".into(),
    );
    assert_eq!(draft.impact.duration(), Some(TimeDelta::minutes(90)));
    draft.summary = "Checkout was down.".into();
    draft.root_cause = "Expired certificate.".into();
    draft.resolution = "Renewed; expiry alert added.".into();
    draft.state = RcaState::InReview;
    assert_eq!(
        rca::check_publish(&draft, Role::Csm)
            .unwrap_err()
            .first()
            .field,
        "state"
    );
    rca::check_publish(&draft, Role::SupportLead).unwrap();
    draft.state = RcaState::Published;
    assert!(!rca::rca_due(&summary, Some(draft.state)));
    let md = rca::to_markdown(&draft);
    assert!(md.contains("| Lead | Triage confirmed at P2 |"), "{md}");
    assert!(md.contains("- First-response SLA: met\n"), "{md}");
}

#[test]
fn an_urgent_reply_escalates_the_open_request_it_continues() {
    let existing = RequestHistory::new(vec![event(
        1,
        t(9, 0),
        Actor::Customer { contact_id: None },
        RequestEventKind::Opened {
            severity: Severity::P3,
            channel: Channel::Email,
            needs_triage: false,
            title: "Slow queries".into(),
        },
    )])
    .unwrap();
    let candidates = [ThreadCandidate {
        request_id: Uuid::from_u128(77),
        account_id: ACCOUNT,
        opened_at: t(9, 0),
        subject: "Slow queries".into(),
        message_ids: vec!["first@acme.example".into()],
    }];
    let reply = IncomingEmail {
        subject: "RE: URGENT: Slow queries".into(),
        in_reply_to: Some("<first@acme.example>".into()),
        references: None,
    };
    assert!(triage::subject_is_urgent(&reply.subject));
    assert_eq!(
        triage::find_thread(&reply, ACCOUNT, &candidates),
        Some((Uuid::from_u128(77), ThreadMatch::MessageId))
    );
    let mut events = existing.events().to_vec();
    for (i, kind) in triage::escalation_events(&existing.summary())
        .into_iter()
        .enumerate()
    {
        events.push(event(10 + i as u128, t(13, 0), Actor::System, kind));
    }
    let escalated = RequestHistory::new(events).unwrap();
    let summary = escalated.summary();
    assert_eq!(
        (summary.severity, summary.needs_triage),
        (Severity::P1, true)
    );
    let c = sla::clock(&escalated, Plan::ProfessionalSupport, t(13, 1));
    assert_eq!(
        c.due_at,
        Some(t(13, 30)),
        "P1 from the escalation: 30 minutes"
    );
    // The system escalated; a CSM still cannot change the severity by hand.
    assert!(check_severity_change(&summary, Severity::P2, Role::Csm).is_err());
}
