//! `rapport-server`: run the central service, or bootstrap users and teams from the shell.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::TimeDelta;
use clap::{Parser, Subcommand};
use rapport_domain::{Role, User};
use rapport_server::config::{self, Config};
use rapport_server::db::{self, identity};
use rapport_server::routes::admin::{CreateUser, create_team_with, create_user_with};
use rapport_server::{AppState, MIGRATOR, Settings, state::system_clock};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "rapport-server", version, about = "Rapport's central service")]
struct Cli {
    /// The config file (the package installs /etc/rapport/server.toml); without one every
    /// setting takes its default. Flags and DATABASE_URL override the file.
    #[arg(long, env = "RAPPORT_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// PostgreSQL to use, e.g. postgres://postgres@127.0.0.1:5432/rapport (overrides
    /// database.url of the config file)
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Log filter (tracing EnvFilter syntax), e.g. info or rapport_server=debug,tower_http=info
    #[arg(long, env = "RAPPORT_LOG", default_value = "info", global = true)]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run migrations, then serve HTTP until SIGINT/SIGTERM. Each flag overrides its key
    /// of the config file.
    Serve {
        /// server.listen [default: 127.0.0.1:8080]
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Largest request body, in bytes: server.max_body_bytes [default: 4194304]
        #[arg(long)]
        max_body_bytes: Option<usize>,
        /// How long a sign-in lasts, in hours: server.token_ttl_hours [default: 720]
        #[arg(long)]
        token_ttl_hours: Option<i64>,
        /// Tombstones older than this many days are purged (hourly); older cursors reset:
        /// retention.tombstone_days [default: 90]
        #[arg(long)]
        tombstone_retention_days: Option<i64>,
        /// Database connections of this process: database.max_connections [default: 20]
        #[arg(long)]
        max_connections: Option<u32>,
    },
    /// Bring the database schema up to date, then exit (`serve` does this on start too).
    Migrate,
    /// Check the config file (and the database settings) without starting; exits non-zero
    /// naming the key at fault.
    CheckConfig,
    /// Manage users and teams directly in the database (e.g. the first admin).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a user. The password is read from RAPPORT_PASSWORD or prompted on stdin.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// csm, account_rep, support_lead or admin
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
    /// Create a team.
    CreateTeam {
        #[arg(long)]
        name: String,
    },
    /// Add a user (by email) to a team (by name).
    AddMember {
        #[arg(long)]
        team: String,
        #[arg(long)]
        email: String,
    },
    /// Set a user's password (from RAPPORT_PASSWORD or stdin) and revoke their sign-ins.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Purge tombstones older than the given days now.
    PurgeTombstones {
        #[arg(long, default_value_t = 90)]
        older_than_days: i64,
    },
    /// Intake: keys of the chat backends (create-intake-key, list-intake-keys,
    /// revoke-intake-key), the mailboxes (list-mailboxes, list-intake-errors) and the
    /// Unmatched queue (list-unmatched, assign-unmatched).
    #[command(flatten)]
    Intake(rapport_server::intake::cli::IntakeCommand),
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("RAPPORT_PASSWORD") {
        return Ok(p);
    }
    eprint!("password: ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_new(&cli.log_level).context("--log-level is not a valid filter")?,
        )
        .init();
    let file = cli.config.as_deref();
    let mut config = match file {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(url) = cli.database_url {
        config.override_database_url(url)?;
    }
    match cli.command {
        Command::Serve {
            listen,
            max_body_bytes,
            token_ttl_hours,
            tombstone_retention_days,
            max_connections,
        } => {
            let s = &mut config.server;
            s.listen = listen.unwrap_or(s.listen);
            s.max_body_bytes = max_body_bytes.unwrap_or(s.max_body_bytes);
            s.token_ttl_hours = token_ttl_hours.unwrap_or(s.token_ttl_hours);
            let r = &mut config.retention;
            r.tombstone_days = tombstone_retention_days.unwrap_or(r.tombstone_days);
            let d = &mut config.database;
            d.max_connections = max_connections.unwrap_or(d.max_connections);
            let listen = config.server.listen;
            let pool = connect(&config, file, config.database.max_connections).await?;
            MIGRATOR.run(&pool).await.context("running migrations")?;
            let settings = Settings {
                token_ttl: TimeDelta::hours(config.server.token_ttl_hours),
                max_body_bytes: config.server.max_body_bytes,
                ..Settings::default()
            };
            let oncall = config.oncall_settings(&|k| std::env::var(k).ok())?;
            let mut state = AppState::new(pool.clone(), system_clock(), settings)
                .await
                .context("listening for change notices")?;
            state.oncall = std::sync::Arc::new(oncall);
            // Every process runs the watcher: claims in PostgreSQL keep each page to one.
            rapport_server::oncall::watcher::spawn(&state, state.oncall.clone())?;
            let retention = TimeDelta::days(config.retention.tombstone_days);
            let purge_pool = pool.clone();
            let purge_clock = state.clock.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
                loop {
                    every.tick().await;
                    match db::sync::purge_tombstones(&purge_pool, purge_clock() - retention).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(purged = n, "old tombstones purged"),
                        Err(e) => tracing::warn!(error = %e, "purging tombstones failed"),
                    }
                }
            });
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            let addr = listener.local_addr()?;
            // The one line tests and scripts read to learn the port (with --listen ...:0).
            println!("rapport-server listening on http://{addr}");
            tracing::info!(%addr, "serving");
            rapport_server::serve(listener, state, shutdown_signal()).await?;
            tracing::info!("stopped");
        }
        Command::Migrate => {
            let pool = connect(&config, file, 2).await?;
            MIGRATOR.run(&pool).await.context("running migrations")?;
            let applied: i64 =
                sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(&pool)
                    .await
                    .context("reading the applied migrations")?;
            println!(
                "database is up to date: {applied} of {} migrations applied",
                MIGRATOR.iter().count()
            );
        }
        Command::CheckConfig => {
            config.database_options(file)?;
            let oncall = config.oncall_settings(&|k| std::env::var(k).ok())?;
            let name = file.map_or_else(|| "(no config file)".into(), |p| p.display().to_string());
            println!("{name}: ok");
            println!("  server.listen = {}", config.server.listen);
            // Checked above, so a URL is there; shown without any password.
            let url = config.database.url.as_deref().unwrap_or_default();
            println!("  database.url = {}", config::redact(url));
            if let Some(path) = &config.database.password_file {
                println!("  database.password_file = {} (readable)", path.display());
            }
            println!(
                "  database.max_connections = {}",
                config.database.max_connections
            );
            println!(
                "  retention.tombstone_days = {}",
                config.retention.tombstone_days
            );
            match &oncall.smtp {
                Some(m) => println!(
                    "  smtp = {}:{} ({:?}), from {}",
                    m.host, m.port, m.security, m.from
                ),
                None => println!("  smtp = (none: pages go by webhook and in the app only)"),
            }
            println!(
                "  oncall.ack links = {}",
                if oncall.link_secret.is_some() && oncall.public_url.is_some() {
                    "on"
                } else {
                    "off (needs public_url and a link secret)"
                }
            );
        }
        Command::Admin { command } => {
            let pool = connect(&config, file, 2).await?;
            MIGRATOR.run(&pool).await.context("running migrations")?;
            let state = AppState::new(pool.clone(), system_clock(), Settings::default()).await?;
            admin(&state, command).await?;
            state.shutdown_handle().trigger();
        }
    }
    Ok(())
}

/// A pool on the configured database.
async fn connect(config: &Config, file: Option<&Path>, max: u32) -> anyhow::Result<PgPool> {
    let options = config.database_options(file)?;
    let url = config
        .database
        .url
        .as_deref()
        .map(config::redact)
        .unwrap_or_default();
    PgPoolOptions::new()
        .max_connections(max)
        .connect_with(db::session_settings(options))
        .await
        .with_context(|| format!("connecting to PostgreSQL at {url}"))
}

async fn admin(state: &AppState, command: AdminCommand) -> anyhow::Result<()> {
    let fail = |e: rapport_server::ApiError| anyhow::anyhow!("{}", e.message);
    match command {
        AdminCommand::CreateUser {
            email,
            name,
            role,
            time_zone,
        } => {
            let Some(role) = Role::parse(&role) else {
                bail!("--role must be one of csm, account_rep, support_lead, admin");
            };
            let password = read_password()?;
            let req = CreateUser {
                name,
                email,
                role,
                time_zone,
                working_hours: None,
                password,
            };
            let user: User = create_user_with(state, req).await.map_err(fail)?;
            println!(
                "created user {} <{}> ({}) id {}",
                user.name,
                user.email,
                user.role.as_str(),
                user.id
            );
        }
        AdminCommand::CreateTeam { name } => {
            let team = create_team_with(state, &name).await.map_err(fail)?;
            println!("created team {} id {}", team.name, team.id);
        }
        AdminCommand::AddMember { team, email } => {
            let mut tx = state.pool.begin().await?;
            let t = identity::team_by_name(&mut tx, &team)
                .await?
                .with_context(|| format!("no team named {team}"))?;
            let u = identity::user_by_email(&mut tx, &email)
                .await?
                .with_context(|| format!("no user {email}"))?;
            let added = identity::add_member(&mut tx, t.id, u.id).await?;
            tx.commit().await?;
            println!(
                "{} {} team {}",
                email,
                if added { "added to" } else { "was already in" },
                t.name
            );
        }
        AdminCommand::ResetPassword { email } => {
            let mut conn = state.pool.acquire().await?;
            let u = identity::user_by_email(&mut conn, &email)
                .await?
                .with_context(|| format!("no user {email}"))?;
            drop(conn);
            let password = read_password()?;
            rapport_server::auth::check_password("password", &password).map_err(fail)?;
            let hash = rapport_server::auth::hash_password_blocking(password)
                .await
                .map_err(fail)?;
            let mut tx = state.pool.begin().await?;
            identity::set_password(&mut tx, u.id, &hash, state.now()).await?;
            tx.commit().await?;
            println!("password of {email} set; their sign-ins were revoked");
        }
        AdminCommand::PurgeTombstones { older_than_days } => {
            let n = db::sync::purge_tombstones(
                &state.pool,
                state.now() - TimeDelta::days(older_than_days),
            )
            .await?;
            println!("purged {n} tombstones");
        }
        AdminCommand::Intake(command) => rapport_server::intake::cli::run(state, command).await?,
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing running requests");
}
