//! rapport-server: the central service. Staff identity, teams and roles, and the sync API
//! the desktop clients push to and pull from, on PostgreSQL.
//!
//! [`app`] builds the whole HTTP service from an [`AppState`], so tests drive it without a
//! socket; [`serve`] runs it on a listener with graceful shutdown. The process keeps no state
//! that matters between requests: any number of them can serve one database.

pub mod auth;
pub mod bench_common;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod intake;
pub mod oncall;
pub mod openapi;
pub mod routes;
pub mod state;

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
    let body_timeout = state.settings.body_read_timeout;
    Router::new()
        .merge(routes::health::router())
        .merge(routes::auth::router())
        .merge(routes::admin::router())
        .merge(routes::sync::router(state.clone()))
        .merge(intake::routes::router())
        .merge(oncall::routes::router())
        .merge(openapi::router())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            body_timeout,
        ))
        .layer(axum::middleware::from_fn(close_if_body_unread))
        .layer(CatchPanicLayer::custom(
            |p: Box<dyn std::any::Any + Send>| panic_response(&*p),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(
            |req: &axum::http::Request<axum::body::Body>| {
                // An Acknowledge link's token is a credential: never in a log line.
                tracing::debug_span!("request", method = %req.method(),
                    path = %oncall::routes::redacted_path(req.uri()), version = ?req.version())
            },
        ))
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
///
/// Each connection must send a request's whole header within `Settings::header_read_timeout`,
/// which also closes a kept-alive connection that sends no next request in that time; a
/// request body that stalls for `Settings::body_read_timeout` is abandoned. HTTP/2
/// connections are pinged at the same interval and closed when the peer stops answering.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt;

    let stop = state.shutdown_handle();
    let idle = state.settings.header_read_timeout;
    intake::mailbox::spawn_from_env(&state)?;
    let router = app(state);
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(idle)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(idle)
        .keep_alive_timeout(idle);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::error!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let first_request = std::sync::Arc::new(tokio::sync::Notify::new());
        let arrived = first_request.clone();
        let service = hyper::service::service_fn(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                arrived.notify_one();
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(addr));
                router.clone().oneshot(req)
            },
        );
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            // Until the first request's header is in, the protocol is still being told
            // apart (HTTP/1 or 2), which no hyper timeout covers: the same limit applies.
            let ended = tokio::select! {
                ended = conn.as_mut() => Some(ended),
                waited = tokio::time::timeout(idle, first_request.notified()) => match waited {
                    Ok(()) => None,
                    Err(_) => {
                        tracing::debug!(client = %addr, "no request within the header timeout: closed");
                        return;
                    }
                },
            };
            let ended = match ended {
                Some(e) => e,
                None => conn.await,
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, client = %addr, "connection ended with an error");
            }
        });
    }
    drop(listener);
    stop.trigger();
    graceful.shutdown().await;
    Ok(())
}

/// Marks the answer `Connection: close` when the request had a body the handler did not
/// read to its end (an early 401, 413, 415, 422...): the connection cannot carry another
/// request, and the client must know before it sends one.
async fn close_if_body_unread(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use http_body::Body as _;
    let http1 = req.version() <= axum::http::Version::HTTP_11;
    if !http1 || req.body().is_end_stream() {
        return next.run(req).await;
    }
    let read = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let body = axum::body::Body::new(ReadToEnd {
        inner: body,
        read: read.clone(),
    });
    let mut resp = next
        .run(axum::extract::Request::from_parts(parts, body))
        .await;
    if !read.load(std::sync::atomic::Ordering::Acquire) {
        resp.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    resp
}

/// A request body that records whether it was read to its end.
struct ReadToEnd {
    inner: axum::body::Body,
    read: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl http_body::Body for ReadToEnd {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        let ended = match &polled {
            std::task::Poll::Ready(None) => true,
            std::task::Poll::Ready(Some(Ok(_))) => self.inner.is_end_stream(),
            _ => false,
        };
        if ended {
            self.read.store(true, std::sync::atomic::Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
