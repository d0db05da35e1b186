//! What every request handler shares: the pool, the clock, the settings, the event bus.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgPool;
use tokio::sync::{Semaphore, broadcast, watch};

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
    /// Most password checks (argon2, CPU- and memory-heavy) running at once; further
    /// sign-ins wait their turn, so a flood of them cannot take every core.
    pub password_checks: usize,
    /// How long a sign-in waits for its turn before 503 `busy`.
    pub password_check_wait: Duration,
    /// A connection must send a request's whole header within this time (and an idle
    /// kept-alive connection its next request); otherwise it is closed.
    pub header_read_timeout: Duration,
    /// A request body that sends nothing for this long is abandoned (400) and its
    /// connection closed.
    pub body_read_timeout: Duration,
}

/// Half the cores (at least one): the other half keeps serving everything else.
fn default_password_checks() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token_ttl: TimeDelta::days(30),
            max_body_bytes: 4 * 1024 * 1024,
            login_max_failures: 5,
            login_window: TimeDelta::minutes(15),
            password_checks: default_password_checks(),
            password_check_wait: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
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
    /// Turns for password checks ([`Settings::password_checks`] of them).
    pub password_slots: Arc<Semaphore>,
    /// Password checks run by this process since it started.
    pub password_checks_run: Arc<AtomicU64>,
    /// Password checks running now, and the most that ever ran at once.
    pub password_checks_running: Arc<AtomicU64>,
    pub password_checks_peak: Arc<AtomicU64>,
    /// On call's SMTP, Acknowledge-link secret and watcher timing (set by the binary).
    pub oncall: Arc<crate::oncall::OnCallSettings>,
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
            password_slots: Arc::new(Semaphore::new(settings.password_checks.max(1))),
            password_checks_run: Arc::new(AtomicU64::new(0)),
            password_checks_running: Arc::new(AtomicU64::new(0)),
            password_checks_peak: Arc::new(AtomicU64::new(0)),
            oncall: Arc::default(),
            settings: Arc::new(settings),
            events,
            shutdown,
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// How many password checks this process has run.
    pub fn password_checks(&self) -> u64 {
        self.password_checks_run.load(Ordering::Relaxed)
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}
