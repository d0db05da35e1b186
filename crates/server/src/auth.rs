//! Passwords (argon2id), bearer tokens (random, stored only as SHA-256, expiring, revocable)
//! and the extractor that turns a request's token into the signed-in user.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use rapport_domain::Role;
use rapport_domain::authz::{self, Action};
use sha2::{Digest, Sha256};
use tokio::sync::OwnedSemaphorePermit;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

pub const MIN_PASSWORD_LEN: usize = rapport_domain::limits::MIN_PASSWORD_LEN;
pub const MAX_PASSWORD_LEN: usize = rapport_domain::limits::MAX_PASSWORD_LEN;

/// Checks a new password's length; the error names the field.
pub fn check_password(field: &str, password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(ApiError::invalid_field(
            field,
            format!("{field}: must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(ApiError::invalid_field(
            field,
            format!("{field}: must be at most {MAX_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| ApiError::internal(&e))?;
    Ok(buf)
}

/// The argon2id hash (PHC string) of `password`. CPU-heavy: call from a blocking task.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt =
        SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| ApiError::internal(&e))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(&e))
}

/// Whether `password` matches `phc`. CPU-heavy: call from a blocking task.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// An argon2id hash checked when the email is unknown, so an unknown email costs as much
/// time as a wrong password and does not reveal itself. Made on first use, on a blocking
/// thread (it is as costly as a check).
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("no user has this password").unwrap_or_default());

/// Waits for one of the state's password-check turns: at most `Settings::password_checks`
/// checks run at once, whatever the number of sign-ins, and the others wait in order.
/// 503 `busy` when no turn frees up within `password_check_wait`.
pub async fn password_turn(state: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    let wait = state.settings.password_check_wait;
    tokio::time::timeout(wait, state.password_slots.clone().acquire_owned())
        .await
        .map_err(|_| {
            let mut e = ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is busy checking other sign-ins; try again in a moment",
            );
            e.retry_after_secs = Some(1);
            e
        })?
        .map_err(|e| ApiError::internal(&e))
}

/// Checks `password` against `phc` (a dummy hash for an unknown user, so that costs the
/// same) on a blocking thread, in the `turn` taken. Holds no database connection.
pub async fn check_password_in_turn(
    state: &AppState,
    turn: OwnedSemaphorePermit,
    password: String,
    phc: Option<String>,
) -> Result<bool, ApiError> {
    use std::sync::atomic::Ordering::Relaxed;
    state.password_checks_run.fetch_add(1, Relaxed);
    let running = state.password_checks_running.clone();
    let now = running.fetch_add(1, Relaxed) + 1;
    state.password_checks_peak.fetch_max(now, Relaxed);
    tokio::task::spawn_blocking(move || {
        let ok = verify_password(&password, phc.as_deref().unwrap_or(&DUMMY_HASH));
        running.fetch_sub(1, Relaxed);
        drop(turn);
        ok
    })
    .await
    .map_err(|e| ApiError::internal(&e))
}

pub async fn hash_password_blocking(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::internal(&e))?
}

/// A new bearer token: 32 random bytes, hex, with a recognisable prefix.
pub fn new_token() -> Result<String, ApiError> {
    let bytes = random_bytes::<32>()?;
    let mut s = String::with_capacity(68);
    s.push_str("rpt_");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    Ok(s)
}

/// What the database keeps of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The signed-in user of a request (from `Authorization: Bearer <token>`).
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub role: Role,
    pub token_hash: Vec<u8>,
}

impl AuthUser {
    /// Refuses the request unless the user's role allows `action`.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        authz::check(self.role, action).map_err(|_| {
            ApiError::forbidden(
                "forbidden_role",
                format!(
                    "a {} may not {}",
                    self.role.as_str(),
                    action.as_str().replace('_', " ")
                ),
            )
        })
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "unauthenticated",
                    "sign in first: send Authorization: Bearer <token>",
                )
            })?;
        let hash = token_hash(token);
        let row = sqlx::query!(
            "SELECT u.id, u.role FROM auth_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND NOT u.disabled",
            &hash[..],
            state.now()
        )
        .fetch_optional(&state.pool)
        .await?;
        let (id, role) = row.map(|r| (r.id, r.role)).ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_token",
                "the sign-in has expired or was revoked: sign in again",
            )
        })?;
        let role = Role::parse(&role)
            .ok_or_else(|| ApiError::internal(&format!("user {id} has unknown role {role}")))?;
        Ok(AuthUser {
            id,
            role,
            token_hash: hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(
            !verify_password("correct horse batterY", &h),
            "a wrong password fails"
        );
        assert!(
            !verify_password("x", "not a phc string"),
            "a broken hash fails closed"
        );
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 68);
        assert_eq!(token_hash(&a).len(), 32);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
