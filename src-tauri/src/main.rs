// No console window on Windows release builds; harmless elsewhere.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Taken first so `startup_mark` measures from the very start of the process.
    let started = std::time::Instant::now();
    // Embeds tauri.conf.json, the capabilities and ui/dist (which must be built first).
    rapport_desktop::run(started, tauri::generate_context!());
}
