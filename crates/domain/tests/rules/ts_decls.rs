//! The types the UI will show declare themselves to TypeScript (ts-rs, as
//! `src-tauri/src/bindings.rs` renders them) with the same names serde puts on the wire.

use rapport_domain::health::{
    HealthBand, HealthInputs, HealthPart, HealthScore, HealthWeights, PartScore,
};
use rapport_domain::ics::{IcsAttendee, IcsEvent, IcsMethod};
use rapport_domain::links::LinkPolicy;
use rapport_domain::onboarding::{AgendaItem, OnboardingSessionInput, OnboardingStatus};
use rapport_domain::quarter::Quarter;
use rapport_domain::rca::{Rca, RcaState, TimelineEntry};
use rapport_domain::request::{RequestEvent, RequestEventKind, RequestSummary, Severity};
use rapport_domain::review::{ActionItem, BoardColumn, BoardCounts, ChecklistEntry, ReviewState};
use rapport_domain::schedule::{Slot, SlotOptions};
use rapport_domain::sla::{ComplianceRow, SlaAlert, SlaClock, SlaState};
use rapport_domain::triage::EmailTriage;
use ts_rs::{Config, TS};

fn decl<T: TS>() -> String {
    T::decl(&Config::new().with_large_int("number"))
}

#[test]
fn every_ui_type_declares() {
    let all = [
        decl::<Severity>(),
        decl::<RequestEventKind>(),
        decl::<RequestEvent>(),
        decl::<RequestSummary>(),
        decl::<SlaState>(),
        decl::<SlaClock>(),
        decl::<SlaAlert>(),
        decl::<ComplianceRow>(),
        decl::<EmailTriage>(),
        decl::<LinkPolicy>(),
        decl::<Slot>(),
        decl::<SlotOptions>(),
        decl::<IcsMethod>(),
        decl::<IcsAttendee>(),
        decl::<IcsEvent>(),
        decl::<Quarter>(),
        decl::<ReviewState>(),
        decl::<BoardColumn>(),
        decl::<BoardCounts>(),
        decl::<ChecklistEntry>(),
        decl::<ActionItem>(),
        decl::<HealthWeights>(),
        decl::<HealthInputs>(),
        decl::<HealthPart>(),
        decl::<HealthBand>(),
        decl::<PartScore>(),
        decl::<HealthScore>(),
        decl::<OnboardingStatus>(),
        decl::<AgendaItem>(),
        decl::<OnboardingSessionInput>(),
        decl::<RcaState>(),
        decl::<TimelineEntry>(),
        decl::<Rca>(),
    ];
    assert!(all.iter().all(|d| d.starts_with("type ")), "{all:#?}");
}

#[test]
fn declarations_use_the_wire_names() {
    assert_eq!(
        decl::<Severity>(),
        r#"type Severity = "p1" | "p2" | "p3" | "p4";"#
    );
    assert!(
        decl::<SlaState>().contains(r#""on_track" | "at_risk""#),
        "{}",
        decl::<SlaState>()
    );
    assert!(
        decl::<RequestEventKind>().contains(r#""type": "severity_changed""#),
        "{}",
        decl::<RequestEventKind>()
    );
    assert!(
        decl::<Quarter>().contains("time_zone: string"),
        "a zone is its IANA name: {}",
        decl::<Quarter>()
    );
    assert!(
        decl::<SlaClock>().contains("remaining_secs: number | null"),
        "{}",
        decl::<SlaClock>()
    );
}

#[test]
fn wire_names_match_serde() {
    let json = serde_json::to_value(RequestEventKind::TriageConfirmed {
        severity: Severity::P2,
    })
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "type": "triage_confirmed", "severity": "p2" })
    );
    let q = rapport_domain::quarter::quarter_of(
        chrono::DateTime::UNIX_EPOCH,
        chrono_tz::Pacific::Kiritimati,
        4,
    )
    .unwrap();
    let v = serde_json::to_value(q).unwrap();
    assert_eq!(v["time_zone"], "Pacific/Kiritimati");
    let back: Quarter = serde_json::from_value(v).unwrap();
    assert_eq!(back, q, "a quarter survives the wire");
}
