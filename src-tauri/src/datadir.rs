//! Where a launch keeps its data, from the command line and the environment.
//!
//! The data folder is `RAPPORT_DATA_DIR` when set, else `<platform data dir>/rapport/<profile>`
//! (`~/.local/share/rapport/default` on Linux). The profile comes from `--profile NAME`, else
//! `RAPPORT_PROFILE`, else `default`. These are pure functions of their inputs so tests need
//! not touch the process environment.

use std::ffi::OsString;
use std::path::PathBuf;

pub const DEFAULT_PROFILE: &str = "default";

/// What the command line asks of this launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchOptions {
    /// Which local profile (data folder) to open.
    pub profile: String,
    /// Load the demo workspace when the cache is empty (`--demo`).
    pub demo: bool,
    /// Arguments this launch did not understand (logged, otherwise ignored: WebDriver and
    /// desktop launchers may add their own).
    pub ignored: Vec<String>,
}

impl LaunchOptions {
    /// Reads `--demo` and `--profile NAME` / `--profile=NAME` from `args` (without the program
    /// name); `env_profile` is `RAPPORT_PROFILE`, used when no `--profile` is given.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env_profile: Option<String>,
    ) -> Result<Self, String> {
        let mut profile = None;
        let mut demo = false;
        let mut ignored = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--demo" {
                demo = true;
            } else if arg == "--profile" {
                let name = args
                    .next()
                    .ok_or("--profile needs a name, e.g. --profile work")?;
                profile = Some(name);
            } else if let Some(name) = arg.strip_prefix("--profile=") {
                profile = Some(name.to_owned());
            } else {
                ignored.push(arg);
            }
        }
        let profile = profile
            .or(env_profile.filter(|p| !p.is_empty()))
            .unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
        check_profile_name(&profile)?;
        Ok(LaunchOptions {
            profile,
            demo,
            ignored,
        })
    }
}

/// A profile name becomes a folder name, so it must be one plain path component.
pub fn check_profile_name(name: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "profile name {name:?} is not usable: use 1 to 64 letters, digits, '-', '_' or '.', \
             not starting with '.'"
        ))
    }
}

/// The data folder of this launch. `env_override` is `RAPPORT_DATA_DIR`; `platform_data_dir`
/// is the OS's per-user data folder (`$XDG_DATA_HOME` or `~/.local/share` on Linux).
pub fn resolve(
    env_override: Option<OsString>,
    platform_data_dir: Option<PathBuf>,
    profile: &str,
) -> Result<PathBuf, String> {
    if let Some(dir) = env_override.filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let base = platform_data_dir.ok_or(
        "no per-user data folder is known on this system: set RAPPORT_DATA_DIR to the folder \
         Rapport should use",
    )?;
    Ok(base.join("rapport").join(profile))
}

/// The OS's per-user data folder, if the system has one.
pub fn platform_data_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.data_dir().to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn env_override_wins_and_ignores_the_profile() {
        let dir = resolve(
            Some("/tmp/r".into()),
            Some("/home/a/.local/share".into()),
            "work",
        );
        assert_eq!(
            dir.unwrap(),
            Path::new("/tmp/r"),
            "RAPPORT_DATA_DIR is the data folder itself"
        );
    }

    #[test]
    fn platform_dir_holds_one_folder_per_profile() {
        let base = PathBuf::from("/home/a/.local/share");
        assert_eq!(
            resolve(None, Some(base.clone()), "default").unwrap(),
            base.join("rapport/default")
        );
        assert_eq!(
            resolve(Some(OsString::new()), Some(base.clone()), "work").unwrap(),
            base.join("rapport/work"),
            "an empty RAPPORT_DATA_DIR counts as unset"
        );
    }

    #[test]
    fn no_platform_dir_asks_for_the_env_variable() {
        let err = resolve(None, None, "default").unwrap_err();
        assert!(err.contains("RAPPORT_DATA_DIR"), "{err}");
    }

    #[test]
    fn profile_from_flag_then_env_then_default() {
        let from_flag = LaunchOptions::parse(args(&["--profile", "work"]), Some("env".into()));
        assert_eq!(
            from_flag.unwrap().profile,
            "work",
            "the flag beats RAPPORT_PROFILE"
        );
        let eq_form = LaunchOptions::parse(args(&["--profile=team-b", "--demo"]), None).unwrap();
        assert_eq!((eq_form.profile.as_str(), eq_form.demo), ("team-b", true));
        assert_eq!(
            LaunchOptions::parse(args(&[]), Some("env".into()))
                .unwrap()
                .profile,
            "env"
        );
        let plain = LaunchOptions::parse(args(&[]), None).unwrap();
        assert_eq!(
            (plain.profile.as_str(), plain.demo),
            (DEFAULT_PROFILE, false)
        );
    }

    #[test]
    fn unknown_arguments_are_kept_aside() {
        let o = LaunchOptions::parse(args(&["--demo", "-psn_0_123"]), None).unwrap();
        assert!(o.demo);
        assert_eq!(o.ignored, vec!["-psn_0_123"]);
    }

    #[test]
    fn profile_names_that_are_not_one_folder_are_refused() {
        for bad in ["..", "../etc", "a/b", ".hidden", "", "with space"] {
            assert!(
                LaunchOptions::parse(args(&["--profile", bad]), None).is_err(),
                "{bad:?} must not become a path"
            );
        }
        assert!(
            LaunchOptions::parse(args(&["--profile"]), None).is_err(),
            "a name is required"
        );
    }
}
