//! The empty app of the launch benches: Tauri 2 with one static page (page/index.html) and
//! one command, `startup_mark`, which answers the milliseconds since `main()` as Rapport's
//! does. The page calls it two animation frames after it is on screen and writes the answer
//! to `body[data-first-paint-ms]`, where `launch-bench` reads it, as it does for Rapport.

use std::time::Instant;

struct Launched(Instant);

// A command's arguments are extracted by value; the page's `label` is not needed here.
#[allow(clippy::needless_pass_by_value)]
#[tauri::command]
fn startup_mark(launched: tauri::State<'_, Launched>) -> u64 {
    u64::try_from(launched.0.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn main() {
    let started = Instant::now();
    let run = tauri::Builder::default()
        .manage(Launched(started))
        .invoke_handler(tauri::generate_handler![startup_mark])
        .run(tauri::generate_context!());
    if let Err(e) = run {
        eprintln!("rapport-empty-app: {e}");
        std::process::exit(1);
    }
}
