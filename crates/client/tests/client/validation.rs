//! Bad input is refused with an error naming the field, and nothing is saved.

use rapport_client::StoreError;
use rapport_domain::AccountInput;
use rstest::rstest;

use crate::common::*;

fn with(f: impl FnOnce(&mut AccountInput)) -> AccountInput {
    let mut input = account_input("Acme Corp");
    f(&mut input);
    input
}

#[rstest]
#[case::empty_name(with(|a| a.name = "  ".into()), "name", "must not be empty")]
#[case::unknown_zone(with(|a| a.time_zone = "Mars/Olympus".into()), "time_zone", "unknown time zone")]
#[case::non_slack(with(|a| a.slack_channel = Some("https://evil.example/c".into())), "slack_channel", "not a Slack link")]
#[case::month(with(|a| a.fiscal_year_start_month = 0), "fiscal_year_start_month", "1 to 12")]
#[case::unknown_owner(with(|a| a.owner_csm_id = Some(uuid::Uuid::nil())), "owner_csm_id", "no staff member")]
#[tokio::test]
async fn account_input_refused_by_field(
    #[case] input: AccountInput,
    #[case] field: &str,
    #[case] reason: &str,
) {
    let (store, _me) = store_with_me().await;
    let err = store.account_create(input, at(1)).await.unwrap_err();
    assert_eq!(err.field(), Some(field), "the error names {field}: {err}");
    assert!(
        err.to_string().contains(reason),
        "{err} should say why ({reason})"
    );
    assert!(
        matches!(err, StoreError::Validation(_)),
        "a validation error, not a storage one"
    );
    let rows = store.accounts_list(&Default::default()).await.unwrap();
    assert!(rows.is_empty(), "a refused account is not saved");
    assert_eq!(
        store.pending_changes().await.unwrap(),
        1,
        "only the profile is queued"
    );
}

#[tokio::test]
async fn contact_errors_name_the_field_and_save_nothing() {
    let (store, _me, account) = store_with_account("Acme Corp").await;
    let err = store
        .contact_create(account.id, contact_input("Ana", "ana-at-acme.com"), at(1))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("email"), "a bad email is named: {err}");
    let mut bad_zone = contact_input("Ana", "ana@acme.com");
    bad_zone.time_zone = Some("Europe/Atlantis".into());
    let err = store
        .contact_create(account.id, bad_zone, at(2))
        .await
        .unwrap_err();
    assert_eq!(
        err.field(),
        Some("time_zone"),
        "an unknown zone is named: {err}"
    );
    let detail = store.account_get(account.id).await.unwrap();
    assert!(detail.contacts.is_empty(), "no contact was saved");
}

#[tokio::test]
async fn profile_errors_name_the_field() {
    let store = rapport_client::Store::open_in_memory().await.unwrap();
    let mut input = me_input();
    input.time_zone = "Nowhere".into();
    let err = store.profile_create(input, at(0)).await.unwrap_err();
    assert_eq!(err.field(), Some("time_zone"), "{err}");
    assert!(
        store.profile_get().await.unwrap().is_none(),
        "no profile was made"
    );
    store.profile_create(me_input(), at(1)).await.unwrap();
    let err = store.profile_create(me_input(), at(2)).await.unwrap_err();
    assert_eq!(
        err.field(),
        Some("profile"),
        "a second profile is refused: {err}"
    );
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let (store, _me, account) = store_with_account("Acme Corp").await;
    let nobody = uuid::Uuid::now_v7();
    let err = store.account_get(nobody).await.unwrap_err();
    assert_not_found(&err, "account");
    let err = store.note_update(nobody, "x", at(1)).await.unwrap_err();
    assert_not_found(&err, "note");
    let err = store
        .contact_create(nobody, contact_input("A", "a@b.com"), at(1))
        .await
        .unwrap_err();
    assert_not_found(&err, "account");
    let err = store.notes_list(nobody, None).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert_eq!(
        store.pending_changes().await.unwrap(),
        2,
        "nothing beyond profile and account"
    );
    let _ = account;
}
