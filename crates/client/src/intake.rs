//! The desktop's side of intake (issue 13): what support leads and admins ask the central
//! service directly, because it is not synced into the cache.
//!
//! - Support leads and admins: the **Unmatched** queue (chats and emails whose customer the
//!   service did not recognise) and assigning one to an account. Once assigned, the request
//!   is an ordinary record of that account's team and reaches the cache by the next pull.
//! - Admins: the intake keys the chat backend signs with (create: the secret is in that one
//!   answer only; list; revoke), each mailbox's state, and the intake errors.
//!
//! Every call goes through the sync engine's [`Transport`] with the sign-in's token. These
//! calls are online only: signed out, offline, a sign-in the server ended and a role the
//! server refuses each answer their own [`IntakeError`], worded for the user.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rapport_domain::request::{Channel, Severity};
use rapport_domain::sync::ErrorBody;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::sync::transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};

/// Longest intake key name the service takes (its `MAX_KEY_NAME_LEN`).
pub const MAX_KEY_NAME_LEN: usize = 100;

/// An intake key as admins see it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IntakeKey {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The last call signed with it that the service accepted.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A key just created, with its secret: shown this once, never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CreatedIntakeKey {
    #[serde(flatten)]
    pub key: IntakeKey,
    pub secret: String,
}

/// A request waiting in the Unmatched queue for an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnmatchedItem {
    pub id: Uuid,
    pub channel: Channel,
    pub customer_email: String,
    pub customer_name: Option<String>,
    /// What the chat backend said about the account (an external id or a domain).
    pub account_hint: Option<String>,
    pub title: String,
    pub severity: Severity,
    pub needs_triage: bool,
    /// When the customer wrote: the SLA clock runs from here once assigned.
    pub opened_at: DateTime<Utc>,
    /// When the service took it in.
    pub received_at: DateTime<Utc>,
    /// Timeline entries waiting with it.
    pub entries: i64,
}

/// What assigning answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Assigned {
    pub request_id: Uuid,
    pub account_id: Uuid,
}

/// One support mailbox the service watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailboxState {
    pub name: String,
    /// `connecting`, `importing`, `idle`, `disconnected`, `stopped`.
    pub state: String,
    pub uid_validity: Option<i64>,
    /// Every message up to this UID is taken in.
    pub last_uid: i64,
    pub imported: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A message intake could not take in (kept on the service with its raw bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IntakeErrorRow {
    pub id: Uuid,
    /// The mailbox's name, or `chat`.
    pub source: String,
    pub uid: Option<i64>,
    pub message_id: Option<String>,
    pub reason: String,
    pub at: DateTime<Utc>,
    pub raw_bytes: Option<i64>,
}

/// Why an intake call did not go through, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// No sign-in on this desktop.
    #[error("sign in to your team's Rapport service first (Settings → Connection): {0}")]
    SignedOut(&'static str),
    /// No answer, or the service failed (5xx, 429).
    #[error("the Rapport service cannot be reached ({0}); try again when the connection is back")]
    Offline(String),
    /// The service ended this sign-in.
    #[error("the Rapport service ended this sign-in: sign in again in Settings → Connection")]
    SignInEnded,
    /// The server refused the user's role (or team) for this call.
    #[error("{0}")]
    Forbidden(String),
    /// A field the user typed was refused; `field` names it.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// What the call names is not there (any more).
    #[error("{0}")]
    NotFound(String),
    /// The service refused the request for another reason.
    #[error("the Rapport service refused this ({code}): {message}")]
    Refused { code: String, message: String },
    /// The service no longer speaks this app's protocol.
    #[error("update Rapport: {0}")]
    Upgrade(String),
    /// The answer could not be read.
    #[error("the Rapport service's answer could not be read: {0}")]
    Protocol(String),
}

/// Which call it is, for the words of a refused role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// Support leads and admins.
    Leads,
    /// Admins only.
    Admins,
}

impl Who {
    fn forbidden(self) -> &'static str {
        match self {
            Who::Leads => "only support leads and admins see and assign the Unmatched queue",
            Who::Admins => "only admins manage intake keys, mailboxes and intake errors",
        }
    }
}

/// Reads one answer of the service: the JSON of a 2xx, else the error it means.
fn answer<T: DeserializeOwned>(
    got: Result<HttpResponse, TransportError>,
    who: Who,
) -> Result<T, IntakeError> {
    let resp = got.map_err(|e| IntakeError::Offline(e.0))?;
    if (200..300).contains(&resp.status) {
        return serde_json::from_slice(&resp.body)
            .map_err(|e| IntakeError::Protocol(e.to_string()));
    }
    let body: Option<ErrorBody> = serde_json::from_slice(&resp.body).ok();
    let (code, message, field) = body.map_or_else(
        || (String::new(), format!("HTTP {}", resp.status), None),
        |b| (b.code, b.message, b.field),
    );
    Err(match resp.status {
        401 => IntakeError::SignInEnded,
        426 => IntakeError::Upgrade(message),
        s if s >= 500 || s == 429 => IntakeError::Offline(format!("server error {s}: {message}")),
        403 if code == "forbidden_role" => {
            IntakeError::Forbidden(format!("{} (the service says: {message})", who.forbidden()))
        }
        403 => IntakeError::Forbidden(message),
        404 => IntakeError::NotFound(message),
        _ => match field {
            Some(field) => IntakeError::Invalid { field, message },
            None => IntakeError::Refused { code, message },
        },
    })
}

/// An intake key's name as the service will take it: trimmed, not empty, not too long.
pub fn check_key_name(raw: &str) -> Result<String, IntakeError> {
    let name = raw.trim();
    let invalid = |why: &str| IntakeError::Invalid {
        field: "name".into(),
        message: format!("name: {why}"),
    };
    if name.is_empty() {
        return Err(invalid(
            "required: say what will sign with it, e.g. \"website chat\"",
        ));
    }
    if name.chars().count() > MAX_KEY_NAME_LEN {
        return Err(invalid(&format!(
            "must be at most {MAX_KEY_NAME_LEN} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("must not contain control characters"));
    }
    Ok(name.to_owned())
}

/// The intake calls of one signed-in desktop.
#[derive(Clone)]
pub struct IntakeClient {
    transport: Arc<dyn Transport>,
    token: String,
}

impl std::fmt::Debug for IntakeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("IntakeClient").finish_non_exhaustive()
    }
}

impl IntakeClient {
    pub fn new(transport: Arc<dyn Transport>, token: String) -> Self {
        IntakeClient { transport, token }
    }

    /// The client of the current sign-in: `server_url` from the cache's sync state, `token`
    /// from the sync task's memory; either missing is [`IntakeError::SignedOut`].
    pub fn connect(
        server_url: Option<&str>,
        token: Option<String>,
        why: &'static str,
    ) -> Result<Self, IntakeError> {
        let (Some(url), Some(token)) = (server_url, token) else {
            return Err(IntakeError::SignedOut(why));
        };
        let transport =
            crate::sync::HttpTransport::new(url).map_err(|e| IntakeError::Offline(e.0))?;
        Ok(IntakeClient::new(Arc::new(transport), token))
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        body: Option<Vec<u8>>,
        who: Who,
    ) -> Result<T, IntakeError> {
        let got = self
            .transport
            .send(HttpRequest {
                method,
                path,
                token: Some(self.token.clone()),
                body,
            })
            .await;
        answer(got, who)
    }

    /// `GET /v1/intake/unmatched`: most severe first, then oldest.
    pub async fn unmatched(&self) -> Result<Vec<UnmatchedItem>, IntakeError> {
        self.send(Method::Get, "/v1/intake/unmatched".into(), None, Who::Leads)
            .await
    }

    /// `POST /v1/intake/unmatched/{id}/assign`: the request becomes the account's.
    pub async fn assign(&self, id: Uuid, account_id: Uuid) -> Result<Assigned, IntakeError> {
        let body = serde_json::to_vec(&serde_json::json!({ "account_id": account_id }))
            .map_err(|e| IntakeError::Protocol(e.to_string()))?;
        self.send(
            Method::Post,
            format!("/v1/intake/unmatched/{id}/assign"),
            Some(body),
            Who::Leads,
        )
        .await
    }

    /// `GET /v1/admin/intake/keys`: live keys first.
    pub async fn keys(&self) -> Result<Vec<IntakeKey>, IntakeError> {
        self.send(
            Method::Get,
            "/v1/admin/intake/keys".into(),
            None,
            Who::Admins,
        )
        .await
    }

    /// `POST /v1/admin/intake/keys`: the answer holds the secret, this once.
    pub async fn create_key(&self, name: &str) -> Result<CreatedIntakeKey, IntakeError> {
        let name = check_key_name(name)?;
        let body = serde_json::to_vec(&serde_json::json!({ "name": name }))
            .map_err(|e| IntakeError::Protocol(e.to_string()))?;
        self.send(
            Method::Post,
            "/v1/admin/intake/keys".into(),
            Some(body),
            Who::Admins,
        )
        .await
    }

    /// `DELETE /v1/admin/intake/keys/{id}`: calls signed with it are refused from now on.
    pub async fn revoke_key(&self, id: Uuid) -> Result<IntakeKey, IntakeError> {
        self.send(
            Method::Delete,
            format!("/v1/admin/intake/keys/{id}"),
            None,
            Who::Admins,
        )
        .await
    }

    /// `GET /v1/admin/intake/mailboxes`.
    pub async fn mailboxes(&self) -> Result<Vec<MailboxState>, IntakeError> {
        self.send(
            Method::Get,
            "/v1/admin/intake/mailboxes".into(),
            None,
            Who::Admins,
        )
        .await
    }

    /// `GET /v1/admin/intake/errors`: the newest `limit` (1-1000).
    pub async fn errors(&self, limit: u32) -> Result<Vec<IntakeErrorRow>, IntakeError> {
        let limit = limit.clamp(1, 1000);
        self.send(
            Method::Get,
            format!("/v1/admin/intake/errors?limit={limit}"),
            None,
            Who::Admins,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn resp(status: u16, body: &serde_json::Value) -> Result<HttpResponse, TransportError> {
        Ok(HttpResponse {
            status,
            body: serde_json::to_vec(body).unwrap(),
        })
    }

    fn err(code: &str, message: &str, field: Option<&str>) -> serde_json::Value {
        serde_json::json!({ "code": code, "message": message, "field": field })
    }

    #[test]
    fn a_success_is_read_as_the_services_json() {
        let body = serde_json::json!([{
            "id": "0190b1d2-0000-7000-8000-000000000001",
            "channel": "chat",
            "customer_email": "ops@unknown.example",
            "customer_name": "Ops",
            "account_hint": null,
            "title": "Down",
            "severity": "p1",
            "needs_triage": false,
            "opened_at": "2026-12-02T03:00:00Z",
            "received_at": "2026-12-02T03:00:01Z",
            "entries": 2
        }]);
        let items: Vec<UnmatchedItem> = answer(resp(200, &body), Who::Leads).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].severity, Severity::P1, "the service's `p1` is P1");
        assert_eq!(items[0].channel, Channel::Chat);
    }

    #[test]
    fn a_created_key_reads_flat_and_keeps_its_secret() {
        let body = serde_json::json!({
            "id": "0190b1d2-0000-7000-8000-000000000002",
            "name": "website chat",
            "created_at": "2026-12-02T03:00:00Z",
            "revoked_at": null,
            "last_used_at": null,
            "secret": "rik_00ff"
        });
        let k: CreatedIntakeKey = answer(resp(201, &body), Who::Admins).unwrap();
        assert_eq!(k.key.name, "website chat");
        assert_eq!(k.secret, "rik_00ff");
        assert_eq!(
            serde_json::to_value(&k).unwrap(),
            body,
            "the UI gets the same flat shape"
        );
    }

    #[rstest]
    #[case::offline(Err(TransportError("the server cannot be reached".into())), "cannot be reached")]
    #[case::server_down(resp(503, &err("unavailable", "busy", None)), "cannot be reached")]
    #[case::too_many(
        resp(429, &err("too_many_requests", "slow down", None)),
        "cannot be reached"
    )]
    #[case::ended(resp(401, &err("unauthorized", "expired", None)), "sign in again")]
    #[case::upgrade(
        resp(426, &err("upgrade_required", "protocol 3", None)),
        "update Rapport"
    )]
    #[case::unreadable(resp(200, &serde_json::json!({"not": "a list"})), "could not be read")]
    fn each_failure_says_what_to_do(
        #[case] got: Result<HttpResponse, TransportError>,
        #[case] says: &str,
    ) {
        let e = answer::<Vec<UnmatchedItem>>(got, Who::Leads).unwrap_err();
        assert!(e.to_string().contains(says), "{e} should say {says:?}");
    }

    #[test]
    fn a_refused_role_names_who_may() {
        let got = resp(
            403,
            &err("forbidden_role", "a csm may not change severity", None),
        );
        let e = answer::<Vec<UnmatchedItem>>(got, Who::Leads).unwrap_err();
        assert!(
            matches!(&e, IntakeError::Forbidden(m) if m.starts_with("only support leads and admins")
                && m.contains("a csm may not")),
            "{e:?}"
        );
        let got = resp(
            403,
            &err(
                "forbidden_role",
                "a support_lead may not manage users",
                None,
            ),
        );
        let e = answer::<Vec<IntakeKey>>(got, Who::Admins).unwrap_err();
        assert!(e.to_string().starts_with("only admins"), "{e}");
        let got = resp(
            403,
            &err(
                "forbidden_team",
                "this account belongs to a team you are not in",
                None,
            ),
        );
        let e = answer::<Assigned>(got, Who::Leads).unwrap_err();
        assert_eq!(
            e,
            IntakeError::Forbidden("this account belongs to a team you are not in".into()),
            "another refusal keeps the service's words"
        );
    }

    #[test]
    fn a_refused_field_is_named() {
        let got = resp(
            409,
            &err(
                "name_taken",
                "name: a live intake key is already called \"x\"",
                Some("name"),
            ),
        );
        let e = answer::<CreatedIntakeKey>(got, Who::Admins).unwrap_err();
        assert!(
            matches!(&e, IntakeError::Invalid { field, .. } if field == "name"),
            "{e:?}"
        );
        let got = resp(
            404,
            &err(
                "not_found",
                "account_id: no such account",
                Some("account_id"),
            ),
        );
        let e = answer::<Assigned>(got, Who::Leads).unwrap_err();
        assert!(matches!(e, IntakeError::NotFound(_)), "{e:?}");
        let got = resp(400, &serde_json::json!("not an error body"));
        let e = answer::<Assigned>(got, Who::Leads).unwrap_err();
        assert_eq!(
            e,
            IntakeError::Refused {
                code: String::new(),
                message: "HTTP 400".into()
            }
        );
    }

    #[rstest]
    #[case("  website chat ", Ok("website chat"))]
    #[case("", Err("required"))]
    #[case("   ", Err("required"))]
    #[case("tab\there", Err("control characters"))]
    fn key_names_are_checked_before_sending(#[case] raw: &str, #[case] want: Result<&str, &str>) {
        match (check_key_name(raw), want) {
            (Ok(n), Ok(w)) => assert_eq!(n, w),
            (Err(IntakeError::Invalid { field, message }), Err(w)) => {
                assert_eq!(field, "name");
                assert!(message.contains(w), "{message}");
            }
            (got, want) => panic!("{raw:?}: got {got:?}, want {want:?}"),
        }
        let long = "k".repeat(MAX_KEY_NAME_LEN + 1);
        assert!(check_key_name(&long).is_err(), "too long");
        assert!(check_key_name(&long[1..]).is_ok(), "at the limit");
    }

    #[test]
    fn signed_out_is_its_own_error() {
        let e = IntakeClient::connect(None, Some("t".into()), "to see the queue").unwrap_err();
        assert_eq!(e, IntakeError::SignedOut("to see the queue"));
        assert!(e.to_string().contains("Settings → Connection"), "{e}");
        let e = IntakeClient::connect(Some("http://127.0.0.1:1"), None, "x").unwrap_err();
        assert_eq!(
            e,
            IntakeError::SignedOut("x"),
            "no token in memory: signed out"
        );
        assert!(IntakeClient::connect(Some("http://127.0.0.1:1"), Some("t".into()), "x").is_ok());
    }

    /// Records the requests it is sent and answers each with the next canned response.
    struct Recorder {
        sent: std::sync::Mutex<Vec<HttpRequest>>,
        answer: serde_json::Value,
    }

    impl Transport for Recorder {
        fn send(
            &self,
            req: HttpRequest,
        ) -> crate::sync::transport::BoxFuture<'_, Result<HttpResponse, TransportError>> {
            self.sent.lock().unwrap().push(req);
            let body = serde_json::to_vec(&self.answer).unwrap();
            Box::pin(async move { Ok(HttpResponse { status: 200, body }) })
        }
    }

    #[tokio::test]
    async fn calls_carry_the_token_and_their_paths() {
        let rec = Arc::new(Recorder {
            sent: std::sync::Mutex::new(Vec::new()),
            answer: serde_json::json!({
                "id": "0190b1d2-0000-7000-8000-000000000002", "name": "k",
                "created_at": "2026-12-02T03:00:00Z", "revoked_at": "2026-12-02T04:00:00Z",
                "last_used_at": null
            }),
        });
        let c = IntakeClient::new(rec.clone(), "rpt_token".into());
        let id = Uuid::now_v7();
        c.revoke_key(id).await.unwrap();
        let _ = c.errors(5000).await;
        assert!(
            c.create_key(" ").await.is_err(),
            "an empty name is refused here"
        );
        let sent = rec.sent.lock().unwrap();
        assert_eq!(sent.len(), 2, "the refused name never left the desktop");
        assert_eq!(sent[0].method, Method::Delete);
        assert_eq!(sent[0].path, format!("/v1/admin/intake/keys/{id}"));
        assert_eq!(sent[0].token.as_deref(), Some("rpt_token"));
        assert_eq!(
            sent[1].path, "/v1/admin/intake/errors?limit=1000",
            "the limit is clamped to what the service takes"
        );
    }
}
