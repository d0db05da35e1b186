//! The HTTP API, one module per area, each with its `router()`. Handlers are thin: extract,
//! authorise, call `db` or the domain, answer.

pub mod admin;
pub mod auth;
pub mod health;
pub mod sync;

use crate::error::ApiError;

/// Answer for a path no route serves.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no endpoint at {}", uri.path()))
}
