//! Helpers shared by the integration tests.

use chrono::{DateTime, Duration, Utc};
use rapport_client::views::NoteView;
use rapport_client::{Store, StoreError};
use rapport_domain::{
    Account, AccountInput, ContactInput, LifecycleStage, NoteInput, Plan, Role, User, UserInput,
    WorkingHours,
};

/// A fixed clock: tests never read the real one.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

pub fn me_input() -> UserInput {
    UserInput {
        name: "Maya Fischer".into(),
        email: "maya@rapport-vendor.com".into(),
        role: Role::Csm,
        time_zone: "Europe/Berlin".into(),
        working_hours: WorkingHours::default(),
    }
}

pub fn account_input(name: &str) -> AccountInput {
    AccountInput {
        name: name.into(),
        plan: Plan::ProfessionalSupport,
        time_zone: "Australia/Sydney".into(),
        fiscal_year_start_month: 1,
        owner_csm_id: None,
        account_rep_id: None,
        slack_channel: Some("https://acme.slack.com/archives/C01".into()),
        support_email_domains: vec!["acme.com".into()],
        stage: LifecycleStage::Onboarding,
        tags: vec!["fintech".into()],
    }
}

pub fn contact_input(name: &str, email: &str) -> ContactInput {
    ContactInput {
        name: name.into(),
        email: email.into(),
        role: "CTO".into(),
        time_zone: None,
    }
}

pub fn note_input(body: &str) -> NoteInput {
    NoteInput {
        body: body.into(),
        pinned: false,
        link: None,
    }
}

/// An in-memory store with a profile.
pub async fn store_with_me() -> (Store, User) {
    let store = Store::open_in_memory()
        .await
        .expect("an in-memory store opens");
    let me = store
        .profile_create(me_input(), t0())
        .await
        .expect("the profile is created");
    (store, me)
}

/// An in-memory store with a profile and one account.
pub async fn store_with_account(name: &str) -> (Store, User, Account) {
    let (store, me) = store_with_me().await;
    let account = store
        .account_create(account_input(name), t0())
        .await
        .expect("account created");
    (store, me, account)
}

/// A note on `account`, written `minute` minutes after [`t0`].
pub async fn write_note(store: &Store, account: uuid::Uuid, body: &str, minute: i64) -> NoteView {
    store
        .note_create(account, note_input(body), at(minute))
        .await
        .expect("the note is written")
}

/// A contact of `account` made from [`contact_input`], `minute` minutes after [`t0`].
pub async fn write_contact(
    store: &Store,
    account: uuid::Uuid,
    name: &str,
    email: &str,
    minute: i64,
) -> rapport_domain::Contact {
    store
        .contact_create(account, contact_input(name, email), at(minute))
        .await
        .expect("the contact is written")
}

/// An account made from [`account_input`], `minute` minutes after [`t0`].
pub async fn make_account(store: &Store, name: &str, minute: i64) -> Account {
    store
        .account_create(account_input(name), at(minute))
        .await
        .expect("the account is created")
}

/// `err` says that no `entity` with the id asked for is in the cache.
pub fn assert_not_found(err: &StoreError, entity: &str) {
    assert!(
        matches!(err, StoreError::NotFound { entity: e, .. } if *e == entity),
        "{err:?}"
    );
}

/// The live notes of `account` whose body matches `search`.
pub async fn notes_matching(store: &Store, account: uuid::Uuid, search: &str) -> Vec<NoteView> {
    store
        .notes_list(account, Some(search))
        .await
        .expect("the notes are listed")
}
