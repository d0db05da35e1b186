//! One running instance per data folder: a second launch on the same folder hands its
//! arguments to the first (which focuses its window) and exits, so two processes never
//! write one cache. Launches on different folders (profiles) run side by side.

use std::path::Path;

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
