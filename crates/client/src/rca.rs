//! Root-cause analyses: the draft pre-filled from the incident, edits, review and
//! publication (which adds a note on the account linking the incident), Markdown export.

use chrono::{DateTime, Utc};
use rapport_domain::rca::{
    self as domain, Impact, Rca, RcaState, TimelineEntry, check_publish, check_rca_transition,
    rca_required,
};
use rapport_domain::review::ActionItem;
use rapport_domain::sla::SlaState;
use rapport_domain::sync::EntityKind;
use rapport_domain::{Note, NoteInput, NoteLink, NoteLinkKind, ValidationErrors};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::accounts::{account_by_id, user_by_id};
use crate::entity::{Synced, record};
use crate::error::{Result, StoreError};
use crate::requests::{actor_names, history_of};
use crate::store::{Store, fmt_time, json_col, maybe_by_id, time_col, to_json, uuid_col};

/// An RCA's row and its sync record (wire names of `rapport_domain::rca::SYNC`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RcaRecord {
    pub id: Uuid,
    pub account_id: Uuid,
    pub request_id: Uuid,
    pub state: RcaState,
    pub summary: String,
    pub impact: Impact,
    pub sla_result: Option<SlaState>,
    pub timeline: Vec<TimelineEntry>,
    pub root_cause: String,
    pub contributing_factors: String,
    pub resolution: String,
    pub action_items: Vec<ActionItem>,
    pub updated_at: DateTime<Utc>,
}

impl RcaRecord {
    /// The record of `rca` (its request's id among its fields) on `account_id`, in `state`.
    pub(crate) fn of(
        id: Uuid,
        account_id: Uuid,
        state: RcaState,
        rca: Rca,
        updated_at: DateTime<Utc>,
    ) -> RcaRecord {
        RcaRecord {
            id,
            account_id,
            request_id: rca.request_id,
            state,
            summary: rca.summary,
            impact: rca.impact,
            sla_result: rca.sla_result,
            timeline: rca.timeline,
            root_cause: rca.root_cause,
            contributing_factors: rca.contributing_factors,
            resolution: rca.resolution,
            action_items: rca.action_items,
            updated_at,
        }
    }
}

/// What the editor saves (everything but the state, which moves by [`Store::rca_set_state`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RcaInput {
    pub summary: String,
    pub impact: Impact,
    pub timeline: Vec<TimelineEntry>,
    pub root_cause: String,
    pub contributing_factors: String,
    pub resolution: String,
    pub action_items: Vec<ActionItem>,
}

/// The RCA editor's view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RcaView {
    pub id: Uuid,
    pub account_id: Uuid,
    pub account_name: String,
    pub rca: Rca,
    pub updated_at: DateTime<Utc>,
    /// The local profile may publish (support lead or admin).
    pub can_publish: bool,
}

/// The Markdown export: a file name to save it under, and the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RcaExport {
    pub file_name: String,
    pub markdown: String,
}

pub(crate) async fn write_rca(conn: &mut SqliteConnection, r: &RcaRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO rcas (id, account_id, request_id, state, summary, impact, sla_result, \
         timeline, root_cause, contributing_factors, resolution, action_items, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
         ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, \
         request_id = excluded.request_id, state = excluded.state, summary = excluded.summary, \
         impact = excluded.impact, sla_result = excluded.sla_result, \
         timeline = excluded.timeline, root_cause = excluded.root_cause, \
         contributing_factors = excluded.contributing_factors, \
         resolution = excluded.resolution, action_items = excluded.action_items, \
         updated_at = excluded.updated_at, deleted_at = NULL",
    )
    .bind(r.id.to_string())
    .bind(r.account_id.to_string())
    .bind(r.request_id.to_string())
    .bind(r.state.as_str())
    .bind(&r.summary)
    .bind(to_json(&r.impact))
    .bind(r.sla_result.map(|s| to_json(&s)))
    .bind(to_json(&r.timeline))
    .bind(&r.root_cause)
    .bind(&r.contributing_factors)
    .bind(&r.resolution)
    .bind(to_json(&r.action_items))
    .bind(fmt_time(r.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

const RCA_COLUMNS: &str = "id, account_id, request_id, state, summary, impact, sla_result, \
    timeline, root_cause, contributing_factors, resolution, action_items, updated_at";

fn rca_from_row(row: &SqliteRow) -> Result<RcaRecord> {
    let state: String = row.try_get("state")?;
    let sla: Option<String> = row.try_get("sla_result")?;
    Ok(RcaRecord {
        id: uuid_col(row, "id")?,
        account_id: uuid_col(row, "account_id")?,
        request_id: uuid_col(row, "request_id")?,
        state: serde_json::from_value(Value::String(state.clone()))
            .map_err(|_| StoreError::invalid("state", format!("unexpected RCA state {state:?}")))?,
        summary: row.try_get("summary")?,
        impact: json_col(row, "impact")?,
        sla_result: sla.as_deref().and_then(|s| serde_json::from_str(s).ok()),
        timeline: json_col(row, "timeline")?,
        root_cause: row.try_get("root_cause")?,
        contributing_factors: row.try_get("contributing_factors")?,
        resolution: row.try_get("resolution")?,
        action_items: json_col(row, "action_items")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

async fn rca_by(conn: &mut SqliteConnection, col: &str, id: Uuid) -> Result<Option<RcaRecord>> {
    maybe_by_id(
        conn,
        format!("SELECT {RCA_COLUMNS} FROM rcas WHERE {col} = ?1 AND deleted_at IS NULL"),
        id,
        rca_from_row,
    )
    .await
}

pub(crate) async fn rca_by_id(conn: &mut SqliteConnection, id: Uuid) -> Result<RcaRecord> {
    rca_by(conn, "id", id).await?.ok_or(StoreError::NotFound {
        entity: "root-cause analysis",
        id,
    })
}

/// A root-cause analysis: no effect beyond its row (its incident's timeline is the
/// request's). Kept as a soft-deleted row when deleted.
impl Synced for RcaRecord {
    const KIND: EntityKind = EntityKind::Rca;

    crate::entity::id_field!();

    async fn load(conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Self>> {
        rca_by(conn, "id", id).await
    }

    async fn save(conn: &mut SqliteConnection, r: &Self, _now: DateTime<Utc>) -> Result<()> {
        write_rca(conn, r).await
    }

    async fn remove(conn: &mut SqliteConnection, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        crate::entity::soft_delete(conn, "rcas", id, at).await
    }
}

fn to_domain(r: &RcaRecord, title: String) -> Rca {
    Rca {
        request_id: r.request_id,
        title,
        state: r.state,
        summary: r.summary.clone(),
        impact: r.impact.clone(),
        sla_result: r.sla_result,
        timeline: r.timeline.clone(),
        root_cause: r.root_cause.clone(),
        contributing_factors: r.contributing_factors.clone(),
        resolution: r.resolution.clone(),
        action_items: r.action_items.clone(),
    }
}

async fn view(conn: &mut SqliteConnection, r: &RcaRecord) -> Result<RcaView> {
    let title: String = sqlx::query_scalar("SELECT title FROM requests WHERE id = ?1")
        .bind(r.request_id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or_default();
    let account = account_by_id(&mut *conn, r.account_id).await?;
    let role = match Store::me(&mut *conn).await {
        Ok(me) => user_by_id(&mut *conn, me).await?.map(|u| u.role),
        Err(_) => None,
    };
    Ok(RcaView {
        id: r.id,
        account_id: r.account_id,
        account_name: account.name,
        rca: to_domain(r, title),
        updated_at: r.updated_at,
        can_publish: role.is_some_and(|r| {
            matches!(
                r,
                rapport_domain::Role::SupportLead | rapport_domain::Role::Admin
            )
        }),
    })
}

fn one(e: rapport_domain::FieldError) -> StoreError {
    StoreError::Validation(ValidationErrors(vec![e]))
}

/// Longest RCA section accepted (characters).
const MAX_SECTION: usize = 50_000;

impl RcaInput {
    fn normalize(self) -> Result<RcaInput> {
        let mut errors = Vec::new();
        for (field, text) in [
            ("summary", &self.summary),
            ("impact.affected", &self.impact.affected),
            ("root_cause", &self.root_cause),
            ("contributing_factors", &self.contributing_factors),
            ("resolution", &self.resolution),
        ] {
            if text.chars().count() > MAX_SECTION {
                errors.push(rapport_domain::FieldError::new(
                    field,
                    format!("must be at most {MAX_SECTION} characters"),
                ));
            }
        }
        if let Some(end) = self.impact.end
            && end < self.impact.start
        {
            errors.push(rapport_domain::FieldError::new(
                "impact.end",
                "must not be before the impact's start",
            ));
        }
        let mut items = Vec::new();
        for (i, item) in self.action_items.into_iter().enumerate() {
            match item.normalize(&format!("action_items.{i}")) {
                Ok(item) => items.push(item),
                Err(e) => errors.extend(e.0),
            }
        }
        let timeline = self
            .timeline
            .into_iter()
            .filter(|e| !e.what.trim().is_empty())
            .map(|e| TimelineEntry {
                who: e.who.trim().to_owned(),
                what: e.what.trim().to_owned(),
                ..e
            })
            .collect();
        if !errors.is_empty() {
            return Err(StoreError::Validation(ValidationErrors(errors)));
        }
        Ok(RcaInput {
            summary: self.summary.trim().to_owned(),
            impact: Impact {
                affected: self.impact.affected.trim().to_owned(),
                ..self.impact
            },
            timeline,
            root_cause: self.root_cause.trim().to_owned(),
            contributing_factors: self.contributing_factors.trim().to_owned(),
            resolution: self.resolution.trim().to_owned(),
            action_items: items,
        })
    }
}

impl Store {
    /// The request's RCA, or a new draft pre-filled from the incident (timeline, SLA result,
    /// impact window). Only resolved P1/P2 requests need one.
    pub async fn rca_open(&self, request_id: Uuid, now: DateTime<Utc>) -> Result<RcaView> {
        self.write(now, async |tx, _me, now| {
            if let Some(r) = rca_by(&mut *tx, "request_id", request_id).await? {
                return view(&mut *tx, &r).await;
            }
            let (account_id,): (String,) = sqlx::query_as(
                "SELECT account_id FROM requests WHERE id = ?1 AND deleted_at IS NULL",
            )
            .bind(request_id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "request",
                id: request_id,
            })?;
            let account_id: Uuid = account_id
                .parse()
                .map_err(|_| StoreError::invalid("account_id", "not an id"))?;
            let account = account_by_id(&mut *tx, account_id).await?;
            let (events, history) = history_of(&mut *tx, request_id).await?;
            if !rca_required(&history.summary()) {
                return Err(StoreError::invalid(
                    "request",
                    "a root-cause analysis is written for a resolved P1 or P2 request",
                ));
            }
            let names = actor_names(&mut *tx, &events).await?;
            let draft = domain::prefill(request_id, &history, account.plan, now, |a| {
                names.get(a).cloned().unwrap_or_default()
            });
            let r = RcaRecord::of(Uuid::now_v7(), account_id, RcaState::Draft, draft, now);
            record(&mut *tx, None, &r, now).await?;
            view(&mut *tx, &r).await
        })
        .await
    }

    pub async fn rca_get(&self, id: Uuid) -> Result<RcaView> {
        let mut conn = self.reader.acquire().await?;
        let r = rca_by_id(&mut conn, id).await?;
        view(&mut conn, &r).await
    }

    /// Saves the editor's sections. A published RCA is final.
    pub async fn rca_save(&self, id: Uuid, input: RcaInput, now: DateTime<Utc>) -> Result<RcaView> {
        let input = input.normalize()?;
        self.write(now, async |tx, _, now| {
            let old = rca_by_id(tx, id).await?;
            if old.state == RcaState::Published {
                return Err(StoreError::invalid(
                    "state",
                    "a published root-cause analysis cannot be edited",
                ));
            }
            let new = RcaRecord {
                summary: input.summary,
                impact: input.impact,
                timeline: input.timeline,
                root_cause: input.root_cause,
                contributing_factors: input.contributing_factors,
                resolution: input.resolution,
                action_items: input.action_items,
                updated_at: now,
                ..old.clone()
            };
            record(tx, Some(&old), &new, now).await?;
            let v = view(tx, &new).await?;
            Ok(v)
        })
        .await
    }

    /// Moves the RCA `draft → in_review → published` (or back to draft from review).
    /// Publishing (support leads and admins, every required section filled) adds a note on
    /// the account, linked to the incident, holding the RCA as Markdown.
    pub async fn rca_set_state(
        &self,
        id: Uuid,
        to: RcaState,
        now: DateTime<Utc>,
    ) -> Result<RcaView> {
        self.write(now, async |tx, me, now| {
            let role = user_by_id(tx, me)
                .await?
                .map_or(rapport_domain::Role::Csm, |u| u.role);
            let old = rca_by_id(tx, id).await?;
            let title: String = sqlx::query_scalar("SELECT title FROM requests WHERE id = ?1")
                .bind(old.request_id.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .unwrap_or_default();
            if to == RcaState::Published {
                check_publish(&to_domain(&old, title.clone()), role)?;
            } else {
                check_rca_transition(old.state, to, role).map_err(one)?;
            }
            let new = RcaRecord {
                state: to,
                updated_at: now,
                ..old.clone()
            };
            record(tx, Some(&old), &new, now)
            .await?;
            if to == RcaState::Published {
                let body = domain::to_markdown(&to_domain(&new, title));
                let note = Note::create(
                    Uuid::now_v7(),
                    new.account_id,
                    me,
                    NoteInput {
                        body,
                        pinned: false,
                        link: Some(NoteLink {
                            kind: NoteLinkKind::Incident,
                            id: new.request_id,
                        }),
                    },
                    now,
                )?;
                record(tx, None, &note, now)
                .await?;
                tracing::info!(rca = %id, note = %note.id, "RCA published; note added on the account");
            }
            let v = view(tx, &new).await?;
            Ok(v)
        })
        .await
    }

    /// The RCA as Markdown, with a file name (`rca-<date>-<title>.md`).
    pub async fn rca_export(&self, id: Uuid) -> Result<RcaExport> {
        let v = self.rca_get(id).await?;
        let slug = crate::store::slug(&v.rca.title, 8);
        let date = v.rca.impact.start.format("%Y-%m-%d");
        Ok(RcaExport {
            file_name: format!(
                "rca-{date}-{}.md",
                if slug.is_empty() { "incident" } else { &slug }
            ),
            markdown: domain::to_markdown(&v.rca),
        })
    }
}
