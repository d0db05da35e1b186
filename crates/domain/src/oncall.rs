//! On call: who is paged at an instant and why, where nobody is ahead of time, and which
//! escalation pages are due for a request. Pure: `now` is a parameter, zones are IANA names.
//!
//! # Who is on call
//! 1. **Follow the sun.** Every support lead, and every member who opted in, whose own working
//!    hours cover the instant on their own wall clock, in the order the roster lists them.
//! 2. **Rotation.** Only when nobody's day covers the instant: the member of the rotation's
//!    current shift. Shift `k` (from 0) starts at the handoff time, on the rotation zone's
//!    wall clock, on `first_day + k` days (daily) or `first_day + 7k` days (weekly), and goes
//!    to member `k mod n`. Before the first handoff the rotation covers nothing.
//! 3. **Overrides.** An override puts `covering` on call instead of `covered` for `[start,
//!    end)`, wherever `covered` is on call by (1) or (2). Overrides do not chain (an override
//!    for someone who is on call only by another override does nothing). When several
//!    overrides for the same person are in force, the **latest created wins** (ties: the
//!    greater id). A person is listed once, at their first place.
//!
//! # The DST rule
//! Working hours are read instant by instant: an instant is covered when the member's wall
//! clock, at that instant, shows a working day and a time in `[start, end)`. UTC → local is
//! never ambiguous, so a local time **skipped** by a DST change covers nothing and a local time
//! **repeated** by one is covered both times it passes (a 09–17 day is 7 h or 9 h long then).
//!
//! A handoff is the **first instant at which the rotation zone's wall clock shows the handoff
//! date and time or later**: a repeated time hands off at its first pass, a skipped time at
//! the instant the clock jumps over it (Santiago's skipped midnight hands off at 01:00 -03).
//! Handoffs are placed on the wall clock, so a DST change never moves their local time: the
//! shift that spans the change is 23 h or 25 h long (23.5 h or 24.5 h on Lord Howe).
//!
//! # Escalation
//! [`EscalationPolicy`] holds, per severity, steps (who, after how many minutes without an
//! acknowledgement) that repeat every `repeat_minutes` until acknowledged, and who is paged
//! when the SLA clock turns *at risk* and *breached*. [`due_pages`] answers the pages due now
//! that were not sent; the caller records each page's [`PageKey`] before sending it.
//! - The escalation starts when the request first reached its current severity or worse
//!   (the `t_s` of [`crate::sla`]): raising the severity starts a new escalation.
//! - An acknowledgement at or after that start stops the escalation, not the SLA clock: the
//!   at-risk and breached pages still come while nobody has answered the customer. Moving
//!   the request on from `open` (to acknowledged or mitigated) counts as an acknowledgement.
//! - Nothing is paged once the first public response came or the request is resolved.
//! - A watcher that was down pages each step once, for its latest round, not once per
//!   round it missed; a clock found already breached pages `breached` only.

use chrono::offset::LocalResult;
use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::Plan;
use crate::request::{RequestEventKind, RequestHistory, RequestStatus, Severity};
use crate::schedule::Slot;
use crate::sla::{self, SlaState};
use crate::user::{Role, User, WorkingHours};
use crate::validation::{self, Checker, FieldError, ValidationErrors};

/// A staff member as the on-call rules see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: Uuid,
    pub role: Role,
    pub time_zone: Tz,
    pub hours: WorkingHours,
    /// Takes part in follow the sun without being a support lead.
    pub opted_in: bool,
}

impl Member {
    /// The member for `user`, whose zone and hours are checked again.
    pub fn from_user(user: &User, opted_in: bool) -> Result<Member, FieldError> {
        Ok(Member {
            user_id: user.id,
            role: user.role,
            time_zone: validation::time_zone("time_zone", &user.time_zone)?,
            hours: user.working_hours.check("working_hours")?,
            opted_in,
        })
    }

    /// Support leads follow the sun; anyone else when they opted in.
    pub fn follows_the_sun(&self) -> bool {
        self.role == Role::SupportLead || self.opted_in
    }

    /// The member's own working hours cover `at`, read on their own wall clock.
    pub fn working_at(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.time_zone);
        let minute = local.hour() * 60 + local.minute();
        self.hours.works_on(local.weekday())
            && u32::from(self.hours.start_minute) <= minute
            && minute < u32::from(self.hours.end_minute)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationPeriod {
    Daily,
    Weekly,
}

impl RotationPeriod {
    pub fn days(self) -> i64 {
        match self {
            RotationPeriod::Daily => 1,
            RotationPeriod::Weekly => 7,
        }
    }
}

/// The rotation that covers the hours nobody's day covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub id: Uuid,
    /// In turn order; the first takes the first shift.
    pub members: Vec<Uuid>,
    /// The zone whose wall clock the handoff time is read on.
    pub time_zone: Tz,
    /// Minutes after local midnight, `0..1440` (0: local midnight).
    pub handoff_minute: u16,
    pub period: RotationPeriod,
    /// The local date of the first handoff (for weekly rotations also the handoff weekday).
    pub first_day: NaiveDate,
}

/// One shift of a rotation: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    pub index: i64,
    pub user_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Rotation {
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        if self.members.is_empty() {
            c.push(FieldError::new(
                "rotation.members",
                "at least one member is needed",
            ));
        }
        if self.handoff_minute >= 24 * 60 {
            c.push(FieldError::new(
                "rotation.handoff_minute",
                "the handoff time must be from 00:00 to 23:59",
            ));
        }
        c.finish()
    }

    /// The instant of the `k`-th handoff (see the DST rule in the module doc).
    pub fn handoff(&self, k: i64) -> DateTime<Utc> {
        let date = self.first_day + TimeDelta::days(k * self.period.days());
        let local = date
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists on a naive date")
            + TimeDelta::minutes(i64::from(self.handoff_minute));
        first_instant_showing(self.time_zone, local)
    }

    /// The shift in force at `at`, or `None` before the first handoff (or without members).
    pub fn shift_at(&self, at: DateTime<Utc>) -> Option<Shift> {
        if self.members.is_empty() {
            return None;
        }
        let local_date = at.with_timezone(&self.time_zone).date_naive();
        let mut k = (local_date - self.first_day)
            .num_days()
            .div_euclid(self.period.days())
            + 1;
        while k >= 0 && self.handoff(k) > at {
            k -= 1;
        }
        (k >= 0).then(|| self.shift(k))
    }

    /// The `k`-th shift.
    pub fn shift(&self, k: i64) -> Shift {
        let n = i64::try_from(self.members.len()).unwrap_or(i64::MAX);
        let who = usize::try_from(k.rem_euclid(n)).unwrap_or(0);
        Shift {
            index: k,
            user_id: self.members[who],
            start: self.handoff(k),
            end: self.handoff(k + 1),
        }
    }

    /// Every shift that starts in `[from, to)`: the next handoffs, for the on-call screen.
    pub fn handoffs(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Shift> {
        if self.members.is_empty() {
            return Vec::new();
        }
        let mut k = self.shift_at(from).map_or(0, |s| s.index + 1);
        let mut out = Vec::new();
        if k > 0 && self.handoff(k - 1) == from {
            k -= 1;
        }
        while self.handoff(k) < to {
            if self.handoff(k) >= from {
                out.push(self.shift(k));
            }
            k += 1;
        }
        out
    }
}

/// The first instant at which `tz`'s wall clock shows `local` or later: the earlier pass of a
/// repeated time, the end of the jump for a skipped one.
pub fn first_instant_showing(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // Skipped: the first wall-clock minute that exists after it is where the clock
            // landed, and its first instant is the change itself. No zone skips two days.
            (1..=2 * 24 * 60)
                .find_map(|m| {
                    tz.from_local_datetime(&(local + TimeDelta::minutes(m)))
                        .earliest()
                })
                .expect("no time zone skips more than two days")
                .with_timezone(&Utc)
        }
    }
}

/// One person covers a window for another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub id: Uuid,
    pub covering: Uuid,
    pub covered: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Decides between overlapping overrides: the latest created wins.
    pub created_at: DateTime<Utc>,
}

impl Override {
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        if self.covering == self.covered {
            c.push(FieldError::new("covering", "someone else must cover"));
        }
        if self.start >= self.end {
            c.push(FieldError::new(
                "end",
                "the override must end after it starts",
            ));
        }
        c.finish()
    }

    pub fn in_force(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }
}

/// Everything who is on call depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    /// In the order the on-call list shows them (follow the sun keeps this order).
    pub members: Vec<Member>,
    pub rotation: Option<Rotation>,
    pub overrides: Vec<Override>,
}

impl Roster {
    /// Every refused field of the rotation and the overrides (`overrides[2].end`, ...).
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        if let Some(Err(e)) = self.rotation.as_ref().map(Rotation::check) {
            e.0.into_iter().for_each(|f| c.push(f));
        }
        for (i, o) in self.overrides.iter().enumerate() {
            if let Err(e) = o.check() {
                for f in e.0 {
                    c.push(FieldError::new(
                        format!("overrides[{i}].{}", f.field),
                        f.reason,
                    ));
                }
            }
        }
        c.finish()
    }
}

/// Why someone is on call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum OnCallReason {
    /// Their own working hours cover the instant.
    FollowTheSun,
    /// Nobody's day covers the instant; it is their shift.
    Rotation { rotation_id: Uuid, shift: i64 },
    /// They cover for `covering_for`.
    Override {
        override_id: Uuid,
        covering_for: Uuid,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnCall {
    pub user_id: Uuid,
    pub reason: OnCallReason,
}

/// The people on call at `now`, in order, and why (see the module doc for the rules).
pub fn who_is_on_call(now: DateTime<Utc>, roster: &Roster) -> Vec<OnCall> {
    let mut base: Vec<OnCall> = roster
        .members
        .iter()
        .filter(|m| m.follows_the_sun() && m.working_at(now))
        .map(|m| OnCall {
            user_id: m.user_id,
            reason: OnCallReason::FollowTheSun,
        })
        .collect();
    if base.is_empty()
        && let Some(r) = &roster.rotation
        && let Some(shift) = r.shift_at(now)
    {
        base.push(OnCall {
            user_id: shift.user_id,
            reason: OnCallReason::Rotation {
                rotation_id: r.id,
                shift: shift.index,
            },
        });
    }
    let mut in_force: Vec<&Override> = roster
        .overrides
        .iter()
        .filter(|o| o.in_force(now))
        .collect();
    // Latest created first: the first match wins.
    in_force.sort_by_key(|o| std::cmp::Reverse((o.created_at, o.id)));
    let mut out: Vec<OnCall> = Vec::with_capacity(base.len());
    for entry in base {
        let entry = in_force
            .iter()
            .find(|o| o.covered == entry.user_id)
            .map_or(entry, |o| OnCall {
                user_id: o.covering,
                reason: OnCallReason::Override {
                    override_id: o.id,
                    covering_for: o.covered,
                },
            });
        if !out.iter().any(|e| e.user_id == entry.user_id) {
            out.push(entry);
        }
    }
    out
}

/// The windows of `[from, to)` where nobody is on call, earliest first, each maximal.
///
/// The answer of [`who_is_on_call`] changes only where a wall clock of a follow-the-sun
/// member shows the start or end of their day, where their zone's offset changes, at a
/// handoff, or where an override starts or ends: it is asked once at each of those instants.
pub fn gaps(from: DateTime<Utc>, to: DateTime<Utc>, roster: &Roster) -> Vec<Slot> {
    if from >= to {
        return Vec::new();
    }
    let mut points = vec![from];
    for m in roster.members.iter().filter(|m| m.follows_the_sun()) {
        let tz = m.time_zone;
        let first = from.with_timezone(&tz).date_naive() - TimeDelta::days(1);
        let last = to.with_timezone(&tz).date_naive() + TimeDelta::days(1);
        let mut day = first;
        while day <= last {
            let midnight = day
                .and_hms_opt(0, 0, 0)
                .expect("midnight exists on a naive date");
            for minute in [m.hours.start_minute, m.hours.end_minute] {
                let local = midnight + TimeDelta::minutes(i64::from(minute));
                match tz.from_local_datetime(&local) {
                    LocalResult::Single(t) => points.push(t.with_timezone(&Utc)),
                    LocalResult::Ambiguous(a, b) => {
                        points.push(a.with_timezone(&Utc));
                        points.push(b.with_timezone(&Utc));
                    }
                    LocalResult::None => {}
                }
            }
            day += TimeDelta::days(1);
        }
        points.extend(offset_changes(tz, from, to));
    }
    if let Some(r) = &roster.rotation {
        points.extend(r.handoffs(from, to).into_iter().map(|s| s.start));
    }
    for o in &roster.overrides {
        points.push(o.start);
        points.push(o.end);
    }
    points.retain(|p| from <= *p && *p < to);
    points.sort_unstable();
    points.dedup();

    let mut out: Vec<Slot> = Vec::new();
    for (i, start) in points.iter().enumerate() {
        let end = points.get(i + 1).copied().unwrap_or(to);
        if !who_is_on_call(*start, roster).is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.end == *start => last.end = end,
            _ => out.push(Slot::new(*start, end)),
        }
    }
    out
}

/// The instants in `[from, to)` where `tz`'s UTC offset changes (to the second).
fn offset_changes(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let offset_at = |t: DateTime<Utc>| t.with_timezone(&tz).offset().fix().local_minus_utc();
    let mut out = Vec::new();
    let mut lo = from;
    while lo < to {
        let hi = (lo + TimeDelta::hours(1)).min(to);
        if offset_at(lo) != offset_at(hi) {
            // Bisect for the first second with the later offset.
            let (mut a, mut b) = (lo, hi);
            let later = offset_at(hi);
            while b - a > TimeDelta::seconds(1) {
                let mid = a + (b - a) / 2;
                if offset_at(mid) == later {
                    b = mid;
                } else {
                    a = mid;
                }
            }
            out.push(b);
        }
        lo = hi;
    }
    out
}

// ---------------------------------------------------------------------------------------
// Escalation
// ---------------------------------------------------------------------------------------

/// Who a page goes to; the server resolves each to people at sending time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PageTarget {
    /// Everyone [`who_is_on_call`] lists at that instant.
    OnCall,
    SupportLeads,
    Admins,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EscalationStep {
    pub target: PageTarget,
    /// Minutes after the escalation starts (of each round) without an acknowledgement.
    pub after_minutes: u32,
}

/// How one severity is paged. No steps and no SLA pages: in the app only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeverityPolicy {
    pub steps: Vec<EscalationStep>,
    /// The steps start again this many minutes after each round started; `None`: once.
    pub repeat_minutes: Option<u32>,
    /// Paged when the SLA clock turns at risk with no first response.
    pub at_risk: Vec<PageTarget>,
    /// Paged when the SLA clock is breached with no first response.
    pub breached: Vec<PageTarget>,
}

impl SeverityPolicy {
    /// The on-call person at once, every support lead after `leads`, the admins after
    /// `admins` minutes, again every `admins + (admins - leads)` minutes.
    fn paging(leads: u32, admins: u32) -> Self {
        SeverityPolicy {
            steps: vec![
                EscalationStep {
                    target: PageTarget::OnCall,
                    after_minutes: 0,
                },
                EscalationStep {
                    target: PageTarget::SupportLeads,
                    after_minutes: leads,
                },
                EscalationStep {
                    target: PageTarget::Admins,
                    after_minutes: admins,
                },
            ],
            repeat_minutes: Some(admins + (admins - leads)),
            at_risk: vec![PageTarget::OnCall],
            breached: vec![PageTarget::OnCall, PageTarget::SupportLeads],
        }
    }

    fn in_app_only() -> Self {
        SeverityPolicy {
            steps: Vec::new(),
            repeat_minutes: None,
            at_risk: Vec::new(),
            breached: Vec::new(),
        }
    }

    fn check(&self, prefix: &str, c: &mut Checker) {
        let mut previous = 0;
        for (i, s) in self.steps.iter().enumerate() {
            if s.after_minutes > 7 * 24 * 60 {
                c.push(FieldError::new(
                    format!("{prefix}.steps[{i}].after_minutes"),
                    "must be at most 7 days",
                ));
            } else if s.after_minutes < previous {
                c.push(FieldError::new(
                    format!("{prefix}.steps[{i}].after_minutes"),
                    "must not come before the step above it",
                ));
            }
            previous = previous.max(s.after_minutes);
        }
        match self.repeat_minutes {
            Some(_) if self.steps.is_empty() => c.push(FieldError::new(
                format!("{prefix}.repeat_minutes"),
                "only steps can repeat: add a step or turn repeating off",
            )),
            Some(r) if r <= previous || r > 7 * 24 * 60 => c.push(FieldError::new(
                format!("{prefix}.repeat_minutes"),
                "must be after the last step and at most 7 days",
            )),
            _ => {}
        }
    }
}

/// The escalation policy, per severity; admins edit it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EscalationPolicy {
    pub p1: SeverityPolicy,
    pub p2: SeverityPolicy,
    pub p3: SeverityPolicy,
    pub p4: SeverityPolicy,
}

impl Default for EscalationPolicy {
    /// As PRODUCT.md decides: P1 0/5/10 minutes, P2 0/15/30, repeating until acknowledged;
    /// P3/P4 in the app only. Decided where it is silent: a round repeats one step's spacing
    /// after its last step (P1 every 15 minutes, P2 every 45); at risk pages the on-call
    /// person, breached also every support lead.
    fn default() -> Self {
        EscalationPolicy {
            p1: SeverityPolicy::paging(5, 10),
            p2: SeverityPolicy::paging(15, 30),
            p3: SeverityPolicy::in_app_only(),
            p4: SeverityPolicy::in_app_only(),
        }
    }
}

impl EscalationPolicy {
    pub fn for_severity(&self, severity: Severity) -> &SeverityPolicy {
        match severity {
            Severity::P1 => &self.p1,
            Severity::P2 => &self.p2,
            Severity::P3 => &self.p3,
            Severity::P4 => &self.p4,
        }
    }

    /// Every refused field, named like `p1.steps[2].after_minutes`.
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        for s in Severity::ALL {
            self.for_severity(s).check(s.as_str(), &mut c);
        }
        c.finish()
    }
}

/// Which page of a request: the caller stores it with the request's id before sending, so
/// each is sent once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PageKey {
    Escalation {
        severity: Severity,
        round: u32,
        step: u32,
    },
    AtRisk {
        severity: Severity,
    },
    Breached {
        severity: Severity,
    },
}

impl PageKey {
    /// A stable text form for a unique key column: `escalation:p1:0:2`, `at_risk:p2`.
    pub fn dedupe_key(&self) -> String {
        match self {
            PageKey::Escalation {
                severity,
                round,
                step,
            } => format!("escalation:{}:{round}:{step}", severity.as_str()),
            PageKey::AtRisk { severity } => format!("at_risk:{}", severity.as_str()),
            PageKey::Breached { severity } => format!("breached:{}", severity.as_str()),
        }
    }
}

/// A page to send now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuePage {
    pub key: PageKey,
    pub targets: Vec<PageTarget>,
    /// When it became due (earlier than `now` when the watcher is late).
    pub due_at: DateTime<Utc>,
}

/// What the pages of one request depend on besides acknowledgements.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    pub history: &'a RequestHistory,
    pub plan: Plan,
}

/// The pages of a request that are due at `now` and not among `sent` (see the module doc).
/// `acks` are the instants the request was acknowledged.
pub fn due_pages(
    policy: &EscalationPolicy,
    request: RequestFacts<'_>,
    acks: &[DateTime<Utc>],
    sent: &[PageKey],
    now: DateTime<Utc>,
) -> Vec<DuePage> {
    let summary = request.history.summary();
    let clock = sla::clock(request.history, request.plan, now);
    if !summary.status.is_active() || clock.stopped_at.is_some() {
        return Vec::new();
    }
    let severity = clock.severity;
    let sp = policy.for_severity(severity);
    let start = escalation_start(request.history, severity);
    let mut due = Vec::new();
    if !acknowledged(request.history, severity, acks, now) {
        for (i, step) in sp.steps.iter().enumerate() {
            let first = start + TimeDelta::minutes(i64::from(step.after_minutes));
            if now < first {
                continue;
            }
            let (round, at) = match sp.repeat_minutes {
                Some(every) if every > 0 => {
                    let every = TimeDelta::minutes(i64::from(every));
                    let n = (now - first).num_seconds() / every.num_seconds();
                    (n, first + every * i32::try_from(n).unwrap_or(i32::MAX))
                }
                _ => (0, first),
            };
            let key = PageKey::Escalation {
                severity,
                round: u32::try_from(round).unwrap_or(u32::MAX),
                step: u32::try_from(i).unwrap_or(u32::MAX),
            };
            if !sent.contains(&key) {
                due.push(DuePage {
                    key,
                    targets: vec![step.target],
                    due_at: at,
                });
            }
        }
    }
    let (Some(state), Some(due_at)) = (clock.state, clock.due_at) else {
        return due;
    };
    let sla_page = match state {
        SlaState::AtRisk => Some((
            PageKey::AtRisk { severity },
            &sp.at_risk,
            due_at - sla::at_risk_window(severity),
        )),
        SlaState::Breached => Some((PageKey::Breached { severity }, &sp.breached, due_at)),
        _ => None,
    };
    if let Some((key, targets, at)) = sla_page
        && !targets.is_empty()
        && !sent.contains(&key)
    {
        due.push(DuePage {
            key,
            targets: targets.clone(),
            due_at: at,
        });
    }
    due
}

/// Whether the escalation of a request at `severity` is acknowledged at `now`: by an
/// acknowledgement in `acks`, or by a move on from `open` on its timeline, at or after the
/// escalation started (so raising the severity asks for a new acknowledgement).
pub fn acknowledged(
    history: &RequestHistory,
    severity: Severity,
    acks: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> bool {
    let start = escalation_start(history, severity);
    let on_timeline = history.events().iter().filter_map(|e| match e.kind {
        RequestEventKind::StatusChanged { to, .. } if to != RequestStatus::Open => Some(e.at),
        _ => None,
    });
    acks.iter()
        .copied()
        .chain(on_timeline)
        .any(|a| start <= a && a <= now)
}

/// Whether a request's pages wait for an acknowledgement at `now`: it is active, nobody has
/// answered the customer yet, and its escalation is not [`acknowledged`]. What the desktops
/// list as an unacknowledged page (once a page went out for it).
pub fn awaiting_ack(request: RequestFacts<'_>, acks: &[DateTime<Utc>], now: DateTime<Utc>) -> bool {
    let clock = sla::clock(request.history, request.plan, now);
    request.history.summary().status.is_active()
        && clock.stopped_at.is_none()
        && !acknowledged(request.history, clock.severity, acks, now)
}

/// The first moment the request was at `severity` or worse.
fn escalation_start(history: &RequestHistory, severity: Severity) -> DateTime<Utc> {
    history
        .severity_steps()
        .into_iter()
        .find(|(_, s)| s.at_least(severity))
        .map_or_else(|| history.opened_at(), |(at, _)| at)
}

#[cfg(test)]
mod tests;
