//! Sign-in, sign-out, and who am I.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use rapport_domain::sync::{LoginRequest, LoginResponse, Me};
use rapport_domain::validation::MAX_NAME_LEN;
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

/// An argon2id hash checked when the email is unknown, so an unknown email costs as much
/// time as a wrong password and does not reveal itself.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    auth::hash_password("no user has this password").unwrap_or_default()
});

/// Exchanges email and password for a bearer token. Limited to a few failures per email and
/// client address in a window (429 with Retry-After past it).
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "signed in", body = LoginResponse),
    (status = 400, description = "malformed request", body = rapport_domain::sync::ErrorBody),
    (status = 401, description = "wrong email or password", body = rapport_domain::sync::ErrorBody),
    (status = 403, description = "the user is disabled", body = rapport_domain::sync::ErrorBody),
    (status = 422, description = "a field is wrong (named)", body = rapport_domain::sync::ErrorBody),
    (status = 429, description = "too many failed attempts", body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all, fields(ip = %addr.ip()))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let email = req.email.trim().to_owned();
    if email.is_empty() || email.chars().count() > MAX_NAME_LEN * 2 {
        return Err(ApiError::invalid_field(
            "email",
            "email: must be an address of at most 400 characters",
        ));
    }
    if req.password.is_empty() || req.password.chars().count() > MAX_PASSWORD_LEN {
        return Err(ApiError::invalid_field(
            "password",
            format!("password: must be 1 to {MAX_PASSWORD_LEN} characters"),
        ));
    }
    let now = state.now();
    let ip = addr.ip().to_string();
    let mut conn = state.pool.acquire().await?;
    let window_start = now - state.settings.login_window;
    let (failures, oldest) =
        identity::login_failures_since(&mut conn, &email, &ip, window_start).await?;
    if failures >= state.settings.login_max_failures {
        let retry = oldest.map_or(60, |t| {
            (t + state.settings.login_window - now).num_seconds()
        });
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
    let phc = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let password = req.password;
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &phc))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let user = match user {
        Some(u) if ok => u,
        _ => {
            identity::record_login_failure(&mut conn, &email, &ip, now).await?;
            tracing::info!("sign-in refused: wrong email or password");
            return Err(ApiError::unauthorized(
                "invalid_credentials",
                "the email or the password is wrong",
            ));
        }
    };
    if user.disabled {
        return Err(ApiError::forbidden(
            "user_disabled",
            "this user is disabled: ask an admin",
        ));
    }
    identity::clear_login_failures(&mut conn, &email, &ip, window_start).await?;
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
