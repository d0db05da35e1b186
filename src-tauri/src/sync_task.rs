//! The background sync task. It runs on its own tasks and never blocks a command or the UI
//! thread: commands only read its status or wake it.
//!
//! It syncs (push, then pull) at start, a moment after local writes (debounced: it watches
//! the outbox), on an interval, when the server's event stream says something changed, and
//! when the connection comes back (the event stream reconnects). Failures back off
//! exponentially with jitter. Every state change is sent to the window as the
//! `sync://status` event; a sync that brought changes sends `sync://changed` so open views
//! reload.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rapport_client::Store;
use rapport_client::sync::{HttpTransport, SyncClient, SyncError};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::Notify;

use crate::clock::Clock;
use ts_rs::TS;

/// The window event carrying the new [`SyncStatus`].
pub const STATUS_EVENT: &str = "sync://status";
/// The window event telling open views that synced records changed.
pub const CHANGED_EVENT: &str = "sync://changed";

const INTERVAL: Duration = Duration::from_secs(60);
const DEBOUNCE: Duration = Duration::from_millis(800);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What the status bar shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// No server connection set up: the app works locally.
    SignedOut,
    /// Up to date as of `last_synced_at`.
    Synced,
    /// A sync is running; `received` of `total` on a first sync.
    Syncing,
    /// The server cannot be reached; `pending_changes` wait.
    Offline,
    /// The last sync failed for a reason the user must see (`error`); Retry is offered.
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SyncStatus {
    pub state: SyncState,
    pub server_url: Option<String>,
    pub email: Option<String>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub pending_changes: u32,
    pub needs_attention: u32,
    /// First sync (or a reset): records received so far, of `total`.
    pub received: Option<u64>,
    pub total: Option<u64>,
    /// Why the last sync failed (offline or error), in words.
    pub error: Option<String>,
    /// Set when the OS keyring could not keep the token: signed in for this session only.
    pub keyring_warning: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Live {
    state: Option<SyncState>,
    progress: Option<(u64, Option<u64>)>,
    error: Option<String>,
    keyring_warning: Option<String>,
}

/// Shared by the commands and the tasks.
pub struct SyncRuntime {
    store: Store,
    /// The desktop's one clock: each sync's `now`.
    clock: Clock,
    live: Mutex<Live>,
    /// The token, in memory only (loaded from the keyring at start).
    token: Mutex<Option<String>>,
    wake: Notify,
    /// Told after each successful sync (the on-call page loop waits on it).
    pub(crate) synced: Notify,
    /// Bumped at every sign-in and sign-out, so an event stream of an old sign-in ends.
    generation: std::sync::atomic::AtomicU64,
    /// Held from reading the status to sending it, so statuses reach the window in the
    /// order they were read: a progress report sent from its own task could otherwise
    /// arrive after the final "synced" and leave the status bar saying "syncing".
    emitting: tokio::sync::Mutex<()>,
}

impl SyncRuntime {
    pub fn new(store: Store, clock: Clock) -> Arc<Self> {
        Arc::new(SyncRuntime {
            store,
            clock,
            live: Mutex::new(Live::default()),
            token: Mutex::new(None),
            wake: Notify::new(),
            synced: Notify::new(),
            generation: std::sync::atomic::AtomicU64::new(0),
            emitting: tokio::sync::Mutex::new(()),
        })
    }

    /// The desktop's clock, which the sync and the loops beside it read.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Asks for a sync now (coalesced with one already asked for).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn token(&self) -> Option<String> {
        self.token.lock().ok().and_then(|t| t.clone())
    }

    pub fn signed_in(&self, token: String, keyring_warning: Option<String>) {
        if let Ok(mut t) = self.token.lock() {
            *t = Some(token);
        }
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut l) = self.live.lock() {
            *l = Live {
                keyring_warning,
                ..Live::default()
            };
        }
        self.wake();
    }

    pub fn signed_out(&self) {
        if let Ok(mut t) = self.token.lock() {
            *t = None;
        }
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut l) = self.live.lock() {
            *l = Live::default();
        }
    }

    /// The token to revoke at sign-out.
    pub fn current_token(&self) -> Option<String> {
        self.token()
    }

    /// The server URL and the token, while signed in.
    pub async fn connection(&self) -> Option<(String, String)> {
        let url = self.store.sync_info().await.ok()?.server_url?;
        Some((url, self.token()?))
    }

    fn set_live(&self, f: impl FnOnce(&mut Live)) {
        if let Ok(mut l) = self.live.lock() {
            f(&mut l);
        }
    }

    pub async fn status(&self) -> Result<SyncStatus, rapport_client::StoreError> {
        let info = self.store.sync_info().await?;
        let live = self.live.lock().map(|l| l.clone()).unwrap_or_default();
        let signed_in = info.server_url.is_some() && self.token().is_some();
        let state = if signed_in {
            live.state.unwrap_or(SyncState::Syncing)
        } else {
            SyncState::SignedOut
        };
        let (received, total) = match (state, live.progress) {
            (SyncState::Syncing, Some((r, t))) => (Some(r), t),
            _ => (None, None),
        };
        Ok(SyncStatus {
            state,
            server_url: info.server_url,
            email: info.email,
            last_synced_at: info.last_synced_at,
            pending_changes: info.pending_changes,
            needs_attention: info.needs_attention,
            received,
            total,
            error: if signed_in { live.error } else { None },
            keyring_warning: live.keyring_warning,
        })
    }
}

async fn emit_status<R: Runtime>(app: &AppHandle<R>, rt: &SyncRuntime) {
    let _in_order = rt.emitting.lock().await;
    if let Ok(s) = rt.status().await
        && let Err(e) = app.emit(STATUS_EVENT, s)
    {
        tracing::warn!(error = %e, "could not send the sync status to the window");
    }
}

/// Loads the token from the keyring (at once, so the status bar's first answer is right);
/// a sync it asks for waits for [`spawn`].
pub fn load_token<R: Runtime>(app: AppHandle<R>, rt: Arc<SyncRuntime>) {
    let loader = rt;
    let app2 = app;
    tauri::async_runtime::spawn(async move {
        if let Ok(info) = loader.store.sync_info().await
            && let (Some(url), Some(email)) = (info.server_url, info.email)
        {
            let got = tokio::task::spawn_blocking(move || crate::token::load(&email, &url)).await;
            match got {
                Ok(Ok(Some(token))) => loader.signed_in(token, None),
                Ok(Ok(None)) => {
                    loader.set_live(|l| {
                        l.state = Some(SyncState::Error);
                        l.error = Some(
                            "sign in again: no saved sign-in was found in the OS keyring".into(),
                        );
                    });
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the sign-in token could not be read");
                    loader.set_live(|l| {
                        l.state = Some(SyncState::Error);
                        l.error = Some(format!("sign in again: {e}"));
                    });
                }
                Err(e) => tracing::warn!(error = %e, "the keyring task failed"),
            }
        }
        emit_status(&app2, &loader).await;
    });
}

/// Starts the tasks that sync on every trigger (and the on-call pages beside them).
pub fn spawn<R: Runtime>(app: AppHandle<R>, rt: Arc<SyncRuntime>) {
    tauri::async_runtime::spawn(crate::alerts::pages_loop(app.clone(), rt.clone()));
    tauri::async_runtime::spawn(sync_loop(app, rt.clone()));
    tauri::async_runtime::spawn(outbox_watch(rt.clone()));
    tauri::async_runtime::spawn(events_loop(rt));
}

/// A delay of `base * 2^failures`, capped, times a jitter in [0.5, 1.5).
fn backoff(failures: u32) -> Duration {
    let base = Duration::from_secs(1)
        .saturating_mul(1 << failures.min(9))
        .min(MAX_BACKOFF);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = 0.5 + f64::from(nanos % 1000) / 1000.0;
    base.mul_f64(jitter)
}

async fn sync_loop<R: Runtime>(app: AppHandle<R>, rt: Arc<SyncRuntime>) {
    let mut failures: u32 = 0;
    let mut delay = INTERVAL;
    loop {
        tokio::select! {
            () = rt.wake.notified() => {}
            () = tokio::time::sleep(delay) => {}
        }
        let (Some(token), Ok(info)) = (rt.token(), rt.store.sync_info().await) else {
            delay = INTERVAL;
            continue;
        };
        let Some(url) = info.server_url else {
            delay = INTERVAL;
            continue;
        };
        let transport = match HttpTransport::new(&url) {
            Ok(t) => Arc::new(t),
            Err(e) => {
                rt.set_live(|l| {
                    l.state = Some(SyncState::Error);
                    l.error = Some(e.0);
                });
                emit_status(&app, &rt).await;
                delay = INTERVAL;
                continue;
            }
        };
        let engine = SyncClient::new(rt.store.clone(), transport, token);
        rt.set_live(|l| {
            l.state = Some(SyncState::Syncing);
            l.progress = None;
        });
        emit_status(&app, &rt).await;
        let progress_rt = rt.clone();
        let progress_app = app.clone();
        let progress = move |received: u64, total: Option<u64>| {
            progress_rt.set_live(|l| l.progress = Some((received, total)));
            let app = progress_app.clone();
            let rt = progress_rt.clone();
            tauri::async_runtime::spawn(async move { emit_status(&app, &rt).await });
        };
        let generation = rt.generation.load(std::sync::atomic::Ordering::SeqCst);
        let result = engine.sync(rt.clock.now(), &progress).await;
        if generation != rt.generation.load(std::sync::atomic::Ordering::SeqCst) {
            // Signed out (or in again) meanwhile: this result is of no interest.
            continue;
        }
        match result {
            Ok(report) => {
                failures = 0;
                delay = INTERVAL;
                tracing::info!(
                    pushed = report.pushed,
                    rejected = report.rejected,
                    received = report.received,
                    "synced"
                );
                rt.set_live(|l| {
                    l.state = Some(SyncState::Synced);
                    l.error = None;
                    l.progress = None;
                });
                if report.received > 0 || report.rejected > 0 {
                    let _ = app.emit(CHANGED_EVENT, ());
                }
                rt.synced.notify_one();
            }
            Err(e) => {
                let offline = e.is_transient();
                failures = failures.saturating_add(1);
                delay = if matches!(e, SyncError::Unauthorized(_) | SyncError::Upgrade(_)) {
                    INTERVAL
                } else {
                    backoff(failures)
                };
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "sync failed");
                let message = match &e {
                    SyncError::Unauthorized(_) => {
                        "the server ended this sign-in: sign in again in Settings → Connection"
                            .to_owned()
                    }
                    other => other.to_string(),
                };
                rt.set_live(|l| {
                    l.state = Some(if offline {
                        SyncState::Offline
                    } else {
                        SyncState::Error
                    });
                    l.error = Some(message);
                    l.progress = None;
                });
                // Records may have changed before the failure (pages applied).
                let _ = app.emit(CHANGED_EVENT, ());
            }
        }
        emit_status(&app, &rt).await;
    }
}

/// Wakes the sync loop a moment after local writes: watches the outbox's size.
async fn outbox_watch(rt: Arc<SyncRuntime>) {
    let mut last = 0u32;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Ok(n) = rt.store.pending_changes().await else {
            continue;
        };
        if n > 0 && n != last && rt.token().is_some() {
            tokio::time::sleep(DEBOUNCE).await;
            rt.wake();
        }
        last = n;
    }
}

/// Keeps the server's event stream open while signed in: each `changes` event, and each
/// (re)connection (the network came back), wakes the sync loop.
async fn events_loop(rt: Arc<SyncRuntime>) {
    let mut failures: u32 = 0;
    loop {
        let generation = rt.generation.load(std::sync::atomic::Ordering::SeqCst);
        let (Some(token), Ok(info)) = (rt.token(), rt.store.sync_info().await) else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let Some(url) = info.server_url else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let stream = match HttpTransport::new(&url) {
            Ok(t) => t.events(&token).await,
            Err(e) => Err(e),
        };
        match stream {
            Ok(mut events) => {
                if failures > 0 {
                    tracing::info!("event stream back: syncing");
                }
                failures = 0;
                rt.wake();
                loop {
                    let next = tokio::time::timeout(Duration::from_secs(5), events.next()).await;
                    if generation != rt.generation.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    match next {
                        Ok(Some(name)) if name == "changes" => rt.wake(),
                        Ok(Some(_)) | Err(_) => {}
                        Ok(None) => break,
                    }
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::debug!(error = %e, "event stream unavailable");
                tokio::time::sleep(backoff(failures)).await;
            }
        }
    }
}
