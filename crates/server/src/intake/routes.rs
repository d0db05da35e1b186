//! The intake HTTP API: the chat backend's signed calls, the Unmatched queue for support
//! leads, and the admin's keys, mailbox states and intake errors.
//!
//! A chat call is checked in this order, each before the next is looked at: the body's
//! size (413), the signature over the raw body (401), the JSON (400/422), each field's
//! length and characters (422 naming the field). Nothing is written before all pass.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use rapport_domain::authz::Action;
use rapport_domain::intake::{ChatIntakeResponse, ChatMessage, ChatOpen, external_id};
use rapport_domain::request::Channel;
use serde::{Deserialize, Serialize};
use tracing::instrument;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::keys::{self, CreatedIntakeKey, IntakeKey};
use super::store::{self, IntakeErrorRow, UnmatchedItem};
use super::{Addition, Incoming, IntakeError, Opened, Placement};
use crate::auth::AuthUser;
use crate::db::identity;
use crate::error::{ApiError, Json, Path, Query};
use crate::state::AppState;

/// Largest chat intake body (bytes): a message of 100,000 characters fits.
pub const MAX_CHAT_BODY: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/intake/chat", post(chat_open))
        .route(
            "/v1/intake/chat/{conversation_id}/messages",
            post(chat_message),
        )
        .layer(DefaultBodyLimit::max(MAX_CHAT_BODY))
        .route("/v1/intake/unmatched", get(list_unmatched))
        .route("/v1/intake/unmatched/{id}/assign", post(assign_unmatched))
        .route("/v1/admin/intake/keys", get(list_keys).post(create_key))
        .route("/v1/admin/intake/keys/{id}", delete(revoke_key))
        .route("/v1/admin/intake/mailboxes", get(list_mailboxes))
        .route("/v1/admin/intake/errors", get(list_errors))
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Db(e) => e.into(),
            IntakeError::Refused(r) => match r.field {
                Some(f) => ApiError::invalid_field(&f, r.message),
                None => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", r.message),
            },
        }
    }
}

fn body_error(r: &BytesRejection) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is larger than {MAX_CHAT_BODY} bytes"),
        )
    } else {
        ApiError::bad_request("unreadable_body", r.body_text())
    }
}

/// Parses a verified body, naming the field a type error is in.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request(
                "malformed_json",
                format!("the body is not JSON: {inner}"),
            );
        }
        let msg = inner.to_string();
        // serde names a missing or unknown field inside backticks.
        let named = msg
            .split('`')
            .nth(1)
            .filter(|_| msg.starts_with("missing field") || msg.starts_with("unknown field"));
        let field = named.map_or(path, str::to_owned);
        if field.is_empty() || field == "." {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", msg)
        } else {
            ApiError::invalid_field(&field, format!("{field}: {msg}"))
        }
    })
}

/// Where request `id` is now: (account, still unmatched).
async fn whereabouts(
    conn: &mut sqlx::PgConnection,
    id: Uuid,
) -> Result<(Option<Uuid>, bool), sqlx::Error> {
    let rec = sqlx::query_scalar!(
        "SELECT account_id FROM records WHERE entity = 'request' AND id = $1",
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(account) = rec {
        return Ok((account, false));
    }
    Ok((None, true))
}

async fn lock_conversation(conn: &mut sqlx::PgConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('intake-chat:' || $1::text, 0))",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The body of a signed intake call once its signature holds, with the id of the key that
/// signed it.
async fn signed(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Bytes, Uuid), ApiError> {
    let body = body.map_err(|r| body_error(&r))?;
    let mut conn = state.pool.acquire().await?;
    let key_id = keys::verify(&mut conn, headers, &body, now).await?;
    Ok((body, key_id))
}

/// The request a chat conversation opened, if it was opened.
async fn chat_request(
    conn: &mut sqlx::PgConnection,
    conversation_id: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT request_id FROM intake_chats WHERE conversation_id = $1",
        conversation_id
    )
    .fetch_optional(conn)
    .await
}

/// The headers that sign an intake call (documentation only: [`signed`] reads them).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "read by `signed`, described here for the OpenAPI document"
)]
struct SignedHeaders {
    /// the intake key's id
    #[param(rename = "rapport-intake-key")]
    key: String,
    /// Unix seconds when the call was signed; at most 5 minutes off
    #[param(rename = "rapport-timestamp")]
    timestamp: i64,
    /// v1=hex(HMAC-SHA256(SHA-256(secret), timestamp + "." + body))
    #[param(rename = "rapport-signature")]
    signature: String,
}

/// Opens a request from a customer's chat. Signed (see the README's "Intake"). The same
/// conversation id again answers the same request (200, `created: false`).
#[utoipa::path(post, path = "/v1/intake/chat", tag = "intake", request_body = ChatOpen,
    params(SignedHeaders),
    responses(
    (status = 201, description = "a request was opened (in its account, or in the Unmatched queue)", body = ChatIntakeResponse),
    (status = 200, description = "this conversation was taken in before: the same request", body = ChatIntakeResponse),
    (status = 400, description = "not JSON", body = rapport_domain::sync::ErrorBody),
    (status = 401, description = "unsigned, bad signature, unknown or revoked key, or a timestamp more than 5 minutes off", body = rapport_domain::sync::ErrorBody),
    (status = 413, description = "body larger than 1 MiB", body = rapport_domain::sync::ErrorBody),
    (status = 422, description = "a field is missing, too long, has control characters, or the severity is unknown; `field` names it", body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all, err(Debug))]
pub async fn chat_open(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ChatIntakeResponse>), ApiError> {
    let now = state.now();
    let (body, key_id) = signed(&state, &headers, body, now).await?;
    let input: ChatOpen = parse(&body)?;
    let c = input.check(now)?;

    let mut tx = state.pool.begin().await?;
    lock_conversation(&mut tx, &c.conversation_id).await?;
    if let Some(request_id) = chat_request(&mut tx, &c.conversation_id).await? {
        let (account_id, unmatched) = whereabouts(&mut tx, request_id).await?;
        tx.commit().await?;
        return Ok((
            StatusCode::OK,
            Json(ChatIntakeResponse {
                request_id,
                account_id,
                unmatched,
                created: false,
            }),
        ));
    }
    let id = Uuid::now_v7();
    let inc = Incoming {
        channel: Channel::Chat,
        sender_email: c.customer_email.clone(),
        sender_name: Some(c.customer_name.clone()),
        account_hint: input.account_hint.clone().filter(|h| !h.trim().is_empty()),
        severity: c.severity,
        needs_triage: false,
        title: c.title.clone(),
        text: c.message.clone(),
        at: c.sent_at,
        thread_keys: Vec::new(),
    };
    let opened = super::open(&mut tx, id, &inc, now).await?;
    sqlx::query!(
        "INSERT INTO intake_chats (conversation_id, request_id, key_id, created_at) VALUES ($1, $2, $3, $4)",
        c.conversation_id,
        id,
        key_id,
        now
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let (account_id, unmatched) = match opened {
        Opened::Account(p) => (Some(p.account_id), false),
        Opened::Unmatched => (None, true),
    };
    Ok((
        StatusCode::CREATED,
        Json(ChatIntakeResponse {
            request_id: id,
            account_id,
            unmatched,
            created: true,
        }),
    ))
}

/// Appends a customer's message to the request of a conversation. Signed like opening. The
/// same message id again appends nothing (200, `created: false`).
#[utoipa::path(post, path = "/v1/intake/chat/{conversation_id}/messages", tag = "intake", request_body = ChatMessage,
    params(
        ("conversation_id" = String, Path, description = "the conversation's id as opened"),
        SignedHeaders,
    ),
    responses(
    (status = 201, description = "the message is on the request's timeline", body = ChatIntakeResponse),
    (status = 200, description = "this message was taken in before", body = ChatIntakeResponse),
    (status = 400, description = "not JSON", body = rapport_domain::sync::ErrorBody),
    (status = 401, description = "unsigned, bad signature, or a stale timestamp", body = rapport_domain::sync::ErrorBody),
    (status = 404, description = "no conversation with this id was opened", body = rapport_domain::sync::ErrorBody),
    (status = 413, description = "body larger than 1 MiB", body = rapport_domain::sync::ErrorBody),
    (status = 422, description = "a field is refused; `field` names it", body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all, err(Debug))]
pub async fn chat_message(
    State(state): State<AppState>,
    Path(conversation_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ChatIntakeResponse>), ApiError> {
    let now = state.now();
    let (body, _) = signed(&state, &headers, body, now).await?;
    let conversation_id = external_id("conversation_id", &conversation_id)
        .map_err(|e| ApiError::invalid_field("conversation_id", e.to_string()))?;
    let input: ChatMessage = parse(&body)?;
    let m = input.check(now)?;

    let mut tx = state.pool.begin().await?;
    lock_conversation(&mut tx, &conversation_id).await?;
    let Some(request_id) = chat_request(&mut tx, &conversation_id).await? else {
        return Err(ApiError::not_found(format!(
            "no conversation {conversation_id:?} was opened: POST /v1/intake/chat first"
        )));
    };
    let seen = sqlx::query_scalar!(
        "SELECT event_id FROM intake_chat_messages WHERE conversation_id = $1 AND message_id = $2",
        conversation_id,
        m.message_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let created = if seen.is_none() {
        let add = Addition {
            text: m.message.clone(),
            at: m.sent_at,
            urgent: false,
            thread_key: None,
            event_id: Uuid::now_v7(),
        };
        if super::append(&mut tx, request_id, &add, now)
            .await?
            .is_none()
        {
            return Err(ApiError::new(
                StatusCode::GONE,
                "request_deleted",
                "the conversation's request was deleted",
            ));
        }
        sqlx::query!(
            "INSERT INTO intake_chat_messages (conversation_id, message_id, event_id) VALUES ($1, $2, $3)",
            conversation_id,
            m.message_id,
            add.event_id
        )
        .execute(&mut *tx)
        .await?;
        true
    } else {
        false
    };
    let (account_id, unmatched) = whereabouts(&mut tx, request_id).await?;
    tx.commit().await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(ChatIntakeResponse {
            request_id,
            account_id,
            unmatched,
            created,
        }),
    ))
}

/// The requests waiting for an account (their customer was not recognised).
#[utoipa::path(get, path = "/v1/intake/unmatched", tag = "intake", security(("bearer" = [])), responses(
    (status = 200, body = Vec<UnmatchedItem>),
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 403, description = "only support leads and admins", body = rapport_domain::sync::ErrorBody),
))]
pub async fn list_unmatched(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<Vec<UnmatchedItem>>, ApiError> {
    me.require(Action::ChangeSeverity)?;
    let mut conn = state.pool.acquire().await?;
    Ok(Json(store::list_unmatched(&mut conn).await?))
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignUnmatched {
    /// The account the request belongs to; it must be in one of your teams.
    pub account_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Assigned {
    pub request_id: Uuid,
    pub account_id: Uuid,
}

/// Gives an Unmatched request its account: it becomes an ordinary request of that
/// account's team, with its timeline and its clock from when the customer wrote.
#[utoipa::path(post, path = "/v1/intake/unmatched/{id}/assign", tag = "intake", security(("bearer" = [])),
    request_body = AssignUnmatched, params(("id" = Uuid, Path)), responses(
    (status = 200, body = Assigned),
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 403, description = "not a support lead or admin, or the account is not in your teams", body = rapport_domain::sync::ErrorBody),
    (status = 404, description = "no such waiting request, or no such account", body = rapport_domain::sync::ErrorBody),
))]
pub async fn assign_unmatched(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<AssignUnmatched>,
) -> Result<Json<Assigned>, ApiError> {
    me.require(Action::ChangeSeverity)?;
    let now = state.now();
    let mut tx = state.pool.begin().await?;
    let team = sqlx::query_scalar!(
        "SELECT team_id FROM records WHERE entity = 'account' AND id = $1 AND NOT deleted FOR SHARE",
        req.account_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(team_id) = team else {
        return Err(ApiError::field(
            StatusCode::NOT_FOUND,
            "not_found",
            "account_id",
            "account_id: no such account",
        ));
    };
    if !identity::team_ids_of(&mut tx, me.id)
        .await?
        .contains(&team_id)
    {
        return Err(ApiError::forbidden(
            "forbidden_team",
            "this account belongs to a team you are not in",
        ));
    }
    let p = Placement {
        account_id: req.account_id,
        team_id,
        contact_id: None,
    };
    if super::assign(&mut tx, id, p, Some(me.id), now)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(
            "no such request waits in the Unmatched queue (it may have been assigned already)",
        ));
    }
    tx.commit().await?;
    Ok(Json(Assigned {
        request_id: id,
        account_id: req.account_id,
    }))
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIntakeKey {
    /// What calls with it, e.g. "website chat".
    pub name: String,
}

/// Every intake key, live ones first, with its last use (never its secret).
#[utoipa::path(get, path = "/v1/admin/intake/keys", tag = "admin", security(("bearer" = [])), responses(
    (status = 200, body = Vec<IntakeKey>),
    (status = 401, body = rapport_domain::sync::ErrorBody), (status = 403, body = rapport_domain::sync::ErrorBody),
))]
pub async fn list_keys(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<Vec<IntakeKey>>, ApiError> {
    me.require(Action::ManageUsers)?;
    let mut conn = state.pool.acquire().await?;
    Ok(Json(keys::list(&mut conn).await?))
}

/// A new intake key; its secret is in this answer only.
#[utoipa::path(post, path = "/v1/admin/intake/keys", tag = "admin", security(("bearer" = [])), request_body = CreateIntakeKey, responses(
    (status = 201, body = CreatedIntakeKey),
    (status = 401, body = rapport_domain::sync::ErrorBody), (status = 403, body = rapport_domain::sync::ErrorBody),
    (status = 409, description = "a live key has this name", body = rapport_domain::sync::ErrorBody),
    (status = 422, body = rapport_domain::sync::ErrorBody),
))]
pub async fn create_key(
    State(state): State<AppState>,
    me: AuthUser,
    Json(req): Json<CreateIntakeKey>,
) -> Result<(StatusCode, Json<CreatedIntakeKey>), ApiError> {
    me.require(Action::ManageUsers)?;
    let mut conn = state.pool.acquire().await?;
    let k = keys::create(&mut conn, &req.name, Some(me.id), state.now()).await?;
    Ok((StatusCode::CREATED, Json(k)))
}

/// Revokes an intake key: calls signed with it are refused from now on.
#[utoipa::path(delete, path = "/v1/admin/intake/keys/{id}", tag = "admin", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = IntakeKey),
    (status = 401, body = rapport_domain::sync::ErrorBody), (status = 403, body = rapport_domain::sync::ErrorBody),
    (status = 404, body = rapport_domain::sync::ErrorBody),
))]
pub async fn revoke_key(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<IntakeKey>, ApiError> {
    me.require(Action::ManageUsers)?;
    let mut conn = state.pool.acquire().await?;
    keys::revoke(&mut conn, id, state.now())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no such intake key"))
}

/// Each configured mailbox's state: connected or not, its place (UIDVALIDITY, last UID),
/// how many messages it imported, its last error.
#[utoipa::path(get, path = "/v1/admin/intake/mailboxes", tag = "admin", security(("bearer" = [])), responses(
    (status = 200, body = Vec<super::mailbox::MailboxState>),
    (status = 401, body = rapport_domain::sync::ErrorBody), (status = 403, body = rapport_domain::sync::ErrorBody),
))]
pub async fn list_mailboxes(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<Vec<super::mailbox::MailboxState>>, ApiError> {
    me.require(Action::ManageUsers)?;
    let mut conn = state.pool.acquire().await?;
    Ok(Json(super::mailbox::states(&mut conn).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ErrorsQuery {
    /// How many, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// Messages intake could not take in, newest first (the raw message is kept with each).
#[utoipa::path(get, path = "/v1/admin/intake/errors", tag = "admin", security(("bearer" = [])), params(ErrorsQuery), responses(
    (status = 200, body = Vec<IntakeErrorRow>),
    (status = 401, body = rapport_domain::sync::ErrorBody), (status = 403, body = rapport_domain::sync::ErrorBody),
))]
pub async fn list_errors(
    State(state): State<AppState>,
    me: AuthUser,
    Query(q): Query<ErrorsQuery>,
) -> Result<Json<Vec<IntakeErrorRow>>, ApiError> {
    me.require(Action::ManageUsers)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let mut conn = state.pool.acquire().await?;
    Ok(Json(store::list_errors(&mut conn, limit).await?))
}
