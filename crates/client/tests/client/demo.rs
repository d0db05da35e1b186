//! The demo workspace: deterministic, loads only into an empty cache, never queued for sync.

use rapport_client::views::{AccountQuery, AccountSort};
use rapport_client::{DemoSpec, Store, StoreError};
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
    let mut zones: Vec<&str> = w
        .accounts
        .iter()
        .map(|a| a.account.time_zone.as_str())
        .collect();
    zones.sort_unstable();
    zones.dedup();
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
    let mut zones: Vec<&str> = w
        .accounts
        .iter()
        .map(|a| a.account.time_zone.as_str())
        .collect();
    zones.sort_unstable();
    zones.dedup();
    assert!(zones.len() >= 20, "still many zones: {zones:?}");
}
