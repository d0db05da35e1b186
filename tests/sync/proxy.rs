//! The fault proxy (tests/src/proxy.rs) between a real client and the real server: each
//! fault does what it says inside a kept-alive connection, the client takes every one as
//! "offline, retry later", and a retry applies each write exactly once.

use rapport_domain::{AccountInput, Plan, Role};
use rapport_tests::proxy::{FaultProxy, ProxyFault};
use rapport_tests::syncenv::{Client, Server, now};
use uuid::Uuid;

fn input(name: &str) -> AccountInput {
    AccountInput::active(name, Plan::Standard, "UTC")
}

async fn version(server: &Server, id: Uuid) -> Option<i64> {
    sqlx::query_scalar("SELECT version FROM records WHERE entity = 'account' AND id = $1")
        .bind(id)
        .fetch_optional(&server.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_proxy_fault_is_offline_to_the_client_and_a_retry_applies_once() {
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let email = server.user(Role::Csm, &[team]).await.unwrap();
    let token = server.token(&email).await.unwrap();
    let proxy = FaultProxy::start(&server.url, 7).await.unwrap();
    let c = Client::with_token_via(&server, &proxy.url, &token)
        .await
        .unwrap();
    c.sync().await.unwrap();

    // The push is the first request of a sync: the fault hits it.
    for fault in ProxyFault::FAULTS {
        let a = c
            .store
            .account_create(input(&format!("{fault:?}")), now())
            .await
            .unwrap();
        let m = c.store.outbox().await.unwrap()[0].id;
        proxy.script([fault]);
        let first = c.sync().await;
        let reached = server.applied(m).await.unwrap();
        match fault {
            ProxyFault::Duplicate => {
                first.unwrap_or_else(|e| panic!("{fault:?}: a duplicate is answered: {e}"));
            }
            _ => {
                let e = first.expect_err(&format!("{fault:?}: the client saw no answer"));
                assert!(e.is_transient(), "{fault:?} is offline to the client: {e}");
            }
        }
        match fault {
            ProxyFault::Drop => assert!(!reached, "a dropped request never reaches the server"),
            // A 502 the proxy scripts comes after the server answered.
            _ => assert!(reached, "{fault:?}: the server applied the push"),
        }
        c.sync().await.unwrap();
        assert_eq!(c.store.pending_changes().await.unwrap(), 0);
        assert_eq!(
            version(&server, a.id).await,
            Some(1),
            "{fault:?}: the write applied exactly once"
        );
    }

    // A fault on a pull page, mid-body: the page is not applied, the next sync brings it.
    for fault in [ProxyFault::Truncate, ProxyFault::Reset] {
        let other = Client::with_token(&server, &token).await.unwrap();
        let b = other
            .store
            .account_create(input(&format!("pulled after {fault:?}")), now())
            .await
            .unwrap();
        other.sync().await.unwrap();
        // Push (nothing to send: no request), then the pull page is cut.
        proxy.script([fault]);
        let e = c.sync().await.expect_err("the page was cut");
        assert!(e.is_transient(), "{fault:?} mid-body is offline: {e}");
        assert!(
            c.store.account_get(b.id).await.is_err(),
            "{fault:?}: a cut page is not applied"
        );
        c.sync().await.unwrap();
        c.store.account_get(b.id).await.unwrap();
    }
    let seen = proxy.seen();
    for f in ProxyFault::FAULTS {
        assert!(
            seen.get(&f).copied().unwrap_or(0) >= 1,
            "{f:?} ran: {seen:?}"
        );
    }
    drop(proxy);
    server.drop_db().await.unwrap();
}
