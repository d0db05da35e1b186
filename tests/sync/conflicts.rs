//! Two clients edit one account offline and reconnect in either order: both end equal to
//! the server, as the conflict policy says (per field, the last write the server applied
//! wins; fields nobody else wrote are kept).

use rapport_client::Store;
use rapport_domain::{Account, AccountInput, LifecycleStage, Plan, Role};
use rapport_tests::syncenv::{Client, Server, now};
use uuid::Uuid;

fn input(a: &Account) -> AccountInput {
    AccountInput {
        name: a.name.clone(),
        plan: a.plan,
        time_zone: a.time_zone.clone(),
        fiscal_year_start_month: a.fiscal_year_start_month,
        owner_csm_id: a.owner_csm_id,
        account_rep_id: a.account_rep_id,
        slack_channel: a.slack_channel.clone(),
        support_email_domains: a.support_email_domains.clone(),
        stage: a.stage,
        tags: a.tags.clone(),
    }
}

async fn account(store: &Store, id: Uuid) -> Account {
    store.account_get(id).await.unwrap().account
}

async fn edit(store: &Store, id: Uuid, f: impl FnOnce(&mut AccountInput)) {
    let mut i = input(&account(store, id).await);
    f(&mut i);
    store.account_update(id, i, now()).await.unwrap();
}

async fn assert_converged(server: &Server, team: Uuid, clients: &[&Client]) {
    let want = server.snapshot(team).await.unwrap();
    for (n, c) in clients.iter().enumerate() {
        assert_eq!(
            c.store.pending_changes().await.unwrap(),
            0,
            "client {n}: outbox drained"
        );
        let got = c.store.sync_snapshot().await.unwrap();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "client {n}: same records"
        );
        for (k, fields) in &got {
            for (f, v) in fields {
                assert_eq!(
                    Some(v),
                    want[k].get(f),
                    "client {n}: {k:?}.{f} equals the server's"
                );
            }
        }
    }
}

async fn scenario(a_first: bool) {
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let ea = server.user(Role::Csm, &[team]).await.unwrap();
    let eb = server.user(Role::AccountRep, &[team]).await.unwrap();
    let a = Client::new(&server, &ea).await.unwrap();
    let b = Client::new(&server, &eb).await.unwrap();

    let acme = a
        .store
        .account_create(
            AccountInput {
                name: "Acme".into(),
                plan: Plan::ProfessionalSupport,
                time_zone: "Europe/Berlin".into(),
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
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    assert_eq!(
        account(&b.store, acme.id).await.name,
        "Acme",
        "B received A's account"
    );

    // Offline: different fields.
    edit(&a.store, acme.id, |i| i.name = "Acme GmbH".into()).await;
    edit(&b.store, acme.id, |i| i.stage = LifecycleStage::AtRisk).await;
    let (first, second) = if a_first { (&a, &b) } else { (&b, &a) };
    first.sync().await.unwrap();
    second.sync().await.unwrap();
    first.sync().await.unwrap();
    for c in [&a, &b] {
        let got = account(&c.store, acme.id).await;
        assert_eq!(
            (got.name.as_str(), got.stage),
            ("Acme GmbH", LifecycleStage::AtRisk),
            "both edits kept"
        );
    }
    assert_converged(&server, team, &[&a, &b]).await;

    // Offline: the same field. The write the server applies last wins, on every client.
    edit(&a.store, acme.id, |i| i.name = "Acme by A".into()).await;
    edit(&b.store, acme.id, |i| i.name = "Acme by B".into()).await;
    // While still offline, each sees its own edit (even after pulling older server state).
    first.sync().await.unwrap();
    second.sync().await.unwrap();
    first.sync().await.unwrap();
    let winner = if a_first { "Acme by B" } else { "Acme by A" };
    for c in [&a, &b] {
        assert_eq!(
            account(&c.store, acme.id).await.name,
            winner,
            "the later push wins"
        );
    }
    assert_converged(&server, team, &[&a, &b]).await;
    server.drop_db().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_edit_one_account_offline_a_reconnects_first() {
    scenario(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_edit_one_account_offline_b_reconnects_first() {
    scenario(false).await;
}

/// A pull never hides a local edit that is not acknowledged yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_edit_stays_visible_over_older_server_state() {
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let a = Client::new(&server, &server.user(Role::Csm, &[team]).await.unwrap())
        .await
        .unwrap();
    let b = Client::new(&server, &server.user(Role::Csm, &[team]).await.unwrap())
        .await
        .unwrap();
    let acc = a
        .store
        .account_create(
            AccountInput {
                name: "Initech".into(),
                plan: Plan::Standard,
                time_zone: "UTC".into(),
                fiscal_year_start_month: 4,
                owner_csm_id: None,
                account_rep_id: None,
                slack_channel: None,
                support_email_domains: vec![],
                stage: LifecycleStage::Active,
                tags: vec![],
            },
            now(),
        )
        .await
        .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    // B edits the name remotely; A edits the tags locally and only pulls.
    edit(&b.store, acc.id, |i| i.name = "Initech Corp".into()).await;
    b.sync().await.unwrap();
    edit(&a.store, acc.id, |i| i.tags = vec!["vip".into()]).await;
    a.engine.pull(now(), &|_, _| {}).await.unwrap();
    let got = account(&a.store, acc.id).await;
    assert_eq!(got.name, "Initech Corp", "the pulled edit arrived");
    assert_eq!(
        got.tags,
        vec!["vip".to_owned()],
        "the unpushed local edit is still shown"
    );
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    assert_converged(&server, team, &[&a, &b]).await;
    server.drop_db().await.unwrap();
}

/// A write the server refuses moves to "needs attention" with the user's content; the
/// record shows the server's state again; resend after a fix goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_needs_attention_and_can_be_resent_or_discarded() {
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let csm = Client::new(&server, &server.user(Role::Csm, &[team]).await.unwrap())
        .await
        .unwrap();
    // A support lead may not write accounts (rapport_domain::authz).
    let lead = Client::new(
        &server,
        &server.user(Role::SupportLead, &[team]).await.unwrap(),
    )
    .await
    .unwrap();
    let acc = csm
        .store
        .account_create(AccountInput::active("Globex", Plan::Standard, "UTC"), now())
        .await
        .unwrap();
    csm.sync().await.unwrap();
    lead.sync().await.unwrap();
    edit(&lead.store, acc.id, |i| {
        i.name = "Globex (renamed by lead)".into();
    })
    .await;
    let report = lead.sync().await.unwrap();
    assert_eq!(report.rejected, 1);
    let items = lead.store.attention_list().await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].code, "forbidden_role");
    assert_eq!(
        items[0].fields["name"],
        serde_json::json!("Globex (renamed by lead)"),
        "the user's content is kept"
    );
    assert_eq!(
        account(&lead.store, acc.id).await.name,
        "Globex",
        "the cache shows the server's state again"
    );
    assert_eq!(
        lead.store.pending_changes().await.unwrap(),
        0,
        "the outbox is not blocked"
    );

    // A note by the lead is allowed; resend of the refused one is refused again, discard works.
    let id = items[0].id;
    lead.store.attention_resend(id, None, now()).await.unwrap();
    lead.sync().await.unwrap();
    let again = lead.store.attention_list().await.unwrap();
    assert_eq!(again.len(), 1, "refused again, kept again");
    lead.store.attention_discard(again[0].id).await.unwrap();
    assert!(lead.store.attention_list().await.unwrap().is_empty());
    assert_converged(&server, team, &[&csm, &lead]).await;
    server.drop_db().await.unwrap();
}
