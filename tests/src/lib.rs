//! rapport-tests: what drives the real Rapport window for the WebDriver tests
//! (`tests/webdriver`) and the launch bench (`src/bin/launch-bench.rs`).
//!
//! One [`Workspace`] is a temp folder holding the app's data folder and its XDG folders; it
//! outlives app launches so a test can close the app and start it again on the same data.
//! One [`App`] is one launch: its own `tauri-driver` (the app inherits the driver's
//! environment, so each launch gets its own driver with the workspace's variables), on free
//! ports, and one WebDriver session. Every wait polls a condition against a deadline.
//!
//! For the sync tests (`tests/sync`): [`syncenv`] (the real server and real clients) and
//! [`proxy`] (a TCP proxy that breaks HTTP exchanges inside a connection).

pub mod dovecot;
pub mod driver;
pub mod proc;
pub mod proxy;
pub mod syncenv;

pub use driver::{App, Workspace, app_binary, by_testid};
