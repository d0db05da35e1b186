//! rapport-server: the central service. Staff identity, teams and roles, and the sync API
//! the desktop clients push to and pull from, on PostgreSQL.
//!
//! [`app`] builds the whole HTTP service from an [`AppState`], so tests drive it without a
//! socket; [`serve`] runs it on a listener with graceful shutdown. The process keeps no state
//! that matters between requests: any number of them can serve one database.

pub mod auth;
pub mod db;
pub mod error;
pub mod events;
pub mod intake;
pub mod openapi;
pub mod routes;
pub mod state;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use state::{AppState, Clock, Settings};

/// The migrations of `migrations/server`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/server");

/// The whole HTTP service.
pub fn app(state: AppState) -> Router {
    let body_limit = state.settings.max_body_bytes;
    Router::new()
        .merge(routes::health::router())
        .merge(routes::auth::router())
        .merge(routes::admin::router())
        .merge(routes::sync::router(state.clone()))
        .merge(intake::routes::router())
        .merge(openapi::router())
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(
            |p: Box<dyn std::any::Any + Send>| panic_response(&*p),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A handler that panicked: logged, answered 500 without its message.
fn panic_response(panic: &(dyn std::any::Any + Send)) -> axum::response::Response {
    let what = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    axum::response::IntoResponse::into_response(ApiError::internal(&format!(
        "handler panicked: {what}"
    )))
}

/// Serves [`app`] on `listener` until `shutdown` completes, then lets running requests finish
/// (open event streams are told to end first).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = state.shutdown_handle();
    intake::mailbox::spawn_from_env(&state)?;
    let router = app(state);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        stop.trigger();
    })
    .await
}
