//! Notes: soft delete and exact restore, pinned first then newest, search in an account.

use rapport_client::StoreError;

use crate::common::*;

#[tokio::test]
async fn delete_then_restore_brings_back_the_exact_note() {
    let (store, me, account) = store_with_account("Acme Corp").await;
    let mut input = note_input("## Kick-off\n\nAgreed the **SLA** table.");
    input.pinned = true;
    let note = store.note_create(account.id, input, at(1)).await.unwrap();
    assert_eq!(note.author_id, me.id, "the profile is the author");
    assert_eq!(
        note.author_name.as_deref(),
        Some("Maya Fischer"),
        "with the author's name"
    );

    store.note_delete(note.id, at(2)).await.unwrap();
    assert!(
        store.notes_list(account.id, None).await.unwrap().is_empty(),
        "a deleted note is hidden"
    );
    let err = store.note_update(note.id, "edit", at(3)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { .. }),
        "a deleted note cannot be edited: {err:?}"
    );
    let err = store.note_delete(note.id, at(3)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { .. }),
        "nor deleted twice: {err:?}"
    );

    let restored = store.note_restore(note.id, at(4)).await.unwrap();
    assert_eq!(
        restored, note,
        "undo brings back the exact note (body, pin, times, html)"
    );
    assert_eq!(
        store.notes_list(account.id, None).await.unwrap(),
        vec![note.clone()],
        "listed again"
    );
    let err = store.note_restore(note.id, at(5)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { .. }),
        "a live note has nothing to undo: {err:?}"
    );
}

#[tokio::test]
async fn contacts_delete_softly_and_come_back() {
    let (store, _me, account) = store_with_account("Acme Corp").await;
    let c = write_contact(&store, account.id, "Ana Lopez", "ana@acme.com", 1).await;
    let row = |s: &rapport_client::Store| {
        let s = s.clone();
        async move { s.accounts_list(&Default::default()).await.unwrap()[0].contact_count }
    };
    assert_eq!(row(&store).await, 1, "the list counts the contact");
    store.contact_delete(c.id, at(2)).await.unwrap();
    assert!(
        store
            .account_get(account.id)
            .await
            .unwrap()
            .contacts
            .is_empty(),
        "deleted contact hidden"
    );
    assert_eq!(row(&store).await, 0, "and no longer counted");
    let back = store.contact_restore(c.id, at(3)).await.unwrap();
    assert_eq!(back, c, "the exact contact comes back");
    assert_eq!(
        store.account_get(account.id).await.unwrap().contacts,
        vec![c],
        "listed again"
    );
    assert_eq!(row(&store).await, 1, "counted again");
}

#[tokio::test]
async fn pinned_first_then_newest() {
    let (store, _me, account) = store_with_account("Acme Corp").await;
    let old = write_note(&store, account.id, "old note", 1).await;
    let pinned_old = write_note(&store, account.id, "pinned early", 2).await;
    let mid = write_note(&store, account.id, "middle note", 3).await;
    let newest = write_note(&store, account.id, "newest note", 4).await;
    store
        .note_set_pinned(pinned_old.id, true, at(5))
        .await
        .unwrap();
    // Editing the old note makes it the most recently edited unpinned one.
    store
        .note_update(old.id, "old note, edited", at(6))
        .await
        .unwrap();
    let list = store.notes_list(account.id, None).await.unwrap();
    let order: Vec<_> = list.iter().map(|n| n.id).collect();
    assert_eq!(
        order,
        vec![pinned_old.id, old.id, newest.id, mid.id],
        "pinned first, then newest edit"
    );
    assert!(list[0].pinned, "the pinned note says so");
    assert_eq!(list[1].body, "old note, edited", "the edit is saved");

    store
        .note_set_pinned(pinned_old.id, false, at(7))
        .await
        .unwrap();
    let list = store.notes_list(account.id, None).await.unwrap();
    assert_eq!(
        list[0].id, pinned_old.id,
        "unpinning is an edit: it is now the newest"
    );
    assert!(!list[0].pinned, "no longer pinned");
    assert_eq!(
        store.accounts_list(&Default::default()).await.unwrap()[0].note_count,
        4,
        "counted"
    );
}

#[tokio::test]
async fn notes_render_safely_and_search_within_the_account() {
    let (store, _me, account) = store_with_account("Acme Corp").await;
    let other = make_account(&store, "Other Co", 1).await;
    let n = write_note(
        &store,
        account.id,
        "Escalation <script>alert(1)</script> [x](javascript:alert(1)) **bold**",
        2,
    )
    .await;
    assert!(
        !n.body_html.contains("<script"),
        "no script reaches the view: {}",
        n.body_html
    );
    assert!(
        !n.body_html.contains("javascript:alert"),
        "no javascript link: {}",
        n.body_html
    );
    assert!(
        n.body_html.contains("<strong>bold</strong>"),
        "Markdown renders: {}",
        n.body_html
    );
    write_note(&store, account.id, "renewal in March", 3).await;
    write_note(&store, other.id, "escalation at Other Co", 4).await;

    let found = notes_matching(&store, account.id, "escal").await;
    assert_eq!(
        found.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![n.id],
        "prefix search in one account"
    );
    assert!(
        notes_matching(&store, account.id, "\"(*-").await.is_empty(),
        "punctuation finds nothing"
    );
    assert_eq!(
        notes_matching(&store, account.id, "  ").await.len(),
        2,
        "blank search lists all"
    );
    assert_eq!(
        notes_matching(&store, account.id, "RENEWAL march")
            .await
            .len(),
        1,
        "words, any case"
    );
}
