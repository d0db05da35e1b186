use crate::error::{Result, StoreError};

// Parsing an email: the domain's parser, shared with the service's mailbox intake.

pub use rapport_domain::email::ParsedEmail;

/// Longest `.eml` accepted (bytes).
pub const MAX_EML_BYTES: usize = 25 * 1024 * 1024;

/// Parses an `.eml` ([`rapport_domain::email::parse`]): subject (RFC 2047 decoded), sender,
/// thread headers and the plain-text body (the HTML part converted when there is no text
/// part). A file that is not an email (no header block with a sender address) is refused
/// naming `file`.
pub fn parse_email(bytes: &[u8]) -> Result<ParsedEmail> {
    let bad = |why: &dyn std::fmt::Display| {
        StoreError::invalid("file", format!("not an email message: {why}"))
    };
    if bytes.len() > MAX_EML_BYTES {
        return Err(StoreError::invalid("file", "larger than 25 MB"));
    }
    if bytes.contains(&0) {
        return Err(bad(&"it is a binary file"));
    }
    rapport_domain::email::parse(bytes).map_err(|e| bad(&e))
}
