//! Writes `ui/src/bindings.ts` from the Rust types that cross IPC, or with `--check`
//! fails when the file is stale. Usage:
//!
//! ```text
//! rapport-bindings ui/src/bindings.ts          # (re)generate
//! rapport-bindings --check ui/src/bindings.ts  # exit 1 when stale or missing
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use rapport_desktop::bindings;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (check, path) = match args.as_slice() {
        [flag, path] if flag == "--check" => (true, PathBuf::from(path)),
        [path] if !path.starts_with('-') => (false, PathBuf::from(path)),
        _ => {
            eprintln!("usage: rapport-bindings [--check] <path/to/bindings.ts>");
            return ExitCode::from(2);
        }
    };
    if check {
        match bindings::check(&path) {
            Ok(()) => {
                println!("{} is up to date", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("rapport-bindings: {e}");
                ExitCode::FAILURE
            }
        }
    } else {
        match bindings::write(&path) {
            Ok(true) => {
                println!("wrote {}", path.display());
                ExitCode::SUCCESS
            }
            Ok(false) => {
                println!("{} was already up to date", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("rapport-bindings: cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        }
    }
}
