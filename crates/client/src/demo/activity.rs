//! The demo's activity: what a support team's week holds, placed relative to `now`.
//!
//! - Open requests of every severity in every SLA clock state (on track, at risk,
//!   breached, met, missed), among them a P1 raised from P3 with its incident call
//!   launched, an urgent email awaiting triage, and one request on a standard-plan
//!   account (no SLA: elapsed time only). The open clocks are placed so that each state
//!   holds for at least fifteen minutes after the load.
//! - Resolved P1/P2 incidents with their root-cause analyses in draft, in review and
//!   published, and one resolved P2 still waiting for its RCA.
//! - Resolved P3/P4 requests over the last four months (met or missed), so the health
//!   score's SLA part has a history.
//! - Onboarding sessions in every column of the board: scheduled today and on the other
//!   days of this week (completed once past), next week, planned, cancelled, no-show and
//!   long completed; a few Professional Support accounts have none (they need onboarding).
//! - Quarterly reviews: completed in earlier quarters (with the CSM's sentiment), and this
//!   quarter requested, scheduled, completed or not yet requested. Two of the profile's
//!   accounts run a fiscal year that started this month and missed the review of the
//!   quarter that just ended: overdue on Today.
//!
//! Everything is generated from the seed and `now` alone; [`super::Store::load_demo`]
//! writes it with the row writers (no outbox) and then derives the health history from it
//! ([`inputs_at`]).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rapport_domain::health::HealthInputs;
use rapport_domain::links::jitsi_room_url;
use rapport_domain::onboarding::{OnboardingSession, OnboardingStatus, default_agenda};
use rapport_domain::quarter::{Quarter, quarter_of};
use rapport_domain::rca::{RcaState, prefill};
use rapport_domain::request::{
    Actor, Channel, RequestEvent, RequestEventKind, RequestHistory, RequestStatus, Severity,
    Visibility,
};
use rapport_domain::review::{
    ActionItem, ActionStatus, QuarterKey, Review, ReviewState, default_checklist, review_id,
};
use rapport_domain::{Plan, Role, User};
use uuid::Uuid;

use super::{DemoAccount, SplitMix64};
use crate::rca::RcaRecord;
use crate::requests::{EventRecord, RequestRecord};

/// The generated activity, in the shapes the row writers take.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Activity {
    pub requests: Vec<RequestRecord>,
    pub events: Vec<EventRecord>,
    pub rcas: Vec<RcaRecord>,
    pub sessions: Vec<OnboardingSession>,
    pub reviews: Vec<Review>,
}

/// A step of a request's story, `minutes` after it opened.
enum Step {
    Respond(&'static str),
    Note(&'static str),
    Status(RequestStatus),
    Severity(Severity),
    Triage(Severity),
    Call,
}

struct Story {
    severity: Severity,
    channel: Channel,
    needs_triage: bool,
    title: &'static str,
    /// Minutes before `now` it opened.
    opened_minutes_ago: i64,
    steps: Vec<(i64, Step)>,
}

fn open_stories() -> Vec<Story> {
    use Step::{Call, Note, Respond, Severity as Sev, Status, Triage};
    let s = |severity, channel, needs_triage, title, opened_minutes_ago, steps| Story {
        severity,
        channel,
        needs_triage,
        title,
        opened_minutes_ago,
        steps,
    };
    vec![
        // P1 on track: raised from P3 six minutes ago (due 30 min after the raise), call on.
        s(
            Severity::P3,
            Channel::Chat,
            false,
            "Checkout API returns 502 for every order",
            42,
            vec![
                (
                    30,
                    Note("Error rate climbing in eu-west; looks wider than one tenant."),
                ),
                (36, Sev(Severity::P1)),
                (37, Status(RequestStatus::Acknowledged)),
                (39, Call),
            ],
        ),
        // P2 on track.
        s(
            Severity::P2,
            Channel::Chat,
            false,
            "Webhooks delayed by 20 minutes",
            35,
            vec![(10, Status(RequestStatus::Acknowledged))],
        ),
        // P2 at risk: 20 of 120 minutes left.
        s(
            Severity::P2,
            Channel::Chat,
            false,
            "SSO login loops back to the sign-in page",
            100,
            vec![(
                25,
                Note("Reproduced with their Okta tenant; checking SAML clock skew."),
            )],
        ),
        // Urgent email awaiting triage: P1 clock, on track.
        s(
            Severity::P1,
            Channel::Email,
            true,
            "URGENT: payment exports stopped overnight",
            4,
            vec![],
        ),
        // P2 breached.
        s(
            Severity::P2,
            Channel::Chat,
            false,
            "Dashboard charts empty since the last deploy",
            190,
            vec![(50, Note("Waiting for the customer's HAR file."))],
        ),
        // P1 met, mitigated.
        s(
            Severity::P1,
            Channel::Chat,
            false,
            "Mobile app cannot sync orders",
            95,
            vec![
                (
                    12,
                    Respond("We are on it: the incident call is open, joining now."),
                ),
                (13, Status(RequestStatus::Acknowledged)),
                (14, Call),
                (70, Status(RequestStatus::Mitigated)),
            ],
        ),
        // P2 missed.
        s(
            Severity::P2,
            Channel::Email,
            false,
            "Invoices generated twice for November",
            370,
            vec![
                (20, Triage(Severity::P2)),
                (
                    155,
                    Respond("Confirmed: a retry duplicated the batch. Fix in progress."),
                ),
                (156, Status(RequestStatus::Acknowledged)),
            ],
        ),
        // P3 on track (email, needs triage).
        s(
            Severity::P3,
            Channel::Email,
            true,
            "Question about the audit log retention",
            130,
            vec![],
        ),
        // P3 at risk: 90 of 720 minutes left.
        s(
            Severity::P3,
            Channel::Chat,
            false,
            "CSV import rejects dates in DD.MM.YYYY",
            630,
            vec![],
        ),
        // P3 missed.
        s(
            Severity::P3,
            Channel::Chat,
            false,
            "Search results miss archived projects",
            1000,
            vec![
                (
                    790,
                    Respond("Archived projects are excluded by default; here is the filter."),
                ),
                (791, Status(RequestStatus::Acknowledged)),
            ],
        ),
        // P4 on track.
        s(
            Severity::P4,
            Channel::Chat,
            false,
            "How do we rotate the API key without downtime?",
            180,
            vec![],
        ),
        // P4 met.
        s(
            Severity::P4,
            Channel::Email,
            false,
            "Best practice for sandbox environments",
            300,
            vec![
                (40, Triage(Severity::P4)),
                (
                    60,
                    Respond("Sharing our sandbox guide; happy to walk through it."),
                ),
                (61, Status(RequestStatus::Acknowledged)),
            ],
        ),
        // P4 breached.
        s(
            Severity::P4,
            Channel::Chat,
            false,
            "Can we get a usage report per team?",
            1620,
            vec![],
        ),
    ]
}

/// Resolved incidents and the RCA state each has (`None`: no RCA yet).
fn resolved_stories() -> Vec<(Story, Option<RcaState>)> {
    use Step::{Call, Respond, Status};
    let resolved = |title, severity, opened_minutes_ago, respond_after: i64| Story {
        severity,
        channel: Channel::Chat,
        needs_triage: false,
        title,
        opened_minutes_ago,
        steps: vec![
            (
                respond_after,
                Respond("Incident confirmed; the call is open."),
            ),
            (respond_after + 1, Status(RequestStatus::Acknowledged)),
            (respond_after + 2, Call),
            (respond_after + 90, Status(RequestStatus::Mitigated)),
            (respond_after + 240, Status(RequestStatus::Resolved)),
        ],
    };
    vec![
        (
            resolved(
                "Orders stuck in 'pending' after failover",
                Severity::P1,
                3 * 1440 + 300,
                11,
            ),
            Some(RcaState::Draft),
        ),
        (
            resolved(
                "Report exports time out for large accounts",
                Severity::P2,
                9 * 1440,
                55,
            ),
            Some(RcaState::InReview),
        ),
        (
            resolved("Full outage of the EU region", Severity::P1, 21 * 1440, 41),
            Some(RcaState::Published),
        ),
        (
            resolved(
                "Single sign-on down for one identity provider",
                Severity::P2,
                2 * 1440,
                35,
            ),
            None,
        ),
    ]
}

const HISTORY_TITLES: &[&str] = &[
    "Rate limit reached on the reporting API",
    "Email notifications land in spam",
    "Timezone of scheduled exports is off by one hour",
    "User provisioning via SCIM skips groups",
    "Slow page loads on the projects list",
    "Attachment previews do not render",
    "Question about data residency",
    "Where to find the changelog for API v3",
];

/// Generates the activity for `accounts` (the profile is `me`).
pub(crate) fn generate(
    seed: u64,
    now: DateTime<Utc>,
    users: &[User],
    me: &User,
    accounts: &mut [DemoAccount],
) -> Activity {
    let mut g = Gen {
        r: SplitMix64::new(seed ^ 0xAC71_7177_DE30_0001),
        now,
        users,
        me,
        lead: users
            .iter()
            .find(|u| u.role == Role::SupportLead)
            .unwrap_or(me),
        out: Activity::default(),
    };
    let ps: Vec<usize> = (0..accounts.len())
        .filter(|&i| accounts[i].account.plan == Plan::ProfessionalSupport)
        .collect();
    if ps.len() < 12 {
        return g.out;
    }
    let mine: Vec<usize> = ps
        .iter()
        .copied()
        .filter(|&i| accounts[i].account.owner_csm_id == Some(me.id))
        .collect();
    // Two of my accounts whose fiscal year starts this month: the quarter that just ended
    // had no review.
    let overdue: Vec<usize> = mine.iter().rev().take(2).copied().collect();
    for &i in &overdue {
        let tz = zone(&accounts[i].account.time_zone);
        let month = now.with_timezone(&tz).month();
        accounts[i].account.fiscal_year_start_month = u8::try_from(month).unwrap_or(1);
    }

    // Requests: open ones spread over the Professional Support accounts.
    for (k, story) in open_stories().into_iter().enumerate() {
        let a = &accounts[ps[(k * 5 + 1) % ps.len()]];
        g.request(a, &story);
    }
    if let Some(standard) = accounts.iter().find(|a| a.account.plan == Plan::Standard) {
        let story = Story {
            severity: Severity::P3,
            channel: Channel::Chat,
            needs_triage: false,
            title: "Password reset emails arrive late",
            opened_minutes_ago: 240,
            steps: vec![],
        };
        g.request(standard, &story);
    }
    for (k, (story, rca)) in resolved_stories().into_iter().enumerate() {
        let a = &accounts[ps[(k * 7 + 3) % ps.len()]];
        if let (Some((id, history)), Some(state)) = (g.request(a, &story), rca) {
            g.rca(a, id, &history, state);
        }
    }
    for &i in &ps {
        for _ in 0..g.r.below(4) {
            g.past_request(&accounts[i]);
        }
    }

    // Onboarding.
    g.sessions(accounts, &ps);

    // Reviews.
    for (k, &i) in ps.iter().enumerate() {
        g.reviews(&accounts[i], k, overdue.contains(&i));
    }
    g.out
}

struct Gen<'a> {
    r: SplitMix64,
    now: DateTime<Utc>,
    users: &'a [User],
    me: &'a User,
    lead: &'a User,
    out: Activity,
}

impl Gen<'_> {
    fn minutes(&mut self, from: i64, to: i64) -> i64 {
        from + i64::try_from(self.r.below(usize::try_from(to - from).unwrap_or(1).max(1)))
            .unwrap_or(0)
    }

    /// A Jitsi room from the PRNG.
    fn room(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.r.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.r.next_u64().to_le_bytes());
        jitsi_room_url(bytes)
    }

    /// Writes a request with its events; returns its id and history.
    fn request(&mut self, a: &DemoAccount, story: &Story) -> Option<(Uuid, RequestHistory)> {
        let opened = self.now - Duration::minutes(story.opened_minutes_ago);
        let id = self.r.uuid(opened);
        let contact = a.contacts.first().map(|c| c.id);
        let customer = Actor::Customer {
            contact_id: contact,
        };
        let lead = Actor::Staff {
            user_id: self.lead.id,
        };
        let mut events = vec![RequestEvent {
            id: self.r.uuid(opened),
            at: opened,
            actor: customer,
            kind: RequestEventKind::Opened {
                severity: story.severity,
                channel: story.channel,
                needs_triage: story.needs_triage,
                title: story.title.to_owned(),
            },
        }];
        let mut status = RequestStatus::Open;
        let mut severity = story.severity;
        let call = self.room();
        for (minutes, step) in &story.steps {
            let at = opened + Duration::minutes(*minutes);
            let kind = match step {
                Step::Respond(text) => RequestEventKind::Response {
                    visibility: Visibility::Public,
                    text: (*text).to_owned(),
                },
                Step::Note(text) => RequestEventKind::Response {
                    visibility: Visibility::Internal,
                    text: (*text).to_owned(),
                },
                Step::Status(to) => {
                    let from = status;
                    status = *to;
                    RequestEventKind::StatusChanged { from, to: *to }
                }
                Step::Severity(to) => {
                    let from = severity;
                    severity = *to;
                    RequestEventKind::SeverityChanged { from, to: *to }
                }
                Step::Triage(to) => {
                    severity = *to;
                    RequestEventKind::TriageConfirmed { severity: *to }
                }
                Step::Call => RequestEventKind::CallLaunched { link: call.clone() },
            };
            events.push(RequestEvent {
                id: self.r.uuid(at),
                at,
                actor: lead,
                kind,
            });
        }
        // Every story starts with its one `Opened` event, so this always holds.
        let Ok(history) = RequestHistory::new(events.clone()) else {
            return None;
        };
        let s = history.summary();
        let domain = a
            .account
            .support_email_domains
            .first()
            .cloned()
            .unwrap_or_default();
        self.out.requests.push(RequestRecord {
            id,
            account_id: a.account.id,
            contact_id: contact,
            title: s.title.clone(),
            channel: s.channel,
            opened_at: s.opened_at,
            opened_by: None,
            severity: s.severity,
            needs_triage: s.needs_triage,
            status: s.status,
            thread_keys: if story.channel == Channel::Email {
                vec![format!("{}@mail.{domain}", id.simple())]
            } else {
                Vec::new()
            },
            meeting_link: s.call_link.clone(),
            assignee_id: None,
        });
        for e in events {
            self.out.events.push(EventRecord {
                id: e.id,
                account_id: a.account.id,
                request_id: id,
                at: e.at,
                by: e.actor,
                kind: e.kind,
            });
        }
        Some((id, history))
    }

    /// A resolved, closed P3/P4 of the last four months, answered in time or late.
    fn past_request(&mut self, a: &DemoAccount) {
        let severity = if self.r.chance(50) {
            Severity::P3
        } else {
            Severity::P4
        };
        let target = sla_minutes(severity);
        let respond = if self.r.chance(75) {
            self.minutes(target / 10, target * 9 / 10)
        } else {
            self.minutes(target + 10, target * 2)
        };
        let story = Story {
            severity,
            channel: if self.r.chance(50) {
                Channel::Chat
            } else {
                Channel::Email
            },
            needs_triage: false,
            title: HISTORY_TITLES[self.r.below(HISTORY_TITLES.len())],
            opened_minutes_ago: self.minutes(3 * 1440, 120 * 1440),
            steps: vec![
                (
                    respond,
                    Step::Respond("Thanks for the report: here is what we found."),
                ),
                (respond + 1, Step::Status(RequestStatus::Acknowledged)),
                (respond + 600, Step::Status(RequestStatus::Resolved)),
                (respond + 2000, Step::Status(RequestStatus::Closed)),
            ],
        };
        self.request(a, &story);
    }

    fn rca(
        &mut self,
        a: &DemoAccount,
        request_id: Uuid,
        history: &RequestHistory,
        state: RcaState,
    ) {
        let names = |actor: &Actor| match actor {
            Actor::Staff { user_id } => self
                .users
                .iter()
                .find(|u| u.id == *user_id)
                .map_or_else(|| "A colleague".to_owned(), |u| u.name.clone()),
            Actor::Customer {
                contact_id: Some(c),
            } => a.contacts.iter().find(|x| x.id == *c).map_or_else(
                || "Customer".to_owned(),
                |x| format!("{} (customer)", x.name),
            ),
            Actor::Customer { contact_id: None } => "Customer".to_owned(),
            Actor::System => "Rapport".to_owned(),
        };
        let resolved = history.summary().resolved_at.unwrap_or(self.now);
        let written = resolved + Duration::hours(20);
        let mut draft = prefill(request_id, history, a.account.plan, written, names);
        draft.impact.affected = format!("All users of {}", a.account.name);
        if state != RcaState::Draft {
            draft.summary = format!(
                "{} could not use the service while a failover left the order queue paused.",
                a.account.name
            );
            draft.root_cause = "A configuration change disabled the queue consumer's health \
                                check, so the failover kept the paused consumer."
                .to_owned();
            draft.contributing_factors =
                "No alert on queue depth; the runbook predates the new region.".to_owned();
            draft.resolution =
                "Consumer restarted, health check restored, backlog drained in 40 minutes."
                    .to_owned();
            let due = written.date_naive() + Duration::days(14);
            draft.action_items = vec![
                ActionItem {
                    id: self.r.uuid(written),
                    title: "Alert on queue depth above 1,000 messages".to_owned(),
                    owner: self.lead.name.clone(),
                    due,
                    status: if state == RcaState::Published {
                        ActionStatus::Done
                    } else {
                        ActionStatus::InProgress
                    },
                },
                ActionItem {
                    id: self.r.uuid(written),
                    title: "Update the failover runbook".to_owned(),
                    owner: self.me.name.clone(),
                    due: due + Duration::days(7),
                    status: ActionStatus::Open,
                },
            ];
        }
        self.out.rcas.push(RcaRecord::of(
            self.r.uuid(written),
            a.account.id,
            state,
            draft,
            written.min(self.now),
        ));
    }

    fn session(
        &mut self,
        a: &DemoAccount,
        facilitator: &User,
        start: DateTime<Utc>,
        status: OnboardingStatus,
    ) {
        let created_at = (start - Duration::days(10)).min(self.now - Duration::hours(1));
        let mut agenda = default_agenda();
        if status == OnboardingStatus::Completed {
            for item in &mut agenda {
                item.done = true;
            }
        }
        let link = self.room();
        let (outcome, follow_ups) = if status == OnboardingStatus::Completed {
            (
                format!(
                    "{} knows how to raise a P1 by chat and to put \"urgent\" in an email's \
                     subject; the Slack channel is live.",
                    a.contacts.first().map_or("The team", |c| c.name.as_str())
                ),
                vec![ActionItem {
                    id: self.r.uuid(start),
                    title: "Send the SLA table and the escalation contacts".to_owned(),
                    owner: facilitator.name.clone(),
                    due: start.date_naive() + Duration::days(3),
                    status: if start + Duration::days(3) < self.now {
                        ActionStatus::Done
                    } else {
                        ActionStatus::Open
                    },
                }],
            )
        } else {
            (String::new(), Vec::new())
        };
        self.out.sessions.push(OnboardingSession {
            id: self.r.uuid(created_at),
            account_id: a.account.id,
            facilitator_id: facilitator.id,
            attendee_ids: a.contacts.iter().take(2).map(|c| c.id).collect(),
            starts_at: start,
            ends_at: start + Duration::minutes(60),
            time_zone: a.account.time_zone.clone(),
            meeting_link: Some(link),
            agenda,
            status,
            outcome,
            follow_ups,
            sequence: u32::from(status != OnboardingStatus::Planned),
            created_at,
            updated_at: created_at.max(start.min(self.now)),
        });
    }

    fn sessions(&mut self, accounts: &[DemoAccount], ps: &[usize]) {
        let me = self.me;
        let my_tz = zone(&me.time_zone);
        let today = self.now.with_timezone(&my_tz).date_naive();
        let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        // Accounts still onboarding first: they are the ones with sessions ahead. Sydney's
        // office hours never meet Berlin's: those customers still wait for their session.
        let ps: Vec<usize> = ps
            .iter()
            .copied()
            .filter(|&i| accounts[i].account.time_zone != "Australia/Sydney")
            .collect();
        let mut order: Vec<usize> = ps
            .iter()
            .copied()
            .filter(|&i| accounts[i].account.stage == rapport_domain::LifecycleStage::Onboarding)
            .collect();
        let later: Vec<usize> = ps.iter().copied().filter(|i| !order.contains(i)).collect();
        order.extend(later);
        let mut next = order.into_iter();
        let mut take = || next.next();
        let others: Vec<&User> = self
            .users
            .iter()
            .filter(|u| u.role == Role::Csm && u.id != me.id)
            .collect();
        // Today: two sessions on my clock.
        for hour in [10, 15] {
            if let Some(i) = take() {
                let start = local(my_tz, today, hour, 0);
                self.session(&accounts[i], me, start, OnboardingStatus::Scheduled);
            }
        }
        // The other weekdays of this week: completed once past, scheduled ahead.
        for d in 0..5 {
            let day = monday + Duration::days(d);
            if day == today {
                continue;
            }
            if let Some(i) = take() {
                let start = local(my_tz, day, 11, 30);
                let status = if start + Duration::hours(1) < self.now {
                    OnboardingStatus::Completed
                } else {
                    OnboardingStatus::Scheduled
                };
                self.session(&accounts[i], me, start, status);
            }
        }
        // Next week, and two planned (taken off the calendar) after it.
        for (d, status) in [
            (7, OnboardingStatus::Scheduled),
            (9, OnboardingStatus::Scheduled),
            (15, OnboardingStatus::Planned),
            (17, OnboardingStatus::Planned),
        ] {
            if let Some(i) = take() {
                let start = local(my_tz, monday + Duration::days(d), 14, 0);
                self.session(&accounts[i], me, start, status);
            }
        }
        // A colleague's sessions: one scheduled, one cancelled, one no-show.
        for (k, (days, status)) in [
            (2, OnboardingStatus::Scheduled),
            (5, OnboardingStatus::Cancelled),
            (-3, OnboardingStatus::NoShow),
        ]
        .into_iter()
        .enumerate()
        {
            if let (Some(i), Some(u)) = (take(), others.get(k % others.len().max(1))) {
                let tz = zone(&u.time_zone);
                let start = local(tz, today + Duration::days(days), 10, 0);
                self.session(&accounts[i], u, start, status);
            }
        }
        // The rest were onboarded long ago, but for three that still need it.
        let rest: Vec<usize> = std::iter::from_fn(take).collect();
        let keep = rest.len().saturating_sub(3);
        for &i in &rest[..keep] {
            let a = &accounts[i];
            let since = (self.now - a.account.created_at).num_days().max(2);
            let days = since.min(14 + i64::try_from(self.r.below(20)).unwrap_or(0));
            let day = (a.account.created_at + Duration::days(days)).with_timezone(&my_tz);
            let start = local(my_tz, day.date_naive(), 10, 0);
            if start + Duration::hours(1) < self.now {
                self.session(a, me, start, OnboardingStatus::Completed);
            }
        }
    }

    /// The account's reviews: earlier quarters and this one (`k`: its place among the
    /// Professional Support accounts, which picks this quarter's state).
    fn reviews(&mut self, a: &DemoAccount, k: usize, overdue: bool) {
        let tz = zone(&a.account.time_zone);
        let fy = a.account.fiscal_year_start_month;
        let Ok(current) = quarter_of(self.now, tz, fy) else {
            return;
        };
        // Earlier quarters since the account became a customer: most reviewed.
        let mut q = current.previous();
        for back in 1..=4 {
            if q.end_utc <= a.account.created_at {
                break;
            }
            let skip = (overdue && back == 1) || !self.r.chance(70);
            if !skip {
                let start = q.start_utc.max(a.account.created_at) + Duration::days(20);
                if start < q.end_utc {
                    let start = local(tz, start.with_timezone(&tz).date_naive(), 14, 0);
                    let sentiment = 2 + u8::try_from(self.r.below(4)).unwrap_or(1);
                    self.review(a, &q, ReviewState::Completed, Some(start), Some(sentiment));
                }
            }
            q = q.previous();
        }
        if overdue {
            return;
        }
        let day = self.now.with_timezone(&tz).date_naive();
        // Every other European account is still due this quarter (reviews are easiest to
        // book across Europe's hours).
        if a.account.time_zone.starts_with("Europe/") && k.is_multiple_of(2) {
            return;
        }
        match k % 5 {
            0 => self.review(a, &current, ReviewState::Requested, None, None),
            1 | 4 => {
                // A weekday ahead, before the quarter ends.
                let ahead = i64::try_from(2 + k % 9).unwrap_or(2);
                let start = local(tz, weekday_from(day + Duration::days(ahead)), 15, 0);
                if start + Duration::hours(1) < current.end_utc {
                    self.review(a, &current, ReviewState::Scheduled, Some(start), None);
                } else {
                    self.review(a, &current, ReviewState::Requested, None, None);
                }
            }
            2 => {
                let start = local(tz, day - Duration::days(12), 11, 0);
                if current.contains(start) {
                    let sentiment = 3 + u8::try_from(self.r.below(3)).unwrap_or(0);
                    self.review(
                        a,
                        &current,
                        ReviewState::Completed,
                        Some(start),
                        Some(sentiment),
                    );
                }
            }
            _ => {}
        }
    }

    fn review(
        &mut self,
        a: &DemoAccount,
        q: &Quarter,
        state: ReviewState,
        start: Option<DateTime<Utc>>,
        sentiment: Option<u8>,
    ) {
        let key = QuarterKey::from(q);
        let completed = state == ReviewState::Completed;
        let mut checklist = default_checklist();
        if completed {
            for c in &mut checklist {
                c.done = true;
            }
        }
        let end = start.map(|s| s + Duration::minutes(60));
        let action_items = match (completed, end) {
            (true, Some(end)) => vec![ActionItem {
                id: self.r.uuid(end),
                title: "Share the usage report with the exec sponsor".to_owned(),
                owner: a
                    .contacts
                    .first()
                    .map_or_else(|| "Customer".to_owned(), |c| c.name.clone()),
                due: end.date_naive() + Duration::days(21),
                status: if end + Duration::days(21) < self.now {
                    ActionStatus::Done
                } else {
                    ActionStatus::Open
                },
            }],
            _ => Vec::new(),
        };
        let link = start.map(|_| self.room());
        self.out.reviews.push(Review {
            id: review_id(a.account.id, a.account.fiscal_year_start_month, key),
            account_id: a.account.id,
            fiscal_year: key.fiscal_year,
            quarter: key.q,
            fy_start_month: a.account.fiscal_year_start_month,
            state,
            rep_id: a.account.account_rep_id.or(Some(self.me.id)),
            starts_at: start,
            ends_at: end,
            time_zone: a.account.time_zone.clone(),
            meeting_link: link,
            checklist,
            findings: if completed {
                "Usage grew in every team; the support channels are well known. Open topic: \
                 the data migration timeline."
                    .to_owned()
            } else {
                String::new()
            },
            action_items,
            sentiment,
            sequence: u32::from(start.is_some()),
            completed_at: if completed { end } else { None },
        });
    }
}

fn sla_minutes(s: Severity) -> i64 {
    match s {
        Severity::P1 => 30,
        Severity::P2 => 120,
        Severity::P3 => 720,
        Severity::P4 => 1440,
    }
}

fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// `hour:minute` on `day` in `tz` (the later instant where a DST change skips it).
fn local(tz: Tz, day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let naive = day.and_hms_opt(hour, minute, 0).unwrap_or_default();
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc))
}

/// `day`, or the Monday after it when it falls on a weekend.
fn weekday_from(day: NaiveDate) -> NaiveDate {
    match day.weekday() {
        chrono::Weekday::Sat => day + Duration::days(2),
        chrono::Weekday::Sun => day + Duration::days(1),
        _ => day,
    }
}

/// The health score's inputs of `account` as they stood at `t`, from its generated
/// activity (what [`crate::health::inputs`] reads from the cache, read as of `t`).
pub(crate) fn inputs_at(
    account: &DemoAccount,
    activity: &AccountActivity<'_>,
    t: DateTime<Utc>,
) -> HealthInputs {
    let mut histories = Vec::new();
    for events in &activity.requests {
        let seen: Vec<RequestEvent> = events
            .iter()
            .filter(|e| e.at <= t)
            .map(|e| RequestEvent {
                id: e.id,
                at: e.at,
                actor: e.by,
                kind: e.kind.clone(),
            })
            .collect();
        if let Ok(history) = RequestHistory::new(seen) {
            histories.push(history);
        }
    }
    let (open_requests, sla_last_90_days) = rapport_domain::health::request_inputs(
        histories.iter().map(|h| (h, account.account.plan)),
        t,
    );
    let last_review = activity
        .reviews
        .iter()
        .filter(|r| r.state == ReviewState::Completed && r.completed_at.is_some_and(|c| c <= t))
        .max_by_key(|r| r.completed_at);
    let sessions: Vec<&&OnboardingSession> = activity
        .sessions
        .iter()
        .filter(|s| s.created_at <= t && s.status != OnboardingStatus::Cancelled)
        .collect();
    let onboarding_done = (!sessions.is_empty()).then(|| {
        sessions
            .iter()
            .any(|s| s.status == OnboardingStatus::Completed && s.ends_at <= t)
    });
    HealthInputs {
        open_requests,
        sla_last_90_days,
        last_completed_review: last_review.and_then(|r| r.completed_at),
        customer_since: account.account.created_at,
        onboarding_done,
        sentiment: last_review.and_then(|r| r.sentiment),
    }
}

/// One account's share of the activity.
#[derive(Default)]
pub(crate) struct AccountActivity<'a> {
    /// Each request's events, in order.
    pub requests: Vec<Vec<&'a EventRecord>>,
    pub reviews: Vec<&'a Review>,
    pub sessions: Vec<&'a OnboardingSession>,
}

impl Activity {
    /// The activity grouped by account.
    pub(crate) fn by_account(&self) -> HashMap<Uuid, AccountActivity<'_>> {
        let mut out: HashMap<Uuid, AccountActivity<'_>> = HashMap::new();
        let mut events: HashMap<Uuid, Vec<&EventRecord>> = HashMap::new();
        for e in &self.events {
            events.entry(e.request_id).or_default().push(e);
        }
        for r in &self.requests {
            let mut es = events.remove(&r.id).unwrap_or_default();
            es.sort_by_key(|e| e.at);
            out.entry(r.account_id).or_default().requests.push(es);
        }
        for r in &self.reviews {
            out.entry(r.account_id).or_default().reviews.push(r);
        }
        for s in &self.sessions {
            out.entry(s.account_id).or_default().sessions.push(s);
        }
        out
    }
}
