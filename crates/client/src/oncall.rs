//! On call from the desktop: who is on call now, the rotation, the overrides, the next
//! handoffs and gaps, and the requests that were paged and wait for an acknowledgement —
//! read from the central service (`GET /v1/oncall`), which alone knows the whole roster and
//! what it paged. Creating and removing an override and acknowledging a page are calls to
//! it too, with the token the sync engine uses. None of this is cached: offline, each call
//! answers [`SyncError::Offline`] and the UI says so; the acknowledgement's entry on the
//! request's timeline comes back by the ordinary sync.
//!
//! The cache only remembers which pages the desktop already notified (`oncall_page_alerts`),
//! so a restart never notifies one twice.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Result;
use crate::store::{Store, fmt_time, stamp};
use crate::sync::SyncError;
use crate::sync::engine::call;
use crate::sync::transport::{HttpRequest, Method, Transport};

/// Someone on call now, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnCallEntry {
    pub user_id: Uuid,
    pub name: String,
    /// `follow_the_sun`, `rotation` or `override`.
    pub reason: String,
    /// For an override: whom they cover for.
    pub covering_for: Option<Uuid>,
}

/// A window where nobody is on call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnCallGap {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A shift of the rotation: `user_id` takes over at `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnCallHandoff {
    pub user_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// `covering` is on call instead of `covered` for `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnCallOverride {
    pub id: Uuid,
    pub covering: Uuid,
    pub covered: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The rotation for the hours nobody's working day covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnCallRotation {
    /// In turn order.
    pub members: Vec<Uuid>,
    /// The zone whose wall clock the handoff time is read on.
    pub time_zone: String,
    /// Minutes after local midnight.
    pub handoff_minute: u16,
    /// `daily` or `weekly`.
    pub period: String,
    pub first_day: NaiveDate,
}

/// Someone who can be on call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnCallPerson {
    pub user_id: Uuid,
    pub name: String,
    /// `admin`, `support_lead`, `csm` or `account_rep`.
    pub role: String,
}

/// A request of my teams that was paged and waits for an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnCallPage {
    pub request_id: Uuid,
    pub account_id: Uuid,
    pub account_name: String,
    pub title: String,
    /// `p1` … `p4`.
    pub severity: String,
    pub first_paged_at: DateTime<Utc>,
    pub last_paged_at: DateTime<Utc>,
    /// Pages sent for it so far.
    pub pages: i64,
    /// Whether one of them went to me.
    pub paged_me: bool,
}

/// What `GET /v1/oncall` answers: now, and the next 7 days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnCallNow {
    /// The server's clock when it answered.
    pub now: DateTime<Utc>,
    pub on_call: Vec<OnCallEntry>,
    pub gaps: Vec<OnCallGap>,
    pub handoffs: Vec<OnCallHandoff>,
    /// Overrides not ended yet.
    pub overrides: Vec<OnCallOverride>,
    pub rotation: Option<OnCallRotation>,
    pub people: Vec<OnCallPerson>,
    pub pages: Vec<OnCallPage>,
}

/// A new override: `covering` is on call instead of `covered` for `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewOverride {
    pub covering: Uuid,
    pub covered: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What acknowledging did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Acknowledged {
    pub request_id: Uuid,
    pub at: DateTime<Utc>,
    /// The request moved from `open` to `acknowledged`.
    pub status_changed: bool,
}

fn req(method: Method, path: String, token: &str, body: Option<Vec<u8>>) -> HttpRequest {
    HttpRequest {
        method,
        path,
        token: Some(token.to_owned()),
        body,
    }
}

fn json_body<T: Serialize>(v: &T) -> std::result::Result<Vec<u8>, SyncError> {
    serde_json::to_vec(v).map_err(|e| SyncError::Protocol(e.to_string()))
}

/// `GET /v1/oncall`.
pub async fn on_call_now(
    transport: &dyn Transport,
    token: &str,
) -> std::result::Result<OnCallNow, SyncError> {
    call(
        transport,
        req(Method::Get, "/v1/oncall".into(), token, None),
    )
    .await
}

/// `POST /v1/oncall/overrides` (support leads and admins).
pub async fn override_create(
    transport: &dyn Transport,
    token: &str,
    input: &NewOverride,
) -> std::result::Result<OnCallOverride, SyncError> {
    let body = json_body(input)?;
    call(
        transport,
        req(
            Method::Post,
            "/v1/oncall/overrides".into(),
            token,
            Some(body),
        ),
    )
    .await
}

/// `DELETE /v1/oncall/overrides/{id}` (support leads and admins).
pub async fn override_delete(
    transport: &dyn Transport,
    token: &str,
    id: Uuid,
) -> std::result::Result<(), SyncError> {
    let path = format!("/v1/oncall/overrides/{id}");
    match call::<serde_json::Value>(transport, req(Method::Delete, path, token, None)).await {
        // 204 has no body to read: that is the success.
        Ok(_) | Err(SyncError::Protocol(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `POST /v1/oncall/requests/{id}/ack`: stops the request's escalation. The timeline entry
/// the server writes arrives with the next pull.
pub async fn acknowledge(
    transport: &dyn Transport,
    token: &str,
    request_id: Uuid,
) -> std::result::Result<Acknowledged, SyncError> {
    let path = format!("/v1/oncall/requests/{request_id}/ack");
    call(transport, req(Method::Post, path, token, None)).await
}

impl Store {
    /// Records that the desktop notified `request_id`'s page of `paged_at`; false when it
    /// had already (so the caller does not notify again).
    pub async fn oncall_page_alert_record(
        &self,
        request_id: Uuid,
        paged_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO oncall_page_alerts (request_id, paged_at, shown_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(request_id.to_string())
        .bind(fmt_time(stamp(paged_at)))
        .bind(fmt_time(stamp(now)))
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::transport::{BoxFuture, HttpResponse, TransportError};
    use std::sync::Mutex;

    /// Answers each request with the next canned response and remembers what was asked.
    struct Canned {
        answers: Mutex<Vec<std::result::Result<HttpResponse, TransportError>>>,
        asked: Mutex<Vec<HttpRequest>>,
    }

    impl Canned {
        fn new(answers: Vec<std::result::Result<HttpResponse, TransportError>>) -> Self {
            Canned {
                answers: Mutex::new(answers),
                asked: Mutex::new(Vec::new()),
            }
        }
    }

    impl Transport for Canned {
        fn send(
            &self,
            req: HttpRequest,
        ) -> BoxFuture<'_, std::result::Result<HttpResponse, TransportError>> {
            self.asked.lock().unwrap().push(req);
            let next = self.answers.lock().unwrap().remove(0);
            Box::pin(async move { next })
        }
    }

    fn ok(status: u16, body: &str) -> std::result::Result<HttpResponse, TransportError> {
        Ok(HttpResponse {
            status,
            body: body.as_bytes().to_vec(),
        })
    }

    #[tokio::test]
    async fn the_server_answer_is_read_and_errors_say_offline_or_refused() {
        let body = serde_json::json!({
            "now": "2026-12-02T10:00:00Z",
            "on_call": [{"user_id": Uuid::from_u128(1), "name": "Lea", "reason": "rotation", "covering_for": null}],
            "gaps": [{"start": "2026-12-03T00:00:00Z", "end": "2026-12-03T01:00:00Z"}],
            "handoffs": [],
            "overrides": [],
            "rotation": {"members": [Uuid::from_u128(1)], "time_zone": "Europe/Berlin",
                         "handoff_minute": 480, "period": "weekly", "first_day": "2026-11-30"},
            "people": [{"user_id": Uuid::from_u128(1), "name": "Lea", "role": "support_lead"}],
            "pages": [],
        })
        .to_string();
        let t = Canned::new(vec![
            ok(200, &body),
            Err(TransportError("the server cannot be reached".into())),
            ok(
                403,
                r#"{"code":"forbidden_role","message":"support leads and admins only"}"#,
            ),
            ok(204, ""),
        ]);
        let now = on_call_now(&t, "rpt_x").await.unwrap();
        assert_eq!(now.on_call[0].name, "Lea");
        assert_eq!(now.rotation.unwrap().period, "weekly");
        assert_eq!(now.gaps.len(), 1);
        let offline = on_call_now(&t, "rpt_x").await.unwrap_err();
        assert!(
            offline.is_transient(),
            "no answer reads as offline: {offline}"
        );
        let refused = override_create(
            &t,
            "rpt_x",
            &NewOverride {
                covering: Uuid::from_u128(1),
                covered: Uuid::from_u128(2),
                start: now.now,
                end: now.now,
            },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&refused, SyncError::Server { code, .. } if code == "forbidden_role"),
            "{refused:?}"
        );
        override_delete(&t, "rpt_x", Uuid::from_u128(9))
            .await
            .expect("204 is a success");
        let asked = t.asked.lock().unwrap();
        assert_eq!(asked[0].path, "/v1/oncall");
        assert_eq!(asked[0].token.as_deref(), Some("rpt_x"), "signed in");
        assert_eq!(asked[2].method, Method::Post);
        assert_eq!(
            asked[3].path,
            format!("/v1/oncall/overrides/{}", Uuid::from_u128(9))
        );
        assert_eq!(asked[3].method, Method::Delete);
    }

    #[tokio::test]
    async fn a_page_is_notified_once() {
        let store = Store::open_in_memory().await.unwrap();
        let id = Uuid::now_v7();
        let at = Utc::now();
        assert!(store.oncall_page_alert_record(id, at, at).await.unwrap());
        assert!(
            !store.oncall_page_alert_record(id, at, at).await.unwrap(),
            "the same page is not notified twice"
        );
        assert!(
            store
                .oncall_page_alert_record(id, at + chrono::TimeDelta::minutes(5), at)
                .await
                .unwrap(),
            "a later page of the same request is"
        );
    }
}
