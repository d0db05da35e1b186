use crate::error::{Result, StoreError};

// Parsing an email.

/// What intake reads from an `.eml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEmail {
    pub sender: String,
    pub sender_name: Option<String>,
    pub subject: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
    pub body: String,
}

/// Longest `.eml` accepted (bytes).
pub const MAX_EML_BYTES: usize = 25 * 1024 * 1024;

pub(super) fn ids_of(v: &mail_parser::HeaderValue<'_>) -> Option<String> {
    if let Some(list) = v.as_text_list() {
        let ids: Vec<&str> = list.iter().map(AsRef::as_ref).collect();
        return (!ids.is_empty()).then(|| ids.join(" "));
    }
    v.as_text().map(str::to_owned)
}

/// Parses an `.eml` with mail-parser: subject (RFC 2047 decoded), sender, thread headers and
/// the plain-text body (the HTML part converted when there is no text part). A file that
/// is not an email (no header block with a sender address) is refused naming `file`.
pub fn parse_email(bytes: &[u8]) -> Result<ParsedEmail> {
    let bad = |why: &str| StoreError::invalid("file", format!("not an email message: {why}"));
    if bytes.is_empty() {
        return Err(bad("the file is empty"));
    }
    if bytes.len() > MAX_EML_BYTES {
        return Err(StoreError::invalid("file", "larger than 25 MB"));
    }
    if bytes.contains(&0) {
        return Err(bad("it is a binary file"));
    }
    let message = mail_parser::MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| bad("it has no headers"))?;
    let from = message
        .from()
        .and_then(|a| a.first())
        .ok_or_else(|| bad("it has no From: sender"))?;
    let sender = from
        .address()
        .map(str::trim)
        .filter(|a| a.contains('@'))
        .ok_or_else(|| bad("the From: header has no email address"))?
        .to_owned();
    let body = message
        .body_text(0)
        .map(|b| b.trim().to_owned())
        .unwrap_or_default();
    Ok(ParsedEmail {
        sender,
        sender_name: from.name().map(str::to_owned),
        subject: message.subject().unwrap_or("").trim().to_owned(),
        message_id: message.message_id().map(str::to_owned),
        in_reply_to: ids_of(message.in_reply_to()),
        references: ids_of(message.references()),
        body,
    })
}
