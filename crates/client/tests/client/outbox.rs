//! The outbox rule: every user write adds exactly one entry, in the same transaction as
//! the row; a refused write adds none and changes nothing.

use rapport_client::StoreError;
use rapport_domain::sync::{EntityKind, MutationOp};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn each_write_adds_exactly_one_entry() {
    let store = rapport_client::Store::open_in_memory().await.unwrap();
    assert_eq!(
        store.pending_changes().await.unwrap(),
        0,
        "a new cache has no pending change"
    );

    let mut expected = 0;
    let mut step = async |what: &str, store: &rapport_client::Store| {
        expected += 1;
        assert_eq!(
            store.pending_changes().await.unwrap(),
            expected,
            "{what} must add exactly one outbox entry"
        );
    };

    store.profile_create(me_input(), at(0)).await.unwrap();
    step("profile_create", &store).await;
    store
        .profile_update(
            UserInput {
                name: "Maya F.".into(),
                ..me_input()
            },
            at(1),
        )
        .await
        .unwrap();
    step("profile_update", &store).await;
    let a = make_account(&store, "Acme Corp", 2).await;
    step("account_create", &store).await;
    store
        .account_update(a.id, account_input("Acme Corporation"), at(3))
        .await
        .unwrap();
    step("account_update", &store).await;
    let c = store
        .contact_create(a.id, contact_input("Ana", "ana@acme.com"), at(4))
        .await
        .unwrap();
    step("contact_create", &store).await;
    store
        .contact_update(c.id, contact_input("Ana Lopez", "ana@acme.com"), at(5))
        .await
        .unwrap();
    step("contact_update", &store).await;
    store.contact_delete(c.id, at(6)).await.unwrap();
    step("contact_delete", &store).await;
    store.contact_restore(c.id, at(7)).await.unwrap();
    step("contact_restore", &store).await;
    let n = write_note(&store, a.id, "first call", 8).await;
    step("note_create", &store).await;
    store
        .note_update(n.id, "first call, went well", at(9))
        .await
        .unwrap();
    step("note_update", &store).await;
    store.note_set_pinned(n.id, true, at(10)).await.unwrap();
    step("note_set_pinned", &store).await;
    store.note_delete(n.id, at(11)).await.unwrap();
    step("note_delete", &store).await;
    store.note_restore(n.id, at(12)).await.unwrap();
    step("note_restore", &store).await;

    let outbox = store.outbox().await.unwrap();
    let kinds: Vec<(EntityKind, MutationOp)> = outbox.iter().map(|m| (m.entity, m.op)).collect();
    assert_eq!(
        kinds,
        vec![
            (EntityKind::User, MutationOp::Upsert),
            (EntityKind::User, MutationOp::Upsert),
            (EntityKind::Account, MutationOp::Upsert),
            (EntityKind::Account, MutationOp::Upsert),
            (EntityKind::Contact, MutationOp::Upsert),
            (EntityKind::Contact, MutationOp::Upsert),
            (EntityKind::Contact, MutationOp::Delete),
            (EntityKind::Contact, MutationOp::Upsert),
            (EntityKind::Note, MutationOp::Upsert),
            (EntityKind::Note, MutationOp::Upsert),
            (EntityKind::Note, MutationOp::Upsert),
            (EntityKind::Note, MutationOp::Delete),
            (EntityKind::Note, MutationOp::Upsert),
        ],
        "the outbox keeps the writes in the order they were made"
    );
    let times: Vec<_> = outbox.iter().map(|m| m.client_time).collect();
    assert_eq!(
        times,
        (0..13).map(at).collect::<Vec<_>>(),
        "client_time is the write's `now`"
    );
    let mut ids: Vec<_> = outbox.iter().map(|m| m.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 13, "every mutation has its own id");
    assert!(
        outbox.iter().all(|m| m.id.get_version_num() == 7),
        "mutation ids are UUIDv7"
    );

    let status = store.status_get().await.unwrap();
    assert_eq!(
        status.pending_changes, 13,
        "the status bar counts the outbox"
    );
    assert_eq!(
        status.last_write_at,
        Some(at(12)),
        "the status bar shows the last write"
    );
}

use rapport_domain::UserInput;

#[tokio::test]
async fn fields_are_all_on_create_and_only_changes_on_update() {
    let (store, _me) = store_with_me().await;
    let a = make_account(&store, "Acme Corp", 1).await;
    let mut edit = account_input("Acme Corp");
    edit.stage = rapport_domain::LifecycleStage::Active;
    store.account_update(a.id, edit, at(2)).await.unwrap();
    let outbox = store.outbox().await.unwrap();
    let create = &outbox[1];
    assert_eq!(create.entity_id, a.id, "the mutation names the account");
    for field in [
        "name",
        "plan",
        "time_zone",
        "slack_channel",
        "tags",
        "stage",
        "created_at",
    ] {
        assert!(
            create.fields.contains_key(field),
            "a create carries every field, {field} missing"
        );
    }
    assert!(
        !create.fields.contains_key("id"),
        "the id travels as entity_id, not as a field"
    );
    let update = &outbox[2];
    let mut keys: Vec<&str> = update.fields.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        vec!["stage", "updated_at"],
        "an edit carries only what changed"
    );
    assert_eq!(
        update.fields["stage"],
        json!("active"),
        "wire names and values"
    );
}

#[tokio::test]
async fn a_refused_write_adds_nothing_and_changes_nothing() {
    let (store, _me, account) = store_with_account("Acme Corp").await;
    let before_outbox = store.outbox().await.unwrap();
    let before = store.account_get(account.id).await.unwrap();

    let err = store
        .account_update(account.id, account_input("   "), at(5))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Validation(_)),
        "an empty name is refused: {err:?}"
    );
    let err = store
        .contact_create(account.id, contact_input("Ana", "not-an-email"), at(6))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("email"), "the bad email is named");
    let err = store
        .note_create(account.id, note_input("  \n "), at(7))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("body"), "an empty note is refused");

    assert_eq!(
        store.outbox().await.unwrap(),
        before_outbox,
        "refused writes add no outbox entry"
    );
    assert_eq!(
        store.account_get(account.id).await.unwrap(),
        before,
        "the account is unchanged"
    );
    assert!(
        store.notes_list(account.id, None).await.unwrap().is_empty(),
        "no note was saved"
    );
}

#[tokio::test]
async fn writes_need_a_profile() {
    let store = rapport_client::Store::open_in_memory().await.unwrap();
    let err = store
        .account_create(account_input("Acme"), at(0))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NoProfile),
        "no profile, no write: {err:?}"
    );
    assert_eq!(
        store.pending_changes().await.unwrap(),
        0,
        "nothing was queued"
    );
    assert!(
        store.profile_get().await.unwrap().is_none(),
        "still no profile"
    );
}

#[tokio::test]
async fn restore_re_sends_every_field() {
    let (store, _me, account) = store_with_account("Acme Corp").await;
    let n = write_note(&store, account.id, "kick-off **done**", 1).await;
    store.note_delete(n.id, at(2)).await.unwrap();
    store.note_restore(n.id, at(3)).await.unwrap();
    let outbox = store.outbox().await.unwrap();
    let [.., delete, restore] = outbox.as_slice() else {
        panic!("two entries expected")
    };
    assert_eq!(delete.op, MutationOp::Delete, "the delete is queued");
    assert!(delete.fields.is_empty(), "a delete carries no field");
    assert_eq!(restore.op, MutationOp::Upsert, "the undo is an upsert");
    assert_eq!(
        restore.fields["body"],
        json!("kick-off **done**"),
        "with the body"
    );
    for f in [
        "account_id",
        "author_id",
        "pinned",
        "link",
        "created_at",
        "updated_at",
    ] {
        assert!(restore.fields.contains_key(f), "the restore carries {f}");
    }
}
