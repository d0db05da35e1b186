//! Used by the sync tests (tests/sync/kill.rs) until the parent SIGKILLs it:
//!
//! - `sync-kill-child <data dir> <server url> pull <page limit>` pulls into the cache in
//!   `<data dir>` in pages of `<page limit>`, printing `received ...` after each applied page;
//! - `sync-kill-child <data dir> <server url> push <batch size>` pushes the outbox in batches
//!   of `<batch size>`, printing `request <n>` before each request goes out and
//!   `response <n>` when its answer arrived (before the engine records it), so the parent can
//!   kill it at a chosen point of a chosen batch.
//!
//! Prints `done` when it finished. The token comes in `RAPPORT_TEST_TOKEN` (a test token,
//! never a real one).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rapport_client::Store;
use rapport_client::sync::transport::{BoxFuture, HttpRequest, HttpResponse, TransportError};
use rapport_client::sync::{HttpTransport, SyncClient, Transport};

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // The parent reads these lines; if it is gone there is no one to tell.
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        std::process::exit(1);
    }
}

/// The real transport, announcing each request and each answer on stdout.
struct Announcing {
    inner: HttpTransport,
    n: AtomicU64,
}

impl Transport for Announcing {
    fn send(&self, req: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let n = self.n.fetch_add(1, Ordering::SeqCst) + 1;
            say(&format!("request {n}"));
            let resp = self.inner.send(req).await;
            say(&format!("response {n}"));
            resp
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, url, mode, n] = args.as_slice() else {
        anyhow::bail!(
            "usage: sync-kill-child <data dir> <server url> pull|push <page limit|batch>"
        );
    };
    let token = std::env::var("RAPPORT_TEST_TOKEN")?;
    let store = Store::open(std::path::Path::new(dir)).await?;
    let transport = Arc::new(Announcing {
        inner: HttpTransport::new(url)?,
        n: AtomicU64::new(0),
    });
    let mut engine = SyncClient::new(store, transport, token);
    match mode.as_str() {
        "pull" => {
            engine.page_limit = n.parse()?;
            engine
                .pull(chrono::Utc::now(), &|received, total| {
                    say(&format!("received {received} of {total:?}"));
                })
                .await?;
        }
        "push" => {
            engine.push_batch = n.parse()?;
            engine.push(chrono::Utc::now()).await?;
        }
        other => anyhow::bail!("unknown mode {other}: pull or push"),
    }
    say("done");
    Ok(())
}
