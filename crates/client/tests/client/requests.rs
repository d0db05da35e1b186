//! Urgent requests: email intake over the .eml corpus (tests/fixtures/eml), the timeline,
//! the incident call, alerts once per request, the RCA and its note.

use rapport_client::Store;
use rapport_client::requests::{CallSettings, EmailImportOutcome};
use rapport_domain::rca::RcaState;
use rapport_domain::request::{
    Channel, NewRequestInput, RequestEventKind, RequestStatus, Severity, Visibility,
};
use rapport_domain::sla::{SlaAlert, SlaState};
use rapport_domain::triage::ThreadMatch;
use rapport_domain::{Account, Role};

use crate::common::{account_input, at, me_input, store_with_account, t0};

fn eml(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/eml/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn lead_store() -> (Store, Account) {
    let store = Store::open_in_memory().await.unwrap();
    let mut me = me_input();
    me.role = Role::SupportLead;
    store.profile_create(me, t0()).await.unwrap();
    let account = store
        .account_create(account_input("Acme"), t0())
        .await
        .unwrap();
    (store, account)
}

/// Opens a triaged chat request of `account`, from no known contact, `minute` minutes after
/// [`t0`]; its id.
async fn open_chat(
    store: &Store,
    account: &Account,
    severity: Severity,
    title: &str,
    details: &str,
    minute: i64,
) -> uuid::Uuid {
    let input = NewRequestInput {
        account_id: account.id,
        contact_id: None,
        channel: Channel::Chat,
        severity,
        needs_triage: false,
        title: title.into(),
        details: details.into(),
    };
    store.request_create(input, at(minute)).await.unwrap()
}

/// Requests on the board (open ones and those awaiting an RCA).
async fn count(store: &Store) -> usize {
    let b = store.requests_board(t0()).await.unwrap();
    b.open.len() + b.rca_due.len()
}

fn opened(o: &EmailImportOutcome) -> uuid::Uuid {
    match o {
        EmailImportOutcome::Opened { request_id, .. } => *request_id,
        other => panic!("expected a new request, got {other:?}"),
    }
}

#[tokio::test]
async fn the_eml_corpus_opens_escalates_and_threads_as_the_rules_say() {
    let (store, account) = lead_store().await;

    // [URGENT] in brackets: P1 needs triage, urgent.
    let o = import(&store, "urgent_bracket.eml", 0).await;
    assert_opened(&o, Severity::P1, true, "[URGENT] opens a P1");
    let db = opened(&o);
    let d = store.request_get(db, at(1)).await.unwrap();
    assert_eq!(d.row.account_id, account.id, "found by the sender's domain");
    assert!(d.row.needs_triage, "an email always needs triage");
    assert_eq!(d.row.channel, Channel::Email);
    assert_eq!(d.row.title, "[URGENT] Production database down");
    assert!(
        matches!(&d.timeline[1].kind, RequestEventKind::Update { text } if text.starts_with("Our production database")),
        "the body is the first timeline entry: {:?}",
        d.timeline
    );
    assert_eq!(d.row.clock.state, Some(SlaState::OnTrack));
    assert_eq!(d.row.clock.due_at, Some(at(30)), "P1: 30 minutes");

    // The reply (In-Reply-To) is added to it, not opened as another request.
    let o = import(&store, "re_urgent_reply.eml", 10).await;
    assert_eq!(
        o,
        EmailImportOutcome::Added {
            request_id: db,
            matched_by: ThreadMatch::MessageId
        },
        "an urgent reply on a P1 awaiting triage has nothing to escalate"
    );

    // RFC 2047 encoded subject and a non-ASCII sender on a subdomain.
    let o = import(&store, "rfc2047_urgent.eml", 20).await;
    assert_opened(
        &o,
        Severity::P1,
        true,
        "the decoded subject contains the word urgent",
    );
    let d = store.request_get(opened(&o), at(20)).await.unwrap();
    assert_eq!(d.row.title, "Dringend: urgent – Zahlungen schlagen fehl");
    assert!(
        matches!(&d.timeline[1].kind, RequestEventKind::Update { text } if text.contains("Grüße, Jürgen")),
        "quoted-printable UTF-8 body decoded"
    );

    // "urgently" is not the word: P3.
    let o = import(&store, "urgently.eml", 30).await;
    assert_opened(
        &o,
        Severity::P3,
        false,
        "\"urgently\" does not raise the alert",
    );
    let invoices = opened(&o);

    // Multipart: the text part is the body; Fwd: prefix; P3.
    let o = import(&store, "multipart.eml", 40).await;
    let export = opened(&o);
    let d = store.request_get(export, at(40)).await.unwrap();
    assert_eq!(d.row.severity, Severity::P3);
    assert!(
        matches!(&d.timeline[1].kind, RequestEventKind::Update { text } if text == "The nightly export now takes 3 hours instead of 20 minutes."),
        "the plain-text part, not the HTML: {:?}",
        d.timeline[1]
    );
    assert_eq!(d.timeline[1].who, "Customer", "no contact has this address");

    // An urgent reply (References) escalates the P3 to P1 instead of opening another.
    let o = import(&store, "urgent_reply_escalates.eml", 100).await;
    assert_eq!(
        o,
        EmailImportOutcome::Escalated {
            request_id: export,
            matched_by: ThreadMatch::MessageId
        }
    );
    let d = store.request_get(export, at(100)).await.unwrap();
    assert_eq!(d.row.severity, Severity::P1, "escalated");
    assert_eq!(
        d.row.clock.due_at,
        Some(at(130)),
        "t_s is the escalation: due 30 minutes after it"
    );

    // An urgent email with the same subject thread escalates too.
    let o = import(&store, "subject_thread_urgent.eml", 120).await;
    assert_eq!(
        o,
        EmailImportOutcome::Escalated {
            request_id: invoices,
            matched_by: ThreadMatch::Subject
        }
    );
    assert_eq!(count(&store).await, 4, "four requests, no duplicates");
}

#[tokio::test]
async fn an_unknown_sender_asks_for_the_account_and_a_malformed_file_creates_nothing() {
    let (store, account) = lead_store().await;
    let outbox_before = store.outbox().await.unwrap().len();
    let o = import(&store, "unknown_sender.eml", 0).await;
    assert!(
        matches!(&o, EmailImportOutcome::ChooseAccount { sender, candidates, .. } if sender == "bob@unknown-customer.example" && candidates.is_empty()),
        "{o:?}"
    );
    assert_eq!(
        store.outbox().await.unwrap().len(),
        outbox_before,
        "asking for the account writes nothing"
    );
    let o = store
        .email_import(&eml("unknown_sender.eml"), Some(account.id), at(1))
        .await
        .unwrap();
    let id = opened(&o);
    assert_eq!(
        store.request_get(id, at(1)).await.unwrap().row.account_id,
        account.id
    );

    for bad in [
        eml("not_an_email.eml"),
        Vec::new(),
        b"\0\x01binary".to_vec(),
    ] {
        let e = store.email_import(&bad, None, at(2)).await.unwrap_err();
        assert_eq!(e.field(), Some("file"), "{e}");
    }
    assert_eq!(count(&store).await, 1, "the bad files created nothing");
}

#[tokio::test]
async fn a_support_lead_runs_the_incident_to_a_published_rca_and_a_note() {
    let (store, account) = lead_store().await;
    let id = open_chat(
        &store,
        &account,
        Severity::P2,
        "Replication lag",
        "Lag grows since 09:00",
        0,
    )
    .await;
    let board = store.requests_board(at(95)).await.unwrap();
    assert_eq!(board.open.len(), 1);
    assert_eq!(
        board.open[0].clock.state,
        Some(SlaState::AtRisk),
        "25 of 120 minutes left"
    );

    // Alerts: urgent and at risk, each once, recorded.
    let due = store.alerts_pending(at(95)).await.unwrap();
    let kinds: Vec<SlaAlert> = due.iter().map(|a| a.alert).collect();
    assert_eq!(kinds, vec![SlaAlert::Urgent, SlaAlert::AtRisk]);
    for a in &due {
        assert!(
            store
                .alert_record(a.request_id, a.alert, at(95))
                .await
                .unwrap()
        );
        assert!(
            !store
                .alert_record(a.request_id, a.alert, at(96))
                .await
                .unwrap(),
            "recorded once"
        );
    }
    assert!(
        store.alerts_pending(at(96)).await.unwrap().is_empty(),
        "not repeated"
    );
    let due = store.alerts_pending(at(121)).await.unwrap();
    assert_eq!(
        due.iter().map(|a| a.alert).collect::<Vec<_>>(),
        vec![SlaAlert::Breached]
    );

    // The call: a Jitsi room, then the same link again.
    let call = store
        .request_launch_call(id, [7; 16], at(100))
        .await
        .unwrap();
    assert!(
        call.link.starts_with("https://meet.jit.si/rapport-"),
        "{}",
        call.link
    );
    let again = store
        .request_launch_call(id, [9; 16], at(101))
        .await
        .unwrap();
    assert_eq!(
        again.link, call.link,
        "re-launching reuses the incident's link"
    );
    assert!(!again.new_link);

    // A refused personal link; then an accepted one does not replace the incident's link.
    let bad = store
        .call_settings_set(CallSettings {
            meeting_link: Some("https://zoom.us.evil.example/j/1".into()),
            allowed_hosts: vec!["zoom.us".into(), "meet.jit.si".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(bad.field(), Some("meeting_link"));

    store
        .request_respond(id, Visibility::Internal, "checking replicas", at(102))
        .await
        .unwrap();
    let d = store.request_get(id, at(103)).await.unwrap();
    assert_eq!(
        d.row.clock.state,
        Some(SlaState::AtRisk),
        "internal notes do not stop it"
    );
    store
        .request_respond(id, Visibility::Public, "We are on it", at(110))
        .await
        .unwrap();
    let d = store.request_get(id, at(200)).await.unwrap();
    assert_eq!(d.row.clock.state, Some(SlaState::Met));
    assert_eq!(d.row.clock.stopped_at, Some(at(110)));

    // RCA before resolution is refused.
    assert!(store.rca_open(id, at(111)).await.is_err());
    store
        .request_set_status(id, RequestStatus::Resolved, at(150))
        .await
        .unwrap();
    let bad = store
        .request_set_status(id, RequestStatus::Mitigated, at(151))
        .await
        .unwrap_err();
    assert_eq!(bad.field(), Some("status"));
    let board = store.requests_board(at(160)).await.unwrap();
    assert!(board.open.is_empty());
    assert!(board.rca_due[0].rca_due, "RCA due once resolved");

    let rca = store.rca_open(id, at(160)).await.unwrap();
    assert_eq!(rca.rca.impact.start, at(0));
    assert_eq!(rca.rca.impact.end, Some(at(150)));
    assert_eq!(rca.rca.sla_result, Some(SlaState::Met));
    assert!(
        rca.rca
            .timeline
            .iter()
            .any(|e| e.what == "Incident call launched"),
        "the timeline is prefilled: {:?}",
        rca.rca.timeline
    );
    assert!(
        !rca.rca
            .timeline
            .iter()
            .any(|e| e.what.contains("checking replicas")),
        "internal notes stay out"
    );
    // Publishing an empty draft names the missing sections.
    let e = store
        .rca_set_state(rca.id, RcaState::Published, at(161))
        .await
        .unwrap_err();
    assert_eq!(
        e.field(),
        Some("state"),
        "draft cannot go straight to published"
    );
    let mut input = rapport_client::rca::RcaInput {
        summary: "Replication lagged for 2.5 hours".into(),
        impact: rca.rca.impact.clone(),
        timeline: rca.rca.timeline.clone(),
        root_cause: "A runaway batch job".into(),
        contributing_factors: String::new(),
        resolution: "Job throttled".into(),
        action_items: vec![],
    };
    input.impact.affected = "EU customers".into();
    store.rca_save(rca.id, input, at(162)).await.unwrap();
    store
        .rca_set_state(rca.id, RcaState::InReview, at(163))
        .await
        .unwrap();
    let published = store
        .rca_set_state(rca.id, RcaState::Published, at(164))
        .await
        .unwrap();
    assert_eq!(published.rca.state, RcaState::Published);
    let board = store.requests_board(at(165)).await.unwrap();
    assert!(board.rca_due.is_empty(), "no RCA due once published");
    let notes = store.notes_list(account.id, None).await.unwrap();
    let note = notes
        .iter()
        .find(|n| n.body.contains("Root-cause analysis: Replication lag"))
        .expect("publishing adds a note on the account");
    assert_eq!(
        note.link.map(|l| l.id),
        Some(id),
        "the note links the incident"
    );
    let export = store.rca_export(rca.id).await.unwrap();
    assert!(
        export.file_name.ends_with("replication-lag.md"),
        "{}",
        export.file_name
    );
    assert!(
        export
            .markdown
            .contains("## Root cause\n\nA runaway batch job")
    );
}

#[tokio::test]
async fn severity_changes_belong_to_leads_and_admins() {
    let (store, _me, account) = store_with_account("Acme").await;
    let id = open_chat(&store, &account, Severity::P3, "Slow page", "", 0).await;
    let e = store
        .request_set_severity(id, Severity::P1, at(1))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("severity"), "a CSM may not: {e}");
    assert!(!store.request_get(id, at(1)).await.unwrap().can_set_severity);
}

#[tokio::test]
async fn the_compliance_report_counts_met_missed_and_breached_and_exports_csv() {
    let (store, account) = lead_store().await;
    let open = |sev: Severity, title: &'static str, at_min: i64| {
        open_chat(&store, &account, sev, title, "", at_min)
    };
    let met = open(Severity::P1, "met", 0).await;
    let missed = open(Severity::P1, "missed", 0).await;
    let _breached = open(Severity::P2, "breached", 0).await;
    store
        .request_respond(met, Visibility::Public, "hi", at(10))
        .await
        .unwrap();
    store
        .request_respond(missed, Visibility::Public, "hi", at(50))
        .await
        .unwrap();
    let r = store.sla_report(None, at(300)).await.unwrap();
    assert_eq!(
        r.time_zone, "Europe/Berlin",
        "months on the profile's clock"
    );
    assert_eq!((r.total.met, r.total.missed, r.total.breached), (1, 1, 1));
    assert_eq!(
        r.total.median_first_response_secs,
        Some(30 * 60),
        "10 and 50 minutes"
    );
    assert_eq!(r.rows[0].month, "2026-11");
    assert_eq!(r.by_account.len(), 1);
    let one = store.sla_report(Some(account.id), at(300)).await.unwrap();
    assert_eq!(one.total, r.total, "one account holds them all");
    let csv = store.sla_report_csv(None, at(300)).await.unwrap();
    assert!(
        csv.csv
            .starts_with("scope,month,severity,met,missed,breached")
    );
    assert!(
        csv.csv
            .contains("\"All accounts\",\"all\",all,1,1,1,0,33.3,30.0\r\n"),
        "{}",
        csv.csv
    );
    assert!(csv.file_name.starts_with("sla-report-all-accounts-"));
}

#[tokio::test]
async fn requests_feed_the_accounts_health_score() {
    use rapport_domain::health::HealthPart;
    let (store, account) = lead_store().await;
    let part = |v: &rapport_client::health::HealthView, p: HealthPart| {
        v.current
            .parts
            .iter()
            .find(|x| x.part == p)
            .cloned()
            .unwrap()
    };
    let before = store.health_get(account.id, at(0)).await.unwrap();
    assert_eq!(
        part(&before, HealthPart::OpenRequests).score,
        None,
        "never a request: no data"
    );
    assert_eq!(
        part(&before, HealthPart::SlaMisses).score,
        None,
        "no SLA result yet: no data"
    );

    let id = open_chat(&store, &account, Severity::P1, "Checkout down", "", 0).await;
    let open = store.health_get(account.id, at(1)).await.unwrap();
    let p = part(&open, HealthPart::OpenRequests);
    assert!(p.score.unwrap() < 100, "an open P1 costs points: {p:?}");
    assert!(
        open.history.len() > before.history.len(),
        "the write that opened it stored a snapshot"
    );

    // Answered late (at 45 min, due at 30): a miss in the last 90 days; resolved: none open.
    store
        .request_respond(id, Visibility::Public, "On it", at(45))
        .await
        .unwrap();
    store
        .request_set_status(id, RequestStatus::Resolved, at(60))
        .await
        .unwrap();
    let after = store.health_get(account.id, at(61)).await.unwrap();
    assert_eq!(part(&after, HealthPart::OpenRequests).score, Some(100));
    assert_eq!(
        part(&after, HealthPart::SlaMisses).score,
        Some(0),
        "one result, missed"
    );
    // 91 days later the miss no longer counts.
    let later = store
        .health_get(account.id, at(61 + 91 * 24 * 60))
        .await
        .unwrap();
    assert_eq!(part(&later, HealthPart::SlaMisses).score, None);
}

/// Imports the `.eml` fixture `name` into `store`, `minute` minutes after t0.
async fn import(store: &Store, name: &str, minute: i64) -> EmailImportOutcome {
    store
        .email_import(&eml(name), None, at(minute))
        .await
        .expect("the message is imported")
}

/// `o` opened a request at `severity`, urgent or not; `why` says why it must.
fn assert_opened(o: &EmailImportOutcome, severity: Severity, urgent: bool, why: &str) {
    assert!(
        matches!(o, EmailImportOutcome::Opened { severity: s, urgent: u, .. } if *s == severity && *u == urgent),
        "{why}: {o:?}"
    );
}
