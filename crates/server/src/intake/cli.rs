//! `rapport-server admin create-intake-key | list-intake-keys | revoke-intake-key`.

use clap::Subcommand;
use uuid::Uuid;

use super::keys;
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
}

pub async fn run(state: &AppState, command: IntakeCommand) -> anyhow::Result<()> {
    let mut conn = state.pool.acquire().await?;
    match command {
        IntakeCommand::CreateIntakeKey { name } => {
            let k = keys::create(&mut conn, &name, None, state.now())
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!("created intake key {:?}", k.key.name);
            println!("key id:  {}", k.key.id);
            println!("secret:  {}", k.secret);
            println!("The secret is shown this once: store it in the chat backend's secret store.");
        }
        IntakeCommand::ListIntakeKeys => {
            for k in keys::list(&mut conn).await? {
                let state = k
                    .revoked_at
                    .map_or_else(|| "live".to_owned(), |t| format!("revoked {t}"));
                let used = k
                    .last_used_at
                    .map_or_else(|| "never used".to_owned(), |t| format!("last used {t}"));
                println!("{}  {:?}  {state}  {used}", k.id, k.name);
            }
        }
        IntakeCommand::RevokeIntakeKey { id } => {
            match keys::revoke(&mut conn, id, state.now()).await? {
                Some(k) => println!("revoked intake key {} {:?}", k.id, k.name),
                None => anyhow::bail!("no intake key {id}"),
            }
        }
    }
    Ok(())
}
