//! Customer onboarding sessions: status, the package's default agenda, and the checks a
//! session must pass before it is saved.
//!
//! Decisions where the issue is silent:
//! - Transitions: `planned → scheduled → completed`; `planned` and `scheduled` may be
//!   `cancelled`; `scheduled` may become `no_show` or go back to `planned` (unbooked);
//!   a `no_show` may be rebooked (`scheduled`) or `cancelled`. `completed` and `cancelled`
//!   are final.
//! - "Not in the past" applies when the time is set or moved: an edit that keeps the stored
//!   times (recording the outcome afterwards) is not refused for being in the past.
//! - A session lasts at most 8 hours; it may be completed once it has started.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::Plan;
use crate::links::{self, LinkPolicy};
use crate::request::Severity;
use crate::review::ActionItem;
use crate::validation::{self, Checker, FieldError, ValidationErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum OnboardingStatus {
    Planned,
    Scheduled,
    Completed,
    Cancelled,
    NoShow,
}

impl OnboardingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OnboardingStatus::Planned => "planned",
            OnboardingStatus::Scheduled => "scheduled",
            OnboardingStatus::Completed => "completed",
            OnboardingStatus::Cancelled => "cancelled",
            OnboardingStatus::NoShow => "no_show",
        }
    }
}

pub fn check_onboarding_transition(
    from: OnboardingStatus,
    to: OnboardingStatus,
) -> Result<(), FieldError> {
    use OnboardingStatus::{Cancelled, Completed, NoShow, Planned, Scheduled};
    let ok = matches!(
        (from, to),
        (Planned, Scheduled | Cancelled)
            | (Scheduled, Completed | Cancelled | NoShow | Planned)
            | (NoShow, Scheduled | Cancelled)
    );
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "status",
            format!(
                "a session cannot go from {} to {}",
                from.as_str(),
                to.as_str()
            ),
        ))
    }
}

/// A session can be completed once it has started.
pub fn check_completion(
    status: OnboardingStatus,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), FieldError> {
    check_onboarding_transition(status, OnboardingStatus::Completed)?;
    if start > now {
        return Err(FieldError::new("status", "the session has not started yet"));
    }
    Ok(())
}

/// An account's onboarding is done once one of its sessions is completed.
pub fn onboarding_done(statuses: &[OnboardingStatus]) -> bool {
    statuses.contains(&OnboardingStatus::Completed)
}

/// A Professional Support account with no onboarding done or on its way (flagged on the
/// board).
pub fn needs_onboarding(plan: Plan, statuses: &[OnboardingStatus]) -> bool {
    plan == Plan::ProfessionalSupport
        && !statuses.iter().any(|s| {
            matches!(
                s,
                OnboardingStatus::Planned
                    | OnboardingStatus::Scheduled
                    | OnboardingStatus::Completed
            )
        })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgendaItem {
    pub title: String,
    pub done: bool,
}

/// The agenda the package promises: how to reach support (chat with a severity, email with
/// "urgent" in the subject), the SLA table, the dedicated Slack channel, and a review of the
/// customer's use case.
pub fn default_agenda() -> Vec<AgendaItem> {
    let sla: Vec<String> = Severity::ALL
        .iter()
        .map(|s| format!("{} ({})", s.label(), human_duration(s.target())))
        .collect();
    [
        "How to reach support by chat: pick a severity; P1 and P2 raise the urgent alert"
            .to_owned(),
        "How to reach support by email: put the word \"urgent\" in the subject for an urgent issue"
            .to_owned(),
        format!("The response-time SLA, 24/7: {}", sla.join("; ")),
        "Your dedicated Slack channel".to_owned(),
        "Review of your use case".to_owned(),
    ]
    .into_iter()
    .map(|title| AgendaItem { title, done: false })
    .collect()
}

/// Checks the agenda template edited in Settings: at least one item, each a non-empty line
/// (trimmed; duplicates dropped). Errors name `agenda_template`.
pub fn normalize_agenda_template(titles: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for t in titles {
        if t.trim().is_empty() {
            continue;
        }
        out.push(validation::required_text("agenda_template", t)?);
    }
    let out = validation::dedup_in_order(out);
    if out.is_empty() {
        return Err(FieldError::new(
            "agenda_template",
            "needs at least one item",
        ));
    }
    Ok(out)
}

/// A new session's agenda from the template, every item open.
pub fn agenda_from_template(titles: &[String]) -> Vec<AgendaItem> {
    titles
        .iter()
        .map(|t| AgendaItem {
            title: t.clone(),
            done: false,
        })
        .collect()
}

fn human_duration(d: TimeDelta) -> String {
    let m = d.num_minutes();
    if m % 60 == 0 {
        let h = m / 60;
        if h == 1 {
            "1 hour".to_owned()
        } else {
            format!("{h} hours")
        }
    } else {
        format!("{m} minutes")
    }
}

/// Longest outcome accepted (characters).
pub const MAX_OUTCOME_LEN: usize = 20_000;
/// Longest session accepted.
pub const MAX_SESSION: TimeDelta = TimeDelta::hours(8);

/// What a CSM saves for a session (the whole form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnboardingSessionInput {
    pub account_id: Uuid,
    pub facilitator_id: Uuid,
    pub attendee_contact_ids: Vec<Uuid>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The customer's IANA zone, e.g. `Australia/Sydney`.
    pub customer_time_zone: String,
    pub meeting_link: Option<String>,
    pub agenda: Vec<AgendaItem>,
    pub outcome: String,
    pub follow_ups: Vec<ActionItem>,
}

/// What the checks need besides the form.
#[derive(Debug, Clone, Copy)]
pub struct SessionContext<'a> {
    /// The contacts of the session's account: attendees must be among them.
    pub account_contact_ids: &'a [Uuid],
    pub link_policy: &'a LinkPolicy,
    pub now: DateTime<Utc>,
    /// The stored times when editing an existing session (`None` for a new one).
    pub stored_times: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl OnboardingSessionInput {
    /// Checks every field and returns the input normalised (trimmed texts, canonical zone
    /// name and link, attendees de-duplicated), or every refused field by name.
    pub fn normalize(
        self,
        ctx: &SessionContext<'_>,
    ) -> Result<OnboardingSessionInput, ValidationErrors> {
        let mut c = Checker::new();
        let times_moved = ctx.stored_times != Some((self.start, self.end));
        if times_moved && self.start < ctx.now {
            c.push(FieldError::new("start", "must not be in the past"));
        }
        if self.end <= self.start {
            c.push(FieldError::new("end", "must be after the start"));
        } else if self.end - self.start > MAX_SESSION {
            c.push(FieldError::new("end", "a session lasts at most 8 hours"));
        }
        let tz = c.check(validation::time_zone(
            "customer_time_zone",
            &self.customer_time_zone,
        ));
        let link = match self.meeting_link.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(l) => c
                .check(links::check_meeting_link(
                    "meeting_link",
                    l,
                    ctx.link_policy,
                ))
                .map(Some),
        };
        let mut attendees = Vec::new();
        let contacts: std::collections::HashSet<&Uuid> = ctx.account_contact_ids.iter().collect();
        for id in &self.attendee_contact_ids {
            if !contacts.contains(id) {
                c.push(FieldError::new(
                    "attendee_contact_ids",
                    format!("{id} is not a contact of this account"),
                ));
            } else {
                attendees.push(*id);
            }
        }
        let attendees = validation::dedup_in_order(attendees);
        let mut agenda = Vec::new();
        for item in &self.agenda {
            if let Some(title) = c.check(validation::required_text("agenda", &item.title)) {
                agenda.push(AgendaItem {
                    title,
                    done: item.done,
                });
            }
        }
        let outcome = self.outcome.trim().to_owned();
        if outcome.chars().count() > MAX_OUTCOME_LEN {
            c.push(FieldError::new(
                "outcome",
                format!("must be at most {MAX_OUTCOME_LEN} characters"),
            ));
        }
        let mut follow_ups = Vec::new();
        for f in self.follow_ups {
            match f.normalize("follow_ups") {
                Ok(f) => follow_ups.push(f),
                Err(e) => e.0.into_iter().for_each(|e| c.push(e)),
            }
        }
        c.finish()?;
        Ok(OnboardingSessionInput {
            attendee_contact_ids: attendees,
            customer_time_zone: tz.map(|t| t.name().to_owned()).unwrap_or_default(),
            meeting_link: link.flatten(),
            agenda,
            outcome,
            follow_ups,
            ..self
        })
    }
}

// ---------------------------------------------------------------------------------------
// Sync: how an onboarding session travels (see `crate::sync::EntitySpec`).

/// A stored onboarding session, as the cache keeps it and as it travels (its serde names
/// are the wire names of [`SYNC`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnboardingSession {
    pub id: Uuid,
    pub account_id: Uuid,
    pub facilitator_id: Uuid,
    /// Contacts of the account.
    pub attendee_ids: Vec<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The customer's IANA zone.
    pub time_zone: String,
    pub meeting_link: Option<String>,
    pub agenda: Vec<AgendaItem>,
    pub status: OnboardingStatus,
    pub outcome: String,
    pub follow_ups: Vec<ActionItem>,
    /// The iCalendar SEQUENCE: grows by one with each change the attendees should see
    /// (times, link, attendees, status).
    pub sequence: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OnboardingSession {
    /// The form's view of the session (for re-checking an edit).
    pub fn input(&self) -> OnboardingSessionInput {
        OnboardingSessionInput {
            account_id: self.account_id,
            facilitator_id: self.facilitator_id,
            attendee_contact_ids: self.attendee_ids.clone(),
            start: self.starts_at,
            end: self.ends_at,
            customer_time_zone: self.time_zone.clone(),
            meeting_link: self.meeting_link.clone(),
            agenda: self.agenda.clone(),
            outcome: self.outcome.clone(),
            follow_ups: self.follow_ups.clone(),
        }
    }

    /// The session with a checked form applied; the sequence grows when something an
    /// attendee sees in their calendar changed.
    pub fn with_input(&self, input: OnboardingSessionInput, now: DateTime<Utc>) -> Self {
        let seen_changed = input.start != self.starts_at
            || input.end != self.ends_at
            || input.meeting_link != self.meeting_link
            || input.attendee_contact_ids != self.attendee_ids;
        OnboardingSession {
            attendee_ids: input.attendee_contact_ids,
            starts_at: input.start,
            ends_at: input.end,
            time_zone: input.customer_time_zone,
            meeting_link: input.meeting_link,
            agenda: input.agenda,
            outcome: input.outcome,
            follow_ups: input.follow_ups,
            sequence: self.sequence + u32::from(seen_changed),
            updated_at: now,
            ..self.clone()
        }
    }
}

/// The wire fields of a session other than the link field `account_id` (which the merge
/// takes out before [`normalize_wire`] runs).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireSession {
    facilitator_id: Uuid,
    attendee_ids: Vec<Uuid>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    time_zone: String,
    meeting_link: Option<String>,
    agenda: Vec<AgendaItem>,
    status: OnboardingStatus,
    outcome: String,
    follow_ups: Vec<ActionItem>,
    sequence: u32,
}

fn session_defaults() -> crate::sync::Fields {
    let mut m = crate::sync::Fields::new();
    m.insert("attendee_ids".into(), serde_json::json!([]));
    m.insert("meeting_link".into(), serde_json::Value::Null);
    m.insert("agenda".into(), serde_json::json!([]));
    m.insert("outcome".into(), serde_json::json!(""));
    m.insert("follow_ups".into(), serde_json::json!([]));
    m.insert("sequence".into(), serde_json::json!(0));
    m
}

/// Checks a merged session the way the desktop does, minus what needs the clock or the
/// account's contacts (a synced edit may record the outcome of a past session, and the
/// contacts live with the account): end after start and at most 8 hours, a known zone, an
/// https link on the default allow-list, non-empty agenda items, the outcome's length,
/// follow-ups with a title and an owner. Errors name the wire field.
pub fn normalize_wire(
    fields: crate::sync::Fields,
) -> Result<crate::sync::Fields, crate::sync::Rejection> {
    use crate::sync::{RejectCode, Rejection};
    let w: WireSession =
        serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| {
            Rejection::new(
                RejectCode::InvalidField,
                format!("not an onboarding session: {e}"),
            )
        })?;
    let wire_name = |f: &str| -> String {
        match f {
            "start" => "starts_at".to_owned(),
            "end" => "ends_at".to_owned(),
            "customer_time_zone" => "time_zone".to_owned(),
            "attendee_contact_ids" => "attendee_ids".to_owned(),
            f if f.starts_with("follow_ups") => "follow_ups".to_owned(),
            other => other.to_owned(),
        }
    };
    let input = OnboardingSessionInput {
        account_id: Uuid::nil(),
        facilitator_id: w.facilitator_id,
        attendee_contact_ids: w.attendee_ids.clone(),
        start: w.starts_at,
        end: w.ends_at,
        customer_time_zone: w.time_zone,
        meeting_link: w.meeting_link,
        agenda: w.agenda,
        outcome: w.outcome,
        follow_ups: w.follow_ups,
    };
    let policy = LinkPolicy::default();
    let ctx = SessionContext {
        account_contact_ids: &w.attendee_ids,
        link_policy: &policy,
        // No "not in the past" check on the wire: the stored times are the given ones.
        now: w.starts_at,
        stored_times: Some((w.starts_at, w.ends_at)),
    };
    let n = input.normalize(&ctx).map_err(|e| {
        let first = e.first();
        let field = wire_name(&first.field);
        Rejection::field(
            RejectCode::InvalidField,
            &field,
            format!("{field}: {}", first.reason),
        )
    })?;
    let out = WireSession {
        facilitator_id: n.facilitator_id,
        attendee_ids: n.attendee_contact_ids,
        starts_at: n.start,
        ends_at: n.end,
        time_zone: n.customer_time_zone,
        meeting_link: n.meeting_link,
        agenda: n.agenda,
        status: w.status,
        outcome: n.outcome,
        follow_ups: n.follow_ups,
        sequence: w.sequence,
    };
    match serde_json::to_value(out) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        _ => Err(Rejection::new(
            RejectCode::InvalidField,
            "not an onboarding session",
        )),
    }
}

/// An onboarding session syncs as one record hanging off its account.
pub static SYNC: crate::sync::EntitySpec = crate::sync::EntitySpec {
    fields: &[
        "account_id",
        "facilitator_id",
        "attendee_ids",
        "starts_at",
        "ends_at",
        "time_zone",
        "meeting_link",
        "agenda",
        "status",
        "outcome",
        "follow_ups",
        "sequence",
    ],
    required: &[
        "account_id",
        "facilitator_id",
        "starts_at",
        "ends_at",
        "time_zone",
        "status",
    ],
    versioned: &[],
    defaults: session_defaults,
    normalize: normalize_wire,
    extra_action: crate::sync::no_extra_action,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::ActionStatus;
    use OnboardingStatus::{Cancelled, Completed, NoShow, Planned, Scheduled};
    use chrono::{NaiveDate, TimeZone};
    use rstest::rstest;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    const ANA: Uuid = Uuid::from_u128(1);
    const BOB: Uuid = Uuid::from_u128(2);
    const STRANGER: Uuid = Uuid::from_u128(99);

    fn input() -> OnboardingSessionInput {
        OnboardingSessionInput {
            account_id: Uuid::from_u128(10),
            facilitator_id: Uuid::from_u128(20),
            attendee_contact_ids: vec![ANA, BOB, ANA],
            start: now() + TimeDelta::days(3),
            end: now() + TimeDelta::days(3) + TimeDelta::hours(1),
            customer_time_zone: " Australia/Sydney ".into(),
            meeting_link: Some(" https://meet.jit.si/rapport-abc ".into()),
            agenda: default_agenda(),
            outcome: String::new(),
            follow_ups: vec![],
        }
    }

    fn ctx(policy: &LinkPolicy) -> SessionContext<'_> {
        SessionContext {
            account_contact_ids: &[ANA, BOB],
            link_policy: policy,
            now: now(),
            stored_times: None,
        }
    }

    fn fields(r: Result<OnboardingSessionInput, ValidationErrors>) -> Vec<String> {
        r.unwrap_err().0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_good_session_is_normalised() {
        let policy = LinkPolicy::default();
        let s = input().normalize(&ctx(&policy)).unwrap();
        assert_eq!(
            s.attendee_contact_ids,
            vec![ANA, BOB],
            "duplicates dropped, order kept"
        );
        assert_eq!(s.customer_time_zone, "Australia/Sydney");
        assert_eq!(
            s.meeting_link.as_deref(),
            Some("https://meet.jit.si/rapport-abc")
        );
    }

    #[test]
    fn the_issue_s_bad_inputs_are_refused_naming_their_fields() {
        let policy = LinkPolicy::default();
        let bad = OnboardingSessionInput {
            start: now() - TimeDelta::minutes(1),
            end: now() - TimeDelta::minutes(2),
            attendee_contact_ids: vec![ANA, STRANGER],
            meeting_link: Some("http://meet.jit.si/room".into()),
            ..input()
        };
        assert_eq!(
            fields(bad.normalize(&ctx(&policy))),
            ["start", "end", "meeting_link", "attendee_contact_ids"]
        );
    }

    #[test]
    fn each_refusal_says_why() {
        let policy = LinkPolicy::default();
        let e = OnboardingSessionInput {
            end: input().start,
            ..input()
        }
        .normalize(&ctx(&policy))
        .unwrap_err();
        assert_eq!(e.first().reason, "must be after the start");
        let long = OnboardingSessionInput {
            end: input().start + TimeDelta::hours(9),
            ..input()
        };
        assert!(
            long.normalize(&ctx(&policy))
                .unwrap_err()
                .first()
                .reason
                .contains("8 hours")
        );
        let stranger = OnboardingSessionInput {
            attendee_contact_ids: vec![STRANGER],
            ..input()
        };
        assert!(
            stranger
                .normalize(&ctx(&policy))
                .unwrap_err()
                .first()
                .reason
                .contains("not a contact of this account")
        );
        let zone = OnboardingSessionInput {
            customer_time_zone: "Mars/Base".into(),
            ..input()
        };
        assert_eq!(
            fields(zone.normalize(&ctx(&policy))),
            ["customer_time_zone"]
        );
        let blank_agenda = OnboardingSessionInput {
            agenda: vec![AgendaItem {
                title: " ".into(),
                done: false,
            }],
            ..input()
        };
        assert_eq!(fields(blank_agenda.normalize(&ctx(&policy))), ["agenda"]);
        let follow = ActionItem {
            id: Uuid::nil(),
            title: "x".into(),
            owner: " ".into(),
            due: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            status: ActionStatus::Open,
        };
        let bad_follow = OnboardingSessionInput {
            follow_ups: vec![follow],
            ..input()
        };
        assert_eq!(
            fields(bad_follow.normalize(&ctx(&policy))),
            ["follow_ups.owner"]
        );
    }

    #[test]
    fn a_past_session_can_be_edited_if_its_times_stay() {
        let policy = LinkPolicy::default();
        let past = OnboardingSessionInput {
            start: now() - TimeDelta::days(1),
            end: now() - TimeDelta::days(1) + TimeDelta::hours(1),
            outcome: "  Went well; Slack channel set up. ".into(),
            ..input()
        };
        let editing = SessionContext {
            stored_times: Some((past.start, past.end)),
            ..ctx(&policy)
        };
        assert_eq!(
            past.clone().normalize(&editing).unwrap().outcome,
            "Went well; Slack channel set up."
        );
        let moved = SessionContext {
            stored_times: Some((past.start - TimeDelta::hours(1), past.end)),
            ..ctx(&policy)
        };
        assert_eq!(
            fields(past.normalize(&moved)),
            ["start"],
            "moving it into the past is refused"
        );
    }

    #[test]
    fn a_blank_link_means_none_yet() {
        let policy = LinkPolicy::default();
        let s = OnboardingSessionInput {
            meeting_link: Some("  ".into()),
            ..input()
        }
        .normalize(&ctx(&policy))
        .unwrap();
        assert_eq!(s.meeting_link, None);
    }

    #[rstest]
    #[case(Planned, Scheduled, true)]
    #[case(Scheduled, Completed, true)]
    #[case(Scheduled, NoShow, true)]
    #[case(Scheduled, Cancelled, true)]
    #[case(Planned, Cancelled, true)]
    #[case(NoShow, Scheduled, true)]
    #[case(Scheduled, Planned, true)]
    #[case(Planned, Completed, false)]
    #[case(Completed, Scheduled, false)]
    #[case(Cancelled, Planned, false)]
    #[case(NoShow, Completed, false)]
    fn transitions(#[case] from: OnboardingStatus, #[case] to: OnboardingStatus, #[case] ok: bool) {
        assert_eq!(
            check_onboarding_transition(from, to).is_ok(),
            ok,
            "{from:?} -> {to:?}"
        );
    }

    #[test]
    fn completion_and_the_account_flag() {
        assert!(check_completion(Scheduled, now(), now()).is_ok());
        assert_eq!(
            check_completion(Scheduled, now() + TimeDelta::seconds(1), now())
                .unwrap_err()
                .field,
            "status"
        );
        assert!(onboarding_done(&[Cancelled, Completed]));
        assert!(!onboarding_done(&[Scheduled]));
        assert!(needs_onboarding(Plan::ProfessionalSupport, &[]));
        assert!(
            needs_onboarding(Plan::ProfessionalSupport, &[Cancelled, NoShow]),
            "nothing on its way"
        );
        assert!(!needs_onboarding(Plan::ProfessionalSupport, &[Planned]));
        assert!(
            !needs_onboarding(Plan::Standard, &[]),
            "standard accounts get no onboarding"
        );
    }

    #[test]
    fn the_agenda_template_is_checked() {
        let t = normalize_agenda_template(&[
            " Intro ".into(),
            String::new(),
            "Intro".into(),
            "SLA".into(),
        ])
        .unwrap();
        assert_eq!(t, ["Intro", "SLA"]);
        assert_eq!(
            agenda_from_template(&t)[1],
            AgendaItem {
                title: "SLA".into(),
                done: false
            }
        );
        assert_eq!(
            normalize_agenda_template(&[" ".into()]).unwrap_err().field,
            "agenda_template"
        );
        assert!(
            normalize_agenda_template(&["x".repeat(300)]).is_err(),
            "an item is one short line"
        );
    }

    #[test]
    fn the_default_agenda_follows_the_package() {
        let titles: Vec<String> = default_agenda().into_iter().map(|a| a.title).collect();
        assert_eq!(titles.len(), 5);
        assert!(titles[0].contains("chat") && titles[0].contains("severity"));
        assert!(titles[1].contains("email") && titles[1].contains("\"urgent\""));
        assert_eq!(
            titles[2],
            "The response-time SLA, 24/7: P1 - Production system down (30 minutes); \
             P2 - Production system impaired (2 hours); P3 - Minor issue (12 hours); \
             P4 - General guidance (24 hours)"
        );
        assert!(titles[3].contains("Slack"));
        assert!(titles[4].contains("use case"));
        assert!(default_agenda().iter().all(|a| !a.done));
    }

    fn wire(v: serde_json::Value) -> crate::sync::Fields {
        match v {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_synced_session_is_normalised_and_bad_fields_are_named() {
        use crate::sync::{EntityKind, RejectCode, merge_fields};
        let base = serde_json::json!({
            "account_id": Uuid::from_u128(10),
            "facilitator_id": Uuid::from_u128(20),
            "attendee_ids": [ANA, ANA],
            "starts_at": "2026-12-01T08:00:00Z",
            "ends_at": "2026-12-01T09:00:00Z",
            "time_zone": " Australia/Sydney ",
            "meeting_link": " https://meet.jit.si/x ",
            "agenda": default_agenda(),
            "status": "scheduled",
        });
        let out = merge_fields(EntityKind::OnboardingSession, None, &wire(base.clone())).unwrap();
        assert_eq!(out["time_zone"], "Australia/Sydney", "zone canonical");
        assert_eq!(out["meeting_link"], "https://meet.jit.si/x");
        assert_eq!(
            out["attendee_ids"].as_array().unwrap().len(),
            1,
            "deduplicated"
        );
        assert_eq!(out["sequence"], 0, "defaults fill the rest");
        assert_eq!(out["account_id"], serde_json::json!(Uuid::from_u128(10)));
        let back: OnboardingSession = serde_json::from_value(serde_json::Value::Object({
            let mut m = out.clone();
            m.insert("id".into(), serde_json::json!(Uuid::from_u128(5)));
            m.insert(
                "created_at".into(),
                serde_json::json!("2026-11-26T12:00:00Z"),
            );
            m.insert(
                "updated_at".into(),
                serde_json::json!("2026-11-26T12:00:00Z"),
            );
            m
        }))
        .unwrap();
        assert_eq!(back.status, Scheduled, "the wire shape is the entity's");

        for (field, value, named) in [
            (
                "ends_at",
                serde_json::json!("2026-12-01T07:00:00Z"),
                "ends_at",
            ),
            (
                "meeting_link",
                serde_json::json!("http://meet.jit.si/x"),
                "meeting_link",
            ),
            ("time_zone", serde_json::json!("Mars/Base"), "time_zone"),
        ] {
            let mut bad = wire(base.clone());
            bad.insert(field.into(), value);
            let e = merge_fields(EntityKind::OnboardingSession, None, &bad).unwrap_err();
            assert_eq!(e.code, RejectCode::InvalidField);
            assert_eq!(e.field.as_deref(), Some(named), "{field} refused by name");
        }
        let mut missing = wire(base);
        missing.remove("starts_at");
        assert_eq!(
            merge_fields(EntityKind::OnboardingSession, None, &missing)
                .unwrap_err()
                .field
                .as_deref(),
            Some("starts_at")
        );
    }

    #[test]
    fn the_sequence_grows_only_with_what_attendees_see() {
        let s = OnboardingSession {
            id: Uuid::from_u128(5),
            account_id: Uuid::from_u128(10),
            facilitator_id: Uuid::from_u128(20),
            attendee_ids: vec![ANA],
            starts_at: now(),
            ends_at: now() + TimeDelta::hours(1),
            time_zone: "Australia/Sydney".into(),
            meeting_link: None,
            agenda: default_agenda(),
            status: Scheduled,
            outcome: String::new(),
            follow_ups: vec![],
            sequence: 0,
            created_at: now(),
            updated_at: now(),
        };
        let mut i = s.input();
        i.outcome = "done".into();
        assert_eq!(
            s.with_input(i.clone(), now()).sequence,
            0,
            "an outcome is not an update"
        );
        i.start += TimeDelta::hours(1);
        i.end += TimeDelta::hours(1);
        assert_eq!(s.with_input(i, now()).sequence, 1, "a move is");
    }
}
