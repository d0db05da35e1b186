//! Processes by /proc: which app processes belong to a workspace, and signals by `kill(1)`
//! (the workspace forbids `unsafe`, so no libc call).

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Pids of live processes running `exe` whose environment has `RAPPORT_DATA_DIR=data_dir`:
/// the app processes of one workspace, whoever started them.
pub fn app_pids(exe: &Path, data_dir: &Path) -> Vec<u32> {
    let Ok(exe) = exe.canonicalize() else {
        return Vec::new();
    };
    let wanted = format!("RAPPORT_DATA_DIR={}", data_dir.display());
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let base = Path::new("/proc").join(pid.to_string());
            let same_exe = fs::read_link(base.join("exe")).is_ok_and(|p| p == exe);
            same_exe && is_alive(*pid) && environ_has(&base.join("environ"), &wanted)
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// Pids of live processes, whatever their program, whose environment has
/// `RAPPORT_DATA_DIR=data_dir`: the app and the WebKit helpers it started.
pub fn workspace_pids(data_dir: &Path) -> Vec<u32> {
    let wanted = format!("RAPPORT_DATA_DIR={}", data_dir.display());
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            is_alive(*pid)
                && environ_has(
                    &Path::new("/proc").join(pid.to_string()).join("environ"),
                    &wanted,
                )
        })
        .collect()
}

fn environ_has(path: &Path, entry: &str) -> bool {
    fs::read(path).is_ok_and(|bytes| bytes.split(|b| *b == 0).any(|e| e == entry.as_bytes()))
}

/// True while `pid` exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name, which may itself hold spaces.
    let state = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next());
    !matches!(state, None | Some('Z' | 'X'))
}

/// The parent of `pid`, while `pid` lives.
pub fn parent_pid(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the parenthesised command name: the state, then the parent's pid.
    let (_, rest) = stat.rsplit_once(") ")?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The program `pid` runs (its /proc/PID/exe), while `pid` lives.
pub fn exe(pid: u32) -> Option<std::path::PathBuf> {
    fs::read_link(format!("/proc/{pid}/exe")).ok()
}

/// `pid` and every live process below it (children, their children, …).
pub fn tree(pid: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return vec![pid];
    };
    let all: Vec<(u32, u32)> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|p| Some((p, parent_pid(p)?)))
        .collect();
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            all.iter()
                .filter(|(p, pp)| *pp == parent && is_alive(*p))
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree
}

/// The proportional set size of `pid` in KiB (the `Pss:` line of /proc/PID/smaps_rollup):
/// its private memory plus its share of what it shares, so a sum over processes counts
/// shared libraries once.
pub fn pss_kib(pid: u32) -> Option<u64> {
    let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
}

/// Sends `signal` (e.g. `"TERM"`, `"KILL"`) to `pid`.
pub fn signal(pid: u32, signal: &str) -> Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running kill(1)")?;
    if !status.success() && is_alive(pid) {
        bail!("kill -{signal} {pid} failed");
    }
    Ok(())
}

/// Waits until none of `pids` is alive; false when the deadline passed first.
pub fn wait_gone(pids: &[u32], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if pids.iter().all(|p| !is_alive(*p)) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}
