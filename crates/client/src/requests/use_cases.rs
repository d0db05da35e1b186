use chrono::{DateTime, Utc};
use rapport_domain::Role;
use rapport_domain::links::{LinkPolicy, check_meeting_link, jitsi_room_url};
use rapport_domain::request::{
    Actor, Channel, NewRequestInput, RequestEvent, RequestEventKind, RequestHistory, RequestStatus,
    Severity, Visibility, check_severity_change, check_status_transition,
    check_triage_confirmation,
};
use rapport_domain::sla::SlaAlert;
use rapport_domain::triage::{
    IncomingEmail, SenderMatch, ThreadCandidate, ThreadMatch, account_for_sender,
    escalation_events, find_thread, initial_triage, title_from_subject,
};
use serde::Serialize;
use sqlx::SqliteConnection;
use uuid::Uuid;

use crate::accounts::{account_by_id, user_by_id};
use crate::entity::record;
use crate::error::{Result, StoreError};
use crate::store::{Settings, Store, fmt_time, stamp, to_json};

use super::email::parse_email;
use super::rows::{alert_str, call_settings, history_of, request_by_id, shown_request};
use super::views::{CallSettings, load};
use super::wire::{EventRecord, RequestRecord};

/// What importing an email did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EmailImportOutcome {
    /// A new request (P1 needs triage when the subject says "urgent", else P3).
    Opened {
        request_id: Uuid,
        severity: Severity,
        urgent: bool,
    },
    /// An urgent email continued an open request: raised to P1, back to triage.
    Escalated {
        request_id: Uuid,
        matched_by: ThreadMatch,
    },
    /// A further email on an open request, added to its timeline.
    Added {
        request_id: Uuid,
        matched_by: ThreadMatch,
    },
    /// No account claims the sender (or several do): nothing was created; import again
    /// with the account chosen.
    ChooseAccount {
        sender: String,
        subject: String,
        /// Accounts claiming the sender's domain equally (empty when none does).
        candidates: Vec<Uuid>,
    },
}

/// The call of an incident, as launched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LaunchedCall {
    pub link: String,
    /// False when the incident's existing link was reused.
    pub new_link: bool,
    /// The system browser was asked to open it (set by the shell).
    pub opened: bool,
}

pub(super) async fn me_with_role(conn: &mut SqliteConnection) -> Result<(Uuid, Role)> {
    let me = Store::me(&mut *conn).await?;
    let role = user_by_id(&mut *conn, me)
        .await?
        .map_or(Role::Csm, |u| u.role);
    Ok((me, role))
}

// Writes.

pub(super) struct Writer<'c> {
    pub(super) conn: &'c mut SqliteConnection,
    pub(super) now: DateTime<Utc>,
}

impl Writer<'_> {
    pub(super) async fn event(
        &mut self,
        r: &RequestRecord,
        by: Actor,
        kind: RequestEventKind,
    ) -> Result<EventRecord> {
        let e = EventRecord {
            id: Uuid::now_v7(),
            account_id: r.account_id,
            request_id: r.id,
            at: self.now,
            by,
            kind,
        };
        record(&mut *self.conn, None, &e, self.now).await?;
        Ok(e)
    }

    /// One action on a request: its new timeline entry (after `events`), then the request
    /// as the grown history leaves it.
    pub(super) async fn act(
        &mut self,
        r: &RequestRecord,
        events: &[EventRecord],
        by: Actor,
        kind: RequestEventKind,
    ) -> Result<()> {
        let e = self.event(r, by, kind).await?;
        let mut all: Vec<RequestEvent> = events.iter().map(EventRecord::event).collect();
        all.push(e.event());
        let history =
            RequestHistory::new(all).map_err(|e| StoreError::invalid("request", e.to_string()))?;
        let new = synced(r.clone(), &history);
        self.request(Some(r), &new).await
    }

    pub(super) async fn request(
        &mut self,
        old: Option<&RequestRecord>,
        new: &RequestRecord,
    ) -> Result<()> {
        if old == Some(new) {
            return Ok(());
        }
        record(&mut *self.conn, old, new, self.now).await?;
        Ok(())
    }
}

/// An action by me on a request I can see, as it starts: who I am, the request and its
/// timeline so far.
struct OnRequest {
    me: Uuid,
    role: Role,
    request: RequestRecord,
    events: Vec<EventRecord>,
    history: RequestHistory,
}

impl OnRequest {
    async fn load(conn: &mut SqliteConnection, id: Uuid) -> Result<Self> {
        let (me, role) = me_with_role(&mut *conn).await?;
        let request = shown_request(&mut *conn, id).await?;
        let (events, history) = history_of(conn, id).await?;
        Ok(Self {
            me,
            role,
            request,
            events,
            history,
        })
    }

    /// Appends my `kind` to the timeline and writes the request as it leaves it.
    async fn act(
        &self,
        conn: &mut SqliteConnection,
        now: DateTime<Utc>,
        kind: RequestEventKind,
    ) -> Result<()> {
        Writer { conn, now }
            .act(
                &self.request,
                &self.events,
                Actor::Staff { user_id: self.me },
                kind,
            )
            .await
    }
}

/// The record as its history leaves it.
pub(super) fn synced(mut r: RequestRecord, history: &RequestHistory) -> RequestRecord {
    let s = history.summary();
    r.severity = s.severity;
    r.status = s.status;
    r.needs_triage = s.needs_triage;
    r.meeting_link = s.call_link;
    r
}

/// Writes a new request and its opening events.
pub(super) async fn open_request(
    conn: &mut SqliteConnection,
    input: &NewRequestInput,
    opened_by: Option<Uuid>,
    thread_keys: Vec<String>,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let r = RequestRecord {
        id,
        account_id: input.account_id,
        contact_id: input.contact_id,
        title: input.title.clone(),
        channel: input.channel,
        opened_at: now,
        opened_by,
        severity: input.severity,
        needs_triage: input.needs_triage,
        status: RequestStatus::Open,
        thread_keys,
        meeting_link: None,
        assignee_id: None,
    };
    record(&mut *conn, None, &r, now).await?;
    for e in input.opening_events([Uuid::now_v7(), Uuid::now_v7()], now) {
        let e = EventRecord {
            id: e.id,
            account_id: r.account_id,
            request_id: id,
            at: e.at,
            by: e.actor,
            kind: e.kind,
        };
        record(&mut *conn, None, &e, now).await?;
    }
    tracing::info!(%id, severity = input.severity.as_str(), "request opened");
    Ok(id)
}

impl Store {
    /// Opens a request taken in by chat (the customer chose the severity).
    pub async fn request_create(&self, input: NewRequestInput, now: DateTime<Utc>) -> Result<Uuid> {
        self.write(now, async |tx, me, now| {
            account_by_id(tx, input.account_id).await?;
            let contacts: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM contacts WHERE account_id = ?1 AND deleted_at IS NULL",
            )
            .bind(input.account_id.to_string())
            .fetch_all(&mut *tx)
            .await?;
            let contacts: Vec<Uuid> = contacts.iter().filter_map(|c| c.parse().ok()).collect();
            let input = input.normalize(&contacts)?;
            let id = open_request(tx, &input, Some(me), Vec::new(), now).await?;
            Ok(id)
        })
        .await
    }

    /// Imports an `.eml`: opens a request, escalates or adds to the open request it
    /// continues, or asks for the account when the sender's is unknown (then nothing is
    /// written). `account_id` is the account the user chose for an unknown sender.
    pub async fn email_import(
        &self,
        bytes: &[u8],
        account_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<EmailImportOutcome> {
        let email = parse_email(bytes)?;
        self.write(now, async |tx, _me, now| {
        let sender_lower = email.sender.to_lowercase();
        let contact: Option<(String, String)> = sqlx::query_as(
            "SELECT id, account_id FROM contacts WHERE lower(email) = ?1 AND deleted_at IS NULL \
             ORDER BY created_at LIMIT 1",
        )
        .bind(&sender_lower)
        .fetch_optional(&mut *tx)
        .await?;
        let account_id = match account_id {
            Some(a) => {
                account_by_id(&mut *tx, a).await?;
                a
            }
            None => {
                if let Some((_, a)) = &contact {
                    a.parse()
                        .map_err(|_| StoreError::invalid("account_id", "bad id"))?
                } else {
                    let rows: Vec<(String, String)> =
                        sqlx::query_as("SELECT id, support_email_domains FROM accounts")
                            .fetch_all(&mut *tx)
                            .await?;
                    let accounts: Vec<(Uuid, Vec<String>)> = rows
                        .into_iter()
                        .filter_map(|(id, d)| {
                            Some((id.parse().ok()?, serde_json::from_str(&d).ok()?))
                        })
                        .collect();
                    match account_for_sender(&email.sender, &accounts) {
                        SenderMatch::Account { account_id } => account_id,
                        SenderMatch::Ambiguous { account_ids } => {
                            return Ok(EmailImportOutcome::ChooseAccount {
                                sender: email.sender,
                                subject: email.subject,
                                candidates: account_ids,
                            });
                        }
                        SenderMatch::Unknown => {
                            return Ok(EmailImportOutcome::ChooseAccount {
                                sender: email.sender,
                                subject: email.subject,
                                candidates: Vec::new(),
                            });
                        }
                    }
                }
            }
        };
        let contact_id: Option<Uuid> = match &contact {
            Some((c, a)) if a.parse::<Uuid>().ok() == Some(account_id) => c.parse().ok(),
            _ => None,
        };
        let customer = Actor::Customer { contact_id };
        let triage = initial_triage(&email.subject);
        let body = if email.body.is_empty() {
            "(the email has no text)".to_owned()
        } else {
            email.body.clone()
        };

        // The open requests of this account the email may continue.
        let open = load(
            &mut *tx,
            "r.account_id = ?1 AND r.status IN ('open', 'acknowledged', 'mitigated')",
            Some(account_id.to_string()),
        )
        .await?;
        let candidates: Vec<ThreadCandidate> = open
            .iter()
            .map(|l| ThreadCandidate {
                request_id: l.record.id,
                account_id: l.record.account_id,
                opened_at: l.record.opened_at,
                subject: l.record.title.clone(),
                message_ids: l.record.thread_keys.clone(),
            })
            .collect();
        let incoming = IncomingEmail {
            subject: email.subject.clone(),
            in_reply_to: email.in_reply_to.clone(),
            references: email.references.clone(),
        };
        if let Some((request_id, matched_by)) = find_thread(&incoming, account_id, &candidates) {
            let l = open.into_iter().find(|l| l.record.id == request_id).ok_or(
                StoreError::NotFound {
                    entity: "request",
                    id: request_id,
                },
            )?;
            let mut w = Writer { conn: &mut *tx, now };
            let mut events: Vec<RequestEvent> = l.events.iter().map(EventRecord::event).collect();
            let e = w
                .event(&l.record, customer, RequestEventKind::Update { text: body })
                .await?;
            events.push(e.event());
            let escalate = if triage.urgent_alert {
                escalation_events(&l.history.summary())
            } else {
                Vec::new()
            };
            let escalated = !escalate.is_empty();
            for kind in escalate {
                let e = w.event(&l.record, Actor::System, kind).await?;
                events.push(e.event());
            }
            let history = RequestHistory::new(events)
                .map_err(|e| StoreError::invalid("request", e.to_string()))?;
            let mut new = synced(l.record.clone(), &history);
            if let Some(mid) = &email.message_id
                && !new.thread_keys.contains(mid)
            {
                new.thread_keys.push(mid.clone());
            }
            w.request(Some(&l.record), &new).await?;
            tracing::info!(%request_id, ?matched_by, escalated, "email added to an open request");
            return Ok(if escalated {
                EmailImportOutcome::Escalated {
                    request_id,
                    matched_by,
                }
            } else {
                EmailImportOutcome::Added {
                    request_id,
                    matched_by,
                }
            });
        }

        let title = title_from_subject(&email.subject);
        let input = NewRequestInput {
            account_id,
            contact_id,
            channel: Channel::Email,
            severity: triage.severity,
            needs_triage: triage.needs_triage,
            title,
            details: body,
        }
        .normalize(&contact_id.into_iter().collect::<Vec<_>>())?;
        let keys = email.message_id.into_iter().collect();
        let request_id = open_request(&mut *tx, &input, None, keys, now).await?;
        Ok(EmailImportOutcome::Opened {
            request_id,
            severity: input.severity,
            urgent: triage.urgent_alert,
        })
        })
        .await
    }

    /// A response to the customer (public: stops the SLA clock) or an internal note.
    pub async fn request_respond(
        &self,
        id: Uuid,
        visibility: Visibility,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreError::invalid("text", "must not be empty"));
        }
        if text.chars().count() > rapport_domain::request::MAX_DETAILS_LEN {
            return Err(StoreError::invalid("text", "is too long"));
        }
        self.write(now, async |tx, _, now| {
            let (me, _) = me_with_role(tx).await?;
            let r = shown_request(tx, id).await?;
            let mut w = Writer { conn: tx, now };
            w.event(
                &r,
                Actor::Staff { user_id: me },
                RequestEventKind::Response {
                    visibility,
                    text: text.to_owned(),
                },
            )
            .await?;
            Ok(())
        })
        .await
    }

    /// A free update on the timeline.
    pub async fn request_add_update(&self, id: Uuid, text: &str, now: DateTime<Utc>) -> Result<()> {
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreError::invalid("text", "must not be empty"));
        }
        self.write(now, async |tx, _, now| {
            let (me, _) = me_with_role(tx).await?;
            let r = shown_request(tx, id).await?;
            Writer { conn: tx, now }
                .event(
                    &r,
                    Actor::Staff { user_id: me },
                    RequestEventKind::Update {
                        text: text.to_owned(),
                    },
                )
                .await?;
            Ok(())
        })
        .await
    }

    /// Sets who works the request: `Some(me)` takes it, `None` gives it back (or, for a
    /// lead, unassigns it), anyone else assigns it to them
    /// ([`rapport_domain::request::check_assignee_change`]). Writes the request record only:
    /// the timeline stays the customer's and the desk's words and actions.
    pub async fn request_assign(
        &self,
        id: Uuid,
        to: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(now, async |tx, _, now| {
            let (me, role) = me_with_role(tx).await?;
            let r = request_by_id(tx, id).await?;
            if let Some(user) = to
                && user_by_id(tx, user).await?.is_none()
            {
                return Err(StoreError::invalid(
                    "assignee_id",
                    "is not a member of your teams",
                ));
            }
            rapport_domain::request::check_assignee_change(r.assignee_id, to, me, role)
                .map_err(|e| StoreError::Validation(rapport_domain::ValidationErrors(vec![e])))?;
            let new = RequestRecord {
                assignee_id: to,
                ..r.clone()
            };
            Writer { conn: tx, now }.request(Some(&r), &new).await?;
            Ok(())
        })
        .await?;
        tracing::info!(%id, assigned = to.is_some(), "request assignee set");
        Ok(())
    }

    /// Moves the request along `open → acknowledged → mitigated → resolved → closed`.
    pub async fn request_set_status(
        &self,
        id: Uuid,
        to: RequestStatus,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(now, async |tx, _, now| {
            let on = OnRequest::load(tx, id).await?;
            let from = on.history.summary().status;
            check_status_transition(from, to, on.role)
                .map_err(|e| StoreError::Validation(rapport_domain::ValidationErrors(vec![e])))?;
            on.act(tx, now, RequestEventKind::StatusChanged { from, to })
                .await
        })
        .await
    }

    /// Sets the severity (support leads and admins). On a request awaiting triage this
    /// confirms the triage (at any severity, the current one included).
    pub async fn request_set_severity(
        &self,
        id: Uuid,
        to: Severity,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(now, async |tx, _, now| {
            let on = OnRequest::load(tx, id).await?;
            let (summary, role) = (on.history.summary(), on.role);
            let one = |e| StoreError::Validation(rapport_domain::ValidationErrors(vec![e]));
            let kind = if summary.needs_triage {
                check_triage_confirmation(&summary, role).map_err(one)?;
                RequestEventKind::TriageConfirmed { severity: to }
            } else {
                check_severity_change(&summary, to, role).map_err(one)?;
                RequestEventKind::SeverityChanged {
                    from: summary.severity,
                    to,
                }
            };
            on.act(tx, now, kind).await
        })
        .await
    }

    /// Launches the incident call: the incident's link when it has one, else my personal
    /// meeting link (checked against the allow-list), else a new Jitsi room from
    /// `random` (16 bytes of the OS generator). Records "call launched" on the timeline.
    pub async fn request_launch_call(
        &self,
        id: Uuid,
        random: [u8; 16],
        now: DateTime<Utc>,
    ) -> Result<LaunchedCall> {
        self.write(now, async |tx, _, now| {
            let on = OnRequest::load(tx, id).await?;
            let summary = on.history.summary();
            if !summary.severity.is_critical() && !summary.urgent_alert {
                return Err(StoreError::invalid(
                    "severity",
                    "an incident call is for P1 and P2 requests",
                ));
            }
            let settings = call_settings(&mut *tx).await?;
            let policy = LinkPolicy {
                allowed_hosts: settings.allowed_hosts.clone(),
            };
            let (link, new_link) = match summary.call_link {
                Some(l) => (l, false),
                None => match settings.meeting_link.as_deref() {
                    Some(l) => (
                        check_meeting_link("meeting_link", l, &policy).map_err(|e| {
                            StoreError::Validation(rapport_domain::ValidationErrors(vec![e]))
                        })?,
                        true,
                    ),
                    None => (jitsi_room_url(random), true),
                },
            };
            let kind = RequestEventKind::CallLaunched { link: link.clone() };
            on.act(tx, now, kind).await?;
            Ok(LaunchedCall {
                link,
                new_link,
                opened: false,
            })
        })
        .await
    }

    /// Saves the call settings: the allow-list checked and normalised, the personal link
    /// (optional) checked against it.
    pub async fn call_settings_set(&self, input: CallSettings) -> Result<CallSettings> {
        let one = |e| StoreError::Validation(rapport_domain::ValidationErrors(vec![e]));
        let policy = LinkPolicy {
            allowed_hosts: input.allowed_hosts,
        }
        .check("allowed_hosts")
        .map_err(one)?;
        let link = match input.meeting_link.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(l) => Some(check_meeting_link("meeting_link", l, &policy).map_err(one)?),
        };
        let out = CallSettings {
            meeting_link: link,
            allowed_hosts: policy.allowed_hosts,
        };
        self.settings_put(
            Settings::Call,
            &[
                ("meeting_link", to_json(&out.meeting_link)),
                ("allowed_hosts", to_json(&out.allowed_hosts)),
            ],
        )
        .await?;
        Ok(out)
    }

    /// Records that `alert` was shown for the request (once: a second call is a no-op).
    /// Returns whether it was new.
    pub async fn alert_record(
        &self,
        request_id: Uuid,
        alert: SlaAlert,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO request_alerts (request_id, alert, sent_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(request_id.to_string())
        .bind(alert_str(alert))
        .bind(fmt_time(stamp(now)))
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
