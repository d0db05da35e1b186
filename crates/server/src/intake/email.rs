//! One email taken in by the service: parsed with mail-parser, triaged by the domain's rule
//! (urgent as a whole word in the subject → P1 *needs triage*, else P3 *needs triage*),
//! threaded onto the open request it continues (an urgent reply escalates it), or opening
//! a request at the time the server received it. Automatic mail opens nothing.

use chrono::{DateTime, Utc};
use rapport_domain::email::ParsedEmail;
use rapport_domain::request::{Channel, Severity};
use rapport_domain::triage::{
    IncomingEmail, ThreadCandidate, find_thread, initial_triage, message_ids, subject_is_urgent,
    title_from_subject,
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Addition, Incoming, IntakeError, Opened, store};

/// Parses an email with the desktop's parser ([`rapport_domain::email::parse`]); the body
/// the timeline shows is the text, then the attachments by name and size. `Err` says why it
/// is not one intake can take in.
pub fn parse(raw: &[u8]) -> Result<ParsedEmail, String> {
    let mut email = rapport_domain::email::parse(raw).map_err(|e| e.to_string())?;
    if !email.attachments.is_empty() {
        let listed: Vec<String> = email
            .attachments
            .iter()
            .map(|(name, size)| format!("- {name} ({size} bytes)"))
            .collect();
        email.body.push_str("\n\nAttachments:\n");
        email.body.push_str(&listed.join("\n"));
    }
    Ok(email)
}

/// What one email did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailOutcome {
    Opened {
        request_id: Uuid,
        severity: Severity,
        unmatched: bool,
    },
    Threaded {
        request_id: Uuid,
        escalated: bool,
    },
    /// An auto-reply, bulk mail or delivery report: nothing opened.
    Automatic,
}

/// Takes one parsed email in, received by the server at `received_at` (IMAP INTERNALDATE),
/// in the caller's transaction.
pub async fn import(
    conn: &mut PgConnection,
    email: &ParsedEmail,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<EmailOutcome, IntakeError> {
    if email.automatic {
        return Ok(EmailOutcome::Automatic);
    }
    let text = if email.body.is_empty() {
        "(the email has no text)".to_owned()
    } else {
        email.body.clone()
    };
    let add = Addition {
        text: text.clone(),
        at: received_at,
        urgent: subject_is_urgent(&email.subject),
        thread_key: email.message_id.clone(),
        event_id: Uuid::now_v7(),
    };
    let placement = store::find_account(conn, &email.sender, None).await?;
    let thread = match placement {
        Some(p) => {
            let candidates: Vec<ThreadCandidate> = store::open_requests_of(conn, p.account_id)
                .await?
                .into_iter()
                .map(
                    |(request_id, account_id, opened_at, subject, message_ids)| ThreadCandidate {
                        request_id,
                        account_id,
                        opened_at,
                        subject,
                        message_ids,
                    },
                )
                .collect();
            let incoming = IncomingEmail {
                subject: email.subject.clone(),
                in_reply_to: email.in_reply_to.clone(),
                references: email.references.clone(),
            };
            find_thread(&incoming, p.account_id, &candidates).map(|t| t.0)
        }
        None => {
            let mut referenced = Vec::new();
            for h in [&email.in_reply_to, &email.references]
                .into_iter()
                .flatten()
            {
                referenced.extend(message_ids(h));
            }
            store::unmatched_thread(conn, &referenced).await?
        }
    };
    if let Some(request_id) = thread
        && let Some(done) = super::append(conn, request_id, &add, now).await?
    {
        return Ok(EmailOutcome::Threaded {
            request_id,
            escalated: done.escalated,
        });
    }
    let triage = initial_triage(&email.subject);
    // Named as the desktop's `.eml` import names it: without the reply and forward prefixes.
    let title = title_from_subject(&email.subject)
        .chars()
        .take(200)
        .collect();
    let inc = Incoming {
        channel: Channel::Email,
        sender_email: email.sender.clone(),
        sender_name: email.sender_name.clone(),
        account_hint: None,
        severity: triage.severity,
        needs_triage: triage.needs_triage,
        title,
        text,
        at: received_at,
        thread_keys: email.message_id.iter().cloned().collect(),
    };
    let id = Uuid::now_v7();
    let opened = super::open(conn, id, &inc, now).await?;
    Ok(EmailOutcome::Opened {
        request_id: id,
        severity: triage.severity,
        unmatched: opened == Opened::Unmatched,
    })
}
