//! Root-cause analyses: when one is due, its states and who may publish it, the draft
//! pre-filled from the incident, and the Markdown export.
//!
//! Decisions where the brief is silent:
//! - An RCA is required when the request is resolved (or closed) at P1 or P2, its severity
//!   after triage: an urgent email triaged down to P4 needs none, a P3 raised to P1 does.
//! - The pre-filled timeline leaves out internal responses: an RCA may be shared with the
//!   customer.
//! - `in_review` may go back to `draft` (changes asked for); `published` is final.
//! - Publishing needs a summary, a root cause, a resolution and the impact's end.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::Plan;
use crate::request::{
    Actor, Channel, RequestEventKind, RequestHistory, RequestStatus, RequestSummary, Visibility,
};
use crate::review::{ActionItem, ActionStatus};
use crate::sla::{self, SlaState};
use crate::user::Role;
use crate::validation::{FieldError, ValidationErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RcaState {
    Draft,
    InReview,
    Published,
}

impl RcaState {
    pub fn as_str(self) -> &'static str {
        match self {
            RcaState::Draft => "draft",
            RcaState::InReview => "in_review",
            RcaState::Published => "published",
        }
    }
}

/// Whether `role` may move an RCA from `from` to `to`: anyone on staff between draft and
/// review; only support leads and admins publish.
pub fn check_rca_transition(from: RcaState, to: RcaState, role: Role) -> Result<(), FieldError> {
    use RcaState::{Draft, InReview, Published};
    let ok = matches!(
        (from, to),
        (Draft, InReview) | (InReview, Draft | Published)
    );
    if !ok {
        return Err(FieldError::new(
            "state",
            format!("an RCA cannot go from {} to {}", from.as_str(), to.as_str()),
        ));
    }
    if to == Published && !crate::authz::allows(role, crate::authz::Action::PublishRca) {
        return Err(FieldError::new(
            "state",
            "only a support lead or an admin can publish an RCA",
        ));
    }
    Ok(())
}

/// The request needs an RCA: resolved or closed at P1 or P2.
pub fn rca_required(request: &RequestSummary) -> bool {
    request.status >= RequestStatus::Resolved && request.severity.is_critical()
}

/// "RCA due" shows until the RCA is published.
pub fn rca_due(request: &RequestSummary, rca: Option<RcaState>) -> bool {
    rca_required(request) && rca != Some(RcaState::Published)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Impact {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    /// Who was affected, in words.
    pub affected: String,
}

impl Impact {
    pub fn duration(&self) -> Option<TimeDelta> {
        self.end.map(|e| e - self.start)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// Who, by name ("Ana López", "Acme (customer)", "Rapport").
    pub who: String,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Rca {
    pub request_id: Uuid,
    pub title: String,
    pub state: RcaState,
    pub summary: String,
    pub impact: Impact,
    /// The request's SLA result (for Professional Support accounts).
    pub sla_result: Option<SlaState>,
    pub timeline: Vec<TimelineEntry>,
    pub root_cause: String,
    pub contributing_factors: String,
    pub resolution: String,
    pub action_items: Vec<ActionItem>,
}

/// Longest text kept of a response or update in the pre-filled timeline (characters).
const TIMELINE_TEXT: usize = 200;

/// A draft pre-filled from the incident: the impact window (opened → resolved), the SLA
/// result, and the timeline. `name_of` turns an actor into a name.
pub fn prefill(
    request_id: Uuid,
    history: &RequestHistory,
    plan: Plan,
    now: DateTime<Utc>,
    name_of: impl Fn(&Actor) -> String,
) -> Rca {
    let s = history.summary();
    Rca {
        request_id,
        title: s.title.clone(),
        state: RcaState::Draft,
        summary: String::new(),
        impact: Impact {
            start: s.opened_at,
            end: s.resolved_at,
            affected: String::new(),
        },
        sla_result: sla::clock(history, plan, now).state,
        timeline: timeline(history, &name_of),
        root_cause: String::new(),
        contributing_factors: String::new(),
        resolution: String::new(),
        action_items: Vec::new(),
    }
}

fn short(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > TIMELINE_TEXT {
        let cut: String = one_line.chars().take(TIMELINE_TEXT).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

fn timeline(history: &RequestHistory, name_of: &impl Fn(&Actor) -> String) -> Vec<TimelineEntry> {
    let mut first_response = true;
    history
        .events()
        .iter()
        .filter_map(|e| {
            let what = match &e.kind {
                RequestEventKind::Opened {
                    severity,
                    channel,
                    needs_triage,
                    title,
                } => format!(
                    "Opened as {} by {}{}: {}",
                    severity.as_str().to_uppercase(),
                    match channel {
                        Channel::Chat => "chat",
                        Channel::Email => "email",
                    },
                    if *needs_triage { " (needs triage)" } else { "" },
                    short(title)
                ),
                RequestEventKind::SeverityChanged { from, to } => format!(
                    "Severity changed from {} to {}",
                    from.as_str().to_uppercase(),
                    to.as_str().to_uppercase()
                ),
                RequestEventKind::TriageRequested => "Escalated: needs triage again".to_owned(),
                RequestEventKind::TriageConfirmed { severity } => {
                    format!("Triage confirmed at {}", severity.as_str().to_uppercase())
                }
                RequestEventKind::Response {
                    visibility: Visibility::Internal,
                    ..
                } => return None,
                RequestEventKind::Response {
                    visibility: Visibility::Public,
                    text,
                } => {
                    let label = if first_response && e.is_public_staff_response() {
                        first_response = false;
                        "First response"
                    } else {
                        "Response"
                    };
                    format!("{label}: {}", short(text))
                }
                RequestEventKind::StatusChanged { from, to } => {
                    format!("Status changed from {} to {}", from.as_str(), to.as_str())
                }
                RequestEventKind::CallLaunched { .. } => "Incident call launched".to_owned(),
                RequestEventKind::Update { text } => format!("Update: {}", short(text)),
            };
            Some(TimelineEntry {
                at: e.at,
                who: name_of(&e.actor),
                what,
            })
        })
        .collect()
}

/// Whether the RCA may be published by `role`: the transition, and the sections a
/// published RCA cannot lack. Every refused field is named.
pub fn check_publish(rca: &Rca, role: Role) -> Result<(), ValidationErrors> {
    let mut errors = Vec::new();
    if let Err(e) = check_rca_transition(rca.state, RcaState::Published, role) {
        errors.push(e);
    }
    errors.extend(publish_gaps(
        &rca.summary,
        &rca.root_cause,
        &rca.resolution,
        &rca.impact,
    ));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errors))
    }
}

/// The sections a published RCA cannot lack: a summary, a root cause, a resolution and the
/// impact's end (not before its start). The desktop and the central service both ask this.
pub fn publish_gaps(
    summary: &str,
    root_cause: &str,
    resolution: &str,
    impact: &Impact,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (field, text) in [
        ("summary", summary),
        ("root_cause", root_cause),
        ("resolution", resolution),
    ] {
        if text.trim().is_empty() {
            errors.push(FieldError::new(field, "must not be empty to publish"));
        }
    }
    match impact.end {
        None => errors.push(FieldError::new("impact.end", "must be set to publish")),
        Some(end) if end < impact.start => {
            errors.push(FieldError::new(
                "impact.end",
                "must not be before the impact's start",
            ));
        }
        Some(_) => {}
    }
    errors
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `1 h 25 min`, `45 min`, `2 d 3 h 0 min`.
pub fn human_duration(d: TimeDelta) -> String {
    let m = d.num_minutes().max(0);
    let (days, hours, minutes) = (m / 1440, m % 1440 / 60, m % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes} min"),
        (0, _) => format!("{hours} h {minutes} min"),
        _ => format!("{days} d {hours} h {minutes} min"),
    }
}

/// A table cell: one line, pipes escaped.
fn cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn section(out: &mut String, heading: &str, body: &str) {
    out.push_str(&format!("## {heading}\n\n"));
    let body = body.trim();
    out.push_str(if body.is_empty() {
        "_None recorded._"
    } else {
        body
    });
    out.push_str("\n\n");
}

/// The RCA as a Markdown document. Deterministic: the same RCA gives the same bytes.
/// Section texts are Markdown already and are written as they are.
pub fn to_markdown(rca: &Rca) -> String {
    let mut out = format!("# Root-cause analysis: {}\n\n", rca.title.trim());
    out.push_str(&format!(
        "State: {}\n\n",
        rca.state.as_str().replace('_', " ")
    ));
    section(&mut out, "Summary", &rca.summary);

    out.push_str("## Impact\n\n");
    out.push_str(&format!("- Start: {}\n", stamp(rca.impact.start)));
    out.push_str(&format!(
        "- End: {}\n",
        rca.impact.end.map_or("not yet".to_owned(), stamp)
    ));
    out.push_str(&format!(
        "- Duration: {}\n",
        rca.impact
            .duration()
            .map_or("ongoing".to_owned(), human_duration)
    ));
    let affected = rca.impact.affected.trim();
    out.push_str(&format!(
        "- Affected: {}\n",
        if affected.is_empty() {
            "not recorded"
        } else {
            affected
        }
    ));
    if let Some(sla) = rca.sla_result {
        let word = serde_json::to_value(sla)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.push_str(&format!(
            "- First-response SLA: {}\n",
            word.replace('_', " ")
        ));
    }
    out.push('\n');

    out.push_str("## Timeline\n\n");
    if rca.timeline.is_empty() {
        out.push_str("_None recorded._\n\n");
    } else {
        out.push_str("| Time | Who | What |\n|---|---|---|\n");
        for e in &rca.timeline {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                stamp(e.at),
                cell(&e.who),
                cell(&e.what)
            ));
        }
        out.push('\n');
    }
    section(&mut out, "Root cause", &rca.root_cause);
    section(&mut out, "Contributing factors", &rca.contributing_factors);
    section(&mut out, "Resolution", &rca.resolution);

    out.push_str("## Action items\n\n");
    if rca.action_items.is_empty() {
        out.push_str("_None recorded._\n");
    } else {
        out.push_str("| Action | Owner | Due | Status |\n|---|---|---|---|\n");
        for a in &rca.action_items {
            let status = match a.status {
                ActionStatus::Open => "open",
                ActionStatus::InProgress => "in progress",
                ActionStatus::Done => "done",
                ActionStatus::Dropped => "dropped",
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&a.title),
                cell(&a.owner),
                a.due,
                status
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Sync: how a root-cause analysis travels (see `crate::sync::EntitySpec`).

/// An RCA syncs as one record hanging off its account (`updated_at` is stamped by the
/// service, like every record's: see `crate::sync::SERVER_FIELDS`).
pub static SYNC: crate::sync::EntitySpec = crate::sync::EntitySpec {
    fields: &[
        "account_id",
        "request_id",
        "state",
        "summary",
        "impact",
        "sla_result",
        "timeline",
        "root_cause",
        "contributing_factors",
        "resolution",
        "action_items",
    ],
    required: &[
        "account_id",
        "request_id",
        "state",
        "summary",
        "impact",
        "timeline",
        "root_cause",
        "contributing_factors",
        "resolution",
        "action_items",
    ],
    versioned: &[],
    defaults: crate::sync::no_defaults,
    normalize: normalize_fields,
    extra_action,
};

/// Longest text of one RCA section on the wire (characters).
pub const MAX_SECTION_LEN: usize = 50_000;

/// Checks an RCA record's merged fields: the state, each section's type and size, the
/// impact window, the timeline and the action items (each normalised, errors naming
/// `action_items.<n>.<field>`).
pub fn normalize_fields(
    mut fields: crate::sync::Fields,
) -> Result<crate::sync::Fields, crate::sync::Rejection> {
    use crate::request::wire_field;
    use crate::sync::{RejectCode, Rejection};
    wire_field::<RcaState>(&fields, "state", "one of draft, in_review, published")?;
    wire_field::<Uuid>(&fields, "request_id", "a request id")?;
    wire_field::<Option<SlaState>>(&fields, "sla_result", "an SLA state or null")?;
    for name in [
        "summary",
        "root_cause",
        "contributing_factors",
        "resolution",
    ] {
        if let Some(text) = wire_field::<String>(&fields, name, "a text")?
            && text.chars().count() > MAX_SECTION_LEN
        {
            return Err(Rejection::field(
                RejectCode::InvalidField,
                name,
                format!("{name} must be at most {MAX_SECTION_LEN} characters"),
            ));
        }
    }
    if let Some(impact) =
        wire_field::<Impact>(&fields, "impact", "a start, an end and who was affected")?
        && impact.end.is_some_and(|end| end < impact.start)
    {
        return Err(Rejection::field(
            RejectCode::InvalidField,
            "impact",
            "impact: the end must not be before the start",
        ));
    }
    wire_field::<Vec<TimelineEntry>>(&fields, "timeline", "a list of timeline entries")?;
    if let Some(items) =
        wire_field::<Vec<ActionItem>>(&fields, "action_items", "a list of action items")?
    {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let item = item.normalize(&format!("action_items.{i}")).map_err(|e| {
                let first = e.first();
                Rejection::field(
                    RejectCode::InvalidField,
                    &first.field,
                    format!("{}: {}", first.field, first.reason),
                )
            })?;
            out.push(item);
        }
        fields.insert(
            "action_items".into(),
            serde_json::to_value(out).unwrap_or(serde_json::Value::Null),
        );
    }
    Ok(fields)
}

/// Publishing (a record that becomes `published`) is a support lead's or an admin's.
pub fn extra_action(
    current: Option<&crate::sync::Fields>,
    set: &crate::sync::Fields,
) -> Option<crate::authz::Action> {
    let state =
        |f: &crate::sync::Fields| f.get("state").and_then(|v| v.as_str()).map(str::to_owned);
    let publishes = state(set).as_deref() == Some("published")
        && current.and_then(state).as_deref() != Some("published");
    publishes.then_some(crate::authz::Action::PublishRca)
}

/// The RCA state machine on a synced record, for every path: `stored` is the record as the
/// service holds it (a tombstone's last fields on a re-create; `None` on a create, which
/// starts from a draft), `merged` the record after the write (`None` for a delete).
///
/// - a published RCA is final: no edit, no move back, no delete, whatever the role;
/// - a state change follows [`check_rca_transition`] (publishing needs `in_review` first and
///   a support lead or an admin);
/// - publishing needs the sections of [`publish_gaps`], judged on the merged record.
pub fn check_synced_write(
    stored: Option<&crate::sync::Fields>,
    merged: Option<&crate::sync::Fields>,
    role: Role,
) -> Result<(), crate::sync::Rejection> {
    use crate::sync::{RejectCode, Rejection};
    let state_of = |f: &crate::sync::Fields| -> RcaState {
        f.get("state")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or(RcaState::Draft)
    };
    let refuse = |e: FieldError| {
        Rejection::field(
            RejectCode::InvalidField,
            &e.field,
            format!("{}: {}", e.field, e.reason),
        )
    };
    let from = stored.map_or(RcaState::Draft, state_of);
    let Some(merged) = merged else {
        return if from == RcaState::Published {
            Err(refuse(FieldError::new(
                "state",
                "a published root-cause analysis cannot be deleted",
            )))
        } else {
            Ok(())
        };
    };
    if from == RcaState::Published {
        return if stored == Some(merged) {
            Ok(())
        } else {
            Err(refuse(FieldError::new(
                "state",
                "a published root-cause analysis is final: it cannot be edited or moved back",
            )))
        };
    }
    let to = state_of(merged);
    if to != from {
        check_rca_transition(from, to, role).map_err(refuse)?;
    }
    if to == RcaState::Published {
        let text = |k: &str| merged.get(k).and_then(|v| v.as_str()).unwrap_or_default();
        let impact: Option<Impact> = merged
            .get("impact")
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        let gaps = match &impact {
            Some(impact) => publish_gaps(
                text("summary"),
                text("root_cause"),
                text("resolution"),
                impact,
            ),
            None => vec![FieldError::new("impact", "must be set to publish")],
        };
        if let Some(first) = gaps.first() {
            return Err(Rejection::field(
                RejectCode::InvalidField,
                &first.field,
                ValidationErrors(gaps.clone()).to_string(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
