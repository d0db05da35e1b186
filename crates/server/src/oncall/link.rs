//! One-time signed Acknowledge links: `<nonce><request><user><expiry>` in hex, a dot, and
//! the HMAC-SHA256 of those bytes under the server's link secret. The signature proves the
//! server made the link; the expiry is inside what is signed; the nonce goes into
//! `oncall_used_links` when the link is used, so it works once.

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

const PAYLOAD_LEN: usize = 16 + 16 + 16 + 8;

/// What a valid link says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckLink {
    pub nonce: [u8; 16],
    pub request_id: Uuid,
    pub user_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// Why a link does not acknowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this link is not one of ours (it was cut short or changed)")]
    Invalid,
    #[error("this link has expired")]
    Expired,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn mac(secret: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length")
}

/// A new link token for `request_id` and `user_id`, valid until `expires_at`.
pub fn issue(
    secret: &[u8],
    request_id: Uuid,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<String, getrandom::Error> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce)?;
    let mut payload = Vec::with_capacity(PAYLOAD_LEN);
    payload.extend_from_slice(&nonce);
    payload.extend_from_slice(request_id.as_bytes());
    payload.extend_from_slice(user_id.as_bytes());
    payload.extend_from_slice(&expires_at.timestamp().to_be_bytes());
    let mut m = mac(secret);
    m.update(&payload);
    Ok(format!(
        "{}.{}",
        hex(&payload),
        hex(&m.finalize().into_bytes())
    ))
}

/// The link `token` if the server signed it and it has not expired at `now` (whether it
/// was used already is the database's to say).
pub fn verify(secret: &[u8], token: &str, now: DateTime<Utc>) -> Result<AckLink, LinkError> {
    let (payload, sig) = token.split_once('.').ok_or(LinkError::Invalid)?;
    let payload = unhex(payload).ok_or(LinkError::Invalid)?;
    let sig = unhex(sig).ok_or(LinkError::Invalid)?;
    if payload.len() != PAYLOAD_LEN {
        return Err(LinkError::Invalid);
    }
    let mut m = mac(secret);
    m.update(&payload);
    m.verify_slice(&sig).map_err(|_| LinkError::Invalid)?;
    let mut nonce = [0u8; 16];
    nonce.copy_from_slice(&payload[..16]);
    let request_id = Uuid::from_slice(&payload[16..32]).map_err(|_| LinkError::Invalid)?;
    let user_id = Uuid::from_slice(&payload[32..48]).map_err(|_| LinkError::Invalid)?;
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&payload[48..]);
    let expires_at = Utc
        .timestamp_opt(i64::from_be_bytes(ts), 0)
        .single()
        .ok_or(LinkError::Invalid)?;
    if now >= expires_at {
        return Err(LinkError::Expired);
    }
    Ok(AckLink {
        nonce,
        request_id,
        user_id,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn a_link_verifies_until_it_expires_and_only_under_its_secret() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0).unwrap();
        let (r, u) = (Uuid::now_v7(), Uuid::now_v7());
        let t = issue(b"secret", r, u, now + TimeDelta::hours(1)).unwrap();
        let l = verify(b"secret", &t, now).unwrap();
        assert_eq!((l.request_id, l.user_id), (r, u));
        assert_eq!(
            verify(b"secret", &t, now + TimeDelta::hours(1)),
            Err(LinkError::Expired)
        );
        assert_eq!(verify(b"other", &t, now), Err(LinkError::Invalid));
        let mut changed = t.clone().into_bytes();
        changed[40] = if changed[40] == b'0' { b'1' } else { b'0' };
        let changed = String::from_utf8(changed).unwrap();
        assert_eq!(verify(b"secret", &changed, now), Err(LinkError::Invalid));
        assert_eq!(
            verify(b"secret", &t[..t.len() - 2], now),
            Err(LinkError::Invalid)
        );
        assert_ne!(
            issue(b"secret", r, u, now).unwrap(),
            issue(b"secret", r, u, now).unwrap(),
            "every link has its own nonce"
        );
    }
}
