//! The demo workspace: `demo_load` from the first-start screen, and `--demo` at launch.

use crate::clock::now;
use rapport_client::views::DemoSummary;
use rapport_client::{DemoSpec, Store, StoreError};
use tauri::State;

use crate::error::IpcError;

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub async fn demo_load(store: State<'_, Store>) -> Result<DemoSummary, IpcError> {
    let summary = store.load_demo(DemoSpec::demo(), now()).await?;
    tracing::info!(?summary, "demo workspace loaded");
    Ok(summary)
}

/// `--demo`: loads the demo workspace unless the cache already holds data (then the
/// launch simply opens on that data).
pub fn load_if_empty(store: &Store) -> Result<(), StoreError> {
    let loaded = tauri::async_runtime::block_on(store.load_demo(DemoSpec::demo(), now()));
    match loaded {
        Ok(summary) => {
            tracing::info!(?summary, "demo workspace loaded (--demo on an empty cache)");
            Ok(())
        }
        Err(StoreError::NotEmpty) => {
            tracing::info!("--demo: the cache already holds data, opening it as it is");
            Ok(())
        }
        Err(e) => Err(e),
    }
}
