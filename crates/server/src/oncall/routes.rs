//! On call over HTTP: who is on call now (every signed-in user), overrides (support leads
//! and admins), the setup (admins: policy, rotation, opt-ins, team webhooks), acknowledging
//! from the app, and the Acknowledge links of the page emails (no sign-in: the link is the
//! credential; GET shows a confirm page, POST acknowledges).

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use chrono::{DateTime, TimeDelta, Utc};
use rapport_domain::authz::Action;
use rapport_domain::limits;
use rapport_domain::oncall::{
    EscalationPolicy, OnCallReason, Override, RequestFacts, awaiting_ack, gaps, who_is_on_call,
};
use serde::{Deserialize, Serialize};
use tracing::instrument;
use utoipa::ToSchema;
use uuid::Uuid;

use super::link::{self, LinkError};
use super::store::{self, AckError, Acknowledged, PageRow, RotationSpec, Webhook, WebhookFormat};
use crate::auth::AuthUser;
use crate::db::identity;
use crate::error::{ApiError, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/oncall", get(on_call_now))
        .route("/v1/oncall/overrides", post(create_override))
        .route("/v1/oncall/overrides/{id}", delete(delete_override))
        .route("/v1/oncall/requests/{id}/ack", post(ack_in_app))
        .route("/v1/oncall/ack/{token}", get(ack_page).post(ack_by_link))
        .route("/v1/admin/oncall", get(setup))
        .route("/v1/admin/oncall/policy", put(put_policy))
        .route(
            "/v1/admin/oncall/rotation",
            put(put_rotation).delete(delete_rotation),
        )
        .route("/v1/admin/oncall/opt-ins/{user_id}", put(put_opt_in))
        .route(
            "/v1/admin/oncall/webhooks/{team_id}",
            put(put_webhook).delete(delete_webhook),
        )
        .route("/v1/admin/oncall/pages", get(list_pages))
}

/// The path with an Acknowledge link's token cut out, for logs.
pub fn redacted_path(uri: &Uri) -> String {
    let path = uri.path();
    match path.strip_prefix("/v1/oncall/ack/") {
        Some(_) => "/v1/oncall/ack/***".into(),
        None => path.to_owned(),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OnCallEntry {
    pub user_id: Uuid,
    pub name: String,
    /// `follow_the_sun`, `rotation` or `override`.
    pub reason: String,
    /// For an override: whom they cover for.
    pub covering_for: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Handoff {
    pub user_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverrideView {
    pub id: Uuid,
    pub covering: Uuid,
    pub covered: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<&Override> for OverrideView {
    fn from(o: &Override) -> Self {
        OverrideView {
            id: o.id,
            covering: o.covering,
            covered: o.covered,
            start: o.start,
            end: o.end,
            created_at: o.created_at,
        }
    }
}

/// Someone who can be on call (every staff member not disabled).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonView {
    pub user_id: Uuid,
    pub name: String,
    /// `admin`, `support_lead`, `csm` or `account_rep`.
    pub role: String,
}

/// A request of my teams that was paged and waits for an acknowledgement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenPage {
    pub request_id: Uuid,
    pub account_id: Uuid,
    pub account_name: String,
    pub title: String,
    /// `p1` … `p4`: the severity its clock runs for.
    pub severity: String,
    pub first_paged_at: DateTime<Utc>,
    pub last_paged_at: DateTime<Utc>,
    /// Pages sent for it so far (escalation steps and SLA pages).
    pub pages: i64,
    /// Whether one of them went to me.
    pub paged_me: bool,
}

/// Who is on call now, and what is ahead.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OnCallNow {
    pub now: DateTime<Utc>,
    pub on_call: Vec<OnCallEntry>,
    /// Windows of the next 7 days where nobody is on call.
    pub gaps: Vec<Window>,
    /// The rotation's handoffs of the next 7 days.
    pub handoffs: Vec<Handoff>,
    /// Overrides not ended yet.
    pub overrides: Vec<OverrideView>,
    /// The rotation that covers the hours nobody's day covers, if one is set.
    pub rotation: Option<RotationSpec>,
    /// Everyone who can be on call, by name (for the ids above and for new overrides).
    pub people: Vec<PersonView>,
    /// The requests of my teams that were paged and wait for an acknowledgement, oldest
    /// page first.
    pub pages: Vec<OpenPage>,
}

/// Who is on call now, the gaps and handoffs of the next 7 days, the overrides.
#[utoipa::path(get, path = "/v1/oncall", tag = "oncall", security(("bearer" = [])), responses(
    (status = 200, body = OnCallNow),
    (status = 401, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all)]
pub async fn on_call_now(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<OnCallNow>, ApiError> {
    me.require(Action::ReadTeamData)?;
    let now = state.now();
    let mut conn = state.pool.acquire().await?;
    let (roster, people) = store::roster(&mut conn, now).await?;
    let name = |id: Uuid| {
        people
            .iter()
            .find(|p| p.id == id)
            .map_or_else(String::new, |p| p.name.clone())
    };
    let week = now + TimeDelta::days(7);
    let rotation = store::rotation(&mut conn).await?;
    let pages = open_pages(&mut conn, me.id, now).await?;
    Ok(Json(OnCallNow {
        now,
        on_call: who_is_on_call(now, &roster)
            .into_iter()
            .map(|o| {
                let (reason, covering_for) = match o.reason {
                    OnCallReason::FollowTheSun => ("follow_the_sun", None),
                    OnCallReason::Rotation { .. } => ("rotation", None),
                    OnCallReason::Override { covering_for, .. } => ("override", Some(covering_for)),
                };
                OnCallEntry {
                    user_id: o.user_id,
                    name: name(o.user_id),
                    reason: reason.into(),
                    covering_for,
                }
            })
            .collect(),
        gaps: gaps(now, week, &roster)
            .into_iter()
            .map(|s| Window {
                start: s.start,
                end: s.end,
            })
            .collect(),
        handoffs: roster
            .rotation
            .as_ref()
            .map(|r| r.handoffs(now, week))
            .unwrap_or_default()
            .into_iter()
            .map(|s| Handoff {
                user_id: s.user_id,
                start: s.start,
                end: s.end,
            })
            .collect(),
        overrides: roster
            .overrides
            .iter()
            .filter(|o| o.end > now)
            .map(OverrideView::from)
            .collect(),
        rotation,
        people: people
            .iter()
            .map(|p| PersonView {
                user_id: p.id,
                name: p.name.clone(),
                role: p.role.as_str().to_owned(),
            })
            .collect(),
        pages,
    }))
}

/// The requests of `me`'s teams that were paged and still wait for an acknowledgement
/// (the domain's `awaiting_ack`).
async fn open_pages(
    conn: &mut sqlx::PgConnection,
    me: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<OpenPage>, ApiError> {
    let teams = identity::team_ids_of(&mut *conn, me).await?;
    let paged = store::paged_requests(&mut *conn, &teams, me).await?;
    if paged.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = paged.iter().map(|p| p.request_id).collect();
    let watched = store::watched(&mut *conn, Some(&ids), None).await?;
    Ok(paged
        .into_iter()
        .filter_map(|p| {
            let w = watched.iter().find(|w| w.id == p.request_id)?;
            let facts = RequestFacts {
                history: &w.history,
                plan: w.plan,
            };
            if !awaiting_ack(facts, &w.acks, now) {
                return None;
            }
            let clock = rapport_domain::sla::clock(&w.history, w.plan, now);
            Some(OpenPage {
                request_id: w.id,
                account_id: w.account_id,
                account_name: w.account_name.clone(),
                title: w.history.summary().title.clone(),
                severity: clock.severity.as_str().to_owned(),
                first_paged_at: p.first_paged_at,
                last_paged_at: p.last_paged_at,
                pages: p.pages,
                paged_me: p.paged_me,
            })
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOverride {
    /// Who is on call instead.
    pub covering: Uuid,
    /// Who they cover for.
    pub covered: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

async fn live_user(conn: &mut sqlx::PgConnection, id: Uuid, field: &str) -> Result<(), ApiError> {
    match identity::user_by_id(conn, id).await? {
        Some(u) if !u.disabled => Ok(()),
        _ => Err(ApiError::invalid_field(field, "no such user")),
    }
}

/// Puts `covering` on call instead of `covered` for `[start, end)`.
#[utoipa::path(post, path = "/v1/oncall/overrides", tag = "oncall", security(("bearer" = [])), request_body = CreateOverride, responses(
    (status = 201, body = OverrideView),
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 403, description = "not a support lead or admin", body = rapport_domain::sync::ErrorBody),
    (status = 422, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all)]
pub async fn create_override(
    State(state): State<AppState>,
    me: AuthUser,
    Json(body): Json<CreateOverride>,
) -> Result<(StatusCode, Json<OverrideView>), ApiError> {
    me.require(Action::OverrideOnCall)?;
    let now = state.now();
    let o = Override {
        id: Uuid::now_v7(),
        covering: body.covering,
        covered: body.covered,
        start: body.start,
        end: body.end,
        created_at: now,
    };
    o.check()?;
    if o.end - o.start > TimeDelta::days(limits::MAX_OVERRIDE_DAYS) {
        return Err(ApiError::invalid_field(
            "end",
            format!(
                "an override covers at most {} days",
                limits::MAX_OVERRIDE_DAYS
            ),
        ));
    }
    if o.end <= now {
        return Err(ApiError::invalid_field(
            "end",
            "the window has already ended",
        ));
    }
    let mut tx = state.pool.begin().await?;
    live_user(&mut tx, o.covering, "covering").await?;
    live_user(&mut tx, o.covered, "covered").await?;
    store::insert_override(&mut tx, &o, me.id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(OverrideView::from(&o))))
}

/// Removes an override.
#[utoipa::path(delete, path = "/v1/oncall/overrides/{id}", tag = "oncall", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 204),
    (status = 403, body = rapport_domain::sync::ErrorBody),
    (status = 404, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all)]
pub async fn delete_override(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    me.require(Action::OverrideOnCall)?;
    let mut conn = state.pool.acquire().await?;
    if store::delete_override(&mut conn, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no such override"))
    }
}

fn ack_error(e: AckError) -> ApiError {
    match e {
        AckError::Db(e) => e.into(),
        AckError::NoRequest => ApiError::not_found("no such open request"),
        AckError::LinkUsed => ApiError::new(StatusCode::GONE, "link_used", e.to_string()),
        AckError::Refused(r) => ApiError::internal(&r.message),
    }
}

/// Acknowledges the request's page from the app: the escalation stops; the timeline shows
/// it. The SLA clock goes on until the first public response.
#[utoipa::path(post, path = "/v1/oncall/requests/{id}/ack", tag = "oncall", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 200, body = Acknowledged),
    (status = 403, description = "the request is not in your teams", body = rapport_domain::sync::ErrorBody),
    (status = 404, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all)]
pub async fn ack_in_app(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Acknowledged>, ApiError> {
    me.require(Action::WriteRequest)?;
    let now = state.now();
    let mut tx = state.pool.begin().await?;
    let team = store::request_team(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such open request"))?;
    if !identity::team_ids_of(&mut tx, me.id).await?.contains(&team) {
        return Err(ApiError::forbidden(
            "forbidden_team",
            "this request belongs to a team you are not in",
        ));
    }
    let done = store::acknowledge(&mut tx, id, me.id, None, now)
        .await
        .map_err(ack_error)?;
    tx.commit().await?;
    Ok(Json(done))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>{t} · Rapport</title>\
         <style>body{{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}\
         button{{font-size:1.1rem;padding:.6rem 1.4rem}}</style></head>\
         <body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    let mut resp = (status, Html(html)).into_response();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}

fn link_failure(e: LinkError) -> Response {
    let status = match e {
        LinkError::Invalid => StatusCode::NOT_FOUND,
        LinkError::Expired => StatusCode::GONE,
    };
    page(
        status,
        "This link does not work",
        &format!(
            "<p>{}. Acknowledge from the request's page in Rapport instead.</p>",
            escape(&e.to_string())
        ),
    )
}

fn secret(state: &AppState) -> Option<Vec<u8>> {
    state
        .oncall
        .link_secret
        .as_ref()
        .map(|s| s.0.as_bytes().to_vec())
}

/// The confirm page of an Acknowledge link: it changes nothing (mail scanners open links).
#[utoipa::path(get, path = "/v1/oncall/ack/{token}", tag = "oncall", params(("token" = String, Path)), responses(
    (status = 200, description = "an HTML page with the Acknowledge button", content_type = "text/html"),
    (status = 404, description = "not a link of this server", content_type = "text/html"),
    (status = 410, description = "expired or used", content_type = "text/html"),
))]
pub async fn ack_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some(key) = secret(&state) else {
        return link_failure(LinkError::Invalid);
    };
    let l = match link::verify(&key, &token, state.now()) {
        Ok(l) => l,
        Err(e) => return link_failure(e),
    };
    // No such request, no title, or the database failing: the link cannot be shown.
    let title = sqlx::query_scalar!(
        "SELECT fields->>'title' AS title FROM records WHERE entity = 'request' AND id = $1 AND NOT deleted",
        l.request_id
    )
    .fetch_optional(&state.pool)
    .await
    .ok()
    .flatten()
    .flatten();
    let Some(title) = title else {
        return link_failure(LinkError::Invalid);
    };
    page(
        StatusCode::OK,
        "Acknowledge this page?",
        &format!(
            "<p><strong>{}</strong></p><p>Acknowledging stops the escalation: nobody else is \
             paged for it. The response-time clock runs on until the customer is answered.</p>\
             <form method=\"post\"><button type=\"submit\">Acknowledge</button></form>",
            escape(&title)
        ),
    )
}

/// Acknowledges by an Acknowledge link (once).
#[utoipa::path(post, path = "/v1/oncall/ack/{token}", tag = "oncall", params(("token" = String, Path)), responses(
    (status = 200, description = "acknowledged", content_type = "text/html"),
    (status = 404, description = "not a link of this server, or the request is closed", content_type = "text/html"),
    (status = 410, description = "expired or used", content_type = "text/html"),
))]
pub async fn ack_by_link(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some(key) = secret(&state) else {
        return link_failure(LinkError::Invalid);
    };
    let now = state.now();
    let l = match link::verify(&key, &token, now) {
        Ok(l) => l,
        Err(e) => return link_failure(e),
    };
    let done = async {
        let mut tx = state.pool.begin().await?;
        match identity::user_by_id(&mut tx, l.user_id).await? {
            Some(u) if !u.disabled => {}
            _ => return Err(AckError::NoRequest),
        }
        let done =
            store::acknowledge(&mut tx, l.request_id, l.user_id, Some(&l.nonce), now).await?;
        tx.commit().await?;
        Ok::<_, AckError>(done)
    }
    .await;
    match done {
        Ok(_) => page(
            StatusCode::OK,
            "Acknowledged",
            "<p>Thank you: the escalation has stopped and the request's timeline shows your \
             acknowledgement. Answer the customer from Rapport to stop the clock.</p>",
        ),
        Err(AckError::LinkUsed) => page(
            StatusCode::GONE,
            "Already used",
            "<p>This link was used already; each link acknowledges once.</p>",
        ),
        Err(AckError::NoRequest) => page(
            StatusCode::NOT_FOUND,
            "Nothing to acknowledge",
            "<p>The request is closed, or it is no longer in Rapport.</p>",
        ),
        Err(e) => {
            tracing::error!(error = %e, "acknowledging by link failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Not acknowledged",
                "<p>The server failed; try again, or acknowledge from Rapport.</p>",
            )
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookView {
    pub team_id: Uuid,
    pub format: WebhookFormat,
    /// Only the scheme and host: the rest of a Slack webhook URL is its secret.
    pub host: String,
}

/// The whole on-call setup.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OnCallSetup {
    pub policy: EscalationPolicy,
    pub rotation: Option<RotationSpec>,
    pub opted_in: Vec<Uuid>,
    pub webhooks: Vec<WebhookView>,
    /// Whether pages go by email (SMTP is configured) and carry Acknowledge links.
    pub email: bool,
    pub ack_links: bool,
}

fn host_of(url: &str) -> String {
    url::Url::parse(url).map_or_else(
        |_| String::new(),
        |u| format!("{}://{}", u.scheme(), u.host_str().unwrap_or_default()),
    )
}

/// The on-call setup: policy, rotation, opt-ins, webhooks.
#[utoipa::path(get, path = "/v1/admin/oncall", tag = "oncall", security(("bearer" = [])), responses(
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 200, body = OnCallSetup),
    (status = 403, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all)]
pub async fn setup(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<OnCallSetup>, ApiError> {
    me.require(Action::ManageOnCall)?;
    let mut conn = state.pool.acquire().await?;
    Ok(Json(OnCallSetup {
        policy: store::policy(&mut conn).await?,
        rotation: store::rotation(&mut conn).await?,
        opted_in: store::opt_ins(&mut conn).await?,
        webhooks: store::webhooks(&mut conn)
            .await?
            .into_iter()
            .map(|w| WebhookView {
                team_id: w.team_id,
                format: w.format,
                host: host_of(&w.url),
            })
            .collect(),
        email: state.oncall.smtp.is_some(),
        ack_links: state.oncall.link_secret.is_some() && state.oncall.public_url.is_some(),
    }))
}

/// Refuses a `field` whose `(length, most)` is over the most the service keeps: "at most
/// `most` `what`".
fn at_most(field: &str, (length, most): (usize, usize), what: &str) -> Result<(), ApiError> {
    if length > most {
        return Err(ApiError::invalid_field(
            field,
            format!("at most {most} {what}"),
        ));
    }
    Ok(())
}

/// Replaces the escalation policy (every severity).
#[utoipa::path(put, path = "/v1/admin/oncall/policy", tag = "oncall", security(("bearer" = [])), request_body = EscalationPolicy, responses(
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 200, body = EscalationPolicy),
    (status = 403, body = rapport_domain::sync::ErrorBody),
    (status = 422, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all)]
pub async fn put_policy(
    State(state): State<AppState>,
    me: AuthUser,
    Json(policy): Json<EscalationPolicy>,
) -> Result<Json<EscalationPolicy>, ApiError> {
    me.require(Action::ManageOnCall)?;
    for s in rapport_domain::request::Severity::ALL {
        let sp = policy.for_severity(s);
        let steps = (sp.steps.len(), limits::MAX_ESCALATION_STEPS);
        at_most(&format!("{}.steps", s.as_str()), steps, "steps")?;
        for (name, list) in [("at_risk", &sp.at_risk), ("breached", &sp.breached)] {
            let targets = (list.len(), limits::MAX_PAGE_TARGETS);
            at_most(&format!("{}.{name}", s.as_str()), targets, "targets")?;
        }
    }
    policy.check()?;
    let mut conn = state.pool.acquire().await?;
    store::set_policy(&mut conn, &policy, me.id, state.now()).await?;
    Ok(Json(policy))
}

/// Sets the rotation that covers the hours nobody's day covers.
#[utoipa::path(put, path = "/v1/admin/oncall/rotation", tag = "oncall", security(("bearer" = [])), request_body = RotationSpec, responses(
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 200, body = RotationSpec),
    (status = 403, body = rapport_domain::sync::ErrorBody),
    (status = 422, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all)]
pub async fn put_rotation(
    State(state): State<AppState>,
    me: AuthUser,
    Json(spec): Json<RotationSpec>,
) -> Result<Json<RotationSpec>, ApiError> {
    me.require(Action::ManageOnCall)?;
    let members = (spec.members.len(), limits::MAX_ROTATION_MEMBERS);
    at_most("members", members, "members")?;
    if spec.time_zone.chars().count() > limits::MAX_TIME_ZONE_LEN {
        return Err(ApiError::invalid_field("time_zone", "not a time zone"));
    }
    let rotation = spec
        .to_rotation()
        .map_err(|e| ApiError::invalid_field(&e.field, e.reason))?;
    rotation.check()?;
    let mut tx = state.pool.begin().await?;
    for (i, m) in spec.members.iter().enumerate() {
        live_user(&mut tx, *m, &format!("members[{i}]")).await?;
    }
    store::set_rotation(&mut tx, Some(&spec), me.id, state.now()).await?;
    tx.commit().await?;
    Ok(Json(spec))
}

/// Removes the rotation: only follow the sun and overrides cover.
#[utoipa::path(delete, path = "/v1/admin/oncall/rotation", tag = "oncall", security(("bearer" = [])), responses(
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 204),
    (status = 403, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all)]
pub async fn delete_rotation(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<StatusCode, ApiError> {
    me.require(Action::ManageOnCall)?;
    let mut conn = state.pool.acquire().await?;
    store::set_rotation(&mut conn, None, me.id, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptIn {
    /// Takes part in follow the sun without being a support lead.
    pub opted_in: bool,
}

/// Has a member take part in follow the sun (or no longer).
#[utoipa::path(put, path = "/v1/admin/oncall/opt-ins/{user_id}", tag = "oncall", security(("bearer" = [])), params(("user_id" = Uuid, Path)), request_body = OptIn, responses(
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 204),
    (status = 403, body = rapport_domain::sync::ErrorBody),
    (status = 422, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all)]
pub async fn put_opt_in(
    State(state): State<AppState>,
    me: AuthUser,
    Path(user_id): Path<Uuid>,
    Json(body): Json<OptIn>,
) -> Result<StatusCode, ApiError> {
    me.require(Action::ManageOnCall)?;
    let mut conn = state.pool.acquire().await?;
    live_user(&mut conn, user_id, "user_id").await?;
    store::set_opt_in(&mut conn, user_id, body.opted_in, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutWebhook {
    /// `https://hooks.slack.com/services/...`, or your receiver's URL.
    pub url: String,
    pub format: WebhookFormat,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookCreated {
    pub team_id: Uuid,
    pub format: WebhookFormat,
    /// For `signed_json`: the HMAC key the receiver checks `Rapport-Signature` with. Shown
    /// this once.
    pub secret: Option<String>,
}

/// Sets a team's webhook (a new secret each time, for `signed_json`).
#[utoipa::path(put, path = "/v1/admin/oncall/webhooks/{team_id}", tag = "oncall", security(("bearer" = [])), params(("team_id" = Uuid, Path)), request_body = PutWebhook, responses(
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 200, body = WebhookCreated),
    (status = 403, body = rapport_domain::sync::ErrorBody),
    (status = 404, body = rapport_domain::sync::ErrorBody),
    (status = 422, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all)]
pub async fn put_webhook(
    State(state): State<AppState>,
    me: AuthUser,
    Path(team_id): Path<Uuid>,
    Json(body): Json<PutWebhook>,
) -> Result<Json<WebhookCreated>, ApiError> {
    me.require(Action::ManageOnCall)?;
    at_most(
        "url",
        (body.url.chars().count(), limits::MAX_LINK_LEN),
        "characters",
    )?;
    let url = url::Url::parse(body.url.trim())
        .map_err(|e| ApiError::invalid_field("url", format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(ApiError::invalid_field(
            "url",
            "must be an http(s) URL with a host",
        ));
    }
    let secret = match body.format {
        WebhookFormat::Slack => None,
        WebhookFormat::SignedJson => Some(crate::auth::new_token()?),
    };
    let mut conn = state.pool.acquire().await?;
    let exists = sqlx::query_scalar!("SELECT id FROM teams WHERE id = $1", team_id)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_none() {
        return Err(ApiError::not_found("no such team"));
    }
    let hook = Webhook {
        team_id,
        url: url.to_string(),
        format: body.format,
        secret: secret.clone(),
    };
    store::set_webhook(&mut conn, &hook, me.id, state.now()).await?;
    Ok(Json(WebhookCreated {
        team_id,
        format: body.format,
        secret,
    }))
}

/// Removes a team's webhook.
#[utoipa::path(delete, path = "/v1/admin/oncall/webhooks/{team_id}", tag = "oncall", security(("bearer" = [])), params(("team_id" = Uuid, Path)), responses(
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 204),
    (status = 403, body = rapport_domain::sync::ErrorBody),
    (status = 404, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    me: AuthUser,
    Path(team_id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    me.require(Action::ManageOnCall)?;
    let mut conn = state.pool.acquire().await?;
    if store::delete_webhook(&mut conn, team_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("this team has no webhook"))
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct PagesQuery {
    /// Only this request's pages.
    pub request: Option<Uuid>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// The latest pages and what became of them.
#[utoipa::path(get, path = "/v1/admin/oncall/pages", tag = "oncall", security(("bearer" = [])), params(PagesQuery), responses(
    (status = 401, body = rapport_domain::sync::ErrorBody),
    (status = 200, body = Vec<PageRow>),
    (status = 403, body = rapport_domain::sync::ErrorBody),
))]
#[instrument(skip_all)]
pub async fn list_pages(
    State(state): State<AppState>,
    me: AuthUser,
    Query(q): Query<PagesQuery>,
) -> Result<Json<Vec<PageRow>>, ApiError> {
    if me.require(Action::ManageOnCall).is_err() {
        me.require(Action::OverrideOnCall)?;
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let mut conn = state.pool.acquire().await?;
    Ok(Json(store::pages(&mut conn, q.request, limit).await?))
}
