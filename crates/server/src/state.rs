//! What every request handler shares: the pool, the clock, the settings, the event bus.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgPool;
use tokio::sync::{broadcast, watch};

use crate::events::{self, Event};

/// The time rules are checked against (token expiry, rate-limit windows, tombstone age).
/// Production uses the system clock; tests inject one they move.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a login token is valid.
    pub token_ttl: TimeDelta,
    /// Largest request body accepted (bytes); larger ones get 413.
    pub max_body_bytes: usize,
    /// Failed logins per (email, client address) within `login_window` before 429.
    pub login_max_failures: i64,
    pub login_window: TimeDelta,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token_ttl: TimeDelta::days(30),
            max_body_bytes: 4 * 1024 * 1024,
            login_max_failures: 5,
            login_window: TimeDelta::minutes(15),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub clock: Clock,
    pub settings: Arc<Settings>,
    /// Change notices from PostgreSQL (LISTEN), fanned out to this process's event streams.
    pub events: broadcast::Sender<Event>,
    shutdown: Arc<watch::Sender<bool>>,
}

/// Ends the event streams (and the LISTEN task) of one [`AppState`].
#[derive(Clone)]
pub struct ShutdownHandle(Arc<watch::Sender<bool>>);

impl ShutdownHandle {
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

impl AppState {
    /// A state on `pool`; starts listening for change notices of every server process.
    pub async fn new(pool: PgPool, clock: Clock, settings: Settings) -> Result<Self, sqlx::Error> {
        let (events, _) = broadcast::channel(1024);
        let (shutdown, _) = watch::channel(false);
        let shutdown = Arc::new(shutdown);
        events::spawn_listener(&pool, events.clone(), shutdown.subscribe()).await?;
        Ok(AppState {
            pool,
            clock,
            settings: Arc::new(settings),
            events,
            shutdown,
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}
