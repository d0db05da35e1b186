//! What on call keeps in PostgreSQL: its setup, the open requests it watches, the pages it
//! claimed and sent, and the acknowledgements.

use chrono::{DateTime, TimeDelta, Utc};
use rapport_domain::Role;
use rapport_domain::account::Plan;
use rapport_domain::oncall::{EscalationPolicy, Member, Override, PageKey, PageTarget, Roster};
use rapport_domain::oncall::{Rotation, RotationPeriod};
use rapport_domain::request::{
    Actor, RequestEvent, RequestEventKind, RequestHistory, RequestStatus, Severity, Visibility,
};
use rapport_domain::sync::{EntityKind, Rejection};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::identity;

/// The escalation policy in force: the stored one, else the domain's default.
pub async fn policy(conn: &mut PgConnection) -> Result<EscalationPolicy, sqlx::Error> {
    let row = sqlx::query_scalar!(
        r#"SELECT policy AS "policy: Json<EscalationPolicy>" FROM oncall_config WHERE id"#
    )
    .fetch_optional(conn)
    .await?;
    Ok(row
        .flatten()
        .map_or_else(EscalationPolicy::default, |p| p.0))
}

pub async fn set_policy(
    conn: &mut PgConnection,
    policy: &EscalationPolicy,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    set_config(conn, Setting::Policy(policy), by, now).await
}

/// One setting of the one on-call config row.
#[derive(Clone, Copy)]
enum Setting<'a> {
    Policy(&'a EscalationPolicy),
    Rotation(Option<&'a RotationSpec>),
}

/// Writes one setting of the on-call config, stamped with when and by whom.
async fn set_config(
    conn: &mut PgConnection,
    setting: Setting<'_>,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    match setting {
        Setting::Policy(policy) => sqlx::query!(
            "INSERT INTO oncall_config (id, policy, updated_at, updated_by) VALUES (true, $1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET policy = EXCLUDED.policy,
               updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by",
            Json(policy) as _,
            now,
            by
        )
        .execute(conn)
        .await?,
        Setting::Rotation(rotation) => sqlx::query!(
            "INSERT INTO oncall_config (id, rotation, updated_at, updated_by) VALUES (true, $1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET rotation = EXCLUDED.rotation,
               updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by",
            rotation.map(Json) as _,
            now,
            by
        )
        .execute(conn)
        .await?,
    };
    Ok(())
}

/// A rotation as stored and as the API shows it (the zone as its IANA name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationSpec {
    /// In turn order; the first takes the first shift.
    pub members: Vec<Uuid>,
    /// The zone whose wall clock the handoff time is read on, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Minutes after local midnight, `0..1440`.
    pub handoff_minute: u16,
    /// `daily` or `weekly`.
    #[schema(value_type = String)]
    pub period: RotationPeriod,
    /// The local date of the first handoff.
    pub first_day: chrono::NaiveDate,
}

impl RotationSpec {
    pub fn to_rotation(&self) -> Result<Rotation, rapport_domain::validation::FieldError> {
        Ok(Rotation {
            id: Uuid::nil(),
            members: self.members.clone(),
            time_zone: rapport_domain::validation::time_zone("time_zone", &self.time_zone)?,
            handoff_minute: self.handoff_minute,
            period: self.period,
            first_day: self.first_day,
        })
    }
}

pub async fn rotation(conn: &mut PgConnection) -> Result<Option<RotationSpec>, sqlx::Error> {
    let row = sqlx::query_scalar!(
        r#"SELECT rotation AS "rotation: Json<RotationSpec>" FROM oncall_config WHERE id"#
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.flatten().map(|r| r.0))
}

pub async fn set_rotation(
    conn: &mut PgConnection,
    rotation: Option<&RotationSpec>,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    set_config(conn, Setting::Rotation(rotation), by, now).await
}

pub async fn set_opt_in(
    conn: &mut PgConnection,
    user_id: Uuid,
    opted_in: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if opted_in {
        sqlx::query!(
            "INSERT INTO oncall_opt_ins (user_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            user_id,
            now
        )
        .execute(conn)
        .await?;
    } else {
        sqlx::query!("DELETE FROM oncall_opt_ins WHERE user_id = $1", user_id)
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub async fn opt_ins(conn: &mut PgConnection) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT user_id FROM oncall_opt_ins ORDER BY user_id")
        .fetch_all(conn)
        .await
}

pub async fn insert_override(
    conn: &mut PgConnection,
    o: &Override,
    by: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO oncall_overrides (id, covering, covered, starts_at, ends_at, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        o.id,
        o.covering,
        o.covered,
        o.start,
        o.end,
        o.created_at,
        by
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_override(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query!("DELETE FROM oncall_overrides WHERE id = $1", id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// The overrides that have not ended by `since`.
pub async fn overrides(
    conn: &mut PgConnection,
    since: DateTime<Utc>,
) -> Result<Vec<Override>, sqlx::Error> {
    sqlx::query_as!(
        Override,
        r#"SELECT id, covering, covered, starts_at AS start, ends_at AS "end", created_at
           FROM oncall_overrides WHERE ends_at > $1 ORDER BY starts_at, id"#,
        since
    )
    .fetch_all(conn)
    .await
}

/// A staff member as paging needs them.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// Everyone who can be paged (not disabled), and the roster of who is on call, as of `now`.
pub async fn roster(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<(Roster, Vec<Person>), sqlx::Error> {
    let users = identity::list_users(&mut *conn).await?;
    let opted: Vec<Uuid> = opt_ins(&mut *conn).await?;
    let mut people = Vec::new();
    let mut members = Vec::new();
    for u in users.iter().filter(|u| !u.disabled) {
        let user = u.to_user();
        people.push(Person {
            id: u.id,
            name: u.name.clone(),
            email: u.email.clone(),
            role: user.role,
        });
        match Member::from_user(&user, opted.contains(&u.id)) {
            Ok(m) => members.push(m),
            Err(e) => {
                tracing::warn!(user = %u.id, error = %e.reason, "left out of the on-call roster");
            }
        }
    }
    let rotation = match rotation(&mut *conn).await? {
        Some(spec) => match spec.to_rotation() {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(error = %e.reason, "the stored rotation is unusable");
                None
            }
        },
        None => None,
    };
    let overrides = overrides(&mut *conn, now - TimeDelta::days(1)).await?;
    Ok((
        Roster {
            members,
            rotation,
            overrides,
        },
        people,
    ))
}

/// How a team's webhook is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// Slack's incoming-webhook JSON (`{"text": ...}`).
    Slack,
    /// The page as JSON, signed: `Rapport-Signature: sha256=<hex HMAC of timestamp.body>`.
    SignedJson,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Slack => "slack",
            WebhookFormat::SignedJson => "signed_json",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Webhook {
    pub team_id: Uuid,
    pub url: String,
    pub format: WebhookFormat,
    pub secret: Option<String>,
}

pub async fn set_webhook(
    conn: &mut PgConnection,
    w: &Webhook,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO oncall_webhooks (team_id, url, format, secret, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (team_id) DO UPDATE SET url = EXCLUDED.url, format = EXCLUDED.format,
           secret = EXCLUDED.secret, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by",
        w.team_id,
        w.url,
        w.format.as_str(),
        w.secret.as_deref(),
        now,
        by
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_webhook(conn: &mut PgConnection, team_id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query!("DELETE FROM oncall_webhooks WHERE team_id = $1", team_id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

pub async fn webhooks(conn: &mut PgConnection) -> Result<Vec<Webhook>, sqlx::Error> {
    let rows =
        sqlx::query!("SELECT team_id, url, format, secret FROM oncall_webhooks ORDER BY team_id")
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|r| Webhook {
            team_id: r.team_id,
            url: r.url,
            format: if r.format == "slack" {
                WebhookFormat::Slack
            } else {
                WebhookFormat::SignedJson
            },
            secret: r.secret,
        })
        .collect())
}

/// An open request as the watcher sees it.
#[derive(Debug, Clone)]
pub struct Watched {
    pub id: Uuid,
    pub team_id: Uuid,
    pub account_id: Uuid,
    pub account_name: String,
    pub plan: Plan,
    pub history: RequestHistory,
    pub acks: Vec<DateTime<Utc>>,
    pub sent: Vec<PageKey>,
}

/// The active requests (all, or the `only` ones; of the `severities`, when given) with their
/// timelines, acknowledgements and the pages already claimed for them.
pub async fn watched(
    conn: &mut PgConnection,
    only: Option<&[Uuid]>,
    severities: Option<&[&str]>,
) -> Result<Vec<Watched>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT r.id, r.team_id, r.account_id, a.fields AS "account?: Json<Value>",
           coalesce((SELECT jsonb_agg(jsonb_build_array(e.id, e.fields)) FROM records e
                     WHERE e.entity = 'request_event' AND e.fields->>'request_id' = r.id::text
                       AND e.account_id = r.account_id AND NOT e.deleted), '[]')
             AS "events!: Json<Vec<(Uuid, Value)>>",
           coalesce((SELECT jsonb_agg(k.at) FROM oncall_acks k WHERE k.request_id = r.id), '[]')
             AS "acks!: Json<Vec<DateTime<Utc>>>",
           coalesce((SELECT jsonb_agg(p.key) FROM oncall_pages p WHERE p.request_id = r.id), '[]')
             AS "sent!: Json<Vec<Value>>"
         FROM records r
         LEFT JOIN records a ON a.entity = 'account' AND a.id = r.account_id AND NOT a.deleted
         WHERE r.entity = 'request' AND NOT r.deleted AND r.account_id IS NOT NULL
           AND coalesce(r.fields->>'status', 'open') IN ('open', 'acknowledged', 'mitigated')
           AND ($1::uuid[] IS NULL OR r.id = ANY($1))
           AND ($2::text[] IS NULL OR r.fields->>'severity' = ANY($2))"#,
        only,
        severities as _
    )
    .fetch_all(conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (id, team_id, account_id, account) = (row.id, row.team_id, row.account_id, row.account);
        let (events, acks, sent) = (row.events, row.acks, row.sent);
        let Some(account_id) = account_id else {
            continue;
        };
        let events: Vec<RequestEvent> = events
            .0
            .iter()
            .filter_map(|(id, f)| crate::intake::store::event_of(*id, f))
            .collect();
        let Ok(history) = RequestHistory::new(events) else {
            continue;
        };
        let account = account.map(|a| a.0).unwrap_or(Value::Null);
        let plan = account
            .get("plan")
            .and_then(|p| serde_json::from_value::<Plan>(p.clone()).ok())
            .unwrap_or(Plan::Standard);
        let account_name = account
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("(unknown account)")
            .to_owned();
        out.push(Watched {
            id,
            team_id,
            account_id,
            account_name,
            plan,
            history,
            acks: acks.0,
            sent: sent
                .0
                .into_iter()
                .filter_map(|k| serde_json::from_value(k).ok())
                .collect(),
        });
    }
    Ok(out)
}

/// A page claimed by a watcher, to send.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub request_id: Uuid,
    pub dedupe_key: String,
    pub key: PageKey,
    pub team_id: Uuid,
    pub targets: Vec<PageTarget>,
    pub due_at: DateTime<Utc>,
    pub attempts: i32,
}

/// Claims a new page: `None` when any watcher already claimed it.
#[allow(clippy::too_many_arguments)]
pub async fn claim_new(
    conn: &mut PgConnection,
    request_id: Uuid,
    team_id: Uuid,
    key: PageKey,
    targets: &[PageTarget],
    due_at: DateTime<Utc>,
    worker: &str,
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> Result<Option<Claimed>, sqlx::Error> {
    let severity = match key {
        PageKey::Escalation { severity, .. }
        | PageKey::AtRisk { severity }
        | PageKey::Breached { severity } => severity,
    };
    let dedupe_key = key.dedupe_key();
    let won = sqlx::query!(
        "INSERT INTO oncall_pages (request_id, dedupe_key, key, team_id, severity, targets, due_at,
           claimed_at, claimed_by, lease_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        request_id,
        dedupe_key,
        Json(key) as _,
        team_id,
        severity.as_str(),
        Json(targets) as _,
        due_at,
        now,
        worker,
        now + lease
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1;
    Ok(won.then(|| Claimed {
        request_id,
        dedupe_key,
        key,
        team_id,
        targets: targets.to_vec(),
        due_at,
        attempts: 1,
    }))
}

/// Takes again up to `limit` claims whose lease ran out unsent. Rows another watcher is
/// taking at this moment are skipped, not waited for.
pub async fn reclaim_expired(
    conn: &mut PgConnection,
    worker: &str,
    now: DateTime<Utc>,
    lease: TimeDelta,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"UPDATE oncall_pages p SET claimed_by = $1, claimed_at = $2, lease_until = $3,
             attempts = p.attempts + 1
           FROM (SELECT request_id, dedupe_key FROM oncall_pages
                 WHERE sent_at IS NULL AND lease_until <= $2
                 ORDER BY lease_until LIMIT $4 FOR UPDATE SKIP LOCKED) due
           WHERE p.request_id = due.request_id AND p.dedupe_key = due.dedupe_key
           RETURNING p.request_id AS "request_id!", p.dedupe_key AS "dedupe_key!",
             p.key AS "key!: Json<PageKey>", p.team_id AS "team_id!",
             p.targets AS "targets!: Json<Vec<PageTarget>>", p.due_at AS "due_at!",
             p.attempts AS "attempts!""#,
        worker,
        now,
        now + lease,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Claimed {
            request_id: r.request_id,
            dedupe_key: r.dedupe_key,
            key: r.key.0,
            team_id: r.team_id,
            targets: r.targets.0,
            due_at: r.due_at,
            attempts: r.attempts,
        })
        .collect())
}

/// One message of a page.
pub async fn record_delivery(
    pool: &PgPool,
    page: &Claimed,
    channel: &str,
    recipient: &str,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO oncall_deliveries (request_id, dedupe_key, channel, recipient, ok, error, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        page.request_id,
        page.dedupe_key,
        channel,
        recipient,
        error.is_none(),
        error,
        now
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// `query!` of an update of a page (`SET` the given assignments, their arguments from `$4`
/// on) that applies only while `worker` still holds its claim on `page` and it is not sent;
/// the claim binds as `$1` to `$3`. One literal statement per caller, checked as a whole.
macro_rules! held_claim {
    ($set:tt, $page:expr, $worker:expr $(, $arg:expr)* $(,)?) => {
        sqlx::query!(
            "UPDATE oncall_pages SET " + $set
                + " WHERE request_id = $1 AND dedupe_key = $2 AND claimed_by = $3 AND sent_at IS NULL",
            $page.request_id,
            $page.dedupe_key,
            $worker
            $(, $arg)*
        )
    };
}

/// Ends a claim: `outcome` is `sent`, `skipped` or `failed`. Only the claim's holder can end
/// it (a watcher whose lease ran out and was taken over changes nothing).
pub async fn finish(
    pool: &PgPool,
    page: &Claimed,
    worker: &str,
    outcome: &str,
    recipients: &[Uuid],
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(held_claim!(
        "sent_at = $4, outcome = $5, recipients = $6, last_error = $7",
        page,
        worker,
        now,
        outcome,
        Json(recipients) as _,
        error
    )
    .execute(pool)
    .await?
    .rows_affected()
        == 1)
}

/// Leaves a claim for another try once its lease runs out (every channel failed).
pub async fn retry_later(
    pool: &PgPool,
    page: &Claimed,
    worker: &str,
    error: &str,
) -> Result<(), sqlx::Error> {
    held_claim!("last_error = $4", page, worker, error)
        .execute(pool)
        .await?;
    Ok(())
}

/// Why an acknowledgement was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum AckError {
    #[error("{0}")]
    Db(#[from] sqlx::Error),
    #[error("no such open request")]
    NoRequest,
    #[error("this Acknowledge link was used already")]
    LinkUsed,
    #[error("refused by the record rules: {}", .0.message)]
    Refused(Rejection),
}

impl From<crate::intake::IntakeError> for AckError {
    fn from(e: crate::intake::IntakeError) -> Self {
        match e {
            crate::intake::IntakeError::Db(e) => Self::Db(e),
            crate::intake::IntakeError::Refused(r) => Self::Refused(r),
        }
    }
}

/// What an acknowledgement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Acknowledged {
    pub request_id: Uuid,
    pub at: DateTime<Utc>,
    /// The request moved from `open` to `acknowledged` (else it had moved on already).
    pub status_changed: bool,
}

/// The team of request `id` (live), for the authorisation of an acknowledgement.
pub async fn request_team(conn: &mut PgConnection, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT team_id FROM records WHERE entity = 'request' AND id = $1 AND NOT deleted",
        id
    )
    .fetch_optional(conn)
    .await
}

/// Records that `user_id` acknowledged request `request_id` at `now` (by an Acknowledge
/// link whose nonce is `link`, or in the app): it stops the escalation. The request's
/// timeline shows it as a synced event by the user: `open` → `acknowledged` when the request
/// was still open, else an internal note. Everything commits together, so a link used twice
/// at once acknowledges once.
pub async fn acknowledge(
    conn: &mut PgConnection,
    request_id: Uuid,
    user_id: Uuid,
    link: Option<&[u8; 16]>,
    now: DateTime<Utc>,
) -> Result<Acknowledged, AckError> {
    if let Some(nonce) = link {
        let fresh = sqlx::query!(
            "INSERT INTO oncall_used_links (nonce, used_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &nonce[..],
            now
        )
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            return Err(AckError::LinkUsed);
        }
    }
    let Some(req) = crate::intake::store::lock_request(conn, request_id).await? else {
        return Err(AckError::NoRequest);
    };
    let history = RequestHistory::new(req.events.clone()).map_err(|_| AckError::NoRequest)?;
    let status = history.summary().status;
    if !status.is_active() {
        return Err(AckError::NoRequest);
    }
    sqlx::query!(
        "INSERT INTO oncall_acks (id, request_id, user_id, at, via) VALUES ($1, $2, $3, $4, $5)",
        Uuid::now_v7(),
        request_id,
        user_id,
        now,
        if link.is_some() { "email" } else { "app" }
    )
    .execute(&mut *conn)
    .await?;
    let status_changed = status == RequestStatus::Open;
    let kind = if status_changed {
        RequestEventKind::StatusChanged {
            from: RequestStatus::Open,
            to: RequestStatus::Acknowledged,
        }
    } else {
        RequestEventKind::Response {
            visibility: Visibility::Internal,
            text: "Acknowledged the page.".into(),
        }
    };
    let event = RequestEvent {
        id: Uuid::now_v7(),
        at: now,
        actor: Actor::Staff { user_id },
        kind,
    };
    let p = req.placement;
    crate::intake::write_events(conn, p, request_id, &[event], now).await?;
    if status_changed {
        let set = crate::intake::obj(json!({ "status": RequestStatus::Acknowledged }));
        crate::intake::write(conn, EntityKind::Request, request_id, p, &set, now).await?;
    }
    tracing::info!(request = %request_id, user = %user_id, "page acknowledged");
    Ok(Acknowledged {
        request_id,
        at: now,
        status_changed,
    })
}

/// A page as the admin screen lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageRow {
    pub request_id: Uuid,
    pub dedupe_key: String,
    pub severity: String,
    pub due_at: DateTime<Utc>,
    pub claimed_at: DateTime<Utc>,
    pub attempts: i32,
    pub sent_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub recipients: Option<Vec<Uuid>>,
}

/// The latest pages (of one request, or all), newest first.
pub async fn pages(
    conn: &mut PgConnection,
    request: Option<Uuid>,
    limit: i64,
) -> Result<Vec<PageRow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT request_id, dedupe_key, severity, due_at, claimed_at, attempts, sent_at, outcome,
             recipients AS "recipients: Json<Vec<Uuid>>"
           FROM oncall_pages WHERE ($1::uuid IS NULL OR request_id = $1)
           ORDER BY claimed_at DESC, dedupe_key LIMIT $2"#,
        request,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PageRow {
            request_id: r.request_id,
            dedupe_key: r.dedupe_key,
            severity: r.severity,
            due_at: r.due_at,
            claimed_at: r.claimed_at,
            attempts: r.attempts,
            sent_at: r.sent_at,
            outcome: r.outcome,
            recipients: r.recipients.map(|j| j.0),
        })
        .collect())
}

/// A request of `teams` that pages were sent for, with when and whether one reached `me`.
#[derive(Debug, Clone)]
pub struct PagedRequest {
    pub request_id: Uuid,
    pub first_paged_at: DateTime<Utc>,
    pub last_paged_at: DateTime<Utc>,
    pub pages: i64,
    pub paged_me: bool,
}

/// The requests of `teams` with at least one page sent, oldest page first. Whether each
/// still waits for an acknowledgement is the caller's (the domain's) to decide.
pub async fn paged_requests(
    conn: &mut PgConnection,
    teams: &[Uuid],
    me: Uuid,
) -> Result<Vec<PagedRequest>, sqlx::Error> {
    // min and max of sent_at are never NULL: only sent pages (sent_at set) are grouped.
    sqlx::query_as!(
        PagedRequest,
        r#"SELECT p.request_id, min(p.sent_at) AS "first_paged_at!", max(p.sent_at) AS "last_paged_at!",
             count(*) AS "pages!",
             coalesce(bool_or(p.recipients @> jsonb_build_array($2::text)), false) AS "paged_me!"
           FROM oncall_pages p
           JOIN records r ON r.entity = 'request' AND r.id = p.request_id AND NOT r.deleted
           WHERE p.team_id = ANY($1) AND p.outcome = 'sent' AND p.sent_at IS NOT NULL
             AND coalesce(r.fields->>'status', 'open') IN ('open', 'acknowledged', 'mitigated')
           GROUP BY p.request_id ORDER BY min(p.sent_at), p.request_id"#,
        teams,
        me.to_string()
    )
    .fetch_all(conn)
    .await
}

/// The severity a page key is for.
pub fn key_severity(key: PageKey) -> Severity {
    match key {
        PageKey::Escalation { severity, .. }
        | PageKey::AtRisk { severity }
        | PageKey::Breached { severity } => severity,
    }
}
