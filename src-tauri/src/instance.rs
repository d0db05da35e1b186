//! One running instance per data folder: a second launch on the same folder hands its
//! arguments to the first (which focuses its window) and exits, so two processes never
//! write one cache. Launches on different folders (profiles) run side by side.

use std::path::Path;
use std::time::Duration;

/// The environment variable that counts the launch's attempts at claiming the folder.
const ATTEMPT_VAR: &str = "RAPPORT_INSTANCE_ATTEMPT";
/// How many times a launch claims the folder again before it gives up (5 s in all).
const ATTEMPTS: u32 = 20;
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Whether a failed start is the single-instance hand-over to an instance that is gone: a
/// previous instance that was just killed (or crashed) may still own the folder's D-Bus name
/// for a moment, and the hand-over to it gets no reply.
pub fn is_stale_owner(error: &str) -> bool {
    error.contains("failed to forward arguments to the running instance")
}

/// The next attempt at claiming the folder, if any is left: the attempt number to start
/// again with, from the count this launch already made (`None` for the first launch).
pub fn next_attempt(made: Option<&str>) -> Option<u32> {
    let made = made.and_then(|n| n.parse::<u32>().ok()).unwrap_or(0);
    (made < ATTEMPTS).then_some(made + 1)
}

/// Starts this program again in this process (same arguments, environment and pid, so a
/// WebDriver or a desktop launcher still sees one process), after a short wait for the bus
/// to release the gone owner's name. Returns only when it gives up or cannot exec.
pub fn start_again_after_stale_owner() {
    use std::os::unix::process::CommandExt;
    let Some(attempt) = next_attempt(std::env::var(ATTEMPT_VAR).ok().as_deref()) else {
        return;
    };
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    tracing::warn!(
        attempt,
        "the folder's previous instance is gone but still named on D-Bus; starting again"
    );
    std::thread::sleep(ATTEMPT_DELAY);
    let error = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(ATTEMPT_VAR, attempt.to_string())
        .exec();
    tracing::error!(error = %error, "could not start Rapport again");
}

/// The D-Bus name the single-instance plugin claims for this data folder:
/// `com.rapport.desktop.d<16 hex digits of FNV-1a of the path>`.
pub fn dbus_id(data_dir: &Path) -> String {
    let canonical = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in canonical.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("com.rapport.desktop.d{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_owner_is_claimed_again_a_bounded_number_of_times() {
        assert!(is_stale_owner(
            "failed to initialize plugin `single-instance`: failed to forward arguments to the \
             running instance: org.freedesktop.DBus.Error.NoReply: Message recipient disconnected"
        ));
        assert!(!is_stale_owner("the cache is damaged"));
        assert_eq!(next_attempt(None), Some(1));
        assert_eq!(next_attempt(Some("garbage")), Some(1));
        assert_eq!(next_attempt(Some("7")), Some(8));
        assert_eq!(next_attempt(Some(&ATTEMPTS.to_string())), None, "bounded");
    }

    #[test]
    fn one_name_per_data_folder() {
        let a = dbus_id(Path::new("/nonexistent/rapport/default"));
        assert_eq!(
            a,
            dbus_id(Path::new("/nonexistent/rapport/default")),
            "stable for a folder"
        );
        assert_ne!(
            a,
            dbus_id(Path::new("/nonexistent/rapport/work")),
            "profiles do not collide"
        );
        let last = a.rsplit('.').next().unwrap();
        assert!(
            last.starts_with('d') && last[1..].chars().all(|c| c.is_ascii_hexdigit()),
            "a D-Bus name element may not start with a digit: {a}"
        );
    }
}
