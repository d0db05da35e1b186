//! The OpenAPI 3 document of every endpoint, served at `/v1/openapi.json`.

use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Rapport central service", description = "Staff identity, teams and the sync API of Rapport."),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::auth::login,
        routes::auth::logout,
        routes::auth::me,
        routes::admin::list_users,
        routes::admin::create_user,
        routes::admin::update_user,
        routes::admin::reset_password,
        routes::admin::list_teams,
        routes::admin::create_team,
        routes::admin::add_member,
        routes::admin::remove_member,
        routes::sync::push,
        routes::sync::pull,
        routes::sync::record,
        routes::sync::events,
        crate::intake::routes::chat_open,
        crate::intake::routes::chat_message,
        crate::intake::routes::list_unmatched,
        crate::intake::routes::assign_unmatched,
        crate::intake::routes::list_keys,
        crate::intake::routes::create_key,
        crate::intake::routes::revoke_key,
        crate::intake::routes::list_mailboxes,
        crate::intake::routes::list_errors,
        openapi_json,
    ),
    components(schemas(
        rapport_domain::sync::ErrorBody,
        rapport_domain::sync::RejectCode,
        rapport_domain::sync::MutationStatus,
        rapport_domain::authz::Action,
        rapport_domain::intake::ChatOpen,
        rapport_domain::intake::ChatMessage,
        rapport_domain::intake::ChatIntakeResponse,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/openapi.json", get(openapi_json))
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
