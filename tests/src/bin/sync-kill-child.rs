//! Used by the sync tests (tests/sync/kill.rs): pulls into the cache in `<data dir>` from
//! `<server url>` in pages of `<limit>`, printing a line after each applied page, until the
//! parent SIGKILLs it. The token comes in `RAPPORT_TEST_TOKEN` (a test token, never a real one).

use std::io::Write;
use std::sync::Arc;

use rapport_client::Store;
use rapport_client::sync::{HttpTransport, SyncClient};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, url, limit] = args.as_slice() else {
        anyhow::bail!("usage: sync-kill-child <data dir> <server url> <page limit>");
    };
    let token = std::env::var("RAPPORT_TEST_TOKEN")?;
    let store = Store::open(std::path::Path::new(dir)).await?;
    let mut engine = SyncClient::new(store, Arc::new(HttpTransport::new(url)?), token);
    engine.page_limit = limit.parse()?;
    engine
        .pull(chrono::Utc::now(), &|received, total| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "received {received} of {total:?}");
            let _ = out.flush();
        })
        .await?;
    println!("done");
    Ok(())
}
