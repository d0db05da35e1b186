//! Intake keys and the signature of every chat intake call.
//!
//! An admin creates a key; its secret (`rik_` and 64 hex digits) is shown once. The service
//! keeps only the secret's SHA-256, and that digest is the HMAC key: a caller signs
//! `timestamp + "." + body` with HMAC-SHA256 keyed by SHA-256(secret) and sends
//!
//! ```text
//! Rapport-Intake-Key: <key id>
//! Rapport-Timestamp: <unix seconds>
//! Rapport-Signature: v1=<hex HMAC>
//! ```
//!
//! A timestamp more than [`MAX_SKEW`] from the server's clock is refused, so a captured call
//! cannot be replayed later; within the window a replay is harmless (intake is idempotent).

use axum::http::HeaderMap;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;

pub const KEY_HEADER: &str = "rapport-intake-key";
pub const TIMESTAMP_HEADER: &str = "rapport-timestamp";
pub const SIGNATURE_HEADER: &str = "rapport-signature";
/// How far a call's timestamp may be from the server's clock.
pub const MAX_SKEW: TimeDelta = TimeDelta::minutes(5);
pub const MAX_KEY_NAME_LEN: usize = 100;

/// A key as admins see it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct IntakeKey {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The last call signed with it that was accepted.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new key, with the secret shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedIntakeKey {
    #[serde(flatten)]
    pub key: IntakeKey,
    /// Keep it in the chat backend's secret store: it cannot be shown again.
    pub secret: String,
}

/// The HMAC key of a secret: its SHA-256.
pub fn signing_key(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.trim().as_bytes()).to_vec()
}

/// The `v1=` signature of `body` at `timestamp` (what a caller computes).
pub fn sign(signing_key: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(signing_key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(67);
    hex.push_str("v1=");
    for b in bytes {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn new_secret() -> Result<String, ApiError> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).map_err(|e| ApiError::internal(&e))?;
    let mut s = String::from("rik_");
    for b in buf {
        s.push_str(&format!("{b:02x}"));
    }
    Ok(s)
}

/// Checks a key's name: the error names `name`.
pub fn check_name(name: &str) -> Result<String, ApiError> {
    let n = rapport_domain::validation::required_text("name", name)
        .map_err(|e| ApiError::invalid_field("name", e.to_string()))?;
    if n.chars().count() > MAX_KEY_NAME_LEN {
        return Err(ApiError::invalid_field(
            "name",
            format!("name: must be at most {MAX_KEY_NAME_LEN} characters"),
        ));
    }
    Ok(n)
}

pub async fn create(
    conn: &mut PgConnection,
    name: &str,
    created_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<CreatedIntakeKey, ApiError> {
    let name = check_name(name)?;
    let secret = new_secret()?;
    let id = Uuid::now_v7();
    let inserted = sqlx::query!(
        "INSERT INTO intake_keys (id, name, secret_hash, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        id,
        name,
        &signing_key(&secret)[..],
        now,
        created_by
    )
    .execute(conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(ApiError::field(
            axum::http::StatusCode::CONFLICT,
            "name_taken",
            "name",
            format!(
                "name: a live intake key is already called {name:?}; revoke it first or pick another name"
            ),
        ));
    }
    Ok(CreatedIntakeKey {
        key: IntakeKey {
            id,
            name,
            created_at: now,
            revoked_at: None,
            last_used_at: None,
        },
        secret,
    })
}

pub async fn list(conn: &mut PgConnection) -> Result<Vec<IntakeKey>, sqlx::Error> {
    sqlx::query_as!(
        IntakeKey,
        "SELECT id, name, created_at, revoked_at, last_used_at FROM intake_keys
         ORDER BY revoked_at IS NOT NULL, created_at, id",
    )
    .fetch_all(conn)
    .await
}

/// Revokes a key (calls signed with it are refused from now on); `None` if there is none.
pub async fn revoke(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<IntakeKey>, sqlx::Error> {
    sqlx::query_as!(
        IntakeKey,
        "UPDATE intake_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1
         RETURNING id, name, created_at, revoked_at, last_used_at",
        id,
        now
    )
    .fetch_optional(conn)
    .await
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn refused(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::unauthorized(code, message)
}

/// Verifies a call's signature over the raw `body`: the key is live, the timestamp within
/// [`MAX_SKEW`] of `now`, the HMAC matches (compared in constant time). Records the key's
/// last use. Returns the key's id.
pub async fn verify(
    conn: &mut PgConnection,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Uuid, ApiError> {
    let (Some(key), Some(ts), Some(sig)) = (
        header(headers, KEY_HEADER),
        header(headers, TIMESTAMP_HEADER),
        header(headers, SIGNATURE_HEADER),
    ) else {
        return Err(refused(
            "unsigned",
            "sign the call: send Rapport-Intake-Key, Rapport-Timestamp and Rapport-Signature",
        ));
    };
    let ts: i64 = ts.parse().map_err(|_| {
        refused(
            "invalid_signature",
            "Rapport-Timestamp must be the Unix time in seconds",
        )
    })?;
    let Some(at) = DateTime::from_timestamp(ts, 0) else {
        return Err(refused(
            "invalid_signature",
            "Rapport-Timestamp is out of range",
        ));
    };
    if (at - now).abs() > MAX_SKEW {
        return Err(refused(
            "stale_timestamp",
            "Rapport-Timestamp is more than 5 minutes from the server's clock: sign each call when it is sent, with a synchronised clock",
        ));
    }
    let key_id = Uuid::parse_str(key).map_err(|_| {
        refused(
            "invalid_signature",
            "Rapport-Intake-Key must be the id of an intake key",
        )
    })?;
    let bad = || {
        refused(
            "invalid_signature",
            "the signature does not match: sign timestamp + \".\" + the exact body with HMAC-SHA256, keyed by SHA-256 of the key's secret",
        )
    };
    let row = sqlx::query_scalar!(
        "SELECT secret_hash FROM intake_keys WHERE id = $1 AND revoked_at IS NULL",
        key_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(signing) = row else {
        return Err(bad());
    };
    let given = hex_decode(sig.strip_prefix("v1=").unwrap_or(sig)).ok_or_else(bad)?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&signing)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| bad())?;
    sqlx::query!(
        "UPDATE intake_keys SET last_used_at = greatest(coalesce(last_used_at, $2), $2) WHERE id = $1",
        key_id,
        now
    )
    .execute(&mut *conn)
    .await?;
    Ok(key_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        // The HMAC the signatures are made with is the standard one (RFC 4231 test case 2).
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_signature_covers_the_timestamp_and_the_body() {
        let k = signing_key("rik_abc");
        let s = sign(&k, 1_700_000_000, b"{}");
        assert!(s.starts_with("v1=") && s.len() == 67);
        assert_ne!(s, sign(&k, 1_700_000_001, b"{}"), "another timestamp");
        assert_ne!(s, sign(&k, 1_700_000_000, b"{ }"), "another body");
        assert_eq!(hex_decode("0aff"), Some(vec![10, 255]));
        // What the README's openssl lines compute for the same secret, time and body.
        assert_eq!(
            s,
            "v1=54f46952682e2ff760eadf790ad877726dc3e79480e75c53f60d4fea6fa3c33b"
        );
        assert_eq!(hex_decode("0g"), None);
    }
}
