//! The accounts list (filters, sorts, search), the account page, profile and Today.

use rapport_client::views::{AccountQuery, AccountSort};
use rapport_client::{DemoSpec, Store};
use rapport_domain::{LifecycleStage, Plan};

use crate::common::*;

async fn demo_store() -> Store {
    let store = Store::open_in_memory().await.unwrap();
    store.load_demo(DemoSpec::demo(), t0()).await.unwrap();
    store
}

fn names(rows: &[rapport_client::views::AccountRow]) -> Vec<String> {
    rows.iter().map(|r| r.name.clone()).collect()
}

#[tokio::test]
async fn filters_combine() {
    let store = demo_store().await;
    let all = store.accounts_list(&AccountQuery::default()).await.unwrap();
    let me = store.profile_get().await.unwrap().unwrap();
    let q = AccountQuery {
        plan: Some(Plan::ProfessionalSupport),
        stage: Some(LifecycleStage::Active),
        owner_id: Some(me.id),
        ..Default::default()
    };
    let rows = store.accounts_list(&q).await.unwrap();
    let want: Vec<_> = all
        .iter()
        .filter(|r| {
            r.plan == Plan::ProfessionalSupport
                && r.stage == LifecycleStage::Active
                && r.owner_csm_id == Some(me.id)
        })
        .map(|r| r.name.clone())
        .collect();
    assert!(!want.is_empty(), "the demo has such accounts");
    assert_eq!(
        names(&rows),
        want,
        "plan, stage and owner filters combine (AND)"
    );
}

#[tokio::test]
async fn sorts_both_ways() {
    let store = demo_store().await;
    let by = |sort, descending| {
        let store = store.clone();
        async move {
            store
                .accounts_list(&AccountQuery {
                    sort,
                    descending,
                    ..Default::default()
                })
                .await
                .unwrap()
        }
    };
    let asc = by(AccountSort::Name, false).await;
    let mut sorted = names(&asc);
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names(&asc), sorted, "by name, case-insensitive");
    let desc = by(AccountSort::Name, true).await;
    assert_eq!(
        names(&desc),
        sorted.iter().rev().cloned().collect::<Vec<_>>(),
        "by name descending"
    );

    let zones: Vec<String> = by(AccountSort::TimeZone, false)
        .await
        .iter()
        .map(|r| r.time_zone.clone())
        .collect();
    assert!(zones.windows(2).all(|w| w[0] <= w[1]), "by time zone");
    let updated: Vec<_> = by(AccountSort::UpdatedAt, true)
        .await
        .iter()
        .map(|r| r.updated_at)
        .collect();
    assert!(
        updated.windows(2).all(|w| w[0] >= w[1]),
        "by last update, newest first"
    );
    let stages: Vec<usize> = by(AccountSort::Stage, false)
        .await
        .iter()
        .map(|r| {
            LifecycleStage::ALL
                .iter()
                .position(|s| *s == r.stage)
                .unwrap()
        })
        .collect();
    assert!(
        stages.windows(2).all(|w| w[0] <= w[1]),
        "by stage in lifecycle order"
    );
    let plans: Vec<Plan> = by(AccountSort::Plan, true)
        .await
        .iter()
        .map(|r| r.plan)
        .collect();
    assert!(
        plans.windows(2).all(|w| w[0].as_str() >= w[1].as_str()),
        "by plan descending"
    );
    let owners: Vec<String> = by(AccountSort::Owner, false)
        .await
        .iter()
        .map(|r| r.owner_name.clone().unwrap())
        .collect();
    assert!(
        owners
            .windows(2)
            .all(|w| w[0].to_lowercase() <= w[1].to_lowercase()),
        "by owner name"
    );
}

#[tokio::test]
async fn search_is_substring_or_word_prefix() {
    let store = demo_store().await;
    let find = |s: &str| {
        let store = store.clone();
        let s = s.to_owned();
        async move {
            names(
                &store
                    .accounts_list(&AccountQuery {
                        search: Some(s),
                        ..Default::default()
                    })
                    .await
                    .unwrap(),
            )
        }
    };
    assert_eq!(
        find("hwind").await,
        vec!["Northwind Logistics"],
        "any part of the name"
    );
    assert_eq!(
        find("NORTHWIND").await,
        vec!["Northwind Logistics"],
        "case-insensitive"
    );
    assert!(
        find("margie's")
            .await
            .contains(&"Margie's Travel".to_owned()),
        "punctuation in names"
    );
    let tagged = find("exec-spon").await;
    assert!(!tagged.is_empty(), "word prefix of a tag");
    let by_domain = find("northwind-logistics.com").await;
    assert_eq!(by_domain, vec!["Northwind Logistics"], "a support domain");
    assert!(find("zzzz-no-such").await.is_empty(), "no match, no row");
}

#[tokio::test]
async fn account_page_and_edit() {
    let store = demo_store().await;
    let row = store
        .accounts_list(&AccountQuery {
            search: Some("Northwind".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0);
    let detail = store.account_get(row.id).await.unwrap();
    assert_eq!(detail.account.name, "Northwind Logistics");
    assert_eq!(detail.owner_name, row.owner_name, "the owner's name");
    assert!((2..=5).contains(&detail.contacts.len()), "its contacts");
    let mut input = detail.account.to_input();
    input.tags.push("Key-Account".into());
    let updated = store.account_update(row.id, input, at(10)).await.unwrap();
    assert_eq!(
        updated.tags.last().map(String::as_str),
        Some("key-account"),
        "tags are normalised"
    );
    assert_eq!(
        updated.created_at, detail.account.created_at,
        "created_at is kept"
    );
    assert_eq!(
        store.account_get(row.id).await.unwrap().account,
        updated,
        "the edit is saved"
    );
    assert_eq!(
        store.pending_changes().await.unwrap(),
        1,
        "one user write, one entry"
    );
}

#[tokio::test]
async fn today_shows_my_accounts_and_recent_notes() {
    let (store, me) = store_with_me().await;
    let mut mine = account_input("Mine Ltd");
    mine.owner_csm_id = Some(me.id);
    let mine = store.account_create(mine, at(0)).await.unwrap();
    let mut repped = account_input("Repped Inc");
    repped.account_rep_id = Some(me.id);
    let repped = store.account_create(repped, at(0)).await.unwrap();
    let theirs = make_account(&store, "Theirs GmbH", 0).await;
    let old = write_note(&store, mine.id, "an old note", 0).await;
    let n1 = write_note(&store, theirs.id, "I wrote this on their account", 1).await;
    let n2 = write_note(&store, mine.id, "## Fresh\n\nnote on mine", 2).await;

    let later = at(0)
        + chrono::Duration::days(rapport_client::RECENT_NOTES_DAYS)
        + chrono::Duration::seconds(30);
    let today = store.today_get(later).await.unwrap();
    assert_eq!(today.me, me, "me is the profile");
    assert_eq!(
        today.my_accounts.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![mine.id, repped.id],
        "accounts I own or rep, by name"
    );
    let recent: Vec<_> = today.recent_notes.iter().map(|n| n.id).collect();
    assert_eq!(
        recent,
        vec![n2.id, n1.id],
        "recent notes, newest first; the one past the window is gone"
    );
    assert!(!recent.contains(&old.id), "older than the window");
    assert_eq!(
        today.recent_notes[0].excerpt, "## Fresh note on mine",
        "a one-line excerpt"
    );
    assert_eq!(today.recent_notes[0].account_name, "Mine Ltd");
}

#[tokio::test]
async fn profile_round_trip() {
    let store = Store::open_in_memory().await.unwrap();
    assert_eq!(
        store.profile_get().await.unwrap(),
        None,
        "no profile on first start"
    );
    let me = store.profile_create(me_input(), at(0)).await.unwrap();
    assert_eq!(me.id.get_version_num(), 7, "ids are UUIDv7");
    assert_eq!(store.profile_get().await.unwrap(), Some(me.clone()));
    let mut edit = me_input();
    edit.time_zone = "Asia/Kathmandu".into();
    let edited = store.profile_update(edit, at(1)).await.unwrap();
    assert_eq!(edited.id, me.id, "same user");
    assert_eq!(
        store.profile_get().await.unwrap().unwrap().time_zone,
        "Asia/Kathmandu",
        "saved"
    );
    assert_eq!(
        store.users_list().await.unwrap(),
        vec![edited],
        "the profile is a user"
    );
    let outbox = store.outbox().await.unwrap();
    assert_eq!(
        outbox[1].fields.keys().collect::<Vec<_>>(),
        vec!["time_zone"],
        "only the change"
    );
}

#[tokio::test]
async fn the_list_json_is_the_rows_in_their_wire_form() {
    let store = demo_store().await;
    // One account without an owner or tags, beside the demo's owned and tagged ones.
    let bare = store
        .account_create(
            rapport_domain::AccountInput {
                tags: vec![],
                ..account_input("Bare Account")
            },
            t0(),
        )
        .await
        .unwrap();
    let text = store
        .accounts_list_json(&AccountQuery::default())
        .await
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(rows.len(), 49, "every account, the bare one included");
    for row in &rows {
        let obj = row.as_object().expect("each row is an object");
        let id = obj["id"].as_str().unwrap().parse().unwrap();
        // The account page reads each account by another path: the row must agree with it.
        let detail = store.account_get(id).await.unwrap();
        let a = &detail.account;
        // A standard-plan account is not scored; the others show what their page shows.
        let health = match a.plan {
            rapport_domain::Plan::ProfessionalSupport => {
                Some(store.health_get(id, t0()).await.unwrap())
            }
            rapport_domain::Plan::Standard => None,
        };
        let expected = serde_json::to_value(rapport_client::views::AccountRow {
            id: a.id,
            name: a.name.clone(),
            plan: a.plan,
            stage: a.stage,
            time_zone: a.time_zone.clone(),
            owner_csm_id: a.owner_csm_id,
            owner_name: detail.owner_name.clone(),
            tags: a.tags.clone(),
            contact_count: u32::try_from(detail.contacts.len()).unwrap(),
            note_count: u32::try_from(store.notes_list(id, None).await.unwrap().len()).unwrap(),
            updated_at: a.updated_at,
            health_score: health.as_ref().and_then(|h| h.current.score),
            health_change_30_days: health.as_ref().and_then(|h| h.change_30_days),
        })
        .unwrap();
        let expected = expected.as_object().unwrap();
        let mut keys: Vec<_> = obj.keys().collect();
        let mut want: Vec<_> = expected.keys().collect();
        keys.sort();
        want.sort();
        assert_eq!(keys, want, "the row has exactly AccountRow's fields");
        for (k, v) in expected {
            if k == "updated_at" {
                let got: chrono::DateTime<chrono::Utc> = obj[k].as_str().unwrap().parse().unwrap();
                assert_eq!(got, a.updated_at, "updated_at of {}", a.name);
            } else {
                assert_eq!(&obj[k], v, "{k} of {}", a.name);
            }
        }
    }
    let bare_row = rows
        .iter()
        .find(|r| r["id"] == bare.id.to_string())
        .unwrap();
    assert!(bare_row["owner_csm_id"].is_null() && bare_row["owner_name"].is_null());
    assert_eq!(bare_row["tags"], serde_json::json!([]));
    assert_eq!(bare_row["note_count"], 0);
}
