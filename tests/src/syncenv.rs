//! The sync tests' world: the real `rapport-server` in-process on 127.0.0.1 (port 0, then
//! the same port across restarts) on its own fresh PostgreSQL database, and real clients
//! (a `Store` on a temp data folder + the engine over HTTP, through a fault injector).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use rapport_client::Store;
use rapport_client::sync::{
    FaultyTransport, HttpTransport, SyncClient, SyncError, SyncReport, Transport, login,
};
use rapport_domain::{Role, UserInput, WorkingHours};
use rapport_server::routes::admin::{CreateUser, create_team_with, create_user_with};
use rapport_server::{AppState, Settings};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgPool};
use uuid::Uuid;

/// Records by (entity, id): their wire fields.
pub type Snapshot =
    std::collections::BTreeMap<(String, Uuid), serde_json::Map<String, serde_json::Value>>;
type RecordRow = (
    String,
    Uuid,
    sqlx::types::Json<serde_json::Map<String, serde_json::Value>>,
);

pub const PASSWORD: &str = "correct horse battery staple";

/// A fresh database on `DATABASE_URL`'s server, migrated; dropped by [`Server::drop_db`].
pub async fn fresh_database() -> Result<(PgPool, String, String)> {
    let admin_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("rapport_sync_{}", Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .context("connect to DATABASE_URL")?;
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await?;
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&url)
        .await?;
    rapport_server::MIGRATOR.run(&pool).await?;
    Ok((pool, name, admin_url))
}

/// The real service, served over TCP.
pub struct Server {
    pub pool: PgPool,
    pub url: String,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    db_name: String,
    admin_url: String,
}

impl Server {
    pub async fn start() -> Result<Server> {
        let (pool, db_name, admin_url) = fresh_database().await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut s = Server {
            pool,
            url: format!("http://{addr}"),
            addr,
            stop: None,
            task: None,
            db_name,
            admin_url,
        };
        s.serve(listener).await?;
        Ok(s)
    }

    async fn serve(&mut self, listener: tokio::net::TcpListener) -> Result<()> {
        let state = self.state().await?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        self.stop = Some(tx);
        self.task = Some(tokio::spawn(async move {
            let _ = rapport_server::serve(listener, state, async {
                let _ = rx.await;
            })
            .await;
        }));
        Ok(())
    }

    /// A state on the same database (what a new server process would have).
    pub async fn state(&self) -> Result<AppState> {
        Ok(AppState::new(
            self.pool.clone(),
            Arc::new(Utc::now),
            Settings {
                login_max_failures: 1000,
                ..Settings::default()
            },
        )
        .await?)
    }

    /// Stops the server (running requests finish) and starts a new one on the same port
    /// and database: what a deploy or a crash-and-restart looks like to clients.
    pub async fn restart(&mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), task).await;
        }
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => return Err(e.into()),
            }
        };
        self.serve(listener).await
    }

    /// A team.
    pub async fn team(&self, name: &str) -> Result<Uuid> {
        let state = self.state().await?;
        Ok(create_team_with(&state, name)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
            .id)
    }

    /// A user with [`PASSWORD`], member of `teams`; returns the email.
    pub async fn user(&self, role: Role, teams: &[Uuid]) -> Result<String> {
        let state = self.state().await?;
        let n = Uuid::now_v7().simple().to_string();
        let user = create_user_with(
            &state,
            CreateUser {
                name: format!("{} {}", role.as_str(), &n[20..]),
                email: format!("{}-{n}@example.com", role.as_str()),
                role,
                time_zone: "Europe/Berlin".into(),
                working_hours: None,
                password: PASSWORD.into(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        for t in teams {
            let mut tx = self.pool.begin().await?;
            rapport_server::db::identity::add_member(&mut tx, *t, user.id)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            tx.commit().await?;
        }
        Ok(user.email)
    }

    /// The team's live accounts, contacts and notes as the server holds them.
    pub async fn snapshot(&self, team: Uuid) -> Result<Snapshot> {
        let rows: Vec<RecordRow> = sqlx::query_as(
            "SELECT entity, id, fields FROM records WHERE team_id = $1 AND NOT deleted \
             AND entity IN ('account', 'contact', 'note')",
        )
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(e, id, f)| ((e, id), f.0)).collect())
    }

    /// The ids of the team's live records of one kind (`request`, `request_event`, …), with
    /// the request each belongs to (`fields.request_id`, for timeline entries).
    pub async fn record_ids(&self, team: Uuid, entity: &str) -> Result<Vec<(Uuid, Option<Uuid>)>> {
        let rows: Vec<(Uuid, Option<String>)> = sqlx::query_as(
            "SELECT id, fields->>'request_id' FROM records WHERE team_id = $1 AND NOT deleted \
             AND entity = $2 ORDER BY id",
        )
        .bind(team)
        .bind(entity)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, r)| (id, r.and_then(|r| Uuid::parse_str(&r).ok())))
            .collect())
    }

    /// Whether the server recorded this mutation id as applied.
    pub async fn applied(&self, mutation: Uuid) -> Result<bool> {
        let n: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM applied_mutations WHERE id = $1")
            .bind(mutation)
            .fetch_optional(&self.pool)
            .await?;
        Ok(n.is_some())
    }

    /// Signs `email` in and returns the token.
    pub async fn token(&self, email: &str) -> Result<String> {
        let http = HttpTransport::new(&self.url)?;
        Ok(login(&http, email, PASSWORD).await?.token)
    }

    /// Adds a user (by email) to a team, removing them from `from` first.
    pub async fn move_member(&self, email: &str, from: Option<Uuid>, to: Uuid) -> Result<()> {
        let (id,): (Uuid,) = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&self.pool)
            .await?;
        let mut tx = self.pool.begin().await?;
        if let Some(from) = from {
            rapport_server::db::identity::remove_member(&mut tx, from, id)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        }
        rapport_server::db::identity::add_member(&mut tx, to, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a user (by id) out of a team, as an admin does.
    pub async fn remove_member(&self, team: Uuid, user: Uuid) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        rapport_server::db::identity::remove_member(&mut tx, team, user)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        tx.commit().await?;
        Ok(())
    }

    /// Puts a user (by id) into a team, as an admin does.
    pub async fn add_member(&self, team: Uuid, user: Uuid) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        rapport_server::db::identity::add_member(&mut tx, team, user)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        tx.commit().await?;
        Ok(())
    }

    /// Stops the server and drops its database.
    pub async fn drop_db(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), task).await;
        }
        self.pool.close().await;
        let mut admin = sqlx::PgConnection::connect(&self.admin_url).await?;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.db_name
            )))
            .await?;
        Ok(())
    }
}

/// One desktop: a cache in its own data folder, signed in to the server.
pub struct Client {
    pub store: Store,
    pub dir: tempfile::TempDir,
    pub faults: Arc<FaultyTransport>,
    pub engine: SyncClient,
    pub user_id: Uuid,
}

/// A local profile as first start makes it (before any server is known).
pub fn local_profile(name: &str) -> UserInput {
    UserInput {
        name: name.into(),
        email: format!(
            "{}@local.example.com",
            name.to_lowercase().replace(' ', ".")
        ),
        role: Role::Csm,
        time_zone: "Europe/Berlin".into(),
        working_hours: WorkingHours::default(),
    }
}

impl Client {
    /// First start (a local profile), then sign-in to `server` as `email`.
    pub async fn new(server: &Server, email: &str) -> Result<Client> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path()).await?;
        store
            .profile_create(local_profile("Local Me"), now())
            .await?;
        Self::sign_in(store, dir, server, email).await
    }

    pub async fn sign_in(
        store: Store,
        dir: tempfile::TempDir,
        server: &Server,
        email: &str,
    ) -> Result<Client> {
        let http: Arc<dyn Transport> = Arc::new(HttpTransport::new(&server.url)?);
        let faults = Arc::new(FaultyTransport::new(http));
        let resp = login(&*faults, email, PASSWORD).await?;
        store.sync_signed_in(&server.url, &resp.me).await?;
        let engine = SyncClient::new(store.clone(), faults.clone(), resp.token);
        Ok(Client {
            store,
            dir,
            faults,
            engine,
            user_id: resp.me.user.id,
        })
    }

    /// A fresh data folder signed in with an existing token (no password round).
    pub async fn with_token(server: &Server, token: &str) -> Result<Client> {
        Self::with_token_via(server, &server.url, token).await
    }

    /// [`Client::with_token`], its requests going to `url` (a [`crate::proxy::FaultProxy`]
    /// in front of `server`) instead of the server itself.
    pub async fn with_token_via(server: &Server, url: &str, token: &str) -> Result<Client> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path()).await?;
        store
            .profile_create(local_profile("Local Me"), now())
            .await?;
        let http: Arc<dyn Transport> = Arc::new(HttpTransport::new(url)?);
        let faults = Arc::new(FaultyTransport::new(http));
        let me = rapport_client::sync::me(&*faults, token).await?;
        store.sync_signed_in(&server.url, &me).await?;
        let engine = SyncClient::new(store.clone(), faults.clone(), token.to_owned());
        Ok(Client {
            store,
            dir,
            faults,
            engine,
            user_id: me.user.id,
        })
    }

    pub async fn sync(&self) -> Result<SyncReport, SyncError> {
        self.engine.sync(now(), &|_, _| {}).await
    }
}

pub fn now() -> DateTime<Utc> {
    Utc::now()
}
