//! Writes `ui/src/bindings.ts` from the Rust types that cross IPC and `ui/src/commands.ts`
//! (beside it) from the command signatures, or with `--check` fails when either is stale.
//! Usage:
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
                println!("{} and its commands are up to date", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("rapport-bindings: {e}");
                ExitCode::FAILURE
            }
        }
    } else {
        match bindings::write(&path) {
            Ok(written) if written.is_empty() => {
                println!(
                    "{} and its commands were already up to date",
                    path.display()
                );
                ExitCode::SUCCESS
            }
            Ok(written) => {
                for p in written {
                    println!("wrote {}", p.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("rapport-bindings: {e}");
                ExitCode::FAILURE
            }
        }
    }
}
