//! The demo workspace: deterministic, loads only into an empty cache, never queued for sync.

use rapport_client::views::{AccountQuery, AccountSort};
use rapport_client::{DemoSpec, DemoWorkspace, Store, StoreError};
use rapport_domain::Role;

use crate::common::*;

#[test]
fn generation_is_deterministic() {
    let a = DemoSpec::demo().generate(t0());
    let b = DemoSpec::demo().generate(t0());
    assert_eq!(a, b, "the same seed and clock give the same workspace");
    let other = DemoSpec {
        seed: 7,
        ..DemoSpec::demo()
    }
    .generate(t0());
    assert_ne!(
        a.accounts[0].account.id, other.accounts[0].account.id,
        "another seed, other ids"
    );
}

#[test]
fn demo_has_the_promised_shape() {
    let w = DemoSpec::demo().generate(t0());
    assert!(w.accounts.len() >= 40, "at least 40 accounts");
    let zones = zones_of(&w);
    for z in [
        "Australia/Sydney",
        "Europe/Berlin",
        "America/New_York",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Pacific/Auckland",
    ] {
        assert!(zones.contains(&z), "demo covers {z}");
    }
    assert!(
        w.accounts
            .iter()
            .all(|a| (2..=5).contains(&a.contacts.len())),
        "2-5 contacts each"
    );
    assert!(
        w.accounts.iter().all(|a| a.notes.len() >= 3),
        "several notes each"
    );
    for role in [Role::Csm, Role::AccountRep, Role::SupportLead, Role::Admin] {
        assert!(
            w.users.iter().any(|u| u.role == role),
            "a {role:?} among the staff"
        );
    }
    let me = w
        .users
        .iter()
        .find(|u| u.id == w.profile_id)
        .expect("the profile is one of the staff");
    assert_eq!(me.role, Role::Csm, "the demo profile is a CSM");
    let names: std::collections::HashSet<_> = w.accounts.iter().map(|a| &a.account.name).collect();
    assert_eq!(names.len(), w.accounts.len(), "account names are distinct");
}

#[tokio::test]
async fn loads_into_an_empty_cache_without_filling_the_outbox() {
    let store = Store::open_in_memory().await.unwrap();
    let summary = store.load_demo(DemoSpec::demo(), t0()).await.unwrap();
    assert_eq!(summary.accounts, 48);
    assert_eq!(summary.notes, 48 * 6);
    assert_eq!(summary.users, 7);
    assert_eq!(
        store.pending_changes().await.unwrap(),
        0,
        "seed data is never queued for the server"
    );
    assert_eq!(
        store.users_list().await.unwrap().len(),
        7,
        "the staff are there"
    );
    let rows = store.accounts_list(&AccountQuery::default()).await.unwrap();
    assert_eq!(rows.len(), 48, "every account is listed");
    let contacts: u32 = rows.iter().map(|r| r.contact_count).sum();
    assert_eq!(contacts, summary.contacts, "contact counts add up");
    assert!(rows.iter().all(|r| r.note_count == 6), "6 notes each");
    assert!(
        rows.iter().all(|r| r.owner_name.is_some()),
        "every account has a named owner"
    );

    let found = store
        .accounts_list(&AccountQuery {
            search: Some("wind log".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "an account is found by parts of its name");
    assert_eq!(found[0].name, "Northwind Logistics");
    assert_eq!(
        store.search("Northwind", 5).await.unwrap().accounts[0].title,
        "Northwind Logistics"
    );

    let today = store.today_get(t0()).await.unwrap();
    assert_eq!(today.me.role, Role::Csm, "Today is the demo CSM's");
    assert!(
        today.my_accounts.len() >= 16,
        "the demo CSM owns accounts: {}",
        today.my_accounts.len()
    );
    assert!(!today.recent_notes.is_empty(), "recent notes are there");
    assert!(
        today
            .recent_notes
            .windows(2)
            .all(|w| w[0].updated_at >= w[1].updated_at),
        "newest first"
    );

    let err = store.load_demo(DemoSpec::demo(), t0()).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotEmpty),
        "a second load is refused: {err:?}"
    );
    assert!(err.to_string().contains("empty"), "and says why: {err}");

    // Every sort works on real data.
    for sort in AccountSort::ALL {
        for descending in [false, true] {
            let rows = store
                .accounts_list(&AccountQuery {
                    sort,
                    descending,
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(
                rows.len(),
                48,
                "sort {sort:?} desc={descending} lists everything"
            );
        }
    }
}

#[tokio::test]
async fn a_cache_with_a_profile_refuses_the_demo() {
    let (store, _me) = store_with_me().await;
    let err = store.load_demo(DemoSpec::demo(), t0()).await.unwrap_err();
    assert!(matches!(err, StoreError::NotEmpty), "{err:?}");
    assert!(
        store
            .accounts_list(&AccountQuery::default())
            .await
            .unwrap()
            .is_empty(),
        "nothing loaded"
    );
}

#[test]
fn accounts_named_after_a_place_are_in_its_zone() {
    let w = DemoSpec::demo().generate(t0());
    let zone = |name: &str| {
        w.accounts
            .iter()
            .find(|a| a.account.name == name)
            .unwrap_or_else(|| panic!("the demo has {name}"))
            .account
            .time_zone
            .clone()
    };
    for (name, expected) in [
        ("Auckland Harbour Ferries", "Pacific/Auckland"),
        ("Chicago Grain Exchange", "America/Chicago"),
        ("Bondi Surf Supply", "Australia/Sydney"),
        ("Andes Coffee Roasters", "America/Lima"),
        ("Cape Vineyards", "Africa/Johannesburg"),
        ("Brooklyn Bagel Works", "America/New_York"),
        ("Kathmandu Trekking Co", "Asia/Kathmandu"),
        ("Mumbai Metro Freight", "Asia/Kolkata"),
        ("Rheinland Maschinenbau", "Europe/Berlin"),
        ("Lone Star Solar", "America/Chicago"),
        ("Toronto Maple Energy", "America/Toronto"),
        ("Pacific Biotech", "America/Los_Angeles"),
    ] {
        assert_eq!(zone(name), expected, "{name} is in its place's zone");
    }
    let zones = zones_of(&w);
    assert!(zones.len() >= 20, "still many zones: {zones:?}");
}

/// What a new user meets in the demo, whatever day it is loaded on: a Thursday late in
/// November, the first day of a quarter (a Sunday at midnight in Berlin), a Monday morning
/// mid-quarter.
#[rstest::rstest]
#[case("2026-11-26T09:00:00Z")]
#[case("2026-03-31T22:30:00Z")]
#[case("2027-05-17T06:15:00Z")]
#[tokio::test]
async fn the_demo_holds_a_teams_week(#[case] at: &str) {
    use rapport_domain::onboarding::OnboardingStatus;
    use rapport_domain::rca::RcaState;
    use rapport_domain::request::Severity;
    use rapport_domain::sla::SlaState;
    let now = chrono::DateTime::parse_from_rfc3339(at)
        .unwrap()
        .with_timezone(&chrono::Utc);
    let store = Store::open_in_memory().await.unwrap();
    store.load_demo(DemoSpec::demo(), now).await.unwrap();
    assert_eq!(
        store.pending_changes().await.unwrap(),
        0,
        "the activity is seed data too: nothing queued for the server"
    );

    // Urgent requests (what Today shows) in every clock state, now and a quarter of an
    // hour later (the demo stays alive for a first look around).
    for later in [0, 15] {
        let t = now + chrono::TimeDelta::minutes(later);
        let board = store.requests_board(t).await.unwrap();
        let urgent: Vec<_> = board
            .open
            .iter()
            .filter(|r| r.severity <= Severity::P2 || r.needs_triage)
            .collect();
        for state in [
            SlaState::OnTrack,
            SlaState::AtRisk,
            SlaState::Breached,
            SlaState::Met,
            SlaState::Missed,
        ] {
            assert!(
                urgent.iter().any(|r| r.clock.state == Some(state)),
                "an urgent request is {state:?} {later} min after the load: {:?}",
                urgent.iter().map(|r| r.clock.state).collect::<Vec<_>>()
            );
        }
        for sev in [Severity::P1, Severity::P2, Severity::P3, Severity::P4] {
            assert!(
                board.open.iter().any(|r| r.severity == sev),
                "an open {sev:?}"
            );
        }
        assert!(
            board.open.iter().any(|r| r.clock.state.is_none()),
            "a request on a standard-plan account runs no SLA clock"
        );
        assert!(
            !board.rca_due.is_empty(),
            "a resolved incident awaits its RCA"
        );
    }
    let board = store.requests_board(now).await.unwrap();
    let mut called = false;
    for r in board.open.iter().filter(|r| r.severity == Severity::P1) {
        let d = store.request_get(r.id, now).await.unwrap();
        called |= d.summary.call_link.is_some()
            && d.timeline.iter().any(|e| {
                matches!(
                    e.kind,
                    rapport_domain::request::RequestEventKind::CallLaunched { .. }
                )
            });
    }
    assert!(called, "an open P1 has its incident call launched");

    let accounts = store.accounts_list(&AccountQuery::default()).await.unwrap();
    let mut rca_states = std::collections::HashSet::new();
    for a in &accounts {
        for r in store.account_requests(a.id, now).await.unwrap() {
            rca_states.extend(r.rca_state);
        }
    }
    for s in [RcaState::Draft, RcaState::InReview, RcaState::Published] {
        assert!(rca_states.contains(&s), "an RCA in {s:?}");
    }

    // Onboarding: every column, sessions today and this week.
    let ob = store.onboarding_board().await.unwrap();
    for s in [
        OnboardingStatus::Planned,
        OnboardingStatus::Scheduled,
        OnboardingStatus::Completed,
        OnboardingStatus::Cancelled,
        OnboardingStatus::NoShow,
    ] {
        assert!(
            ob.sessions.iter().any(|r| r.session.status == s),
            "a session {s:?}"
        );
    }
    assert!(!ob.needs_onboarding.is_empty(), "accounts still to onboard");
    assert!(
        store.onboarding_today(now).await.unwrap().len() >= 2,
        "my sessions today"
    );
    assert!(
        store
            .onboarding_week(None, now)
            .await
            .unwrap()
            .sessions
            .len()
            >= 5,
        "my week holds sessions"
    );

    // Reviews: requested, scheduled and done this quarter, and an overdue one of mine.
    let q = store
        .quarter_board(0, &Default::default(), now)
        .await
        .unwrap();
    assert!(
        q.counts.requested > 0 && q.counts.scheduled > 0 && q.counts.done > 0,
        "this quarter's board has requested, scheduled and done reviews: {:?}",
        q.counts
    );
    assert!(
        !store.reviews_overdue_mine(now).await.unwrap().is_empty(),
        "Today shows an overdue review of mine"
    );

    // Health: every Professional Support account scored in the list exactly as on its
    // page, with a 30-day trend.
    let mut changed = 0;
    for row in &accounts {
        if row.plan != rapport_domain::Plan::ProfessionalSupport {
            continue;
        }
        let page = store.health_get(row.id, now).await.unwrap();
        assert!(
            row.health_score.is_some(),
            "{} is scored in the list",
            row.name
        );
        assert_eq!(
            row.health_score, page.current.score,
            "{}: the list shows the page's score",
            row.name
        );
        assert_eq!(
            row.health_change_30_days, page.change_30_days,
            "{}: the list shows the page's 30-day change",
            row.name
        );
        assert!(page.history.len() >= 30, "{} has a history", row.name);
        changed += usize::from(page.change_30_days.is_some_and(|c| c != 0));
    }
    assert!(
        changed >= 5,
        "scores moved over 30 days on {changed} accounts"
    );
}

/// The window tests start from the demo too: a Sydney account waits for its onboarding,
/// and a European account's review is still due this quarter.
#[tokio::test]
async fn the_demo_leaves_work_to_start_from() {
    let store = Store::open_in_memory().await.unwrap();
    store.load_demo(DemoSpec::demo(), t0()).await.unwrap();
    let board = store.onboarding_board().await.unwrap();
    assert!(
        board
            .needs_onboarding
            .iter()
            .any(|a| a.time_zone == "Australia/Sydney"),
        "a Sydney account needs onboarding"
    );
    let q = store
        .quarter_board(0, &Default::default(), t0())
        .await
        .unwrap();
    assert!(
        q.rows
            .iter()
            .any(|r| r.column == rapport_domain::review::BoardColumn::Due
                && r.time_zone.starts_with("Europe/")),
        "a European account's review is due this quarter"
    );
}

/// The time zones of a workspace's accounts, each once.
fn zones_of(w: &DemoWorkspace) -> Vec<&str> {
    let mut zones: Vec<&str> = w
        .accounts
        .iter()
        .map(|a| a.account.time_zone.as_str())
        .collect();
    zones.sort_unstable();
    zones.dedup();
    zones
}
