//! The sign-in token in the OS keyring (Secret Service on Linux: GNOME Keyring, KWallet),
//! and nowhere else: not SQLite, not a file, not a log line. With no keyring on the session
//! bus the calls fail with a plain reason; the shell then keeps the token in memory for the
//! session only and says so.
//!
//! These calls block (D-Bus): run them on a blocking thread, never on a command's task.

use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Entry, Error};

/// The keyring item's service name; the user part is `"<email> on <server url>"`.
const SERVICE: &str = "Rapport sync token";

fn store() -> Result<&'static Arc<CredentialStore>, String> {
    static STORE: OnceLock<Result<Arc<CredentialStore>, String>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            zbus_secret_service_keyring_store::Store::new()
                .map(|s| s as Arc<CredentialStore>)
                .map_err(|e| describe(&e))
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn describe(e: &Error) -> String {
    format!("the OS keyring is not available ({e})")
}

fn entry(email: &str, server_url: &str) -> Result<Entry, String> {
    Entry::new_in_store(store()?, SERVICE, &format!("{email} on {server_url}"))
        .map_err(|e| describe(&e))
}

pub fn save(email: &str, server_url: &str, token: &str) -> Result<(), String> {
    entry(email, server_url)?
        .set_password(token)
        .map_err(|e| describe(&e))
}

/// The stored token, `None` when there is none.
pub fn load(email: &str, server_url: &str) -> Result<Option<String>, String> {
    match entry(email, server_url)?.get_password() {
        Ok(t) => Ok(Some(t)),
        Err(Error::NoEntry) => Ok(None),
        Err(e) => Err(describe(&e)),
    }
}

pub fn delete(email: &str, server_url: &str) -> Result<(), String> {
    match entry(email, server_url)?.delete_credential() {
        Ok(()) | Err(Error::NoEntry) => Ok(()),
        Err(e) => Err(describe(&e)),
    }
}
