//! The watcher: in every server process, on a tick, it claims the pages that are due
//! (`rapport_domain::oncall::due_pages`) and sends them. [`Watcher::tick`] takes `now`; only
//! the task [`spawn`] starts reads the clock. See the module doc of [`super`] for why a page
//! goes out at least once and, with any number of processes, once in the normal course.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rapport_domain::Role;
use rapport_domain::oncall::{
    DuePage, EscalationPolicy, PageKey, PageTarget, RequestFacts, due_pages, who_is_on_call,
};
use rapport_domain::request::Severity;
use rapport_domain::sla;
use sqlx::PgPool;
use uuid::Uuid;

use super::delivery::{self, DeliveryError, Mailer, PageContent};
use super::store::{self, Claimed, Person, Watched};
use super::{OnCallSettings, link};

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Pages this watcher claimed (new ones and expired claims taken again).
    pub claimed: usize,
    /// Pages delivered on at least one channel.
    pub sent: usize,
    /// Pages no longer due when their turn came (acknowledged, answered, resolved).
    pub skipped: usize,
    /// Pages left for another try (every channel failed), or given up.
    pub failed: usize,
}

pub struct Watcher {
    pool: PgPool,
    settings: Arc<OnCallSettings>,
    /// This watcher's name on its claims.
    worker: String,
    mailer: Option<Mailer>,
    http: reqwest::Client,
}

/// Expired claims taken again per tick, at most.
const RECLAIM_BATCH: i64 = 500;

impl Watcher {
    pub fn new(pool: PgPool, settings: Arc<OnCallSettings>) -> Result<Watcher, DeliveryError> {
        let mailer = settings.smtp.as_ref().map(Mailer::new).transpose()?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| DeliveryError::Webhook(e.to_string()))?;
        Ok(Watcher {
            pool,
            settings,
            worker: format!("{}-{}", std::process::id(), Uuid::now_v7().simple()),
            mailer,
            http,
        })
    }

    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Claims what is due at `now` and sends it.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<TickReport, sqlx::Error> {
        let claimed = self.claim(now).await?;
        self.deliver(claimed, now).await
    }

    /// Claims every page due at `now` that no watcher claimed yet, and every claim whose
    /// lease ran out unsent. What is returned is this watcher's to send.
    pub async fn claim(&self, now: DateTime<Utc>) -> Result<Vec<Claimed>, sqlx::Error> {
        let lease = self.settings.lease;
        let mut conn = self.pool.acquire().await?;
        let mut out =
            store::reclaim_expired(&mut conn, &self.worker, now, lease, RECLAIM_BATCH).await?;
        let policy = store::policy(&mut conn).await?;
        // Only the severities the policy pages for (P3/P4 are in the app only by default).
        let pageable: Vec<&str> = Severity::ALL
            .into_iter()
            .filter(|s| {
                let p = policy.for_severity(*s);
                !(p.steps.is_empty() && p.at_risk.is_empty() && p.breached.is_empty())
            })
            .map(Severity::as_str)
            .collect();
        for w in store::watched(&mut conn, None, Some(&pageable)).await? {
            for due in due_now(&policy, &w, &w.sent, now) {
                if let Some(c) = store::claim_new(
                    &mut conn,
                    w.id,
                    w.team_id,
                    due.key,
                    &due.targets,
                    due.due_at,
                    &self.worker,
                    now,
                    lease,
                )
                .await?
                {
                    out.push(c);
                }
            }
        }
        Ok(out)
    }

    /// Sends the claimed pages (those still due at `now`) and ends each claim.
    pub async fn deliver(
        &self,
        claimed: Vec<Claimed>,
        now: DateTime<Utc>,
    ) -> Result<TickReport, sqlx::Error> {
        let mut report = TickReport {
            claimed: claimed.len(),
            ..TickReport::default()
        };
        if claimed.is_empty() {
            return Ok(report);
        }
        let mut conn = self.pool.acquire().await?;
        let policy = store::policy(&mut conn).await?;
        let (roster, people) = store::roster(&mut conn, now).await?;
        let hooks = store::webhooks(&mut conn).await?;
        let ids: Vec<Uuid> = claimed.iter().map(|c| c.request_id).collect();
        let watched: HashMap<Uuid, Watched> = store::watched(&mut conn, Some(&ids), None)
            .await?
            .into_iter()
            .map(|w| (w.id, w))
            .collect();
        drop(conn);
        let on_call: Vec<Uuid> = who_is_on_call(now, &roster)
            .into_iter()
            .map(|o| o.user_id)
            .collect();
        for page in claimed {
            let still_due = watched.get(&page.request_id).filter(|w| {
                let others: Vec<PageKey> =
                    w.sent.iter().copied().filter(|k| *k != page.key).collect();
                due_now(&policy, w, &others, now)
                    .iter()
                    .any(|d| d.key == page.key)
            });
            let Some(w) = still_due else {
                store::finish(&self.pool, &page, &self.worker, "skipped", &[], None, now).await?;
                report.skipped += 1;
                continue;
            };
            let recipients = recipients(&page.targets, &on_call, &people);
            let content = content(w, &page, now);
            let mut tally = Tally::default();
            if let Some(mailer) = &self.mailer {
                for p in &recipients {
                    let ack = self.ack_url(w.id, p.id, now);
                    let r = mailer
                        .send(&content, &p.name, &p.email, p.id, ack.as_deref())
                        .await;
                    tally
                        .record(&self.pool, &page, "email", &p.email, &r, now)
                        .await?;
                }
            }
            if let Some(hook) = hooks.iter().find(|h| h.team_id == page.team_id) {
                let r = delivery::send_webhook(&self.http, hook, &content, now).await;
                let to = format!("team {}", hook.team_id);
                tally
                    .record(&self.pool, &page, "webhook", &to, &r, now)
                    .await?;
            }
            let ids: Vec<Uuid> = recipients.iter().map(|p| p.id).collect();
            let Tally { delivered, errors } = tally;
            let error = (!errors.is_empty()).then(|| errors.join("; "));
            if delivered > 0 || errors.is_empty() {
                // Delivered somewhere, or nowhere to deliver (no SMTP, no webhook, nobody
                // to page): the page is done either way; the desktops show it in the app.
                store::finish(
                    &self.pool,
                    &page,
                    &self.worker,
                    "sent",
                    &ids,
                    error.as_deref(),
                    now,
                )
                .await?;
                report.sent += 1;
                // The team's open desktops list the page (GET /v1/oncall) and notify: their
                // event stream wakes them as for any change of the team.
                let mut conn = self.pool.acquire().await?;
                crate::events::notify(&mut conn, crate::events::Event::Team(page.team_id)).await?;
            } else if page.attempts >= self.settings.max_attempts {
                tracing::error!(request = %page.request_id, page = %page.dedupe_key, error = error.as_deref().unwrap_or(""), "page given up");
                store::finish(
                    &self.pool,
                    &page,
                    &self.worker,
                    "failed",
                    &ids,
                    error.as_deref(),
                    now,
                )
                .await?;
                report.failed += 1;
            } else {
                tracing::warn!(request = %page.request_id, page = %page.dedupe_key, error = error.as_deref().unwrap_or(""), "page not delivered; tried again after its lease");
                store::retry_later(
                    &self.pool,
                    &page,
                    &self.worker,
                    error.as_deref().unwrap_or(""),
                )
                .await?;
                report.failed += 1;
            }
        }
        Ok(report)
    }

    fn ack_url(&self, request_id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> Option<String> {
        let base = self.settings.public_url.as_deref()?;
        let secret = self.settings.link_secret.as_ref()?;
        match link::issue(
            secret.0.as_bytes(),
            request_id,
            user_id,
            now + self.settings.link_ttl,
        ) {
            Ok(token) => Some(format!(
                "{}/v1/oncall/ack/{token}",
                base.trim_end_matches('/')
            )),
            Err(e) => {
                tracing::error!(error = %e, "no randomness for an Acknowledge link");
                None
            }
        }
    }
}

/// The pages of `w` due at `now` that are not among `sent`.
fn due_now(
    policy: &EscalationPolicy,
    w: &Watched,
    sent: &[PageKey],
    now: DateTime<Utc>,
) -> Vec<DuePage> {
    due_pages(
        policy,
        RequestFacts {
            history: &w.history,
            plan: w.plan,
        },
        &w.acks,
        sent,
        now,
    )
}

/// The people a page with `targets` goes to, each once, in target order.
fn recipients<'a>(
    targets: &[PageTarget],
    on_call: &[Uuid],
    people: &'a [Person],
) -> Vec<&'a Person> {
    let mut out: Vec<&Person> = Vec::new();
    for t in targets {
        let batch: Vec<&Person> = match t {
            PageTarget::OnCall => on_call
                .iter()
                .filter_map(|id| people.iter().find(|p| p.id == *id))
                .collect(),
            PageTarget::SupportLeads => people
                .iter()
                .filter(|p| p.role == Role::SupportLead)
                .collect(),
            PageTarget::Admins => people.iter().filter(|p| p.role == Role::Admin).collect(),
        };
        for p in batch {
            if !out.iter().any(|o| o.id == p.id) {
                out.push(p);
            }
        }
    }
    out
}

fn content(w: &Watched, page: &Claimed, now: DateTime<Utc>) -> PageContent {
    let summary = w.history.summary();
    let clock = sla::clock(&w.history, w.plan, now);
    let reason = match page.key {
        PageKey::Escalation { round, step, .. } => {
            let who = match page.targets.first() {
                Some(PageTarget::OnCall) => "the on-call person",
                Some(PageTarget::SupportLeads) => "every support lead",
                Some(PageTarget::Admins) => "the admins",
                None => "nobody",
            };
            if round == 0 {
                format!("not acknowledged: paging {who} (step {})", step + 1)
            } else {
                format!(
                    "still not acknowledged: paging {who} again (round {}, step {})",
                    round + 1,
                    step + 1
                )
            }
        }
        PageKey::AtRisk { .. } => "the first-response time is at risk".into(),
        PageKey::Breached { .. } => "the first-response time is breached".into(),
    };
    PageContent {
        request_id: w.id,
        dedupe_key: page.dedupe_key.clone(),
        title: summary.title.clone(),
        account: w.account_name.clone(),
        severity: clock.severity.label().to_owned(),
        reason,
        time_left_secs: clock.remaining_secs,
        call_link: summary.call_link.clone(),
        due_at: page.due_at,
    }
}

/// Runs a watcher on `state`'s pool until the state shuts down: one tick every
/// `settings.tick`, at the state's clock.
pub fn spawn(
    state: &crate::state::AppState,
    settings: Arc<OnCallSettings>,
) -> Result<(), DeliveryError> {
    let watcher = Watcher::new(state.pool.clone(), settings.clone())?;
    let clock = state.clock.clone();
    let mut stop = state.shutdown_signal();
    tracing::info!(
        worker = watcher.worker(),
        email = settings.smtp.is_some(),
        "on-call watcher started"
    );
    tokio::spawn(async move {
        let mut every = tokio::time::interval(settings.tick);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stop.changed() => break,
            }
            match watcher.tick(clock()).await {
                Ok(r) if r.claimed > 0 => tracing::info!(
                    claimed = r.claimed,
                    sent = r.sent,
                    skipped = r.skipped,
                    failed = r.failed,
                    "on-call pages"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "on-call watcher tick failed"),
            }
        }
    });
    Ok(())
}

/// What the deliveries of one page came to.
#[derive(Default)]
struct Tally {
    delivered: usize,
    errors: Vec<String>,
}

impl Tally {
    /// Records one attempt to reach `recipient` on `channel` in the page's deliveries, and
    /// counts it.
    async fn record<T, E: std::fmt::Display>(
        &mut self,
        pool: &PgPool,
        page: &Claimed,
        channel: &str,
        recipient: &str,
        outcome: &Result<T, E>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let err = outcome.as_ref().err().map(ToString::to_string);
        store::record_delivery(pool, page, channel, recipient, err.as_deref(), now).await?;
        match err {
            None => self.delivered += 1,
            Some(e) => self.errors.push(e),
        }
        Ok(())
    }
}
