//! Sending a page: an email to each person paged (SMTP, lettre) and one message to the
//! request's team webhook (Slack-compatible, or JSON signed with HMAC-SHA256).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use super::store::{Webhook, WebhookFormat};
use super::{SmtpSecurity, SmtpSettings};

/// What a page says, whoever receives it.
#[derive(Debug, Clone)]
pub struct PageContent {
    pub request_id: Uuid,
    pub dedupe_key: String,
    pub title: String,
    pub account: String,
    /// `P1 - Production system down`.
    pub severity: String,
    /// Why now: `escalation round 1, step 2`, `the response time is at risk`, ...
    pub reason: String,
    /// Seconds left on the first-response clock (negative: late); `None` without an SLA.
    pub time_left_secs: Option<i64>,
    pub call_link: Option<String>,
    pub due_at: DateTime<Utc>,
}

/// `1 h 05 min left`, `12 min late`.
pub fn time_left(secs: Option<i64>) -> String {
    let Some(s) = secs else {
        return "no response-time target (Standard plan)".into();
    };
    let m = s.abs() / 60;
    let text = if m >= 60 {
        format!("{} h {:02} min", m / 60, m % 60)
    } else {
        format!("{m} min")
    };
    if s >= 0 {
        format!("{text} left to the first response")
    } else {
        format!("first response {text} late")
    }
}

impl PageContent {
    pub fn subject(&self) -> String {
        let short = self.severity.split(" - ").next().unwrap_or(&self.severity);
        format!("[{short}] {} — {}", self.account, self.title)
    }

    /// The body of the email; `ack_url` is the person's own one-time link.
    pub fn email_text(&self, ack_url: Option<&str>) -> String {
        let mut t = format!(
            "{}\n\nAccount:   {}\nSeverity:  {}\nClock:     {}\nWhy:       {}\nRequest:   {}\n",
            self.title,
            self.account,
            self.severity,
            time_left(self.time_left_secs),
            self.reason,
            self.request_id,
        );
        if let Some(link) = &self.call_link {
            t.push_str(&format!("Call:      {link}\n"));
        }
        match ack_url {
            Some(url) => t.push_str(&format!(
                "\nAcknowledge (stops the escalation; the link works once):\n{url}\n"
            )),
            None => t.push_str("\nAcknowledge from the request's page in Rapport.\n"),
        }
        t
    }

    fn chat_text(&self) -> String {
        let mut t = format!(
            "*{}* {} — {}\n{} · {}",
            self.severity,
            self.account,
            self.title,
            time_left(self.time_left_secs),
            self.reason
        );
        if let Some(link) = &self.call_link {
            t.push_str(&format!("\nCall: {link}"));
        }
        t
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the SMTP settings are unusable: {0}")]
    Smtp(String),
    #[error("the page email could not be built: {0}")]
    Build(String),
    #[error("the SMTP server refused or could not be reached: {0}")]
    Send(String),
    #[error("the webhook failed: {0}")]
    Webhook(String),
}

/// The SMTP connection of this process.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(s: &SmtpSettings) -> Result<Mailer, DeliveryError> {
        let smtp = |e: lettre::transport::smtp::Error| DeliveryError::Smtp(e.to_string());
        let builder = match s.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host).map_err(smtp)?
            }
            SmtpSecurity::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host).map_err(smtp)?
            }
        };
        let mut builder = builder.port(s.port).timeout(Some(s.timeout));
        if let (Some(user), Some(pw)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pw.0.clone()));
        }
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| DeliveryError::Smtp(format!("smtp.from {:?}: {e}", s.from)))?;
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Sends `page` to one person. The Message-ID is the same for every try of the same
    /// page to the same person.
    pub async fn send(
        &self,
        page: &PageContent,
        to_name: &str,
        to_email: &str,
        to_id: Uuid,
        ack_url: Option<&str>,
    ) -> Result<(), DeliveryError> {
        let to = Mailbox::new(
            Some(to_name.to_owned()),
            to_email
                .parse()
                .map_err(|e| DeliveryError::Build(format!("{to_email:?}: {e}")))?,
        );
        let domain = self.from.email.domain().to_owned();
        let message_id = format!(
            "<page.{}.{}.{}@{domain}>",
            page.request_id.simple(),
            page.dedupe_key.replace(':', "."),
            to_id.simple()
        );
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(page.subject())
            .message_id(Some(message_id))
            .header(ContentType::TEXT_PLAIN)
            .body(page.email_text(ack_url))
            .map_err(|e| DeliveryError::Build(e.to_string()))?;
        self.transport
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError::Send(e.to_string()))
    }
}

type HmacSha256 = Hmac<Sha256>;

/// `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`: what a receiver recomputes.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut m = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize()
        .into_bytes()
        .iter()
        .fold(String::from("sha256="), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The JSON body a webhook receives.
pub fn webhook_body(format: WebhookFormat, page: &PageContent) -> serde_json::Value {
    match format {
        WebhookFormat::Slack => json!({ "text": page.chat_text() }),
        WebhookFormat::SignedJson => json!({
            "type": "page",
            "page_key": page.dedupe_key,
            "request_id": page.request_id,
            "title": page.title,
            "account": page.account,
            "severity": page.severity,
            "reason": page.reason,
            "time_left_secs": page.time_left_secs,
            "call_link": page.call_link,
            "due_at": page.due_at,
        }),
    }
}

/// Posts `page` to a team's webhook; a 2xx answer is a delivery.
pub async fn send_webhook(
    http: &reqwest::Client,
    hook: &Webhook,
    page: &PageContent,
    now: DateTime<Utc>,
) -> Result<(), DeliveryError> {
    let body = serde_json::to_vec(&webhook_body(hook.format, page))
        .map_err(|e| DeliveryError::Webhook(e.to_string()))?;
    let mut req = http
        .post(&hook.url)
        .header("content-type", "application/json")
        .header(
            "rapport-page-key",
            format!("{}:{}", page.request_id, page.dedupe_key),
        );
    if hook.format == WebhookFormat::SignedJson
        && let Some(secret) = &hook.secret
    {
        let ts = now.timestamp();
        req = req
            .header("rapport-timestamp", ts.to_string())
            .header("rapport-signature", webhook_signature(secret, ts, &body));
    }
    let resp = req
        .body(body)
        .send()
        .await
        .map_err(|e| DeliveryError::Webhook(e.without_url().to_string()))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(DeliveryError::Webhook(format!(
            "the receiver answered {}",
            resp.status()
        )))
    }
}
