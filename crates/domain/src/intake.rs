//! Intake: what the vendor's chat backend sends the central service, how each of its fields
//! is checked, and the severity labels a chat widget shows its customers.
//!
//! Pure like the rest of the domain: the service verifies the signature and reads the
//! clock; these functions take `now`.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::request::{MAX_DETAILS_LEN, Severity};
use crate::validation::{self, Checker, FieldError, ValidationErrors};

/// Who writes what intake brings in, in a record's `updated_by`: the service itself, never a
/// staff member. (Timeline entries name the customer, or `Actor::System` for an escalation.)
pub const INTAKE_ACTOR_ID: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_696e_7461_6b65);

/// Longest conversation or message id a chat backend may send (characters).
pub const MAX_EXTERNAL_ID_LEN: usize = 200;
/// How far a customer's `sent_at` may be ahead of the server's clock (clock skew); a later
/// one is refused, one within it is read as "now".
pub const SENT_AT_MAX_AHEAD: TimeDelta = TimeDelta::minutes(5);
/// How old a customer's `sent_at` may be. Decided: a week covers a chat backend that queued
/// messages through a long outage; anything older is a broken clock (1970, a year off), and
/// starting an SLA clock there would show a request as breached for a year.
pub const SENT_AT_MAX_AGE: TimeDelta = TimeDelta::days(7);

/// Reads the severity a customer chose: `P1`..`P4` in any case, or a chat widget's label that
/// starts with one, such as `"P1 - Production down, no workaround"` or `"p2: impaired"`.
/// `P10`, `P5`, `"Priority 1"` and the empty string are not severities.
pub fn parse_chat_severity(s: &str) -> Option<Severity> {
    let s = s.trim();
    let mut chars = s.chars();
    let p = chars.next()?;
    let digit = chars.next()?;
    if !p.eq_ignore_ascii_case(&'p') {
        return None;
    }
    let rest = chars.as_str();
    // After the digit: nothing, or a separator (space, dash, colon, ...) before the words.
    if rest.chars().next().is_some_and(char::is_alphanumeric) {
        return None;
    }
    match digit {
        '1' => Some(Severity::P1),
        '2' => Some(Severity::P2),
        '3' => Some(Severity::P3),
        '4' => Some(Severity::P4),
        _ => None,
    }
}

/// `POST /v1/intake/chat`: a customer started a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatOpen {
    /// The chat backend's id of the conversation: the same id twice answers the same request.
    pub conversation_id: String,
    pub customer_email: String,
    pub customer_name: String,
    /// Which account the customer belongs to when the backend knows: the account's id, or
    /// one of its support email domains (`acme.com`).
    #[serde(default)]
    pub account_hint: Option<String>,
    /// As the customer chose it: `P1`..`P4` or the widget's label ("P1 - Production down").
    pub severity: String,
    pub title: String,
    /// The customer's first message.
    pub message: String,
    /// When the customer sent it (RFC 3339): the SLA clock starts here.
    pub sent_at: DateTime<Utc>,
}

/// `POST /v1/intake/chat/{conversation_id}/messages`: a further message of the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    /// The chat backend's id of the message: a retried post appends nothing twice.
    pub message_id: String,
    pub message: String,
    pub sent_at: DateTime<Utc>,
}

/// A [`ChatOpen`] whose fields passed their checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedChatOpen {
    pub conversation_id: String,
    pub customer_email: String,
    pub customer_name: String,
    pub account_hint: Option<AccountHint>,
    pub severity: Severity,
    pub title: String,
    pub message: String,
    /// `sent_at` within the accepted window (one a little ahead of the server read as now).
    pub sent_at: DateTime<Utc>,
}

/// What an account hint names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountHint {
    Id(Uuid),
    Domain(String),
}

/// A [`ChatMessage`] whose fields passed their checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedChatMessage {
    pub message_id: String,
    pub message: String,
    pub sent_at: DateTime<Utc>,
}

/// An id from the chat backend: not empty, at most [`MAX_EXTERNAL_ID_LEN`] characters, no
/// spaces or control characters (it travels in a URL path).
pub fn external_id(field: &str, value: &str) -> Result<String, FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.chars().count() > MAX_EXTERNAL_ID_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_EXTERNAL_ID_LEN} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '/')
    {
        return Err(FieldError::new(
            field,
            "must not contain spaces, slashes or control characters",
        ));
    }
    Ok(value.to_owned())
}

/// A message text: trimmed, not empty, at most [`MAX_DETAILS_LEN`] characters; line breaks
/// and tabs are text, other control characters are refused.
pub fn message_text(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if v.chars().count() > MAX_DETAILS_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_DETAILS_LEN} characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters other than line breaks and tabs",
        ));
    }
    Ok(v.to_owned())
}

/// The instant a customer sent something, bounded: at most [`SENT_AT_MAX_AHEAD`] after `now`
/// (then read as `now`), at most [`SENT_AT_MAX_AGE`] before it.
pub fn sent_at(
    field: &str,
    value: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, FieldError> {
    if value > now + SENT_AT_MAX_AHEAD {
        return Err(FieldError::new(
            field,
            format!(
                "is {} minutes ahead of the server's clock (at most 5 are accepted): check the sender's clock",
                (value - now).num_minutes()
            ),
        ));
    }
    if value < now - SENT_AT_MAX_AGE {
        return Err(FieldError::new(
            field,
            "is more than 7 days old: check the sender's clock",
        ));
    }
    Ok(value.min(now))
}

fn account_hint(value: Option<&str>) -> Result<Option<AccountHint>, FieldError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(id) = Uuid::parse_str(v) {
        return Ok(Some(AccountHint::Id(id)));
    }
    validation::domain_name("account_hint", v)
        .map(|d| Some(AccountHint::Domain(d)))
        .map_err(|_| {
            FieldError::new(
                "account_hint",
                "must be an account id or an email domain such as acme.com",
            )
        })
}

impl ChatOpen {
    /// Checks every field, naming each one refused.
    pub fn check(&self, now: DateTime<Utc>) -> Result<CheckedChatOpen, ValidationErrors> {
        let mut c = Checker::new();
        let conversation_id = c.check(external_id("conversation_id", &self.conversation_id));
        let customer_email = c.check(validation::email("customer_email", &self.customer_email));
        let customer_name = c.check(validation::required_text(
            "customer_name",
            &self.customer_name,
        ));
        let hint = c.check(account_hint(self.account_hint.as_deref()));
        let severity = c.check(parse_chat_severity(&self.severity).ok_or_else(|| {
            FieldError::new(
                "severity",
                format!(
                    "\"{}\" is not a severity: send P1, P2, P3 or P4 (or a label starting with one, such as \"P1 - Production down\")",
                    self.severity.chars().take(40).collect::<String>()
                ),
            )
        }));
        let title = c.check(validation::required_text("title", &self.title));
        let message = c.check(message_text("message", &self.message));
        let at = c.check(sent_at("sent_at", self.sent_at, now));
        c.finish()?;
        match (
            conversation_id,
            customer_email,
            customer_name,
            hint,
            severity,
            title,
            message,
            at,
        ) {
            (
                Some(conversation_id),
                Some(customer_email),
                Some(customer_name),
                Some(account_hint),
                Some(severity),
                Some(title),
                Some(message),
                Some(sent_at),
            ) => Ok(CheckedChatOpen {
                conversation_id,
                customer_email,
                customer_name,
                account_hint,
                severity,
                title,
                message,
                sent_at,
            }),
            _ => unreachable!("Checker::finish refuses when a check failed"),
        }
    }
}

impl ChatMessage {
    pub fn check(&self, now: DateTime<Utc>) -> Result<CheckedChatMessage, ValidationErrors> {
        let mut c = Checker::new();
        let message_id = c.check(external_id("message_id", &self.message_id));
        let message = c.check(message_text("message", &self.message));
        let at = c.check(sent_at("sent_at", self.sent_at, now));
        c.finish()?;
        match (message_id, message, at) {
            (Some(message_id), Some(message), Some(sent_at)) => Ok(CheckedChatMessage {
                message_id,
                message,
                sent_at,
            }),
            _ => unreachable!("Checker::finish refuses when a check failed"),
        }
    }
}

/// Answer of both chat intake calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatIntakeResponse {
    /// The request the conversation became (also its id once an Unmatched one is assigned).
    pub request_id: Uuid,
    /// `None` while the request waits in the Unmatched queue.
    pub account_id: Option<Uuid>,
    pub unmatched: bool,
    /// False when this call repeated one already taken in (same conversation or message id).
    pub created: bool,
}

/// Whether an email is an automatic one that must open nothing: an auto-reply
/// (`Auto-Submitted` other than `no`, `X-Autoreply`, `X-Autorespond`), bulk or list mail
/// (`Precedence: bulk`, `junk`, `list`) or a delivery report (`multipart/report`, or from a
/// mailer daemon). `header` looks a header up by name (case-insensitive), `content_type` is
/// the top-level MIME type, `sender` the From address.
pub fn is_automatic_email(
    header: &dyn Fn(&str) -> Option<String>,
    content_type: &str,
    sender: &str,
) -> bool {
    let auto_submitted = header("Auto-Submitted")
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("no") && !v.trim().is_empty());
    let autoreply = header("X-Autoreply").is_some() || header("X-Autorespond").is_some();
    let precedence = header("Precedence").is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "bulk" | "junk" | "list"
        )
    });
    let report = content_type.trim().eq_ignore_ascii_case("multipart/report");
    let local = sender
        .rsplit_once('@')
        .map_or(sender, |(l, _)| l)
        .to_ascii_lowercase();
    let daemon = local == "mailer-daemon" || local == "postmaster";
    auto_submitted || autoreply || precedence || report || daemon
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rstest::rstest;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0).unwrap()
    }

    #[rstest]
    #[case("P1", Some(Severity::P1))]
    #[case(" p2 ", Some(Severity::P2))]
    #[case("P1 - Production down, no workaround", Some(Severity::P1))]
    #[case("P2 - Production system impaired", Some(Severity::P2))]
    #[case("p3: minor issue", Some(Severity::P3))]
    #[case("P4 – General guidance", Some(Severity::P4))]
    #[case("P5", None)]
    #[case("P10", None)]
    #[case("P1x", None)]
    #[case("Priority 1", None)]
    #[case("", None)]
    #[case("1", None)]
    #[case("urgent", None)]
    fn chat_severities(#[case] s: &str, #[case] want: Option<Severity>) {
        assert_eq!(parse_chat_severity(s), want, "{s:?}");
    }

    #[test]
    fn every_package_label_reads_as_its_severity() {
        for s in Severity::ALL {
            assert_eq!(parse_chat_severity(s.label()), Some(s), "{}", s.label());
        }
    }

    fn open() -> ChatOpen {
        ChatOpen {
            conversation_id: "conv-1".into(),
            customer_email: "Ana@Acme.com".into(),
            customer_name: "Ana".into(),
            account_hint: None,
            severity: "P1 - Production down, no workaround".into(),
            title: "Checkout down".into(),
            message: "Nothing loads.\nSince 02:55.".into(),
            sent_at: now() - TimeDelta::minutes(2),
        }
    }

    #[test]
    fn a_good_chat_passes_with_its_severity_and_time() {
        let c = open().check(now()).unwrap();
        assert_eq!(c.severity, Severity::P1);
        assert_eq!(
            c.customer_email, "Ana@acme.com",
            "the domain is lower-cased"
        );
        assert_eq!(c.sent_at, now() - TimeDelta::minutes(2));
    }

    #[test]
    fn each_bad_field_is_named() {
        type Change = Box<dyn Fn(&mut ChatOpen)>;
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|o| o.conversation_id = String::new()),
                "conversation_id",
            ),
            (
                Box::new(|o| o.conversation_id = "a b".into()),
                "conversation_id",
            ),
            (
                Box::new(|o| o.conversation_id = "x".repeat(201)),
                "conversation_id",
            ),
            (
                Box::new(|o| o.customer_email = "ana".into()),
                "customer_email",
            ),
            (
                Box::new(|o| o.customer_name = "A\u{7}na".into()),
                "customer_name",
            ),
            (Box::new(|o| o.severity = "P7".into()), "severity"),
            (Box::new(|o| o.title = "x".repeat(201)), "title"),
            (Box::new(|o| o.title = "a\u{1b}[31m".into()), "title"),
            (Box::new(|o| o.message = "  ".into()), "message"),
            (Box::new(|o| o.message = "a\u{0}b".into()), "message"),
            (
                Box::new(|o| o.message = "x".repeat(MAX_DETAILS_LEN + 1)),
                "message",
            ),
            (
                Box::new(|o| o.account_hint = Some("not a domain".into())),
                "account_hint",
            ),
            (
                Box::new(|o| o.sent_at = now() + TimeDelta::minutes(6)),
                "sent_at",
            ),
            (
                Box::new(|o| o.sent_at = now() - TimeDelta::days(8)),
                "sent_at",
            ),
        ];
        for (change, field) in cases {
            let mut o = open();
            change(&mut o);
            let e = o.check(now()).unwrap_err();
            assert_eq!(e.first().field, field, "{e}");
        }
    }

    #[test]
    fn sent_at_a_little_ahead_reads_as_now() {
        let at = sent_at("sent_at", now() + TimeDelta::minutes(4), now()).unwrap();
        assert_eq!(at, now(), "the clock never starts in the future");
    }

    #[test]
    fn account_hints_are_ids_or_domains() {
        let id = Uuid::from_u128(42);
        assert_eq!(
            account_hint(Some(&id.to_string())).unwrap(),
            Some(AccountHint::Id(id))
        );
        assert_eq!(
            account_hint(Some("@Acme.com")).unwrap(),
            Some(AccountHint::Domain("acme.com".into()))
        );
        assert_eq!(account_hint(Some(" ")).unwrap(), None);
    }

    #[test]
    fn automatic_emails_are_recognised() {
        let none = |_: &str| None;
        assert!(!is_automatic_email(&none, "text/plain", "ana@acme.com"));
        let auto = |h: &str| (h == "Auto-Submitted").then(|| "auto-replied".to_owned());
        assert!(is_automatic_email(&auto, "text/plain", "ana@acme.com"));
        let not_auto = |h: &str| (h == "Auto-Submitted").then(|| "no".to_owned());
        assert!(!is_automatic_email(&not_auto, "text/plain", "ana@acme.com"));
        let bulk = |h: &str| (h == "Precedence").then(|| "Bulk".to_owned());
        assert!(is_automatic_email(&bulk, "text/plain", "ana@acme.com"));
        assert!(is_automatic_email(&none, "multipart/report", "x@acme.com"));
        assert!(is_automatic_email(
            &none,
            "text/plain",
            "MAILER-DAEMON@mx.acme.com"
        ));
    }
}
