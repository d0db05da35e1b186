//! The support mailbox, watched over IMAP: new messages are fetched by UID and each is taken
//! in ([`super::email`]) in one PostgreSQL transaction that also moves the mailbox's last UID,
//! under a lock on the mailbox's row, so a restart, a reconnect or a second server process
//! on the same database never imports a message twice and never skips one. The same
//! transaction records the message's Message-ID (or, without one, a SHA-256 of it): when
//! the folder's UIDVALIDITY changes (the folder was deleted and created again) the UIDs
//! start over and the folder is read again from the start, and what was taken in before
//! is skipped by that key. Between
//! imports the watcher waits in IMAP IDLE, waking at least every `poll` (the fallback when
//! a server's IDLE says nothing); a lost connection is retried with backoff (1 s doubling to
//! 60 s). One bad message never stops the loop: it becomes an intake error row.

use std::path::PathBuf;
use std::time::Duration;

use async_imap::types::Fetch;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;
use utoipa::ToSchema;

use super::email;
use super::tls::{self, TlsMode};
use super::{IntakeError, store};
use crate::state::Clock;

/// One mailbox to watch.
#[derive(Debug, Clone)]
pub struct MailboxConfig {
    /// The mailbox's name in the state table and in intake errors.
    pub name: String,
    pub host: String,
    pub port: u16,
    /// Implicit TLS, STARTTLS, or plain IMAP to a loopback address ([`super::tls`]).
    pub tls: TlsMode,
    /// PEM certificates to trust instead of the public roots (a private CA, a self-signed
    /// certificate).
    pub ca_file: Option<PathBuf>,
    pub user: String,
    pub password: String,
    pub folder: String,
    /// Longest wait in IDLE before looking again.
    pub poll: Duration,
}

/// One mailbox's state as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
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

pub async fn states(conn: &mut PgConnection) -> Result<Vec<MailboxState>, sqlx::Error> {
    sqlx::query_as!(
        MailboxState,
        "SELECT name, state, uid_validity, last_uid, imported, last_error, last_error_at, updated_at
         FROM intake_mailboxes ORDER BY name",
    )
    .fetch_all(conn)
    .await
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The environment variable naming the mailboxes file.
pub const MAILBOXES_ENV: &str = "RAPPORT_MAILBOXES";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MailboxesFile {
    #[serde(default)]
    mailbox: Vec<MailboxEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MailboxEntry {
    name: String,
    host: String,
    /// The mode's own (993 for `implicit`, else 143) when left out.
    port: Option<u16>,
    /// `implicit` (the default), `starttls`, or `none` (only to a loopback address).
    #[serde(default = "default_tls")]
    tls: String,
    ca_file: Option<PathBuf>,
    user: String,
    password_env: Option<String>,
    password_file: Option<std::path::PathBuf>,
    #[serde(default = "default_folder")]
    folder: String,
    #[serde(default = "default_poll")]
    poll_seconds: u64,
}

fn default_tls() -> String {
    "implicit".into()
}
fn default_folder() -> String {
    "INBOX".into()
}
fn default_poll() -> u64 {
    60
}

/// Reads a mailboxes file (TOML, one `[[mailbox]]` table each); the password comes from
/// the variable `password_env` names or from `password_file`, never from the file itself.
pub fn parse_config(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<MailboxConfig>, String> {
    let file: MailboxesFile = toml::from_str(text).map_err(|e| format!("mailboxes file: {e}"))?;
    file.mailbox
        .into_iter()
        .map(|m| {
            let Some(mode) = TlsMode::parse(&m.tls) else {
                return Err(format!(
                    "mailbox {}: tls = {:?}: use \"implicit\" (IMAPS, port 993), \"starttls\" (port 143) or \"none\"",
                    m.name, m.tls
                ));
            };
            if mode == TlsMode::None && !tls::is_loopback(&m.host) {
                return Err(format!(
                    "mailbox {}: tls = \"none\" sends the password in clear, so it is allowed only to a loopback address (127.0.0.1, ::1, localhost), not {}; use \"implicit\" or \"starttls\"",
                    m.name, m.host
                ));
            }
            if let Some(path) = &m.ca_file {
                if mode == TlsMode::None {
                    return Err(format!(
                        "mailbox {}: ca_file is for TLS; tls = \"none\" uses none",
                        m.name
                    ));
                }
                tls::read_ca_file(path).map_err(|e| format!("mailbox {}: {e}", m.name))?;
            }
            let password = match (&m.password_env, &m.password_file) {
                (Some(var), None) => env(var)
                    .ok_or_else(|| format!("mailbox {}: {var} is not set", m.name))?,
                (None, Some(path)) => std::fs::read_to_string(path)
                    .map_err(|e| format!("mailbox {}: reading {}: {e}", m.name, path.display()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
                _ => {
                    return Err(format!(
                        "mailbox {}: give exactly one of password_env and password_file",
                        m.name
                    ));
                }
            };
            Ok(MailboxConfig {
                name: m.name,
                host: m.host,
                port: m.port.unwrap_or_else(|| mode.default_port()),
                tls: mode,
                ca_file: m.ca_file,
                user: m.user,
                password,
                folder: m.folder,
                poll: Duration::from_secs(m.poll_seconds.max(1)),
            })
        })
        .collect()
}

/// Starts a watcher for each mailbox of the file [`MAILBOXES_ENV`] names (none when it is
/// unset); they stop with the state's shutdown.
pub fn spawn_from_env(state: &crate::state::AppState) -> std::io::Result<()> {
    let Ok(path) = std::env::var(MAILBOXES_ENV) else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| std::io::Error::other(format!("{MAILBOXES_ENV}={path}: {e}")))?;
    let configs = parse_config(&text, &|v| std::env::var(v).ok()).map_err(std::io::Error::other)?;
    for cfg in configs {
        tracing::info!(mailbox = cfg.name, host = cfg.host, "watching the mailbox");
        tokio::spawn(watch(
            state.pool.clone(),
            state.clock.clone(),
            cfg,
            state.shutdown_signal(),
        ));
    }
    Ok(())
}

async fn set_state(
    pool: &PgPool,
    name: &str,
    state: &str,
    error: Option<&str>,
    now: DateTime<Utc>,
) {
    let r = sqlx::query!(
        "INSERT INTO intake_mailboxes (name, state, last_error, last_error_at, updated_at)
         VALUES ($1, $2, $3, CASE WHEN $3::text IS NULL THEN NULL ELSE $4::timestamptz END, $4)
         ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at,
           last_error = coalesce(EXCLUDED.last_error, intake_mailboxes.last_error),
           last_error_at = coalesce(EXCLUDED.last_error_at, intake_mailboxes.last_error_at)",
        name,
        state,
        error,
        now
    )
    .execute(pool)
    .await;
    if let Err(e) = r {
        tracing::warn!(mailbox = name, error = %e, "could not record the mailbox's state");
    }
}

/// Watches `cfg` until `stop` turns true.
pub async fn watch(
    pool: PgPool,
    clock: Clock,
    cfg: MailboxConfig,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        if *stop.borrow() {
            break;
        }
        set_state(&pool, &cfg.name, "connecting", None, clock()).await;
        match session(&pool, &clock, &cfg, &mut stop).await {
            Ok(()) => break,
            Err(e) => {
                let msg = e.to_string();
                tracing::warn!(mailbox = cfg.name, error = %msg, ?backoff, "mailbox connection failed; retrying");
                set_state(&pool, &cfg.name, "disconnected", Some(&msg), clock()).await;
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => break,
                }
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
    set_state(&pool, &cfg.name, "stopped", None, clock()).await;
}

async fn session(
    pool: &PgPool,
    clock: &Clock,
    cfg: &MailboxConfig,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), BoxError> {
    let client = tls::connect(&tls::Endpoint {
        host: &cfg.host,
        port: cfg.port,
        tls: cfg.tls,
        ca_file: cfg.ca_file.as_ref(),
    })
    .await?;
    let mut session = client
        .login(&cfg.user, &cfg.password)
        .await
        .map_err(|(e, _)| format!("signing in as {}: {e}", cfg.user))?;
    loop {
        let mbox = session.select(&cfg.folder).await?;
        let validity = i64::from(mbox.uid_validity.ok_or("the folder has no UIDVALIDITY")?);
        set_state(pool, &cfg.name, "importing", None, clock()).await;
        let last = last_uid(pool, &cfg.name, validity).await?;
        let mut uids: Vec<u32> = session
            .uid_search(format!("UID {}:*", last + 1))
            .await?
            .into_iter()
            .filter(|u| i64::from(*u) > last)
            .collect();
        uids.sort_unstable();
        for chunk in uids.chunks(50) {
            let set: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            let mut fetched: Vec<Fetch> = session
                .uid_fetch(set.join(","), "(UID INTERNALDATE BODY.PEEK[])")
                .await?
                .try_collect()
                .await?;
            fetched.sort_by_key(|f| f.uid);
            for f in &fetched {
                let Some(uid) = f.uid else { continue };
                let received = f
                    .internal_date()
                    .map_or_else(|| clock(), |d| d.with_timezone(&Utc));
                import_one(
                    pool,
                    clock,
                    &cfg.name,
                    validity,
                    i64::from(uid),
                    received,
                    f.body().unwrap_or(b""),
                )
                .await?;
            }
            if *stop.borrow() {
                return Ok(());
            }
        }
        set_state(pool, &cfg.name, "idle", None, clock()).await;
        let mut idle = session.idle();
        idle.init().await?;
        let (wait, _interrupt) = idle.wait_with_timeout(cfg.poll);
        tokio::select! {
            r = wait => { r?; }
            _ = stop.changed() => return Ok(()),
        }
        session = idle.done().await?;
    }
}

async fn last_uid(pool: &PgPool, name: &str, validity: i64) -> Result<i64, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT uid_validity, last_uid FROM intake_mailboxes WHERE name = $1",
        name
    )
    .fetch_optional(pool)
    .await?;
    Ok(match row.map(|r| (r.uid_validity, r.last_uid)) {
        Some((Some(v), last)) if v == validity => last,
        _ => 0,
    })
}

/// Takes in message `uid` unless it was already (by this or another process): the check,
/// the import and the new last UID commit together under the mailbox row's lock.
async fn import_one(
    pool: &PgPool,
    clock: &Clock,
    name: &str,
    validity: i64,
    uid: i64,
    received: DateTime<Utc>,
    raw: &[u8],
) -> Result<(), sqlx::Error> {
    let now = clock();
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "INSERT INTO intake_mailboxes (name, state, updated_at) VALUES ($1, 'importing', $2)
         ON CONFLICT (name) DO NOTHING",
        name,
        now
    )
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query!(
        "SELECT uid_validity, last_uid FROM intake_mailboxes WHERE name = $1 FOR UPDATE",
        name
    )
    .fetch_one(&mut *tx)
    .await?;
    let (stored, last) = (row.uid_validity, row.last_uid);
    if stored == Some(validity) && last >= uid {
        return tx.commit().await; // taken in already
    }
    let message_id = email::parse(raw).ok().and_then(|p| p.message_id);
    // A new UIDVALIDITY (the folder recreated) starts the UIDs over, so the folder is read
    // again from UID 1: what was taken in before is known by its Message-ID (or content).
    let key = store::mailbox_message_key(message_id.as_deref(), raw);
    if !store::remember_mailbox_message(&mut tx, name, &key, validity, uid, now).await? {
        tracing::info!(mailbox = name, uid, key = %key, "taken in already (before a UIDVALIDITY change); skipped");
        advance(&mut tx, name, validity, uid, false, now).await?;
        return tx.commit().await;
    }
    // Why the message was not taken in, if it was not (kept in the errors list).
    let refused = match email::parse(raw) {
        Err(reason) => Some(reason),
        Ok(parsed) => {
            let mut sp = sqlx::Connection::begin(&mut *tx).await?;
            match email::import(&mut sp, &parsed, received, now).await {
                Ok(outcome) => {
                    sp.commit().await?;
                    tracing::info!(mailbox = name, uid, ?outcome, "email taken in");
                    None
                }
                Err(IntakeError::Refused(r)) => {
                    sp.rollback().await?;
                    Some(r.message)
                }
                Err(IntakeError::Db(e)) => return Err(e),
            }
        }
    };
    if let Some(reason) = refused {
        store::record_error(
            &mut tx,
            name,
            Some(uid),
            message_id.as_deref(),
            &reason,
            Some(raw),
            now,
        )
        .await?;
    }
    advance(&mut tx, name, validity, uid, true, now).await?;
    tx.commit().await
}

/// Moves the mailbox's last UID (and UIDVALIDITY) on; `imported` counts one more message
/// read (taken in or refused), as opposed to one skipped as a copy.
async fn advance(
    conn: &mut PgConnection,
    name: &str,
    validity: i64,
    uid: i64,
    imported: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE intake_mailboxes SET uid_validity = $2, last_uid = $3,
           imported = imported + CASE WHEN $5::boolean THEN 1 ELSE 0 END, updated_at = $4
         WHERE name = $1",
        name,
        validity,
        uid,
        now,
        imported
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailboxes_file_reads_with_its_password_from_the_environment() {
        let text = "[[mailbox]]\nname = \"support\"\nhost = \"127.0.0.1\"\ntls = \"none\"\nuser = \"support\"\npassword_env = \"PW\"\n";
        let env = |v: &str| (v == "PW").then(|| "s3cret".to_owned());
        let got = parse_config(text, &env).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (
                got[0].port,
                got[0].folder.as_str(),
                got[0].password.as_str()
            ),
            (143, "INBOX", "s3cret")
        );
        let none = |_: &str| None;
        assert!(
            parse_config(text, &none)
                .unwrap_err()
                .contains("PW is not set")
        );
        let starttls = text.replace("\"none\"", "\"starttls\"");
        assert_eq!(
            parse_config(&starttls, &env).unwrap()[0].tls,
            TlsMode::StartTls
        );
        let implicit = text.replace("tls = \"none\"\n", "");
        let got = parse_config(&implicit, &env).unwrap();
        assert_eq!(
            (got[0].tls, got[0].port),
            (TlsMode::Implicit, 993),
            "implicit TLS on 993 unless told otherwise"
        );
        assert!(
            parse_config(&text.replace("\"none\"", "\"ssl\""), &env)
                .unwrap_err()
                .contains("\"implicit\"")
        );
        let remote = text.replace("127.0.0.1", "imap.vendor.example");
        assert!(
            parse_config(&remote, &env)
                .unwrap_err()
                .contains("loopback"),
            "plain IMAP to another machine is refused"
        );
        let no_ca = implicit.replace("user =", "ca_file = \"/nonexistent/ca.pem\"\nuser =");
        assert!(
            parse_config(&no_ca, &env)
                .unwrap_err()
                .contains("/nonexistent/ca.pem")
        );
        assert!(
            parse_config("[[mailbox]]\nname = 1", &env).is_err(),
            "a broken file is refused"
        );
    }
}
