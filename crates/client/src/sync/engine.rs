//! The engine: pushes the outbox in batches, pulls pages from the cursor, and repairs the
//! records of refused writes. Every request goes through a [`Transport`].

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rapport_domain::sync::{
    Change, EntityKind, ErrorBody, LoginRequest, LoginResponse, MAX_PUSH_BATCH, Me, MutationOp,
    MutationStatus, PullResponse, PushRequest, PushResponse,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::transport::{HttpRequest, Method, Transport};
use crate::error::StoreError;
use crate::store::Store;

/// Why a sync did not complete. Nothing local is lost in any of these: the outbox stays.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No answer (network down, server unreachable or failing with 5xx): retry later.
    #[error("offline: {0}")]
    Offline(String),
    /// The sign-in is no longer valid (expired, revoked, user disabled): sign in again.
    #[error("signed out by the server: {0}")]
    Unauthorized(String),
    /// The server no longer speaks this app's protocol: update Rapport.
    #[error("{0}")]
    Upgrade(String),
    /// The server refused the request itself (not one mutation).
    #[error("the server refused the request ({code}): {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// The answer could not be read.
    #[error("the server's answer could not be read: {0}")]
    Protocol(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// Whether retrying later may succeed without the user doing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, SyncError::Offline(_))
    }
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: u64,
    pub rejected: u64,
    pub received: u64,
}

pub(crate) async fn call<T: DeserializeOwned>(
    transport: &dyn Transport,
    req: HttpRequest,
) -> Result<T, SyncError> {
    let resp = transport
        .send(req)
        .await
        .map_err(|e| SyncError::Offline(e.0))?;
    if (200..300).contains(&resp.status) {
        return serde_json::from_slice(&resp.body).map_err(|e| SyncError::Protocol(e.to_string()));
    }
    let body: Option<ErrorBody> = serde_json::from_slice(&resp.body).ok();
    let (code, message) = body.map_or_else(
        || (String::new(), format!("HTTP {}", resp.status)),
        |b| (b.code, b.message),
    );
    Err(match resp.status {
        401 => SyncError::Unauthorized(message),
        426 => SyncError::Upgrade(message),
        s if s >= 500 || s == 429 => SyncError::Offline(format!("server error {s}: {message}")),
        status => SyncError::Server {
            status,
            code,
            message,
        },
    })
}

fn json_body<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, SyncError> {
    serde_json::to_vec(v).map_err(|e| SyncError::Protocol(e.to_string()))
}

/// `POST /v1/auth/login`. The answer's token is for the OS keyring only.
pub async fn login(
    transport: &dyn Transport,
    email: &str,
    password: &str,
) -> Result<LoginResponse, SyncError> {
    let body = json_body(&LoginRequest {
        email: email.to_owned(),
        password: password.to_owned(),
    })?;
    call(
        transport,
        HttpRequest {
            method: Method::Post,
            path: "/v1/auth/login".into(),
            token: None,
            body: Some(body),
        },
    )
    .await
}

/// `GET /v1/me`: who the token signs in, and their teams.
pub async fn me(transport: &dyn Transport, token: &str) -> Result<Me, SyncError> {
    call(
        transport,
        HttpRequest {
            method: Method::Get,
            path: "/v1/me".into(),
            token: Some(token.to_owned()),
            body: None,
        },
    )
    .await
}

/// `POST /v1/auth/logout`: revokes the token on the server (best effort).
pub async fn logout(transport: &dyn Transport, token: &str) -> Result<(), SyncError> {
    let resp = transport
        .send(HttpRequest {
            method: Method::Post,
            path: "/v1/auth/logout".into(),
            token: Some(token.to_owned()),
            body: None,
        })
        .await
        .map_err(|e| SyncError::Offline(e.0))?;
    match resp.status {
        200..300 | 401 => Ok(()),
        s => Err(SyncError::Offline(format!("logout answered {s}"))),
    }
}

/// One signed-in cache and its connection.
#[derive(Clone)]
pub struct SyncClient {
    store: Store,
    transport: Arc<dyn Transport>,
    token: String,
    /// Records per pull page (1-1000).
    pub page_limit: u32,
    /// Mutations per push (at most the protocol's 500).
    pub push_batch: usize,
    /// A pull from the start writes the accounts the cache lacks the bulk way (same cache,
    /// faster; see `sync::bulk`). On by default; off, every record takes the ordinary apply.
    pub bulk_first_sync: bool,
    /// In a pull from the start, pages are applied together in one SQLite transaction (each
    /// with its cursor) until they hold this many records: fewer commits, so the cache's
    /// index pages are written to the WAL fewer times. 0 (the default): one page per
    /// transaction, as every other pull (a crash mid-pull keeps every page applied before
    /// it, which the SIGKILL test holds page by page).
    pub first_sync_batch: usize,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("SyncClient")
            .field("page_limit", &self.page_limit)
            .field("push_batch", &self.push_batch)
            .field("bulk_first_sync", &self.bulk_first_sync)
            .field("first_sync_batch", &self.first_sync_batch)
            .finish_non_exhaustive()
    }
}

impl SyncClient {
    pub fn new(store: Store, transport: Arc<dyn Transport>, token: String) -> Self {
        SyncClient {
            store,
            transport,
            token,
            page_limit: 500,
            push_batch: 200,
            bulk_first_sync: true,
            first_sync_batch: 0,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn req(&self, method: Method, path: String, body: Option<Vec<u8>>) -> HttpRequest {
        HttpRequest {
            method,
            path,
            token: Some(self.token.clone()),
            body,
        }
    }

    /// Push, then pull until up to date. `progress(received, total)` is called after each
    /// applied page.
    pub async fn sync(
        &self,
        now: DateTime<Utc>,
        progress: &(dyn Fn(u64, Option<u64>) + Send + Sync),
    ) -> Result<SyncReport, SyncError> {
        let _one_at_a_time = self.store.sync_gate.lock().await;
        let (pushed, rejected) = self.push_now(now).await?;
        let received = self.pull_now(now, progress).await?;
        self.store.sync_mark_synced(now).await?;
        Ok(SyncReport {
            pushed,
            rejected,
            received,
        })
    }

    /// Drains the outbox in batches, oldest first. An applied mutation leaves the outbox; a
    /// refused one moves to "needs attention" with its reason, and its record is reloaded
    /// from the server so the cache shows what the server holds. Returns (applied, refused).
    pub async fn push(&self, now: DateTime<Utc>) -> Result<(u64, u64), SyncError> {
        let _one_at_a_time = self.store.sync_gate.lock().await;
        self.push_now(now).await
    }

    async fn push_now(&self, now: DateTime<Utc>) -> Result<(u64, u64), SyncError> {
        let (mut applied, mut refused) = (0, 0);
        let batch_size = self.push_batch.clamp(1, MAX_PUSH_BATCH);
        loop {
            // Refused writes first get their record reloaded (also those whose reload an
            // earlier sync could not finish).
            for (kind, id) in self.store.sync_to_reload().await? {
                self.reload(kind, id, now).await?;
                self.store.sync_reloaded(kind, id).await?;
            }
            let batch = self.store.sync_outbox_batch(batch_size).await?;
            if batch.is_empty() {
                return Ok((applied, refused));
            }
            let mut wire = batch.clone();
            for m in &mut wire {
                self.name_account_team(m).await?;
            }
            let body = json_body(&PushRequest { mutations: wire })?;
            let resp: PushResponse = call(
                &*self.transport,
                self.req(Method::Post, "/v1/sync/push".into(), Some(body)),
            )
            .await?;
            if resp.results.len() != batch.len()
                || resp.results.iter().zip(&batch).any(|(r, m)| r.id != m.id)
            {
                return Err(SyncError::Protocol(
                    "the push answer does not match the mutations sent".into(),
                ));
            }
            let rejected = self.store.sync_ack(&batch, &resp.results, now).await?;
            applied += resp
                .results
                .iter()
                .filter(|r| r.status == MutationStatus::Applied)
                .count() as u64;
            refused += rejected.len() as u64;
        }
    }

    /// An account created here carries no team; the server needs one when the user is in
    /// several teams: the default team of the sign-in, unless the server already told us.
    async fn name_account_team(
        &self,
        m: &mut rapport_domain::sync::Mutation,
    ) -> Result<(), SyncError> {
        if m.entity != EntityKind::Account
            || m.op != MutationOp::Upsert
            || m.fields.contains_key("team_id")
        {
            return Ok(());
        }
        if let Some(team) = self.store.sync_account_team(m.entity_id).await? {
            m.fields
                .insert("team_id".into(), Value::String(team.to_string()));
        }
        Ok(())
    }

    /// Reloads one record from the server (after a refused write): the server's state, with
    /// any later pending writes on top; gone from the cache when the server has none.
    async fn reload(
        &self,
        kind: EntityKind,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), SyncError> {
        let got: Result<Change, SyncError> = call(
            &*self.transport,
            self.req(
                Method::Get,
                format!("/v1/sync/records/{}/{id}", kind.as_str()),
                None,
            ),
        )
        .await;
        match got {
            Ok(change) => Ok(self.store.sync_apply_one(&change, now).await?),
            Err(SyncError::Server {
                status: 403 | 404, ..
            }) => Ok(self.store.sync_forget_unless_pending(kind, id).await?),
            Err(e) => Err(e),
        }
    }

    /// Pulls pages from the stored cursor until the server has no more, applying each page
    /// and its cursor in one transaction. Returns the number of records received. A pull
    /// from the start reconciles: its last page drops what it did not bring.
    pub async fn pull(
        &self,
        now: DateTime<Utc>,
        progress: &(dyn Fn(u64, Option<u64>) + Send + Sync),
    ) -> Result<u64, SyncError> {
        let _one_at_a_time = self.store.sync_gate.lock().await;
        self.pull_now(now, progress).await
    }

    async fn pull_now(
        &self,
        now: DateTime<Utc>,
        progress: &(dyn Fn(u64, Option<u64>) + Send + Sync),
    ) -> Result<u64, SyncError> {
        let mut received = 0;
        let mut resets = 0;
        let mut cursor = self.store.sync_cursor().await?;
        // A pull from the start applies its pages in groups (see `first_sync_batch`).
        let mut grouping = cursor.is_empty();
        let (mut group, mut failed) = self.pull_group(&cursor, grouping).await;
        loop {
            let Some(first) = group.first() else {
                return Err(failed.unwrap_or_else(|| SyncError::Protocol("no page".into())));
            };
            if first.reset_required {
                resets += 1;
                if resets > 2 {
                    return Err(SyncError::Protocol(
                        "the server keeps asking for a reset".into(),
                    ));
                }
                self.store.sync_reset().await?;
                cursor = String::new();
                grouping = true;
                (group, failed) = self.pull_group(&cursor, grouping).await;
                continue;
            }
            let from_start = cursor.is_empty();
            let last = group.last().unwrap_or(first);
            let more = last.has_more && failed.is_none();
            let apply = self
                .store
                .sync_apply_pages(&group, from_start, self.bulk_first_sync, now);
            // The next pages are asked for while these are written (from the cursor they
            // store): the server and the network work while SQLite does. They are used only
            // once these are committed.
            let (applied, next) = if more {
                let (applied, next) = tokio::join!(apply, self.pull_group(&last.cursor, grouping));
                (applied, Some(next))
            } else {
                (apply.await, None)
            };
            let (total_received, total) = applied?;
            received += group.iter().map(|p| p.changes.len() as u64).sum::<u64>();
            progress(total_received, total);
            if let Some(e) = failed {
                return Err(e);
            }
            let Some(next) = next else {
                return Ok(received);
            };
            cursor = last.cursor.clone();
            (group, failed) = next;
        }
    }

    /// The next page after `cursor`, and with `grouping` the pages after it until they hold
    /// `first_sync_batch` records, the last page, or a page asking for a reset (left for the
    /// next call, which gets it again). A failure ends the group: the pages before it are
    /// answered with it, to be applied first.
    async fn pull_group(
        &self,
        cursor: &str,
        grouping: bool,
    ) -> (Vec<PullResponse>, Option<SyncError>) {
        let mut group: Vec<PullResponse> = Vec::new();
        let mut records = 0;
        loop {
            let from = group.last().map_or(cursor, |p| p.cursor.as_str());
            let page = match self.pull_page(from).await {
                Ok(p) => p,
                Err(e) => return (group, Some(e)),
            };
            if page.reset_required && !group.is_empty() {
                return (group, None);
            }
            records += page.changes.len();
            let done = !grouping
                || page.reset_required
                || !page.has_more
                || records >= self.first_sync_batch;
            group.push(page);
            if done {
                return (group, None);
            }
        }
    }

    async fn pull_page(&self, cursor: &str) -> Result<PullResponse, SyncError> {
        let limit = self.page_limit.clamp(1, 1000);
        call(
            &*self.transport,
            self.req(
                Method::Get,
                format!("/v1/sync/pull?cursor={cursor}&limit={limit}"),
                None,
            ),
        )
        .await
    }
}
