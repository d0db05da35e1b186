//! `rapport-server admin create-intake-key | list-intake-keys | revoke-intake-key |
//! list-mailboxes | list-intake-errors | list-unmatched | assign-unmatched`.

use std::io::Write;

use clap::Subcommand;
use uuid::Uuid;

use super::{Placement, keys, mailbox, store};
use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum IntakeCommand {
    /// Create a key for a chat backend; its secret is printed this once.
    CreateIntakeKey {
        /// What calls with it, e.g. "website chat".
        #[arg(long)]
        name: String,
    },
    /// List the intake keys with their last use.
    ListIntakeKeys,
    /// Revoke an intake key (by id): calls signed with it are refused from now on.
    RevokeIntakeKey {
        #[arg(long)]
        id: Uuid,
    },
    /// Each watched mailbox: its state, UIDVALIDITY, last UID taken in, messages taken in,
    /// when its watcher last reported, and its last error.
    ListMailboxes,
    /// The latest messages intake could not take in, newest first.
    ListIntakeErrors {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// The requests waiting in the Unmatched queue (the customer was not recognised).
    ListUnmatched,
    /// Give a waiting Unmatched request its account: it becomes an ordinary request of that
    /// account's team, its clock running from when the customer wrote.
    AssignUnmatched {
        /// The request's id (from list-unmatched).
        #[arg(long)]
        id: Uuid,
        /// The account: its id, or its exact name.
        #[arg(long)]
        account: String,
    },
}

pub async fn run(state: &AppState, command: IntakeCommand) -> anyhow::Result<()> {
    let mut out = Vec::new();
    let result = run_to(state, command, &mut out).await;
    std::io::stdout().write_all(&out)?;
    result
}

/// The account `account` names (an id, else an exact, unique name): its placement.
async fn account_placement(
    conn: &mut sqlx::PgConnection,
    account: &str,
) -> anyhow::Result<Placement> {
    let rows: Vec<(Uuid, Uuid, Option<String>)> = match Uuid::parse_str(account.trim()) {
        Ok(id) => sqlx::query!(
            r#"SELECT id, team_id, fields->>'name' AS "name?" FROM records
                   WHERE entity = 'account' AND id = $1 AND NOT deleted"#,
            id
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.team_id, r.name))
        .collect(),
        Err(_) => sqlx::query!(
            r#"SELECT id, team_id, fields->>'name' AS "name?" FROM records
                   WHERE entity = 'account' AND NOT deleted AND fields->>'name' = $1 ORDER BY id"#,
            account.trim()
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.team_id, r.name))
        .collect(),
    };
    match rows.as_slice() {
        [] => anyhow::bail!("no account {account:?}"),
        [(id, team, _)] => Ok(Placement {
            account_id: *id,
            team_id: *team,
            contact_id: None,
        }),
        more => anyhow::bail!(
            "{} accounts are named {account:?}; give the id of one: {}",
            more.len(),
            more.iter()
                .map(|r| r.0.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn or_dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// Runs `command`, writing what it says to `out`.
pub async fn run_to(
    state: &AppState,
    command: IntakeCommand,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut conn = state.pool.acquire().await?;
    match command {
        IntakeCommand::CreateIntakeKey { name } => {
            let k = keys::create(&mut conn, &name, None, state.now())
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            writeln!(out, "created intake key {:?}", k.key.name)?;
            writeln!(out, "key id:  {}", k.key.id)?;
            writeln!(out, "secret:  {}", k.secret)?;
            writeln!(
                out,
                "The secret is shown this once: store it in the chat backend's secret store."
            )?;
        }
        IntakeCommand::ListIntakeKeys => {
            for k in keys::list(&mut conn).await? {
                let state = k
                    .revoked_at
                    .map_or_else(|| "live".to_owned(), |t| format!("revoked {t}"));
                let used = k
                    .last_used_at
                    .map_or_else(|| "never used".to_owned(), |t| format!("last used {t}"));
                writeln!(out, "{}  {:?}  {state}  {used}", k.id, k.name)?;
            }
        }
        IntakeCommand::RevokeIntakeKey { id } => {
            match keys::revoke(&mut conn, id, state.now()).await? {
                Some(k) => writeln!(out, "revoked intake key {} {:?}", k.id, k.name)?,
                None => anyhow::bail!("no intake key {id}"),
            }
        }
        IntakeCommand::ListMailboxes => {
            let states = mailbox::states(&mut conn).await?;
            if states.is_empty() {
                writeln!(
                    out,
                    "no mailbox has been watched yet (see {})",
                    mailbox::MAILBOXES_ENV
                )?;
            }
            for m in states {
                writeln!(
                    out,
                    "{}  {}  uidvalidity {}  last uid {}  imported {}  updated {}",
                    m.name,
                    m.state,
                    or_dash(m.uid_validity),
                    m.last_uid,
                    m.imported,
                    m.updated_at
                )?;
                if let Some(e) = &m.last_error {
                    writeln!(out, "  last error ({}): {e}", or_dash(m.last_error_at))?;
                }
            }
        }
        IntakeCommand::ListIntakeErrors { limit } => {
            let errors = store::list_errors(&mut conn, limit.clamp(1, 1000)).await?;
            if errors.is_empty() {
                writeln!(out, "no intake errors")?;
            }
            for e in errors {
                writeln!(
                    out,
                    "{}  {}  {}  uid {}  message-id {}  {} bytes kept",
                    e.at,
                    e.id,
                    e.source,
                    or_dash(e.uid),
                    e.message_id.as_deref().unwrap_or("-"),
                    or_dash(e.raw_bytes)
                )?;
                writeln!(out, "  {}", e.reason)?;
            }
        }
        IntakeCommand::ListUnmatched => {
            let waiting = store::list_unmatched(&mut conn).await?;
            if waiting.is_empty() {
                writeln!(out, "the Unmatched queue is empty")?;
            }
            for u in waiting {
                let triage = if u.needs_triage { " needs triage" } else { "" };
                writeln!(
                    out,
                    "{}  {}{triage}  {}  {:?}  from {}{}  opened {}  {} entries",
                    u.id,
                    u.severity.to_uppercase(),
                    u.channel,
                    u.title,
                    u.customer_email,
                    u.account_hint
                        .as_deref()
                        .map_or_else(String::new, |h| format!(" (hint {h})")),
                    u.opened_at,
                    u.entries
                )?;
            }
        }
        IntakeCommand::AssignUnmatched { id, account } => {
            drop(conn);
            let mut tx = state.pool.begin().await?;
            let p = account_placement(&mut tx, &account).await?;
            if super::assign(&mut tx, id, p, None, state.now())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .is_none()
            {
                anyhow::bail!(
                    "no request {id} waits in the Unmatched queue (it may have been assigned already)"
                );
            }
            tx.commit().await?;
            writeln!(
                out,
                "request {id} now belongs to account {}; its team's desktops receive it on their next sync",
                p.account_id
            )?;
        }
    }
    Ok(())
}
