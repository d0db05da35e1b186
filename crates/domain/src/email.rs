//! Reading an email: the one parser the desktop's `.eml` import and the service's mailbox
//! intake share (mail-parser: RFC 2047 subjects, MIME parts, the thread headers). Pure: it
//! reads bytes, decides nothing about where the email goes.

use mail_parser::{MessageParser, MimeHeaders};

/// What intake reads from an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEmail {
    pub sender: String,
    pub sender_name: Option<String>,
    pub subject: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
    /// The plain text, trimmed (the HTML part converted when there is no text part).
    pub body: String,
    /// The attachments: name (`unnamed` when it has none) and size in bytes.
    pub attachments: Vec<(String, usize)>,
    /// An auto-reply, bulk mail or a delivery report
    /// ([`crate::intake::is_automatic_email`]).
    pub automatic: bool,
}

/// Why bytes are not an email intake can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotAnEmail {
    #[error("the message is empty")]
    Empty,
    #[error("the message has no header block")]
    NoHeaders,
    #[error("the message has no From: sender")]
    NoSender,
    #[error("the From: header has no email address")]
    NoAddress,
}

/// The message ids of a thread header (`In-Reply-To`, `References`), space-separated.
fn ids_of(v: &mail_parser::HeaderValue<'_>) -> Option<String> {
    if let Some(list) = v.as_text_list() {
        let ids: Vec<&str> = list.iter().map(AsRef::as_ref).collect();
        return (!ids.is_empty()).then(|| ids.join(" "));
    }
    v.as_text().map(str::to_owned)
}

/// Parses an email: subject, sender, thread headers, the plain-text body and the
/// attachments' names and sizes. Bytes with no header block or no sender address are
/// refused, saying which.
pub fn parse(raw: &[u8]) -> Result<ParsedEmail, NotAnEmail> {
    if raw.is_empty() {
        return Err(NotAnEmail::Empty);
    }
    let m = MessageParser::default()
        .parse(raw)
        .ok_or(NotAnEmail::NoHeaders)?;
    let from = m
        .from()
        .and_then(|a| a.first())
        .ok_or(NotAnEmail::NoSender)?;
    let sender = from
        .address()
        .map(str::trim)
        .filter(|a| a.contains('@'))
        .ok_or(NotAnEmail::NoAddress)?
        .to_owned();
    let header = |name: &str| m.header_raw(name).map(str::to_owned);
    let ctype = m.content_type().map_or_else(String::new, |c| {
        format!("{}/{}", c.ctype(), c.subtype().unwrap_or(""))
    });
    let automatic = crate::intake::is_automatic_email(&header, &ctype, &sender);
    let attachments = m
        .attachments()
        .map(|a| {
            (
                a.attachment_name().unwrap_or("unnamed").to_owned(),
                a.contents().len(),
            )
        })
        .collect();
    Ok(ParsedEmail {
        sender,
        sender_name: from.name().map(str::to_owned),
        subject: m.subject().unwrap_or("").trim().to_owned(),
        message_id: m.message_id().map(str::to_owned),
        in_reply_to: ids_of(m.in_reply_to()),
        references: ids_of(m.references()),
        body: m
            .body_text(0)
            .map(|b| b.trim().to_owned())
            .unwrap_or_default(),
        attachments,
        automatic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_headers_keep_every_id_and_refusals_say_why() {
        let raw = b"From: Ana Lee <ana@acme.com>\r\nSubject: =?utf-8?q?Caf=C3=A9?= down\r\n\
            Message-ID: <m3@acme.com>\r\nIn-Reply-To: <m2@acme.com>\r\n\
            References: <m1@acme.com> <m2@acme.com>\r\n\r\n  Still down.  \r\n";
        let p = parse(raw).unwrap();
        assert_eq!(p.sender, "ana@acme.com");
        assert_eq!(p.sender_name.as_deref(), Some("Ana Lee"));
        assert_eq!(p.subject, "Café down", "RFC 2047 decoded");
        assert_eq!(p.message_id.as_deref(), Some("m3@acme.com"));
        assert_eq!(p.in_reply_to.as_deref(), Some("m2@acme.com"));
        assert_eq!(
            p.references.as_deref(),
            Some("m1@acme.com m2@acme.com"),
            "every referenced id, in order, for threading"
        );
        assert_eq!(p.body, "Still down.");
        assert!(p.attachments.is_empty() && !p.automatic);

        assert_eq!(parse(b""), Err(NotAnEmail::Empty));
        assert_eq!(
            parse(b"Subject: no sender\r\n\r\nbody"),
            Err(NotAnEmail::NoSender)
        );
        assert_eq!(
            parse(b"From: Ana\r\nSubject: x\r\n\r\nbody"),
            Err(NotAnEmail::NoAddress)
        );
    }
}
