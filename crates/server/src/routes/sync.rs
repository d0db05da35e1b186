//! The sync API: push mutations, pull changes, read one record, and the event stream.
//! Every route here checks the client's protocol version first (426 outside the range).

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use rapport_domain::authz::Action;
use rapport_domain::sync::{
    self, Change, Cursor, EntityKind, PROTOCOL_HEADER, PROTOCOL_VERSION, PullResponse, PushRequest,
    PushResponse,
};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tracing::instrument;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::{self, identity};
use crate::error::{ApiError, Json, Path, Query};
use crate::events::Event;
use crate::state::AppState;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/sync/push", post(push))
        .route("/v1/sync/pull", get(pull))
        .route("/v1/sync/records/{entity}/{id}", get(record))
        .route("/v1/sync/events", get(events))
        .route_layer(middleware::from_fn_with_state(state, protocol_check))
}

/// 426 for a client that speaks no protocol version this server serves.
pub async fn protocol_check(State(_): State<AppState>, req: Request, next: Next) -> Response {
    let sent = req
        .headers()
        .get(PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let version = sent.as_deref().and_then(|v| v.trim().parse::<u32>().ok());
    match version {
        Some(v) if sync::protocol_supported(v) => next.run(req).await,
        _ => {
            let min = sync::MIN_PROTOCOL_VERSION;
            let what = sent.map_or_else(
                || "no Rapport-Protocol header".to_owned(),
                |v| format!("protocol version {v:?}"),
            );
            ApiError::new(
                StatusCode::UPGRADE_REQUIRED,
                "unsupported_protocol",
                format!(
                    "this server speaks sync protocol versions {min} to {PROTOCOL_VERSION}, and the client sent {what}: update Rapport"
                ),
            )
            .into_response()
        }
    }
}

/// Applies a batch of mutations, each in its own transaction, in order (a request and the
/// timeline entries written with it in one transaction, all or nothing:
/// [`sync::write_groups`]). One result per mutation; the batch is answered 200 even when
/// some were rejected.
#[utoipa::path(post, path = "/v1/sync/push", tag = "sync", security(("bearer" = [])), request_body = PushRequest,
    params(("rapport-protocol" = u32, Header, description = "sync protocol version the client speaks")),
    responses(
    (status = 200, description = "a result per mutation", body = PushResponse),
    (status = 400, description = "malformed JSON or too many mutations", body = rapport_domain::sync::ErrorBody),
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 413, description = "body too large", body = rapport_domain::sync::ErrorBody),
    (status = 415, description = "not JSON", body = rapport_domain::sync::ErrorBody),
    (status = 422, description = "a mutation is not well-formed (unknown field, wrong type, bad UUID)", body = rapport_domain::sync::ErrorBody),
    (status = 426, description = "unsupported protocol version", body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all, fields(user = %user.id, n = req.mutations.len()))]
pub async fn push(
    State(state): State<AppState>,
    user: AuthUser,
    Json(req): Json<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    if req.mutations.len() > sync::MAX_PUSH_BATCH {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "batch_too_large",
            "mutations",
            format!(
                "mutations: at most {} per push, got {}",
                sync::MAX_PUSH_BATCH,
                req.mutations.len()
            ),
        ));
    }
    let mut results = Vec::with_capacity(req.mutations.len());
    for group in sync::write_groups(&req.mutations) {
        let ms = &req.mutations[group];
        results
            .extend(db::sync::apply_group(&state.pool, user.id, user.role, ms, state.now()).await?);
    }
    Ok(Json(PushResponse { results }))
}

#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PullParams {
    /// The cursor of the last page applied; absent or empty for the start.
    pub cursor: Option<String>,
    /// Page size, 1 to 1000 (default 500).
    pub limit: Option<u32>,
}

/// The next page of changes in the user's teams after `cursor`.
#[utoipa::path(get, path = "/v1/sync/pull", tag = "sync", security(("bearer" = [])),
    params(PullParams, ("rapport-protocol" = u32, Header, description = "sync protocol version the client speaks")),
    responses(
    (status = 200, body = PullResponse),
    (status = 400, description = "bad cursor or limit (named)", body = rapport_domain::sync::ErrorBody),
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 426, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all, fields(user = %user.id))]
pub async fn pull(
    State(state): State<AppState>,
    user: AuthUser,
    Query(p): Query<PullParams>,
) -> Result<Json<PullResponse>, ApiError> {
    user.require(Action::ReadTeamData)?;
    let cursor = match p.cursor.as_deref() {
        None => Cursor::START,
        Some(c) => Cursor::parse(c).ok_or_else(|| {
            ApiError::field(StatusCode::BAD_REQUEST, "invalid_cursor", "cursor", "cursor: not a cursor this server made; send back the one a pull returned, or none to start over")
        })?,
    };
    let limit = p.limit.unwrap_or(sync::DEFAULT_PULL_LIMIT);
    if !(1..=sync::MAX_PULL_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            "limit",
            format!("limit: must be 1 to {}", sync::MAX_PULL_LIMIT),
        ));
    }
    Ok(Json(
        db::sync::pull(&state.pool, user.id, cursor, limit).await?,
    ))
}

/// One record of the user's teams (403 `forbidden_team` for another team's).
#[utoipa::path(get, path = "/v1/sync/records/{entity}/{id}", tag = "sync", security(("bearer" = [])),
    params(("entity" = EntityKind, Path, description = "account, contact or note"), ("id" = Uuid, Path, description = "record id"),
        ("rapport-protocol" = u32, Header, description = "sync protocol version the client speaks")),
    responses(
    (status = 200, body = Change),
    (status = 400, description = "bad entity or UUID", body = rapport_domain::sync::ErrorBody),
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 403, description = "another team's record", body = rapport_domain::sync::ErrorBody),
    (status = 404, body = rapport_domain::sync::ErrorBody),
    (status = 426, body = rapport_domain::sync::ErrorBody),
))]
pub async fn record(
    State(state): State<AppState>,
    user: AuthUser,
    Path((entity, id)): Path<(EntityKind, Uuid)>,
) -> Result<Json<Change>, ApiError> {
    user.require(Action::ReadTeamData)?;
    match db::sync::get_record(&state.pool, user.id, entity, id).await? {
        Ok(c) => Ok(Json(c)),
        Err(db::sync::ReadDenied::NotFound) => {
            Err(ApiError::not_found(format!("no {} {id}", entity.as_str())))
        }
        Err(db::sync::ReadDenied::ForbiddenTeam) => Err(ApiError::forbidden(
            "forbidden_team",
            "this record belongs to a team you are not in",
        )),
    }
}

/// Server-sent events: `ready` once connected, then `changes` whenever one of the user's
/// teams (or the user's memberships) changed, from any server process. Pull on `changes`.
#[utoipa::path(get, path = "/v1/sync/events", tag = "sync", security(("bearer" = [])),
    params(("rapport-protocol" = u32, Header, description = "sync protocol version the client speaks")),
    responses(
    (status = 200, description = "text/event-stream of `ready` and `changes` events", content_type = "text/event-stream", body = String),
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 426, body = rapport_domain::sync::ErrorBody),
))]
pub async fn events(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    user.require(Action::ReadTeamData)?;
    // Subscribe before reading the teams, so no notice falls between the two.
    let rx = state.events.subscribe();
    let mut conn = state.pool.acquire().await?;
    let teams = identity::team_ids_of(&mut conn, user.id).await?;
    drop(conn);
    let st = StreamState {
        state: state.clone(),
        user: user.id,
        token_hash: user.token_hash.clone(),
        teams,
        rx,
        stop: state.shutdown_signal(),
        ready: false,
    };
    let stream = futures_util::stream::unfold(st, next_event);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

struct StreamState {
    state: AppState,
    user: Uuid,
    token_hash: Vec<u8>,
    teams: Vec<Uuid>,
    rx: tokio::sync::broadcast::Receiver<Event>,
    stop: tokio::sync::watch::Receiver<bool>,
    ready: bool,
}

fn changes_event() -> SseEvent {
    SseEvent::default().event("changes").data("{}")
}

/// Whether the stream's sign-in still holds (a logout, expiry or disabled user ends it).
async fn still_signed_in(st: &StreamState) -> bool {
    let row = sqlx::query_scalar!(
        r#"SELECT 1 AS "signed_in!" FROM auth_tokens t JOIN users u ON u.id = t.user_id
           WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND NOT u.disabled"#,
        &st.token_hash[..],
        st.state.now()
    )
    .fetch_optional(&st.state.pool)
    .await;
    // A database hiccup keeps the stream: the next wake-up checks again.
    !matches!(row, Ok(None))
}

async fn next_event(mut st: StreamState) -> Option<(Result<SseEvent, Infallible>, StreamState)> {
    if !st.ready {
        st.ready = true;
        return Some((Ok(SseEvent::default().event("ready").data("{}")), st));
    }
    let event = wait_for_change(&mut st).await?;
    if still_signed_in(&st).await {
        Some((Ok(event), st))
    } else {
        None
    }
}

async fn wait_for_change(st: &mut StreamState) -> Option<SseEvent> {
    loop {
        if *st.stop.borrow() {
            return None;
        }
        tokio::select! {
            _ = st.stop.changed() => return None,
            got = st.rx.recv() => match got {
                Ok(Event::Team(t)) if st.teams.contains(&t) => return Some(changes_event()),
                Ok(Event::User(u)) if u == st.user => {
                    if let Ok(mut conn) = st.state.pool.acquire().await
                        && let Ok(teams) = identity::team_ids_of(&mut conn, st.user).await
                    {
                        st.teams = teams;
                    }
                    return Some(changes_event());
                }
                Ok(Event::All) | Err(RecvError::Lagged(_)) => return Some(changes_event()),
                Ok(_) => {}
                Err(RecvError::Closed) => return None,
            },
        }
    }
}
