//! What is written is on disk: reopening the cache finds it.

use rapport_client::Store;

use crate::common::*;

#[tokio::test]
async fn reopened_store_finds_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("profile-a");
    let (account_id, note_id) = {
        let store = Store::open(&data_dir)
            .await
            .expect("opens and creates the folder");
        assert_eq!(
            store.path(),
            Some(data_dir.join("cache.sqlite3").as_path()),
            "file in the data dir"
        );
        store.profile_create(me_input(), at(0)).await.unwrap();
        let a = make_account(&store, "Northwind Logistics", 1).await;
        let n = write_note(&store, a.id, "durable **note** about invoices", 2).await;
        // Reads go through other connections than the writer: they see committed writes.
        assert_eq!(
            store.notes_list(a.id, None).await.unwrap().len(),
            1,
            "a reader sees the write"
        );
        store.close().await;
        (a.id, n.id)
    };
    let store = Store::open(&data_dir).await.expect("reopens");
    assert_eq!(
        store.profile_get().await.unwrap().map(|u| u.name),
        Some("Maya Fischer".into()),
        "profile kept"
    );
    let notes = store.notes_list(account_id, None).await.unwrap();
    assert_eq!(
        notes.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![note_id],
        "the note survived"
    );
    assert_eq!(
        store.search("invoices", 5).await.unwrap().notes.len(),
        1,
        "and its index"
    );
    assert_eq!(
        store.pending_changes().await.unwrap(),
        3,
        "the outbox survived"
    );
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        files,
        vec![std::ffi::OsString::from("profile-a")],
        "nothing written outside the data dir"
    );
}

#[tokio::test]
async fn a_write_is_durable_without_a_clean_close() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    store.profile_create(me_input(), at(0)).await.unwrap();
    let a = make_account(&store, "Acme Corp", 1).await;
    // A second store on the same file, while the first is still open (as after a crash
    // and restart, the first process's connections never closed cleanly).
    let other = Store::open(dir.path()).await.unwrap();
    assert_eq!(
        other.account_get(a.id).await.unwrap().account,
        a,
        "committed data is visible"
    );
    drop(store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_serialised_and_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    store.profile_create(me_input(), at(0)).await.unwrap();
    let a = make_account(&store, "Acme Corp", 1).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let n = store
                    .note_create(a.id, note_input(&format!("parallel note {i}")), at(2 + i))
                    .await?;
                // Reads run alongside the writes on their own connections.
                store.search("parallel", 5).await?;
                Ok::<_, rapport_client::StoreError>(n.id)
            })
        })
        .collect();
    for t in tasks {
        t.await
            .unwrap()
            .expect("no write fails with a busy database");
    }
    assert_eq!(
        store.notes_list(a.id, None).await.unwrap().len(),
        20,
        "every note is kept"
    );
    assert_eq!(
        store.pending_changes().await.unwrap(),
        22,
        "one outbox entry per write, none lost"
    );
    assert_eq!(
        store.accounts_list(&Default::default()).await.unwrap()[0].note_count,
        20,
        "counted"
    );
}
