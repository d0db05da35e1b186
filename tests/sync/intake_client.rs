//! The desktop's intake calls (rapport-client `intake`) against the real server: they read
//! what the service answers, and each refusal comes back as the error the UI shows.

use chrono::Utc;
use rapport_client::intake::{IntakeClient, IntakeError};
use rapport_domain::request::Severity;
use rapport_domain::{AccountInput, Plan, Role};
use rapport_server::intake::keys;
use rapport_tests::syncenv::{Client, Server, now};

fn client(server: &Server, token: String) -> IntakeClient {
    IntakeClient::connect(Some(&server.url), Some(token), "test").unwrap()
}

async fn post_chat(server: &Server, key_id: &str, secret: &str, body: &serde_json::Value) -> u16 {
    let body = body.to_string();
    let ts = Utc::now().timestamp();
    let sig = keys::sign(&keys::signing_key(secret), ts, body.as_bytes());
    reqwest::Client::new()
        .post(format!("{}/v1/intake/chat", server.url))
        .header("content-type", "application/json")
        .header(keys::KEY_HEADER, key_id)
        .header(keys::TIMESTAMP_HEADER, ts.to_string())
        .header(keys::SIGNATURE_HEADER, sig)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desktops_intake_calls_read_the_services_answers() {
    let server = Server::start().await.unwrap();
    let team = server.team("Support").await.unwrap();
    let admin_email = server.user(Role::Admin, &[team]).await.unwrap();
    let lead_email = server.user(Role::SupportLead, &[team]).await.unwrap();
    let csm_email = server.user(Role::Csm, &[team]).await.unwrap();
    let admin = client(&server, server.token(&admin_email).await.unwrap());
    let lead = client(&server, server.token(&lead_email).await.unwrap());
    let csm = client(&server, server.token(&csm_email).await.unwrap());

    // Keys: created with the secret once, listed, used, revoked.
    let k = admin.create_key("  website chat ").await.unwrap();
    assert_eq!(k.key.name, "website chat", "the name is trimmed");
    assert!(k.secret.starts_with("rik_"), "{}", k.secret);
    let again = admin.create_key("website chat").await.unwrap_err();
    assert!(
        matches!(&again, IntakeError::Invalid { field, .. } if field == "name"),
        "a taken name is refused on the field: {again:?}"
    );
    let chat = serde_json::json!({
        "conversation_id": "c-1", "customer_email": "it@stranger.example", "customer_name": "IT",
        "severity": "P2", "title": "Slow reports", "message": "Since Monday.", "sent_at": Utc::now(),
    });
    assert_eq!(
        post_chat(&server, &k.key.id.to_string(), &k.secret, &chat).await,
        201
    );
    let listed = admin.keys().await.unwrap();
    let mine = listed.iter().find(|x| x.id == k.key.id).unwrap();
    assert!(mine.last_used_at.is_some(), "the list shows the last use");
    assert!(mine.revoked_at.is_none());
    let revoked = admin.revoke_key(k.key.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    let chat2 = serde_json::json!({
        "conversation_id": "c-2", "customer_email": "it@stranger.example", "customer_name": "IT",
        "severity": "P2", "title": "Again", "message": "?", "sent_at": Utc::now(),
    });
    assert_eq!(
        post_chat(&server, &k.key.id.to_string(), &k.secret, &chat2).await,
        401,
        "a revoked key signs nothing"
    );
    assert!(matches!(
        admin.revoke_key(uuid::Uuid::now_v7()).await,
        Err(IntakeError::NotFound(_))
    ));
    assert!(
        admin.mailboxes().await.unwrap().is_empty(),
        "no mailbox configured here"
    );
    assert!(admin.errors(10).await.unwrap().is_empty());

    // Roles: a lead may not manage keys; a CSM may not see the queue.
    let e = lead.keys().await.unwrap_err();
    assert!(e.to_string().starts_with("only admins"), "{e}");
    let e = csm.unmatched().await.unwrap_err();
    assert!(
        e.to_string().starts_with("only support leads and admins"),
        "{e}"
    );

    // The queue, and assigning from it: the request reaches the lead's cache by sync.
    let waiting = lead.unmatched().await.unwrap();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0].severity, Severity::P2);
    assert_eq!(waiting[0].customer_email, "it@stranger.example");
    let owner = Client::new(&server, &csm_email).await.unwrap();
    let account = owner
        .store
        .account_create(
            AccountInput::active("Stranger Things Ltd", Plan::ProfessionalSupport, "UTC"),
            now(),
        )
        .await
        .unwrap();
    owner.sync().await.unwrap();
    let desk = Client::new(&server, &lead_email).await.unwrap();
    let done = lead.assign(waiting[0].id, account.id).await.unwrap();
    assert_eq!(
        (done.request_id, done.account_id),
        (waiting[0].id, account.id)
    );
    assert!(
        lead.unmatched().await.unwrap().is_empty(),
        "it left the queue"
    );
    assert!(
        matches!(
            lead.assign(waiting[0].id, account.id).await,
            Err(IntakeError::NotFound(_))
        ),
        "assigned once only"
    );
    desk.sync().await.unwrap();
    let board = desk.store.requests_board(now()).await.unwrap();
    assert!(
        board
            .open
            .iter()
            .any(|r| r.id == waiting[0].id && r.account_id == account.id),
        "the assigned request is on the lead's board after sync"
    );

    // Offline: a server that is not there.
    let gone = IntakeClient::connect(Some("http://127.0.0.1:9"), Some("t".into()), "x").unwrap();
    assert!(matches!(
        gone.unmatched().await,
        Err(IntakeError::Offline(_))
    ));
    server.drop_db().await.unwrap();
}
