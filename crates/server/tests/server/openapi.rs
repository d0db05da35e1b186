//! The OpenAPI document covers every route, body and error.

use axum::http::{Method, StatusCode};
use sqlx::PgPool;

use crate::common::TestApp;

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn the_document_lists_every_endpoint_with_its_errors(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let r = app.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.body;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "OpenAPI 3"
    );
    let routes = [
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("post", "/v1/auth/login"),
        ("post", "/v1/auth/logout"),
        ("get", "/v1/me"),
        ("get", "/v1/admin/users"),
        ("post", "/v1/admin/users"),
        ("patch", "/v1/admin/users/{id}"),
        ("put", "/v1/admin/users/{id}/password"),
        ("get", "/v1/admin/teams"),
        ("post", "/v1/admin/teams"),
        ("put", "/v1/admin/teams/{id}/members/{user_id}"),
        ("delete", "/v1/admin/teams/{id}/members/{user_id}"),
        ("post", "/v1/sync/push"),
        ("get", "/v1/sync/pull"),
        ("get", "/v1/sync/records/{entity}/{id}"),
        ("get", "/v1/sync/events"),
        ("get", "/v1/openapi.json"),
        ("post", "/v1/intake/chat"),
        ("post", "/v1/intake/chat/{conversation_id}/messages"),
        ("get", "/v1/intake/unmatched"),
        ("post", "/v1/intake/unmatched/{id}/assign"),
        ("get", "/v1/admin/intake/keys"),
        ("post", "/v1/admin/intake/keys"),
        ("delete", "/v1/admin/intake/keys/{id}"),
        ("get", "/v1/admin/intake/mailboxes"),
        ("get", "/v1/admin/intake/errors"),
        ("get", "/v1/oncall"),
        ("post", "/v1/oncall/overrides"),
        ("delete", "/v1/oncall/overrides/{id}"),
        ("post", "/v1/oncall/requests/{id}/ack"),
        ("get", "/v1/oncall/ack/{token}"),
        ("post", "/v1/oncall/ack/{token}"),
        ("get", "/v1/admin/oncall"),
        ("put", "/v1/admin/oncall/policy"),
        ("put", "/v1/admin/oncall/rotation"),
        ("delete", "/v1/admin/oncall/rotation"),
        ("put", "/v1/admin/oncall/opt-ins/{user_id}"),
        ("put", "/v1/admin/oncall/webhooks/{team_id}"),
        ("delete", "/v1/admin/oncall/webhooks/{team_id}"),
        ("get", "/v1/admin/oncall/pages"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        routes.len(),
        "no undocumented extra, no missing route"
    );
    for (method, path) in routes {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is documented");
        let responses = op["responses"].as_object().unwrap();
        let needs_auth = path.starts_with("/v1/")
            && !matches!(
                path,
                "/v1/auth/login" | "/v1/openapi.json" | "/v1/oncall/ack/{token}"
            );
        if needs_auth {
            assert!(
                responses.contains_key("401"),
                "{method} {path} documents 401"
            );
        }
        if path.starts_with("/v1/sync/") {
            assert!(
                responses.contains_key("426"),
                "{method} {path} documents 426"
            );
        }
    }
    for schema in [
        "PushRequest",
        "PushResponse",
        "Mutation",
        "MutationResult",
        "RejectCode",
        "PullResponse",
        "Change",
        "ErrorBody",
        "LoginRequest",
        "LoginResponse",
        "Me",
        "User",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema} is in the document"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
