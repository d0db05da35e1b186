//! Global search: finds accounts, contacts and notes by words; forgets deleted rows; never
//! fails on FTS5 syntax typed by a user.

use rapport_client::views::SearchHitKind;
use rstest::rstest;

use crate::common::*;

/// How many notes a search for `q` finds.
async fn note_hits(store: &rapport_client::Store, q: &str) -> usize {
    store.search(q, 10).await.unwrap().notes.len()
}

#[tokio::test]
async fn finds_each_kind_with_highlighted_snippets() {
    let (store, _me, account) = store_with_account("Northwind Logistics").await;
    let c = write_contact(
        &store,
        account.id,
        "Ingrid Hoffmann",
        "ingrid@northwind.com",
        1,
    )
    .await;
    let n = write_note(
        &store,
        account.id,
        "# Quarterly review\n\nThe warehouse integration slipped.",
        2,
    )
    .await;

    let r = store.search("northwind", 10).await.unwrap();
    assert_eq!(
        r.accounts.len(),
        1,
        "the account is found by a word of its name"
    );
    assert_eq!(r.accounts[0].id, account.id);
    assert_eq!(r.accounts[0].kind, SearchHitKind::Account);
    assert_eq!(
        r.accounts[0].account_id, account.id,
        "an account hit points at itself"
    );
    assert!(
        r.accounts[0].snippet.contains("\u{2}Northwind\u{3}"),
        "marked: {:?}",
        r.accounts[0].snippet
    );
    assert_eq!(
        r.contacts.len(),
        1,
        "the contact is found by its email domain"
    );
    assert_eq!(r.contacts[0].id, c.id);
    assert_eq!(
        r.contacts[0].account_name, "Northwind Logistics",
        "with its account's name"
    );

    let r = store.search("warehouse", 10).await.unwrap();
    assert_eq!(r.notes.len(), 1, "the note is found by a word of its body");
    assert_eq!(r.notes[0].id, n.id);
    assert_eq!(r.notes[0].account_id, account.id);
    assert_eq!(
        r.notes[0].title, "Quarterly review",
        "a note's title is its first line"
    );
    assert!(
        r.notes[0].snippet.contains("\u{2}warehouse\u{3}"),
        "{:?}",
        r.notes[0].snippet
    );

    let r = store.search("wareh", 10).await.unwrap();
    assert_eq!(
        r.notes.len(),
        1,
        "the last word matches as a prefix, as you type"
    );
    let r = store.search("ware integration", 10).await.unwrap();
    assert!(r.notes.is_empty(), "earlier words are whole words");
    let r = store.search("INGRID", 10).await.unwrap();
    assert_eq!(r.contacts.len(), 1, "case does not matter");
    let r = store.search("fintech", 10).await.unwrap();
    assert_eq!(r.accounts.len(), 1, "accounts are found by tag");
}

#[tokio::test]
async fn deleted_rows_leave_the_index_and_restored_ones_return() {
    let (store, _me, account) = store_with_account("Acme Corp").await;
    let n = write_note(&store, account.id, "discussed kubernetes upgrade", 1).await;
    let c = write_contact(&store, account.id, "Zoë Walsh", "zoe@acme.com", 1).await;
    assert_eq!(note_hits(&store, "kubernetes").await, 1, "found while live");
    store.note_delete(n.id, at(2)).await.unwrap();
    store.contact_delete(c.id, at(2)).await.unwrap();
    assert!(
        note_hits(&store, "kubernetes").await == 0,
        "a deleted note is not found"
    );
    assert!(
        store.search("walsh", 10).await.unwrap().contacts.is_empty(),
        "a deleted contact is not found"
    );
    store.note_restore(n.id, at(3)).await.unwrap();
    assert_eq!(
        note_hits(&store, "kubernetes").await,
        1,
        "found again after undo"
    );

    store
        .note_update(n.id, "moved to nomad", at(4))
        .await
        .unwrap();
    assert!(
        note_hits(&store, "kubernetes").await == 0,
        "the old body is forgotten"
    );
    assert_eq!(
        store.search("nomad", 10).await.unwrap().notes.len(),
        1,
        "the new body is indexed"
    );
    store
        .account_update(account.id, account_input("Globex"), at(5))
        .await
        .unwrap();
    assert!(
        store
            .search("acme corp", 10)
            .await
            .unwrap()
            .accounts
            .is_empty(),
        "old name forgotten"
    );
    assert_eq!(
        store.search("globex", 10).await.unwrap().accounts.len(),
        1,
        "new name indexed"
    );
}

#[rstest]
#[case("\"")]
#[case("\"unterminated")]
#[case("*")]
#[case("-")]
#[case("AND")]
#[case("a AND")]
#[case("OR NOT")]
#[case("(")]
#[case("foo)")]
#[case("NEAR(a b)")]
#[case("col:value")]
#[case("^start")]
#[case("x* -y + z")]
#[case("''; DROP TABLE notes; --")]
#[case("{name}: acme")]
#[case("🙂 emoji")]
#[tokio::test]
async fn fts_syntax_typed_by_users_never_fails(#[case] q: &str) {
    let (store, _me, account) = store_with_account("Acme Corp").await;
    write_note(&store, account.id, "AND or NOT: notes about acme value", 1).await;
    let r = store.search(q, 10).await;
    assert!(r.is_ok(), "search({q:?}) must not fail: {r:?}");
    let list = store
        .accounts_list(&rapport_client::views::AccountQuery {
            search: Some(q.into()),
            ..Default::default()
        })
        .await;
    assert!(
        list.is_ok(),
        "accounts_list search {q:?} must not fail: {list:?}"
    );
    let notes = store.notes_list(account.id, Some(q)).await;
    assert!(
        notes.is_ok(),
        "notes_list search {q:?} must not fail: {notes:?}"
    );
}

#[tokio::test]
async fn operator_words_are_plain_words() {
    let (store, _me, account) = store_with_account("Acme Corp").await;
    write_note(&store, account.id, "black AND white", 1).await;
    write_note(&store, account.id, "black cat", 2).await;
    let r = store.search("black AND", 10).await.unwrap();
    assert_eq!(r.notes.len(), 1, "AND is a word to find, not an operator");
    let r = store.search("black -cat", 10).await.unwrap();
    assert_eq!(r.notes.len(), 1, "-cat is the word cat, not an exclusion");
    assert_eq!(r.notes[0].title, "black cat");
}

#[tokio::test]
async fn limits_are_respected() {
    let (store, _me, account) = store_with_account("Acme Corp").await;
    for i in 0..5 {
        store
            .note_create(account.id, note_input(&format!("status update {i}")), at(i))
            .await
            .unwrap();
    }
    let r = store.search("status", 3).await.unwrap();
    assert_eq!(r.notes.len(), 3, "at most `limit` notes");
    assert_eq!(r.notes[0].title, "status update 4", "newest note first");
    assert!(
        store.search("status", 0).await.unwrap().is_empty(),
        "limit 0 finds nothing"
    );
    assert!(
        store.search("   ", 10).await.unwrap().is_empty(),
        "a blank query finds nothing"
    );
}

#[tokio::test]
async fn name_matches_come_before_tag_and_domain_matches() {
    let (store, _me) = store_with_me().await;
    let mut tagged = account_input("Acme Corp");
    tagged.tags = vec!["northeast".into()];
    let tagged = store.account_create(tagged, at(1)).await.unwrap();
    let named = make_account(&store, "Northeast Freight", 2).await;
    let both = {
        let mut i = account_input("Northeast Rail");
        i.tags = vec!["northeast".into()];
        store.account_create(i, at(3)).await.unwrap()
    };
    let r = store.search("northe", 10).await.unwrap();
    let ids: Vec<_> = r.accounts.iter().map(|h| h.id).collect();
    assert_eq!(
        ids,
        vec![named.id, both.id, tagged.id],
        "name matches first, each account once"
    );
    let r = store.search("northe", 2).await.unwrap();
    assert_eq!(r.accounts.len(), 2, "the limit holds across both groups");
}

#[tokio::test]
async fn whole_words_come_before_prefix_matches() {
    let (store, _me, account) = store_with_account("Acme Corp").await;
    let exact = write_note(&store, account.id, "renew the contract", 1).await;
    let prefix = write_note(&store, account.id, "renewal planned", 2).await;
    let ids =
        |r: rapport_client::views::SearchResults| r.notes.iter().map(|h| h.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.search("renew", 10).await.unwrap()),
        vec![exact.id, prefix.id],
        "the word as typed first, then the prefix match (though newer)"
    );
    assert_eq!(
        ids(store.search("renew", 1).await.unwrap()),
        vec![exact.id],
        "the limit holds"
    );
    assert_eq!(
        ids(store.search("renewa", 10).await.unwrap()),
        vec![prefix.id],
        "prefix only"
    );
}
