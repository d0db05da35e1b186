//! Admins manage users and teams.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, put};
use rapport_domain::authz::Action;
use rapport_domain::sync::TeamRef;
use rapport_domain::{Role, User, UserInput, WorkingHours};
use serde::{Deserialize, Serialize};
use tracing::instrument;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{self, AuthUser};
use crate::db::identity::{self, IdentityError};
use crate::error::{ApiError, Json, Path};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/users", get(list_users).post(create_user))
        .route("/v1/admin/users/{id}", patch(update_user))
        .route("/v1/admin/users/{id}/password", put(reset_password))
        .route("/v1/admin/teams", get(list_teams).post(create_team))
        .route(
            "/v1/admin/teams/{id}/members/{user_id}",
            put(add_member).delete(remove_member),
        )
}

/// A user as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdminUser {
    #[serde(flatten)]
    pub user: User,
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub time_zone: String,
    /// Mon–Fri 09:00–17:00 when left out.
    #[serde(default)]
    pub working_hours: Option<WorkingHours>,
    /// At least 10 characters.
    pub password: String,
}

/// The fields to change; the others stay.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<Role>,
    pub time_zone: Option<String>,
    pub working_hours: Option<WorkingHours>,
    /// A disabled user cannot sign in; their tokens are revoked.
    pub disabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TeamWithMembers {
    #[serde(flatten)]
    pub team: TeamRef,
    pub members: Vec<Uuid>,
}

pub fn identity_error(e: IdentityError) -> ApiError {
    match e {
        IdentityError::EmailTaken(_) => {
            ApiError::field(StatusCode::CONFLICT, "email_taken", "email", e.to_string())
        }
        IdentityError::TeamNameTaken(_) => ApiError::field(
            StatusCode::CONFLICT,
            "team_name_taken",
            "name",
            e.to_string(),
        ),
        IdentityError::NoSuchUser => ApiError::not_found("no such user"),
        IdentityError::NoSuchTeam => ApiError::not_found("no such team"),
        IdentityError::Db(e) => e.into(),
    }
}

/// Every user.
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])), responses(
    (status = 200, body = Vec<AdminUser>),
    (status = 401, body = rapport_domain::sync::ErrorBody), (status = 403, body = rapport_domain::sync::ErrorBody),
))]
pub async fn list_users(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<Vec<AdminUser>>, ApiError> {
    me.require(Action::ManageUsers)?;
    let mut conn = state.pool.acquire().await?;
    let users = identity::list_users(&mut conn).await?;
    Ok(Json(
        users
            .iter()
            .map(|u| AdminUser {
                user: u.to_user(),
                disabled: u.disabled,
            })
            .collect(),
    ))
}

/// Creates a user with a first password.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])), request_body = CreateUser, responses(
    (status = 201, body = AdminUser),
    (status = 400, body = rapport_domain::sync::ErrorBody), (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 403, body = rapport_domain::sync::ErrorBody), (status = 409, description = "email taken", body = rapport_domain::sync::ErrorBody),
    (status = 422, description = "a field is wrong (named)", body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all, fields(admin = %me.id))]
pub async fn create_user(
    State(state): State<AppState>,
    me: AuthUser,
    Json(req): Json<CreateUser>,
) -> Result<(StatusCode, Json<AdminUser>), ApiError> {
    me.require(Action::ManageUsers)?;
    let user = create_user_with(&state, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(AdminUser {
            user,
            disabled: false,
        }),
    ))
}

/// Creates a user (the API and the `admin create-user` command).
pub async fn create_user_with(state: &AppState, req: CreateUser) -> Result<User, ApiError> {
    auth::check_password("password", &req.password)?;
    let input = UserInput {
        name: req.name,
        email: req.email,
        role: req.role,
        time_zone: req.time_zone,
        working_hours: req.working_hours.unwrap_or_default(),
    };
    let user = User::create(Uuid::now_v7(), input)?;
    let hash = auth::hash_password_blocking(req.password).await?;
    let mut tx = state.pool.begin().await?;
    identity::create_user(&mut tx, &user, &hash, state.now())
        .await
        .map_err(identity_error)?;
    tx.commit().await?;
    tracing::info!(user = %user.id, role = user.role.as_str(), "user created");
    Ok(user)
}

/// Changes a user's profile, role or disabled state.
#[utoipa::path(patch, path = "/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])), request_body = UpdateUser,
    params(("id" = Uuid, Path, description = "user id")), responses(
    (status = 200, body = AdminUser),
    (status = 400, body = rapport_domain::sync::ErrorBody), (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 403, body = rapport_domain::sync::ErrorBody), (status = 404, body = rapport_domain::sync::ErrorBody),
    (status = 409, body = rapport_domain::sync::ErrorBody), (status = 422, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all, fields(admin = %me.id, user = %id))]
pub async fn update_user(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<UpdateUser>,
) -> Result<Json<AdminUser>, ApiError> {
    me.require(Action::ManageUsers)?;
    let mut tx = state.pool.begin().await?;
    let row = identity::user_by_id(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))?;
    let old = row.to_user();
    let input = UserInput {
        name: req.name.unwrap_or(old.name),
        email: req.email.unwrap_or(old.email),
        role: req.role.unwrap_or(old.role),
        time_zone: req.time_zone.unwrap_or(old.time_zone),
        working_hours: req.working_hours.unwrap_or(old.working_hours),
    };
    let user = User::create(id, input)?;
    let disabled = req.disabled.unwrap_or(row.disabled);
    if id == me.id && (disabled || user.role != Role::Admin) {
        return Err(ApiError::field(
            StatusCode::CONFLICT,
            "cannot_demote_self",
            if disabled { "disabled" } else { "role" },
            "an admin cannot disable or demote themselves: ask another admin",
        ));
    }
    identity::update_user(&mut tx, &user, disabled, state.now())
        .await
        .map_err(identity_error)?;
    tx.commit().await?;
    Ok(Json(AdminUser { user, disabled }))
}

/// Sets a new password; every token of the user is revoked.
#[utoipa::path(put, path = "/v1/admin/users/{id}/password", tag = "admin", security(("bearer" = [])), request_body = ResetPassword,
    params(("id" = Uuid, Path, description = "user id")), responses(
    (status = 204, description = "password set, sessions revoked"),
    (status = 400, body = rapport_domain::sync::ErrorBody), (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 403, body = rapport_domain::sync::ErrorBody), (status = 404, body = rapport_domain::sync::ErrorBody),
    (status = 422, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all, fields(admin = %me.id, user = %id))]
pub async fn reset_password(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<ResetPassword>,
) -> Result<StatusCode, ApiError> {
    me.require(Action::ManageUsers)?;
    auth::check_password("password", &req.password)?;
    let hash = auth::hash_password_blocking(req.password).await?;
    let mut tx = state.pool.begin().await?;
    identity::set_password(&mut tx, id, &hash, state.now())
        .await
        .map_err(identity_error)?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every team with its members.
#[utoipa::path(get, path = "/v1/admin/teams", tag = "admin", security(("bearer" = [])), responses(
    (status = 200, body = Vec<TeamWithMembers>),
    (status = 401, body = rapport_domain::sync::ErrorBody), (status = 403, body = rapport_domain::sync::ErrorBody),
))]
pub async fn list_teams(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<Vec<TeamWithMembers>>, ApiError> {
    me.require(Action::ManageTeams)?;
    let mut conn = state.pool.acquire().await?;
    let teams = identity::list_teams(&mut conn).await?;
    Ok(Json(
        teams
            .into_iter()
            .map(|(team, members)| TeamWithMembers { team, members })
            .collect(),
    ))
}

/// Creates a team.
#[utoipa::path(post, path = "/v1/admin/teams", tag = "admin", security(("bearer" = [])), request_body = CreateTeam, responses(
    (status = 201, body = TeamRef),
    (status = 400, body = rapport_domain::sync::ErrorBody), (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 403, body = rapport_domain::sync::ErrorBody), (status = 409, body = rapport_domain::sync::ErrorBody),
    (status = 422, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all, fields(admin = %me.id))]
pub async fn create_team(
    State(state): State<AppState>,
    me: AuthUser,
    Json(req): Json<CreateTeam>,
) -> Result<(StatusCode, Json<TeamRef>), ApiError> {
    me.require(Action::ManageTeams)?;
    let team = create_team_with(&state, &req.name).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

pub async fn create_team_with(state: &AppState, name: &str) -> Result<TeamRef, ApiError> {
    let name = rapport_domain::validation::required_text("name", name)
        .map_err(|e| ApiError::invalid_field("name", e.to_string()))?;
    let mut tx = state.pool.begin().await?;
    let team = identity::create_team(&mut tx, Uuid::now_v7(), &name, state.now())
        .await
        .map_err(identity_error)?;
    tx.commit().await?;
    Ok(team)
}

/// Adds a user to a team: the team's data reaches their next pull.
#[utoipa::path(put, path = "/v1/admin/teams/{id}/members/{user_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "team id"), ("user_id" = Uuid, Path, description = "user id")), responses(
    (status = 204, description = "a member (now or already)"),
    (status = 400, body = rapport_domain::sync::ErrorBody), (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 403, body = rapport_domain::sync::ErrorBody), (status = 404, body = rapport_domain::sync::ErrorBody),
))]
pub async fn add_member(
    State(state): State<AppState>,
    me: AuthUser,
    Path((team_id, user_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    set_membership(&state, &me, team_id, user_id, true).await
}

/// Removes a user from a team: their next pull tells their client to purge its data.
#[utoipa::path(delete, path = "/v1/admin/teams/{id}/members/{user_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "team id"), ("user_id" = Uuid, Path, description = "user id")), responses(
    (status = 204, description = "not a member (any more)"),
    (status = 400, body = rapport_domain::sync::ErrorBody), (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 403, body = rapport_domain::sync::ErrorBody),
))]
pub async fn remove_member(
    State(state): State<AppState>,
    me: AuthUser,
    Path((team_id, user_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    set_membership(&state, &me, team_id, user_id, false).await
}

/// Makes `user_id` a member of `team_id` (or not): both ends of the members list.
async fn set_membership(
    state: &AppState,
    me: &AuthUser,
    team_id: Uuid,
    user_id: Uuid,
    member: bool,
) -> Result<StatusCode, ApiError> {
    me.require(Action::ManageTeams)?;
    let mut tx = state.pool.begin().await?;
    let changed = if member {
        identity::add_member(&mut tx, team_id, user_id).await
    } else {
        identity::remove_member(&mut tx, team_id, user_id).await
    };
    changed.map_err(identity_error)?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
