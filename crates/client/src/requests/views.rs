use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rapport_domain::Plan;
use rapport_domain::rca::{RcaState, rca_due};
use rapport_domain::request::{
    Actor, Channel, RequestEventKind, RequestHistory, RequestStatus, RequestSummary, Severity,
};
use rapport_domain::sla::{self, SlaAlert, SlaClock};
use serde::{Deserialize, Serialize};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use crate::accounts::user_by_id;
use crate::error::{Result, StoreError};
use crate::store::{Store, opt_uuid_col, plan_col};

use super::rows::{
    REQUEST_COLUMNS, alert_str, call_settings, history_of, rca_state_parse, request_from_row,
};
use super::wire::{EventRecord, RequestRecord};

// Views (docs/IPC.md).

/// One request on the live board, Today's urgent section, or an account page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub account_name: String,
    pub plan: Plan,
    pub title: String,
    pub channel: Channel,
    pub severity: Severity,
    pub status: RequestStatus,
    pub needs_triage: bool,
    /// The SLA clock at the moment of the query; the UI ticks it itself from its
    /// `at_risk_at` and `due_at` (the domain's instants) until the next query.
    pub clock: SlaClock,
    pub rca_state: Option<RcaState>,
    /// Resolved P1/P2 whose RCA is not published yet.
    pub rca_due: bool,
    /// Who works it; `None`: nobody has taken it.
    pub assignee_id: Option<Uuid>,
    /// The assignee's name ("A colleague" when their profile has not synced yet).
    pub assignee_name: Option<String>,
}

/// The live board: open requests by time to breach, then resolved ones awaiting an RCA.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestBoard {
    pub open: Vec<RequestRow>,
    pub rca_due: Vec<RequestRow>,
    /// The instant the clocks were computed at (the UI counts down from it).
    pub computed_at: DateTime<Utc>,
    /// The local profile's user id, for the "Mine" filter (`None` before a profile exists).
    pub me: Option<Uuid>,
}

/// One entry of a request's timeline, with who did it by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimelineItem {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub who: String,
    pub kind: RequestEventKind,
}

/// A request's page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestDetail {
    pub row: RequestRow,
    /// The requester: the contact who opened it (chosen at intake, or the email's sender
    /// when a contact of the account).
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub slack_channel: Option<String>,
    pub summary: RequestSummary,
    pub timeline: Vec<TimelineItem>,
    /// The local profile may change the severity (support lead, admin).
    pub can_set_severity: bool,
    /// The local profile may assign the request to others (support lead, admin); anyone
    /// may take an unassigned request and give back their own.
    pub can_assign_others: bool,
    /// The local profile's user id (`None` before a profile exists).
    pub me: Option<Uuid>,
    pub rca_id: Option<Uuid>,
}

/// The local call settings (Settings → Calls).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallSettings {
    /// My personal meeting link; `None`: generate a Jitsi room per incident.
    pub meeting_link: Option<String>,
    pub allowed_hosts: Vec<String>,
}

/// A desktop notification to show now (the shell shows it, then records it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingAlert {
    pub request_id: Uuid,
    pub alert: SlaAlert,
    pub severity: Severity,
    pub title: String,
    pub account_name: String,
}

// Loading rows.

pub(super) struct Loaded {
    pub(super) record: RequestRecord,
    pub(super) assignee_name: Option<String>,
    pub(super) account_name: String,
    pub(super) plan: Plan,
    pub(super) slack_channel: Option<String>,
    pub(super) rca: Option<(Uuid, RcaState)>,
    pub(super) events: Vec<EventRecord>,
    pub(super) history: RequestHistory,
}

impl Loaded {
    pub(super) fn row(&self, now: DateTime<Utc>) -> RequestRow {
        let summary = self.history.summary();
        let rca_state = self.rca.map(|r| r.1);
        let clock = sla::clock(&self.history, self.plan, now);
        RequestRow {
            id: self.record.id,
            account_id: self.record.account_id,
            account_name: self.account_name.clone(),
            plan: self.plan,
            title: summary.title.clone(),
            channel: summary.channel,
            severity: summary.severity,
            status: summary.status,
            needs_triage: summary.needs_triage,
            clock,
            rca_state,
            rca_due: rca_due(&summary, rca_state),
            assignee_id: self.record.assignee_id,
            assignee_name: self.record.assignee_id.map(|_| {
                self.assignee_name
                    .clone()
                    .unwrap_or_else(|| "A colleague".to_owned())
            }),
        }
    }
}

/// Requests matching `filter` (SQL over `r`), with their account and history.
pub(super) async fn load(
    conn: &mut SqliteConnection,
    filter: &str,
    bind: Option<String>,
) -> Result<Vec<Loaded>> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS}, a.name AS account_name, a.plan, a.slack_channel, \
         x.id AS rca_id, x.state AS rca_state, u.name AS assignee_name FROM requests r \
         JOIN accounts a ON a.id = r.account_id \
         LEFT JOIN users u ON u.id = r.assignee_id \
         LEFT JOIN rcas x ON x.request_id = r.id AND x.deleted_at IS NULL \
         WHERE r.deleted_at IS NULL AND ({filter}) ORDER BY r.opened_at"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let record = request_from_row(row)?;
        let rca_id = opt_uuid_col(row, "rca_id")?;
        let rca_state: Option<String> = row.try_get("rca_state")?;
        let rca = rca_id.zip(rca_state.as_deref().and_then(rca_state_parse));
        let Ok((events, history)) = history_of(&mut *conn, record.id).await else {
            // The opening event has not arrived yet (sync in progress): nothing to show.
            continue;
        };
        out.push(Loaded {
            assignee_name: row.try_get("assignee_name")?,
            account_name: row.try_get("account_name")?,
            plan: plan_col(row)?,
            slack_channel: row.try_get("slack_channel")?,
            rca,
            record,
            events,
            history,
        });
    }
    Ok(out)
}

/// Every request's clock at `now`, with its account (id, name), for the reports.
pub(crate) async fn all_clocks(
    conn: &mut SqliteConnection,
    account_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, String, SlaClock)>> {
    let loaded = match account_id {
        Some(a) => load(conn, "r.account_id = ?1", Some(a.to_string())).await?,
        None => load(conn, "1 = 1", None).await?,
    };
    Ok(loaded
        .iter()
        .map(|l| {
            (
                l.record.account_id,
                l.account_name.clone(),
                sla::clock(&l.history, l.plan, now),
            )
        })
        .collect())
}

/// The health score's request parts for one account at `now`: its open requests by current
/// severity (`None`, no data, for an account that has never had a request), and the SLA
/// results that ended in the 90 days before `now` (`None` when none did).
pub(crate) async fn health_inputs(
    conn: &mut SqliteConnection,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(
    Option<rapport_domain::health::OpenRequestCounts>,
    Option<rapport_domain::health::SlaRecord>,
)> {
    let requests = load(conn, "r.account_id = ?1", Some(account_id.to_string())).await?;
    Ok(rapport_domain::health::request_inputs(
        requests.iter().map(|l| (&l.history, l.plan)),
        now,
    ))
}

pub(super) async fn load_one(conn: &mut SqliteConnection, id: Uuid) -> Result<Loaded> {
    load(conn, "r.id = ?1", Some(id.to_string()))
        .await?
        .pop()
        .ok_or(StoreError::NotFound {
            entity: "request",
            id,
        })
}

pub(super) async fn names(
    conn: &mut SqliteConnection,
    events: &[EventRecord],
) -> Result<HashMap<Actor, String>> {
    let mut out = HashMap::new();
    for e in events {
        if out.contains_key(&e.by) {
            continue;
        }
        let name = match e.by {
            Actor::Staff { user_id } => user_by_id(&mut *conn, user_id)
                .await?
                .map_or_else(|| "A colleague".to_owned(), |u| u.name),
            Actor::Customer {
                contact_id: Some(c),
            } => {
                let n: Option<String> =
                    sqlx::query_scalar("SELECT name FROM contacts WHERE id = ?1")
                        .bind(c.to_string())
                        .fetch_optional(&mut *conn)
                        .await?;
                n.map_or_else(|| "Customer".to_owned(), |n| format!("{n} (customer)"))
            }
            Actor::Customer { contact_id: None } => "Customer".to_owned(),
            Actor::System => "Rapport".to_owned(),
        };
        out.insert(e.by, name);
    }
    Ok(out)
}

/// The name of an actor, for the RCA's timeline.
pub(crate) async fn actor_names(
    conn: &mut SqliteConnection,
    events: &[EventRecord],
) -> Result<HashMap<Actor, String>> {
    names(conn, events).await
}

impl Store {
    /// The live board at `now`.
    pub async fn requests_board(&self, now: DateTime<Utc>) -> Result<RequestBoard> {
        let mut conn = self.reader.acquire().await?;
        let loaded = load(
            &mut conn,
            "r.status IN ('open', 'acknowledged', 'mitigated') OR \
             (r.status IN ('resolved', 'closed') AND r.severity IN ('p1', 'p2') AND \
              NOT EXISTS (SELECT 1 FROM rcas x2 WHERE x2.request_id = r.id \
                          AND x2.state = 'published' AND x2.deleted_at IS NULL))",
            None,
        )
        .await?;
        let mut open = Vec::new();
        let mut due = Vec::new();
        for l in &loaded {
            let row = l.row(now);
            if row.status.is_active() {
                open.push(row);
            } else if row.rca_due {
                due.push(row);
            }
        }
        open.sort_by(|a, b| sla::board_order(&a.clock, &b.clock));
        due.sort_by_key(|r| std::cmp::Reverse(r.clock.opened_at));
        let me = Store::me(&mut conn).await.ok();
        Ok(RequestBoard {
            open,
            rca_due: due,
            computed_at: now,
            me,
        })
    }

    /// An account's requests, newest first.
    pub async fn account_requests(
        &self,
        account_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<RequestRow>> {
        let mut conn = self.reader.acquire().await?;
        let mut rows: Vec<RequestRow> =
            load(&mut conn, "r.account_id = ?1", Some(account_id.to_string()))
                .await?
                .iter()
                .map(|l| l.row(now))
                .collect();
        rows.reverse();
        Ok(rows)
    }

    /// A request's page at `now`.
    pub async fn request_get(&self, id: Uuid, now: DateTime<Utc>) -> Result<RequestDetail> {
        let mut conn = self.reader.acquire().await?;
        let l = load_one(&mut conn, id).await?;
        let names = names(&mut conn, &l.events).await?;
        let contact: Option<(String, String)> = match l.record.contact_id {
            Some(c) => {
                sqlx::query_as("SELECT name, email FROM contacts WHERE id = ?1")
                    .bind(c.to_string())
                    .fetch_optional(&mut *conn)
                    .await?
            }
            None => None,
        };
        let (contact_name, contact_email) = match contact {
            Some((name, email)) => (Some(name), Some(email).filter(|e| !e.is_empty())),
            None => (None, None),
        };
        let me = Store::me(&mut conn).await.ok();
        let role = match me {
            Some(me) => user_by_id(&mut conn, me).await?.map(|u| u.role),
            None => None,
        };
        let timeline = l
            .history
            .events()
            .iter()
            .map(|e| TimelineItem {
                id: e.id,
                at: e.at,
                actor: e.actor,
                who: names.get(&e.actor).cloned().unwrap_or_default(),
                kind: e.kind.clone(),
            })
            .collect();
        Ok(RequestDetail {
            row: l.row(now),
            contact_name,
            contact_email,
            slack_channel: l.slack_channel.clone(),
            summary: l.history.summary(),
            timeline,
            can_set_severity: role.is_some_and(rapport_domain::request::may_set_severity),
            can_assign_others: role.is_some_and(rapport_domain::request::may_assign_others),
            me,
            rca_id: l.rca.map(|r| r.0),
        })
    }

    /// The local call settings (defaults: no personal link, the default allow-list).
    pub async fn call_settings_get(&self) -> Result<CallSettings> {
        let mut conn = self.reader.acquire().await?;
        call_settings(&mut conn).await
    }

    /// The desktop alerts due now that were never shown on this machine.
    pub async fn alerts_pending(&self, now: DateTime<Utc>) -> Result<Vec<PendingAlert>> {
        let mut conn = self.reader.acquire().await?;
        let loaded = load(
            &mut conn,
            "r.status IN ('open', 'acknowledged', 'mitigated')",
            None,
        )
        .await?;
        let mut out = Vec::new();
        for l in &loaded {
            let shown: Vec<String> =
                sqlx::query_scalar("SELECT alert FROM request_alerts WHERE request_id = ?1")
                    .bind(l.record.id.to_string())
                    .fetch_all(&mut *conn)
                    .await?;
            let shown: Vec<SlaAlert> = [SlaAlert::Urgent, SlaAlert::AtRisk, SlaAlert::Breached]
                .into_iter()
                .filter(|a| shown.iter().any(|s| s == alert_str(*a)))
                .collect();
            let summary = l.history.summary();
            let clock = sla::clock(&l.history, l.plan, now);
            for alert in sla::alerts_due(&summary, &clock, &shown) {
                out.push(PendingAlert {
                    request_id: l.record.id,
                    alert,
                    severity: summary.severity,
                    title: summary.title.clone(),
                    account_name: l.account_name.clone(),
                });
            }
        }
        Ok(out)
    }

    /// The alerts recorded as shown for a request.
    pub async fn alerts_sent(&self, request_id: Uuid) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT alert FROM request_alerts WHERE request_id = ?1 ORDER BY sent_at, alert",
        )
        .bind(request_id.to_string())
        .fetch_all(&self.reader)
        .await?)
    }
}
