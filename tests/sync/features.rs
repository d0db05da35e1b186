//! The records of onboarding, reviews and requests travel like accounts: what a CSM books,
//! records and opens on one desktop shows on a support lead's desktop after a sync, the
//! lead's severity change comes back, and a record pulled before its account waits for it.

use chrono::{DateTime, Duration, Timelike, Utc};
use rapport_client::onboarding::NewSession;
use rapport_domain::request::{Channel, NewRequestInput, Severity, Visibility};
use rapport_domain::{AccountInput, LifecycleStage, Plan, Role};
use rapport_tests::syncenv::{Client, Server, now};

/// Two days ahead at 10:00 UTC: a session slot in nobody's past.
fn slot() -> (DateTime<Utc>, DateTime<Utc>) {
    let day = now() + Duration::days(2);
    let start = day
        .with_hour(10)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap();
    (start, start + Duration::hours(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_reviews_and_requests_reach_the_other_desktop_and_back() {
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let csm = server.user(Role::Csm, &[team]).await.unwrap();
    let lead = server.user(Role::SupportLead, &[team]).await.unwrap();
    let a = Client::new(&server, &csm).await.unwrap();
    let b = Client::new(&server, &lead).await.unwrap();

    let acme = a
        .store
        .account_create(
            AccountInput {
                name: "Acme".into(),
                plan: Plan::ProfessionalSupport,
                time_zone: "Australia/Sydney".into(),
                fiscal_year_start_month: 1,
                owner_csm_id: None,
                account_rep_id: None,
                slack_channel: None,
                support_email_domains: vec!["acme.com".into()],
                stage: LifecycleStage::Onboarding,
                tags: vec![],
            },
            now(),
        )
        .await
        .unwrap();
    let (start, end) = slot();
    let session = a
        .store
        .onboarding_session_create(
            acme.id,
            NewSession {
                start,
                end,
                attendee_ids: vec![],
                meeting_link: Some("https://meet.jit.si/rapport-acme-onboarding".into()),
            },
            now(),
        )
        .await
        .unwrap();
    let review = a.store.review_create(acme.id, 0, now()).await.unwrap();
    let request = a
        .store
        .request_create(
            NewRequestInput {
                account_id: acme.id,
                contact_id: None,
                channel: Channel::Chat,
                severity: Severity::P1,
                needs_triage: false,
                title: "Checkout down".into(),
                details: "500s since 09:00".into(),
            },
            now(),
        )
        .await
        .unwrap();
    a.store
        .request_respond(request, Visibility::Public, "Looking now", now())
        .await
        .unwrap();
    a.sync().await.unwrap();
    assert_eq!(a.store.pending_changes().await.unwrap(), 0, "all pushed");

    b.sync().await.unwrap();
    let got = b.store.onboarding_session_get(session.id).await.unwrap();
    assert_eq!(
        (got.row.session.starts_at, got.row.session.ends_at),
        (start, end),
        "the session's times arrived"
    );
    let got = b.store.review_get(review.review.id, now()).await.unwrap();
    assert_eq!(got.review.account_id, acme.id, "the review arrived");
    let seen = b.store.request_get(request, now()).await.unwrap();
    assert_eq!(seen.row.severity, Severity::P1);
    assert_eq!(seen.row.title, "Checkout down");
    assert!(
        seen.summary.first_public_response_at.is_some(),
        "the timeline arrived with the response that stops the clock"
    );
    let mine = a.store.request_get(request, now()).await.unwrap();
    assert_eq!(
        (seen.row.clock.state, seen.row.clock.due_at),
        (mine.row.clock.state, mine.row.clock.due_at),
        "both desktops compute the same SLA clock from the same history"
    );
    assert!(
        b.store
            .requests_board(now())
            .await
            .unwrap()
            .open
            .iter()
            .any(|r| r.id == request),
        "on the lead's board"
    );

    // The lead (who may) lowers the severity; the CSM's desktop follows.
    b.store
        .request_set_severity(request, Severity::P2, now())
        .await
        .unwrap();
    b.sync().await.unwrap();
    assert_eq!(b.store.pending_changes().await.unwrap(), 0);
    assert!(
        b.store.attention_list().await.unwrap().is_empty(),
        "the server accepted the lead's change"
    );
    a.sync().await.unwrap();
    assert_eq!(
        a.store
            .request_get(request, now())
            .await
            .unwrap()
            .row
            .severity,
        Severity::P2
    );

    // The CSM takes it; the lead's desktop shows who has it, reassigns it to the lead, and
    // the CSM's desktop follows (the assignee travels as a field of the request record).
    a.store
        .request_assign(request, Some(a.user_id), now())
        .await
        .unwrap();
    a.sync().await.unwrap();
    assert!(
        a.store.attention_list().await.unwrap().is_empty(),
        "the server accepted the take"
    );
    b.sync().await.unwrap();
    let row = b.store.request_get(request, now()).await.unwrap().row;
    assert_eq!(
        row.assignee_id,
        Some(a.user_id),
        "the lead's desktop shows it taken"
    );
    assert!(
        row.assignee_name.is_some_and(|n| n != "A colleague"),
        "by name: team-mates' profiles are synced"
    );
    b.store
        .request_assign(request, Some(b.user_id), now())
        .await
        .unwrap();
    b.sync().await.unwrap();
    assert!(
        b.store.attention_list().await.unwrap().is_empty(),
        "a lead may reassign"
    );
    a.sync().await.unwrap();
    assert_eq!(
        a.store
            .request_get(request, now())
            .await
            .unwrap()
            .row
            .assignee_id,
        Some(b.user_id),
        "the CSM's desktop follows"
    );
    assert!(
        a.store
            .request_assign(request, Some(a.user_id), now())
            .await
            .is_err(),
        "the CSM cannot take it back from the lead"
    );

    // The account changes after everything hanging off it, so its server order is now
    // last: a desktop that starts from nothing receives the session, review and request
    // before their account, parks them, and writes them once the account arrives.
    let mut renamed = a.store.account_get(acme.id).await.unwrap().account;
    renamed.name = "Acme Pty".into();
    a.store
        .account_update(
            acme.id,
            AccountInput {
                name: renamed.name.clone(),
                plan: renamed.plan,
                time_zone: renamed.time_zone.clone(),
                fiscal_year_start_month: renamed.fiscal_year_start_month,
                owner_csm_id: renamed.owner_csm_id,
                account_rep_id: renamed.account_rep_id,
                slack_channel: renamed.slack_channel.clone(),
                support_email_domains: renamed.support_email_domains.clone(),
                stage: renamed.stage,
                tags: renamed.tags.clone(),
            },
            now(),
        )
        .await
        .unwrap();
    a.sync().await.unwrap();
    let c = Client::new(&server, &lead).await.unwrap();
    c.sync().await.unwrap();
    assert_eq!(
        c.store
            .request_get(request, now())
            .await
            .unwrap()
            .row
            .severity,
        Severity::P2
    );
    assert_eq!(
        c.store
            .onboarding_session_get(session.id)
            .await
            .unwrap()
            .row
            .session
            .starts_at,
        start
    );
}
