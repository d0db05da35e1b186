//! The OpenAPI 3 document of every endpoint, served at `/v1/openapi.json`.

use axum::Router;
use axum::routing::get;
use rapport_domain::limits::{self, Limit};
use rapport_domain::sync::{self, EntityKind};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
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
        crate::oncall::routes::on_call_now,
        crate::oncall::routes::create_override,
        crate::oncall::routes::delete_override,
        crate::oncall::routes::ack_in_app,
        crate::oncall::routes::ack_page,
        crate::oncall::routes::ack_by_link,
        crate::oncall::routes::setup,
        crate::oncall::routes::put_policy,
        crate::oncall::routes::put_rotation,
        crate::oncall::routes::delete_rotation,
        crate::oncall::routes::put_opt_in,
        crate::oncall::routes::put_webhook,
        crate::oncall::routes::delete_webhook,
        crate::oncall::routes::list_pages,
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
    modifiers(&BearerAuth, &Limits, &MethodAndMediaErrors),
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

/// States every limit of `rapport_domain::limits`: a `<Kind>Fields` schema per synced kind
/// (what a mutation's `fields` may hold: `maxLength` of each text, `maxItems` of each list),
/// and the lengths of the sign-in and admin bodies' fields.
struct Limits;

/// The schema of a value within `limit`.
fn limit_schema(limit: Limit) -> RefOr<Schema> {
    match limit {
        Limit::Line(n) => ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(n))
            .description(Some("one line of text, no control characters"))
            .into(),
        Limit::Text(n) => ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(n))
            .description(Some(
                "free text: line breaks and tabs allowed, no other control characters",
            ))
            .into(),
        Limit::List(n, item) => ArrayBuilder::new()
            .items(limit_schema(*item))
            .max_items(Some(n))
            .into(),
        Limit::Object(members) => {
            let mut o = ObjectBuilder::new()
                .schema_type(Type::Object)
                .max_properties(Some(members.len().max(limits::MAX_OBJECT_MEMBERS)));
            for (name, l) in members {
                o = o.property(*name, limit_schema(*l));
            }
            o.into()
        }
        Limit::Token => ObjectBuilder::new()
            .description(Some(format!(
                "a number, boolean, null, id, enum value or instant (strings of at most {} characters), or a small object of such",
                limits::MAX_TOKEN_LEN
            )))
            .into(),
    }
}

/// The name of a kind's fields schema: `account` -> `AccountFields`.
pub fn fields_schema_name(kind: EntityKind) -> String {
    let mut out = String::new();
    for part in kind.as_str().split('_') {
        let mut c = part.chars();
        if let Some(f) = c.next() {
            out.extend(f.to_uppercase());
            out.push_str(c.as_str());
        }
    }
    out.push_str("Fields");
    out
}

/// Sets `maxLength` (and `minLength`) of a string property of a component schema.
fn set_len(
    components: &mut utoipa::openapi::Components,
    schema: &str,
    field: &str,
    min: Option<usize>,
    max: usize,
) {
    if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(schema)
        && let Some(RefOr::T(Schema::Object(p))) = o.properties.get_mut(field)
    {
        p.max_length = Some(max);
        if min.is_some() {
            p.min_length = min;
        }
    }
}

impl Modify for Limits {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for kind in EntityKind::ALL {
            let mut o = ObjectBuilder::new().schema_type(Type::Object).description(Some(format!(
                "The limits of the `fields` of a `{}` mutation. Fields not listed hold an id, a number, an enum value, an instant or a flag (strings of at most {} characters). A value over a limit is rejected with `invalid_field` naming the field.",
                kind.as_str(),
                limits::MAX_TOKEN_LEN
            )));
            for (name, l) in limits::fields(kind) {
                o = o.property(*name, limit_schema(*l));
            }
            components.schemas.insert(
                fields_schema_name(kind),
                RefOr::T(Schema::Object(o.build())),
            );
        }
        if let Some(RefOr::T(Schema::Object(m))) = components.schemas.get_mut("Mutation")
            && let Some(RefOr::T(Schema::Object(f))) = m.properties.get_mut("fields")
        {
            let names: Vec<String> = EntityKind::ALL
                .into_iter()
                .map(fields_schema_name)
                .collect();
            f.description = Some(format!(
                "The fields this write sets, by their wire names (empty for a delete). Their sizes are limited per kind: see {}.",
                names.join(", ")
            ));
        }
        if let Some(RefOr::T(Schema::Object(p))) = components.schemas.get_mut("PushRequest")
            && let Some(RefOr::T(Schema::Array(a))) = p.properties.get_mut("mutations")
        {
            a.max_items = Some(sync::MAX_PUSH_BATCH);
        }
        let (email, name, zone) = (
            limits::MAX_EMAIL_LEN,
            limits::MAX_NAME_LEN,
            limits::MAX_TIME_ZONE_LEN,
        );
        let (pmin, pmax) = (limits::MIN_PASSWORD_LEN, limits::MAX_PASSWORD_LEN);
        set_len(components, "LoginRequest", "email", Some(1), email);
        set_len(components, "LoginRequest", "password", Some(1), pmax);
        for schema in ["CreateUser", "UpdateUser"] {
            set_len(components, schema, "name", None, name);
            set_len(components, schema, "email", None, email);
            set_len(components, schema, "time_zone", None, zone);
        }
        set_len(components, "CreateUser", "password", Some(pmin), pmax);
        set_len(components, "ResetPassword", "password", Some(pmin), pmax);
        set_len(components, "CreateTeam", "name", Some(1), name);
        set_len(
            components,
            "PutWebhook",
            "url",
            Some(1),
            limits::MAX_LINK_LEN,
        );
        set_len(components, "RotationSpec", "time_zone", Some(1), zone);
        if let Some(RefOr::T(Schema::Object(r))) = components.schemas.get_mut("RotationSpec")
            && let Some(RefOr::T(Schema::Array(a))) = r.properties.get_mut("members")
        {
            a.max_items = Some(limits::MAX_ROTATION_MEMBERS);
        }
        if let Some(RefOr::T(Schema::Object(w))) = components.schemas.get_mut("WorkingHours")
            && let Some(RefOr::T(Schema::Array(a))) = w.properties.get_mut("days")
        {
            a.max_items = Some(limits::MAX_WORKING_DAYS);
        }
    }
}

/// Every operation may answer 405 (another method of the path) and every one with a body
/// 415 (not JSON), both with the JSON error body.
struct MethodAndMediaErrors;

impl Modify for MethodAndMediaErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error = || {
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody"))))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                op.responses
                    .responses
                    .entry("405".into())
                    .or_insert_with(|| {
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(
                                    "this method is not served at this path (see the Allow header)",
                                )
                                .content("application/json", error())
                                .build(),
                        )
                    });
                if op.request_body.is_some() {
                    op.responses
                        .responses
                        .entry("415".into())
                        .or_insert_with(|| {
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description("the body is not sent as application/json")
                                    .content("application/json", error())
                                    .build(),
                            )
                        });
                }
            }
        }
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
