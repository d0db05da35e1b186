//! Two real `rapport-server` processes on one database serve the same clients consistently,
//! wake each other's event streams, and shut down gracefully.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rapport_domain::Role;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::{PASSWORD, TestApp, account_in, mutation};

/// Sends a request and reads its answer as JSON.
trait JsonBody {
    async fn json_body(self) -> Value;
}

impl JsonBody for reqwest::RequestBuilder {
    async fn json_body(self) -> Value {
        self.send().await.unwrap().json().await.unwrap()
    }
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The URL of the test's own database, from DATABASE_URL and the pool's database name.
pub(crate) fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for sqlx::test");
    let db = pool
        .connect_options()
        .get_database()
        .expect("test pools name their database")
        .to_owned();
    let (server, _) = base
        .rsplit_once('/')
        .expect("DATABASE_URL has a database path");
    format!("{server}/{db}")
}

fn start(db_url: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rapport-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-level", "warn"])
        .env("DATABASE_URL", db_url)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("rapport-server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Server { child, url }
}

async fn login(http: &reqwest::Client, url: &str, email: &str) -> String {
    let r = http
        .post(format!("{url}/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .json_body()
        .await;
    r["token"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrator = "rapport_server::MIGRATOR")]
async fn two_processes_on_one_database_serve_consistently(pool: PgPool) {
    let url = database_url(&pool);
    let app = TestApp::new(pool).await; // creates users and teams in the same database
    let team = app.team("Shared").await;
    let (ana, _) = app.user(Role::Csm, &[team]).await;
    let (bo, _) = app.user(Role::AccountRep, &[team]).await;
    let one = start(&url);
    let two = start(&url);
    let http = reqwest::Client::new();

    // A token made by one process works on the other: no session state in a process.
    let ana_token = login(&http, &one.url, &ana.email).await;
    let bo_token = login(&http, &two.url, &bo.email).await;
    let me = http
        .get(format!("{}/v1/me", two.url))
        .bearer_auth(&ana_token)
        .json_body()
        .await;
    assert_eq!(me["user"]["id"], json!(ana.id));

    // Bo listens on process two.
    let mut events = http
        .get(format!("{}/v1/sync/events", two.url))
        .bearer_auth(&bo_token)
        .header("rapport-protocol", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let first = tokio::time::timeout(Duration::from_secs(10), events.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: ready"));

    // Ana pushes on process one; a retry of the same batch goes to process two.
    let account = Uuid::now_v7();
    let batch =
        json!({"mutations": [mutation("account", account, "upsert", account_in(team, "Acme"))]});
    for url in [&one.url, &two.url] {
        let r = http
            .post(format!("{url}/v1/sync/push"))
            .bearer_auth(&ana_token)
            .header("rapport-protocol", "1")
            .json(&batch)
            .json_body()
            .await;
        assert_eq!(r["results"][0]["status"], "applied", "{r}");
    }
    // Process two wakes Bo: the NOTIFY crossed processes.
    let woke = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let chunk = events.chunk().await.unwrap().unwrap();
            if String::from_utf8_lossy(&chunk).contains("event: changes") {
                return;
            }
        }
    })
    .await;
    assert!(
        woke.is_ok(),
        "a push on process one wakes a stream on process two"
    );

    // Bo pulls from both processes and sees the same page.
    let mut pages = Vec::new();
    for url in [&one.url, &two.url] {
        let p = http
            .get(format!("{url}/v1/sync/pull"))
            .bearer_auth(&bo_token)
            .header("rapport-protocol", "1")
            .json_body()
            .await;
        pages.push(p);
    }
    assert_eq!(pages[0], pages[1], "both processes answer alike");
    let accounts: Vec<&Value> = pages[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["entity"] == "account")
        .collect();
    assert_eq!(accounts.len(), 1);
    assert_eq!(
        accounts[0]["version"], 1,
        "the retry through the other process did not apply again"
    );

    // Graceful shutdown with a stream still open: SIGTERM, and the process exits cleanly.
    let mut two = two;
    let status = Command::new("kill")
        .args(["-TERM", &two.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = two.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not stop within 10 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "a graceful stop exits 0: {exit}");
    drop(one);
}
