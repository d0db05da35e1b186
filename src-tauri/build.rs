include!("src/command_names.rs");

fn main() {
    // With an app manifest, each app command gets an `allow-<command>` permission and is
    // callable only from windows whose capability grants it (capabilities/main-window.json).
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
