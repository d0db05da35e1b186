//! Quarterly use-case reviews & health checks: the review's states, the one-per-quarter
//! rule, where a review sits on the quarter board, the checklist and action items.
//!
//! Decisions where the issue is silent:
//! - Transitions: `not_requested → requested → scheduled → completed`; `requested` and
//!   `scheduled` may end `declined` (the customer does not want one this quarter); a
//!   `scheduled` review may become `no_show` or go back to `requested` (session cancelled,
//!   to be rebooked); a `no_show` may be rebooked (`scheduled`) or dropped (`declined`).
//!   `completed` and `declined` are final.
//! - On the board a `declined` review counts as done: the customer chose not to have one,
//!   so there is nothing left to chase; a `no_show` counts as requested (to rebook).
//! - "Overdue": not booked (not requested, requested or no-show) when the quarter ends in
//!   14 days or less, counted to the quarter's end instant; or the quarter has ended without
//!   a completed (or declined) review. Exactly 14 days before the end is overdue.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::Plan;
use crate::quarter::Quarter;
use crate::validation::{self, Checker, FieldError, ValidationErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    NotRequested,
    Requested,
    Scheduled,
    Completed,
    Declined,
    NoShow,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::NotRequested => "not_requested",
            ReviewState::Requested => "requested",
            ReviewState::Scheduled => "scheduled",
            ReviewState::Completed => "completed",
            ReviewState::Declined => "declined",
            ReviewState::NoShow => "no_show",
        }
    }

    /// Nothing left to do this quarter.
    pub fn is_closed(self) -> bool {
        matches!(self, ReviewState::Completed | ReviewState::Declined)
    }
}

/// Whether a review may move from `from` to `to` (see the module docs).
pub fn check_review_transition(from: ReviewState, to: ReviewState) -> Result<(), FieldError> {
    use ReviewState::{Completed, Declined, NoShow, NotRequested, Requested, Scheduled};
    let ok = matches!(
        (from, to),
        (NotRequested, Requested)
            | (Requested, Scheduled | Declined)
            | (Scheduled, Completed | NoShow | Declined | Requested)
            | (NoShow, Scheduled | Declined)
    );
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "state",
            format!(
                "a review cannot go from {} to {}",
                from.as_str(),
                to.as_str()
            ),
        ))
    }
}

/// Identifies a quarter of an account's (fiscal) calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuarterKey {
    pub fiscal_year: i32,
    pub q: u8,
}

impl From<&Quarter> for QuarterKey {
    fn from(q: &Quarter) -> Self {
        QuarterKey {
            fiscal_year: q.fiscal_year,
            q: q.q,
        }
    }
}

/// Whether a new review may be created for an account on `plan` in `quarter`, given the
/// quarters it already has reviews in. One per Professional Support account per quarter.
pub fn check_new_review(
    plan: Plan,
    quarter: &Quarter,
    existing: &[QuarterKey],
) -> Result<(), FieldError> {
    if plan != Plan::ProfessionalSupport {
        return Err(FieldError::new(
            "account_id",
            "quarterly reviews are part of Professional Support; this account is on the standard plan",
        ));
    }
    if existing.contains(&QuarterKey::from(quarter)) {
        return Err(FieldError::new(
            "quarter",
            format!("this account already has a review in {}", quarter.label()),
        ));
    }
    Ok(())
}

/// A review's column on the quarter board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum BoardColumn {
    Due,
    Requested,
    Scheduled,
    Done,
    Overdue,
}

/// Overdue when not booked this close to the quarter's end.
pub const OVERDUE_WINDOW: TimeDelta = TimeDelta::days(14);

/// Where an account's review for `quarter` sits on the board at `now`. `state` is `None`
/// when the account has no review record for the quarter (the same as `not_requested`).
/// Standard-plan accounts are not on the board at all: `None`.
pub fn board_column(
    plan: Plan,
    state: Option<ReviewState>,
    quarter: &Quarter,
    now: DateTime<Utc>,
) -> Option<BoardColumn> {
    if plan != Plan::ProfessionalSupport {
        return None;
    }
    let state = state.unwrap_or(ReviewState::NotRequested);
    if state.is_closed() {
        return Some(BoardColumn::Done);
    }
    if now >= quarter.end_utc {
        return Some(BoardColumn::Overdue);
    }
    let not_booked = matches!(
        state,
        ReviewState::NotRequested | ReviewState::Requested | ReviewState::NoShow
    );
    if not_booked && quarter.end_utc - now <= OVERDUE_WINDOW {
        return Some(BoardColumn::Overdue);
    }
    Some(match state {
        ReviewState::NotRequested => BoardColumn::Due,
        ReviewState::Requested | ReviewState::NoShow => BoardColumn::Requested,
        _ => BoardColumn::Scheduled,
    })
}

/// How many reviews are in each column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BoardCounts {
    pub due: u32,
    pub requested: u32,
    pub scheduled: u32,
    pub done: u32,
    pub overdue: u32,
}

impl BoardCounts {
    pub fn tally(columns: impl IntoIterator<Item = BoardColumn>) -> Self {
        let mut c = BoardCounts::default();
        for col in columns {
            match col {
                BoardColumn::Due => c.due += 1,
                BoardColumn::Requested => c.requested += 1,
                BoardColumn::Scheduled => c.scheduled += 1,
                BoardColumn::Done => c.done += 1,
                BoardColumn::Overdue => c.overdue += 1,
            }
        }
        c
    }
}

/// Checks a review booking: in the future, end after start (at most 8 hours), inside the
/// review's quarter (a session after the quarter's end is next quarter's review), and a
/// meeting link on the allow-list when there is one. Returns the normalised link.
pub fn check_review_booking(
    quarter: &Quarter,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    meeting_link: Option<&str>,
    policy: &crate::links::LinkPolicy,
    now: DateTime<Utc>,
) -> Result<Option<String>, ValidationErrors> {
    let mut c = Checker::new();
    if start < now {
        c.push(FieldError::new("start", "must not be in the past"));
    }
    if !quarter.contains(start) {
        c.push(FieldError::new(
            "start",
            format!("must fall within {}", quarter.label()),
        ));
    }
    if end <= start {
        c.push(FieldError::new("end", "must be after the start"));
    } else if end - start > TimeDelta::hours(8) {
        c.push(FieldError::new("end", "a review lasts at most 8 hours"));
    }
    let link = match meeting_link.map(str::trim) {
        None | Some("") => Some(None),
        Some(l) => c
            .check(crate::links::check_meeting_link("meeting_link", l, policy))
            .map(Some),
    };
    c.finish()?;
    Ok(link.flatten())
}

/// A review can be completed once its session has started.
pub fn check_completion(
    state: ReviewState,
    session_start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), FieldError> {
    check_review_transition(state, ReviewState::Completed)?;
    match session_start {
        Some(start) if start <= now => Ok(()),
        Some(_) => Err(FieldError::new(
            "state",
            "the review session has not started yet",
        )),
        None => Err(FieldError::new("state", "the review has no session booked")),
    }
}

/// The points a health check goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CheckItem {
    UsageReview,
    Performance,
    OpenIncidents,
    SlaComplianceLastQuarter,
    UseCaseAndRoadmapChanges,
}

impl CheckItem {
    pub const ALL: [CheckItem; 5] = [
        CheckItem::UsageReview,
        CheckItem::Performance,
        CheckItem::OpenIncidents,
        CheckItem::SlaComplianceLastQuarter,
        CheckItem::UseCaseAndRoadmapChanges,
    ];

    pub fn title(self) -> &'static str {
        match self {
            CheckItem::UsageReview => "Usage review",
            CheckItem::Performance => "Performance",
            CheckItem::OpenIncidents => "Open incidents",
            CheckItem::SlaComplianceLastQuarter => "SLA compliance last quarter",
            CheckItem::UseCaseAndRoadmapChanges => "Changes to the use case or roadmap",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChecklistEntry {
    pub item: CheckItem,
    pub done: bool,
    pub findings: String,
}

/// The health check's checklist, every item open, in the order a review goes through it.
pub fn default_checklist() -> Vec<ChecklistEntry> {
    CheckItem::ALL
        .iter()
        .map(|&item| ChecklistEntry {
            item,
            done: false,
            findings: String::new(),
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
    Dropped,
}

/// A follow-up with an owner and a due date (health checks, RCAs, onboarding sessions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActionItem {
    pub id: Uuid,
    pub title: String,
    /// Who does it: a staff member or someone at the customer, by name.
    pub owner: String,
    pub due: NaiveDate,
    pub status: ActionStatus,
}

impl ActionItem {
    /// Trims and checks the item; errors name `"{field}.title"` and `"{field}.owner"`.
    pub fn normalize(self, field: &str) -> Result<ActionItem, ValidationErrors> {
        let mut c = Checker::new();
        let title = c.check(validation::required_text(
            &format!("{field}.title"),
            &self.title,
        ));
        let owner = c.check(validation::required_text(
            &format!("{field}.owner"),
            &self.owner,
        ));
        c.finish()?;
        Ok(ActionItem {
            title: title.unwrap_or_default(),
            owner: owner.unwrap_or_default(),
            ..self
        })
    }

    /// Still to do and past its due date (on the owner's calendar `today`).
    pub fn is_late(&self, today: NaiveDate) -> bool {
        matches!(self.status, ActionStatus::Open | ActionStatus::InProgress) && self.due < today
    }
}

/// Recording a session that was held without being booked here (the customer called, the
/// review happened at their office): it started at or before `now`, inside the review's
/// quarter, and ended after it started (at most 8 hours).
pub fn check_held_session(
    quarter: &Quarter,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), ValidationErrors> {
    let mut c = Checker::new();
    if start > now {
        c.push(FieldError::new(
            "start",
            "a session already held cannot start in the future; book it instead",
        ));
    }
    if !quarter.contains(start) {
        c.push(FieldError::new(
            "start",
            format!("must fall within {}", quarter.label()),
        ));
    }
    if end <= start {
        c.push(FieldError::new("end", "must be after the start"));
    } else if end - start > TimeDelta::hours(8) {
        c.push(FieldError::new("end", "a review lasts at most 8 hours"));
    }
    c.finish()
}

/// The namespace of review ids (a UUID v5 name space of Rapport's own).
const REVIEW_NAMESPACE: Uuid = Uuid::from_u128(0x6a0e_3c5e_2b7d_4f0a_9e61_5c1d_8a2f_7b40);

/// The id of an account's review of one quarter: a UUID v5 of the account, the fiscal-year
/// start month and the quarter. Two clients that create the same quarter's review offline
/// make the same id, so their writes converge on one record instead of two.
pub fn review_id(account_id: Uuid, fy_start_month: u8, key: QuarterKey) -> Uuid {
    use sha1::Digest;
    let name = format!(
        "review:{account_id}:{fy_start_month}:{}:{}",
        key.fiscal_year, key.q
    );
    let mut h = sha1::Sha1::new();
    h.update(REVIEW_NAMESPACE.as_bytes());
    h.update(name.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// A quarterly review as it is stored and synced: every field by its wire name
/// (`id` aside). The desktop keeps these in its cache; the server keeps them as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Review {
    pub id: Uuid,
    pub account_id: Uuid,
    /// The quarter, on the account's (fiscal) calendar when the review was made.
    pub fiscal_year: i32,
    pub quarter: u8,
    pub fy_start_month: u8,
    pub state: ReviewState,
    /// The account rep who runs it (the facilitator of the session).
    pub rep_id: Option<Uuid>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// The customer's IANA zone the session was booked in.
    pub time_zone: String,
    pub meeting_link: Option<String>,
    pub checklist: Vec<ChecklistEntry>,
    pub findings: String,
    pub action_items: Vec<ActionItem>,
    /// The CSM's sentiment about the account, 1 (bad) to 5 (great), as of this review.
    pub sentiment: Option<u8>,
    /// The iCalendar SEQUENCE of the session: raised with every change the attendees see.
    pub sequence: u32,
    pub completed_at: Option<DateTime<Utc>>,
}

/// The longest findings text.
pub const MAX_FINDINGS_CHARS: usize = 20_000;

impl Review {
    pub fn key(&self) -> QuarterKey {
        QuarterKey {
            fiscal_year: self.fiscal_year,
            q: self.quarter,
        }
    }

    /// Checks the record as a whole and normalises its text; every error names its field.
    pub fn normalize(self) -> Result<Review, ValidationErrors> {
        let mut c = Checker::new();
        if !(1..=4).contains(&self.quarter) {
            c.push(FieldError::new(
                "quarter",
                format!("must be 1 to 4, not {}", self.quarter),
            ));
        }
        if !(1..=12).contains(&self.fy_start_month) {
            c.push(FieldError::new(
                "fy_start_month",
                format!("must be a month from 1 to 12, not {}", self.fy_start_month),
            ));
        }
        c.check(validation::time_zone("time_zone", &self.time_zone));
        if let Some(s) = self.sentiment
            && !(1..=5).contains(&s)
        {
            c.push(FieldError::new(
                "sentiment",
                format!("must be from 1 to 5, not {s}"),
            ));
        }
        match (self.starts_at, self.ends_at) {
            (Some(s), Some(e)) if e <= s => {
                c.push(FieldError::new("ends_at", "must be after the start"));
            }
            (Some(_), None) | (None, Some(_)) => c.push(FieldError::new(
                "ends_at",
                "a session has both a start and an end",
            )),
            _ => {}
        }
        if matches!(
            self.state,
            ReviewState::Scheduled | ReviewState::Completed | ReviewState::NoShow
        ) && self.starts_at.is_none()
        {
            c.push(FieldError::new(
                "starts_at",
                format!("a {} review has a session", self.state.as_str()),
            ));
        }
        if (self.state == ReviewState::Completed) != self.completed_at.is_some() {
            c.push(FieldError::new(
                "completed_at",
                "set exactly when the review is completed",
            ));
        }
        let link = match self.meeting_link.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(l) if l.starts_with("https://") && !l.chars().any(char::is_whitespace) => {
                Some(l.to_owned())
            }
            Some(_) => {
                c.push(FieldError::new(
                    "meeting_link",
                    "not a meeting link: it must start with https://",
                ));
                None
            }
        };
        let mut seen = std::collections::HashSet::new();
        for e in &self.checklist {
            if !seen.insert(e.item) {
                c.push(FieldError::new(
                    "checklist",
                    format!("{} is listed twice", e.item.title()),
                ));
            }
        }
        if self.findings.chars().count() > MAX_FINDINGS_CHARS {
            c.push(FieldError::new(
                "findings",
                format!("must be at most {MAX_FINDINGS_CHARS} characters"),
            ));
        }
        let mut items = Vec::new();
        for item in self.action_items.clone() {
            match item.normalize("action_items") {
                Ok(i) => items.push(i),
                Err(e) => e.0.into_iter().for_each(|f| c.push(f)),
            }
        }
        c.finish()?;
        Ok(Review {
            meeting_link: link,
            findings: self.findings.trim().to_owned(),
            action_items: items,
            ..self
        })
    }
}

// ---------------------------------------------------------------------------------------
// Sync: how a quarterly review travels (see `crate::sync::EntitySpec`).

/// A quarterly review syncs as one record hanging off its account; the fields are those of
/// [`Review`] (its `id` is the record id).
pub static SYNC: crate::sync::EntitySpec = crate::sync::EntitySpec {
    fields: &[
        "account_id",
        "fiscal_year",
        "quarter",
        "fy_start_month",
        "state",
        "rep_id",
        "starts_at",
        "ends_at",
        "time_zone",
        "meeting_link",
        "checklist",
        "findings",
        "action_items",
        "sentiment",
        "sequence",
        "completed_at",
    ],
    required: &[
        "account_id",
        "fiscal_year",
        "quarter",
        "fy_start_month",
        "state",
        "time_zone",
    ],
    versioned: &[],
    defaults: sync_defaults,
    normalize: sync_normalize,
    extra_action: crate::sync::no_extra_action,
};

fn sync_defaults() -> crate::sync::Fields {
    let json = serde_json::json!({
        "rep_id": null,
        "starts_at": null,
        "ends_at": null,
        "meeting_link": null,
        "checklist": default_checklist(),
        "findings": "",
        "action_items": [],
        "sentiment": null,
        "sequence": 0,
        "completed_at": null,
    });
    match json {
        serde_json::Value::Object(m) => m,
        _ => crate::sync::Fields::new(),
    }
}

/// Each wire field's JSON type, naming the field when it is wrong.
fn check_wire_type(k: &str, v: &serde_json::Value) -> Result<(), crate::sync::Rejection> {
    use crate::sync::{RejectCode, Rejection};
    fn is<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<(), String> {
        serde_json::from_value::<T>(v.clone())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    let checked = match k {
        "fiscal_year" => is::<i32>(v),
        "quarter" | "fy_start_month" => is::<u8>(v),
        "sentiment" => is::<Option<u8>>(v),
        "state" => is::<ReviewState>(v),
        "rep_id" => is::<Option<Uuid>>(v),
        "starts_at" | "ends_at" | "completed_at" => is::<Option<DateTime<Utc>>>(v),
        "time_zone" | "findings" => is::<String>(v),
        "meeting_link" => is::<Option<String>>(v),
        "checklist" => is::<Vec<ChecklistEntry>>(v),
        "action_items" => is::<Vec<ActionItem>>(v),
        "sequence" => is::<u32>(v),
        _ => Ok(()),
    };
    checked.map_err(|e| Rejection::field(RejectCode::InvalidField, k, format!("{k}: {e}")))
}

/// Validates the merged wire fields as a [`Review`], naming the field at fault.
fn sync_normalize(
    fields: crate::sync::Fields,
) -> Result<crate::sync::Fields, crate::sync::Rejection> {
    use crate::sync::{RejectCode, Rejection};
    for (k, v) in &fields {
        check_wire_type(k, v)?;
    }
    let mut with_id = fields;
    // The record's id and its link to the account are not among the fields here.
    with_id.insert("id".into(), serde_json::json!(Uuid::nil()));
    with_id.insert("account_id".into(), serde_json::json!(Uuid::nil()));
    let review: Review =
        serde_json::from_value(serde_json::Value::Object(with_id)).map_err(|e| {
            Rejection::new(
                RejectCode::InvalidField,
                format!("the review's fields do not fit together: {e}"),
            )
        })?;
    let review = review.normalize().map_err(|errs| {
        Rejection::field(
            RejectCode::InvalidField,
            &errs.first().field,
            errs.to_string(),
        )
    })?;
    match serde_json::to_value(review) {
        Ok(serde_json::Value::Object(mut m)) => {
            m.remove("id");
            m.remove("account_id");
            Ok(m)
        }
        _ => Err(Rejection::new(
            RejectCode::InvalidField,
            "the review could not be encoded",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quarter::quarter_of;
    use chrono::TimeZone;
    use rstest::rstest;

    fn q1_2027() -> Quarter {
        // Calendar Q1 2027 in UTC: [2027-01-01, 2027-04-01).
        quarter_of(
            Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).unwrap(),
            chrono_tz::UTC,
            1,
        )
        .unwrap()
    }

    fn end() -> DateTime<Utc> {
        q1_2027().end_utc
    }

    use ReviewState::{Completed, Declined, NoShow, NotRequested, Requested, Scheduled};

    #[rstest]
    #[case(NotRequested, Requested, true)]
    #[case(Requested, Scheduled, true)]
    #[case(Scheduled, Completed, true)]
    #[case(Scheduled, NoShow, true)]
    #[case(Requested, Declined, true)]
    #[case(Scheduled, Requested, true)]
    #[case(NoShow, Scheduled, true)]
    #[case(NotRequested, Scheduled, false)]
    #[case(NotRequested, Completed, false)]
    #[case(Requested, Completed, false)]
    #[case(Completed, Scheduled, false)]
    #[case(Declined, Requested, false)]
    #[case(NoShow, Completed, false)]
    #[case(Scheduled, Scheduled, false)]
    fn transitions(#[case] from: ReviewState, #[case] to: ReviewState, #[case] ok: bool) {
        let r = check_review_transition(from, to);
        assert_eq!(r.is_ok(), ok, "{from:?} -> {to:?}");
        if let Err(e) = r {
            assert_eq!(e.field, "state");
        }
    }

    #[test]
    fn one_review_per_professional_support_account_per_quarter() {
        let q = q1_2027();
        assert!(check_new_review(Plan::ProfessionalSupport, &q, &[]).is_ok());
        let other = QuarterKey {
            fiscal_year: 2026,
            q: 4,
        };
        assert!(
            check_new_review(Plan::ProfessionalSupport, &q, &[other]).is_ok(),
            "last quarter's does not count"
        );
        let twice = check_new_review(
            Plan::ProfessionalSupport,
            &q,
            &[other, QuarterKey::from(&q)],
        )
        .unwrap_err();
        assert_eq!(twice.field, "quarter");
        assert!(twice.reason.contains("2027 Q1"), "{twice}");
        let standard = check_new_review(Plan::Standard, &q, &[]).unwrap_err();
        assert_eq!(standard.field, "account_id");
        assert!(standard.reason.contains("standard plan"));
    }

    #[rstest]
    // Mid-quarter: by state.
    #[case(None, 40 * 24 * 3600, BoardColumn::Due)]
    #[case(Some(Requested), 40 * 24 * 3600, BoardColumn::Requested)]
    #[case(Some(NoShow), 40 * 24 * 3600, BoardColumn::Requested)]
    #[case(Some(Scheduled), 40 * 24 * 3600, BoardColumn::Scheduled)]
    #[case(Some(Completed), 40 * 24 * 3600, BoardColumn::Done)]
    #[case(Some(Declined), 40 * 24 * 3600, BoardColumn::Done)]
    // The 14-day boundary: 14 days + 1 s left is not yet overdue, exactly 14 days is.
    #[case(Some(Requested), 14 * 24 * 3600 + 1, BoardColumn::Requested)]
    #[case(Some(Requested), 14 * 24 * 3600, BoardColumn::Overdue)]
    #[case(None, 14 * 24 * 3600 + 1, BoardColumn::Due)]
    #[case(None, 14 * 24 * 3600, BoardColumn::Overdue)]
    #[case(Some(NoShow), 14 * 24 * 3600, BoardColumn::Overdue)]
    #[case(Some(Scheduled), 1, BoardColumn::Scheduled)]
    // The quarter's end: 1 s before it is still the quarter, at it the quarter has ended.
    #[case(Some(Scheduled), 0, BoardColumn::Overdue)]
    #[case(Some(Completed), 0, BoardColumn::Done)]
    #[case(Some(Declined), -90 * 24 * 3600, BoardColumn::Done)]
    #[case(None, -1, BoardColumn::Overdue)]
    fn board_columns(
        #[case] state: Option<ReviewState>,
        #[case] secs_before_end: i64,
        #[case] want: BoardColumn,
    ) {
        let now = end() - TimeDelta::seconds(secs_before_end);
        assert_eq!(
            board_column(Plan::ProfessionalSupport, state, &q1_2027(), now),
            Some(want),
            "{state:?} with {secs_before_end} s left"
        );
    }

    #[test]
    fn standard_accounts_are_not_on_the_board() {
        assert_eq!(board_column(Plan::Standard, None, &q1_2027(), end()), None);
    }

    #[test]
    fn counts_tally_the_columns() {
        let c = BoardCounts::tally([
            BoardColumn::Due,
            BoardColumn::Overdue,
            BoardColumn::Due,
            BoardColumn::Done,
        ]);
        assert_eq!(
            c,
            BoardCounts {
                due: 2,
                requested: 0,
                scheduled: 0,
                done: 1,
                overdue: 1
            }
        );
    }

    #[test]
    fn a_booking_must_be_ahead_and_inside_its_quarter() {
        let q = q1_2027();
        let policy = crate::links::LinkPolicy::default();
        let now = q.start_utc;
        let start = q.start_utc + TimeDelta::days(10);
        let ok = check_review_booking(
            &q,
            start,
            start + TimeDelta::hours(1),
            Some("https://zoom.us/j/1"),
            &policy,
            now,
        );
        assert_eq!(ok.unwrap().as_deref(), Some("https://zoom.us/j/1"));
        let fields = |r: Result<Option<String>, ValidationErrors>| -> Vec<String> {
            r.unwrap_err().0.into_iter().map(|e| e.field).collect()
        };
        let next_quarter = q.end_utc;
        assert_eq!(
            fields(check_review_booking(
                &q,
                next_quarter,
                next_quarter + TimeDelta::hours(1),
                None,
                &policy,
                now
            )),
            ["start"],
            "the quarter's end instant belongs to the next quarter"
        );
        assert_eq!(
            fields(check_review_booking(
                &q,
                start,
                start,
                Some("http://zoom.us/j/1"),
                &policy,
                start + TimeDelta::seconds(1)
            )),
            ["start", "end", "meeting_link"]
        );
    }

    #[test]
    fn completion_needs_a_started_session() {
        let start = end() - TimeDelta::days(20);
        assert!(
            check_completion(Scheduled, Some(start), start).is_ok(),
            "from its start on"
        );
        let early =
            check_completion(Scheduled, Some(start), start - TimeDelta::seconds(1)).unwrap_err();
        assert!(early.reason.contains("not started"));
        assert!(check_completion(Scheduled, None, start).is_err());
        assert!(
            check_completion(Requested, Some(start), start).is_err(),
            "an unbooked review cannot be completed"
        );
    }

    #[test]
    fn the_checklist_covers_the_health_check() {
        let items: Vec<&str> = default_checklist().iter().map(|e| e.item.title()).collect();
        assert_eq!(
            items,
            [
                "Usage review",
                "Performance",
                "Open incidents",
                "SLA compliance last quarter",
                "Changes to the use case or roadmap"
            ]
        );
        assert!(default_checklist().iter().all(|e| !e.done));
    }

    #[test]
    fn action_items_need_a_title_and_an_owner() {
        let due = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
        let item = ActionItem {
            id: Uuid::nil(),
            title: "  Add a read replica ".into(),
            owner: "Bob".into(),
            due,
            status: ActionStatus::Open,
        };
        assert_eq!(
            item.clone().normalize("action_items").unwrap().title,
            "Add a read replica"
        );
        let bad = ActionItem {
            title: " ".into(),
            owner: String::new(),
            ..item.clone()
        };
        let fields: Vec<String> = bad
            .normalize("action_items")
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["action_items.title", "action_items.owner"]);
        assert!(item.is_late(due.succ_opt().unwrap()));
        assert!(!item.is_late(due), "due today is not late");
        assert!(
            !ActionItem {
                status: ActionStatus::Done,
                ..item
            }
            .is_late(due.succ_opt().unwrap())
        );
    }
    #[test]
    fn the_same_quarter_of_the_same_account_gets_the_same_id() {
        let account = Uuid::from_u128(42);
        let key = QuarterKey::from(&q1_2027());
        let a = review_id(account, 1, key);
        assert_eq!(
            a,
            review_id(account, 1, key),
            "two offline clients converge"
        );
        assert_eq!(a.get_version_num(), 5, "a name-based (v5) id");
        assert_ne!(
            a,
            review_id(
                account,
                1,
                QuarterKey {
                    fiscal_year: 2027,
                    q: 2
                }
            )
        );
        assert_ne!(a, review_id(Uuid::from_u128(43), 1, key));
        assert_ne!(a, review_id(account, 4, key), "another fiscal calendar");
    }

    #[test]
    fn a_held_session_lies_in_the_past_inside_its_quarter() {
        let q = q1_2027();
        let start = q.start_utc + TimeDelta::days(3);
        let end = start + TimeDelta::hours(1);
        assert!(check_held_session(&q, start, end, end).is_ok());
        let fields = |r: Result<(), ValidationErrors>| -> Vec<String> {
            r.unwrap_err().0.into_iter().map(|e| e.field).collect()
        };
        assert_eq!(
            fields(check_held_session(
                &q,
                start,
                end,
                start - TimeDelta::seconds(1)
            )),
            ["start"],
            "not yet held"
        );
        assert_eq!(
            fields(check_held_session(
                &q,
                q.start_utc - TimeDelta::hours(2),
                q.start_utc - TimeDelta::hours(1),
                end
            )),
            ["start"],
            "last quarter's session is not this quarter's review"
        );
        assert_eq!(fields(check_held_session(&q, start, start, end)), ["end"]);
    }

    fn wire(v: serde_json::Value) -> crate::sync::Fields {
        match v {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn create_fields() -> crate::sync::Fields {
        wire(serde_json::json!({
            "account_id": Uuid::from_u128(7), "fiscal_year": 2027, "quarter": 1,
            "fy_start_month": 1, "state": "requested", "time_zone": "Pacific/Kiritimati"
        }))
    }

    #[test]
    fn the_sync_spec_defaults_and_normalises_a_create() {
        use crate::sync::{EntityKind, merge_fields};
        let out = merge_fields(EntityKind::Review, None, &create_fields()).unwrap();
        assert_eq!(
            out["account_id"],
            serde_json::json!(Uuid::from_u128(7)),
            "the link is kept"
        );
        assert_eq!(
            out["checklist"].as_array().unwrap().len(),
            5,
            "the checklist defaults"
        );
        assert_eq!(out["sequence"], serde_json::json!(0));
        let mut edit = wire(serde_json::json!({"findings": "  slow exports  "}));
        let out2 = merge_fields(EntityKind::Review, Some(&out), &edit).unwrap();
        assert_eq!(
            out2["findings"],
            serde_json::json!("slow exports"),
            "trimmed"
        );
        edit.insert("state".into(), serde_json::json!("scheduled"));
        assert_eq!(
            merge_fields(EntityKind::Review, Some(&out), &edit)
                .unwrap_err()
                .field
                .as_deref(),
            Some("starts_at"),
            "a scheduled review has a session"
        );
    }

    #[rstest]
    #[case(serde_json::json!({"quarter": 5}), "quarter")]
    #[case(serde_json::json!({"sentiment": 6}), "sentiment")]
    #[case(serde_json::json!({"state": "archived"}), "state")]
    #[case(serde_json::json!({"time_zone": "Mars/Base"}), "time_zone")]
    #[case(serde_json::json!({"meeting_link": "http://zoom.us/j/1"}), "meeting_link")]
    #[case(serde_json::json!({"starts_at": "2027-01-05T10:00:00Z", "ends_at": "2027-01-05T09:00:00Z"}), "ends_at")]
    #[case(serde_json::json!({"action_items": [{"id": Uuid::nil(), "title": " ", "owner": "Bo", "due": "2027-02-01", "status": "open"}]}), "action_items.title")]
    #[case(serde_json::json!({"completed_at": "2027-01-05T10:00:00Z"}), "completed_at")]
    fn the_sync_spec_refuses_bad_fields_by_name(
        #[case] set: serde_json::Value,
        #[case] field: &str,
    ) {
        use crate::sync::{EntityKind, merge_fields};
        let current = merge_fields(EntityKind::Review, None, &create_fields()).unwrap();
        let e = merge_fields(EntityKind::Review, Some(&current), &wire(set)).unwrap_err();
        assert_eq!(e.field.as_deref(), Some(field), "{e:?}");
    }
}
