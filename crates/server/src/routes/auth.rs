//! Sign-in, sign-out, and who am I.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use rapport_domain::limits;
use rapport_domain::sync::{LoginRequest, LoginResponse, Me};
use tracing::instrument;

use crate::auth::{self, AuthUser, MAX_PASSWORD_LEN};
use crate::db::identity;
use crate::error::{ApiError, Json};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/me", get(me))
}

/// Exchanges email and password for a bearer token. Limited to a few failures per email and
/// client address in a window (429 with Retry-After past it).
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "signed in", body = LoginResponse),
    (status = 400, description = "malformed request", body = rapport_domain::sync::ErrorBody),
    (status = 401, description = "wrong email or password", body = rapport_domain::sync::ErrorBody),
    (status = 403, description = "the user is disabled", body = rapport_domain::sync::ErrorBody),
    (status = 422, description = "a field is wrong (named)", body = rapport_domain::sync::ErrorBody),
    (status = 429, description = "too many failed attempts", body = rapport_domain::sync::ErrorBody),
    (status = 503, description = "busy: too many sign-ins are being checked; retry after Retry-After", body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all, fields(ip = %addr.ip()))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let email = req.email.trim().to_owned();
    if email.is_empty() {
        return Err(ApiError::invalid_field("email", "email: must not be empty"));
    }
    limits::check_line("email", &email, limits::MAX_EMAIL_LEN)
        .map_err(|e| ApiError::invalid_field("email", e.to_string()))?;
    if req.password.is_empty() || req.password.chars().count() > MAX_PASSWORD_LEN {
        return Err(ApiError::invalid_field(
            "password",
            format!("password: must be 1 to {MAX_PASSWORD_LEN} characters"),
        ));
    }
    let ip = addr.ip().to_string();
    // A turn first: at most a few password checks run at once, and the attempt is
    // counted only when its check is sure to run.
    let turn = auth::password_turn(&state).await?;
    let now = state.now();
    let window_start = now - state.settings.login_window;
    let mut conn = state.pool.acquire().await?;
    let limited = identity::reserve_login_attempt(
        &mut conn,
        &email,
        &ip,
        now,
        window_start,
        state.settings.login_max_failures,
    )
    .await?;
    if let Some(oldest) = limited {
        let retry = (oldest + state.settings.login_window - now).num_seconds();
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!(
                "too many failed sign-ins for this email from your address; try again in {} s",
                retry.max(1)
            ),
        );
        e.retry_after_secs = Some(retry);
        return Err(e);
    }
    let user = identity::user_by_email(&mut conn, &email).await?;
    // No connection is held while the hash is checked.
    drop(conn);
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let ok = auth::check_password_in_turn(&state, turn, req.password, phc).await?;
    let user = match user {
        Some(u) if ok => u,
        _ => {
            tracing::info!("sign-in refused: wrong email or password");
            return Err(ApiError::unauthorized(
                "invalid_credentials",
                "the email or the password is wrong",
            ));
        }
    };
    let mut conn = state.pool.acquire().await?;
    identity::clear_login_failures(&mut conn, &email, &ip, window_start).await?;
    if user.disabled {
        return Err(ApiError::forbidden(
            "user_disabled",
            "this user is disabled: ask an admin",
        ));
    }
    let token = auth::new_token()?;
    let expires_at = now + state.settings.token_ttl;
    identity::insert_token(
        &mut conn,
        &auth::token_hash(&token),
        user.id,
        now,
        expires_at,
    )
    .await?;
    let teams = identity::teams_of(&mut conn, user.id).await?;
    tracing::info!(user = %user.id, "signed in");
    Ok(Json(LoginResponse {
        token,
        expires_at,
        me: Me {
            user: user.to_user(),
            teams,
        },
    }))
}

/// Revokes the token of this request.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", security(("bearer" = [])), responses(
    (status = 204, description = "signed out: the token no longer works"),
    (status = 401, description = "no valid token", body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all, fields(user = %user.id))]
pub async fn logout(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode, ApiError> {
    let mut conn = state.pool.acquire().await?;
    identity::revoke_token(&mut conn, &user.token_hash, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user and their teams.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, description = "who is signed in", body = Me),
    (status = 401, description = "no valid token", body = rapport_domain::sync::ErrorBody),
))]
pub async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<Me>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let row = identity::user_by_id(&mut conn, user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    let teams = identity::teams_of(&mut conn, user.id).await?;
    Ok(Json(Me {
        user: row.to_user(),
        teams,
    }))
}
