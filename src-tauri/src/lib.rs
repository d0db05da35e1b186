//! rapport-desktop: the Tauri shell around rapport-client. It resolves the data folder,
//! sets up logging, opens the local cache before the window shows, and exposes the IPC
//! commands of docs/IPC.md. No business rules live here.

mod alerts;
pub mod bindings;
pub mod clock;
pub mod commands;
pub mod datadir;
pub mod error;
pub mod exports;
mod instance;
#[cfg(test)]
mod ipc_tests;
mod logging;
mod notify;
mod reminders;
mod review_reminders;
pub mod sync_task;
mod token;
pub mod wrappers;

include!("command_names.rs");

use std::path::{Path, PathBuf};
use std::time::Instant;

use rapport_client::Store;
use tauri::{App, AppHandle, Manager, RunEvent, Runtime, WebviewWindowBuilder};

use crate::commands::perf::Launched;
use crate::datadir::LaunchOptions;

/// The label of the one window (tauri.conf.json and capabilities/main-window.json).
pub const MAIN_WINDOW: &str = "main";

/// Runs the app; `started` is taken first thing in `main` (for `startup_mark`). The context
/// (config, ACL and the embedded ui/dist) is generated in `main.rs`, so this library, its
/// tests and `rapport-bindings` build without the UI having been built.
pub fn run(started: Instant, context: tauri::Context) {
    let args = std::env::args().skip(1);
    let options = LaunchOptions::parse(args, std::env::var("RAPPORT_PROFILE").ok())
        .unwrap_or_else(|e| exit_before_logging(&e));
    let data_dir = datadir::resolve(
        std::env::var_os("RAPPORT_DATA_DIR"),
        datadir::platform_data_dir(),
        &options.profile,
    )
    .unwrap_or_else(|e| exit_before_logging(&e));
    logging::init(&data_dir.join("logs")).unwrap_or_else(|e| exit_before_logging(&e));
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        data_dir = %data_dir.display(),
        profile = %options.profile,
        demo = options.demo,
        "Rapport starting"
    );
    if !options.ignored.is_empty() {
        tracing::info!(
            count = options.ignored.len(),
            "ignoring arguments Rapport does not know"
        );
    }

    end_with_the_webdriver();

    let single_instance = tauri_plugin_single_instance::Builder::new()
        .dbus_id(instance::dbus_id(&data_dir))
        .callback(|app, _args, _cwd| focus_main_window(app))
        .build();
    let demo = options.demo;
    let result = with_commands(tauri::Builder::default())
        // First, so a second launch on the same data folder hands over before anything opens.
        .plugin(single_instance)
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .manage(Launched::new(started))
        .setup(move |app| {
            // Tauri panics on a setup error; log it plainly and quit with status 1 instead.
            if let Err(e) = setup(app, &data_dir, demo, started) {
                tracing::error!(error = %e, "Rapport could not start");
                app.handle().exit(1);
            }
            Ok(())
        })
        .build(context);
    match result {
        Ok(app) => app.run(|handle, event| on_event(handle, &event)),
        Err(e) => {
            if instance::is_stale_owner(&e.to_string()) {
                instance::start_again_after_stale_owner();
            }
            tracing::error!(error = %e, "Rapport could not start");
            std::process::exit(1);
        }
    }
}

fn on_event(app: &AppHandle, event: &RunEvent) {
    if let RunEvent::Exit = event {
        // Checkpoints the WAL so the cache is one tidy file between runs.
        if let Some(store) = app.try_state::<Store>() {
            tauri::async_runtime::block_on(store.close());
        }
        tracing::info!("Rapport exited");
    }
}

/// Registers every command of docs/IPC.md (`COMMANDS` lists the same names in the same order).
pub(crate) fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::profile::profile_get,
        commands::profile::profile_create,
        commands::profile::profile_update,
        commands::profile::users_list,
        commands::demo::demo_load,
        commands::accounts::accounts_list,
        commands::accounts::account_get,
        commands::accounts::account_create,
        commands::accounts::account_update,
        commands::accounts::account_delete,
        commands::accounts::account_restore,
        commands::contacts::contact_create,
        commands::contacts::contact_update,
        commands::contacts::contact_delete,
        commands::notes::notes_list,
        commands::notes::note_create,
        commands::notes::note_update,
        commands::notes::note_set_pinned,
        commands::notes::note_delete,
        commands::notes::note_restore,
        commands::search::search,
        commands::today::today_get,
        commands::status::status_get,
        commands::perf::startup_mark,
        commands::links::open_external,
        commands::onboarding::onboarding_board,
        commands::onboarding::onboarding_session_get,
        commands::onboarding::onboarding_for_account,
        commands::onboarding::onboarding_week,
        commands::onboarding::onboarding_today,
        commands::onboarding::onboarding_slots,
        commands::onboarding::onboarding_session_create,
        commands::onboarding::onboarding_session_update,
        commands::onboarding::onboarding_session_set_status,
        commands::onboarding::onboarding_session_export,
        commands::onboarding::onboarding_week_export,
        commands::onboarding::onboarding_invite_text,
        commands::onboarding::onboarding_settings_get,
        commands::onboarding::onboarding_settings_set,
        commands::reviews::quarter_board,
        commands::reviews::reviews_overdue_mine,
        commands::reviews::review_create,
        commands::reviews::review_get,
        commands::reviews::review_slots,
        commands::reviews::review_book,
        commands::reviews::review_ics,
        commands::reviews::review_save,
        commands::reviews::review_complete,
        commands::reviews::review_set_outcome,
        commands::reviews::health_get,
        commands::reviews::health_weights_get,
        commands::reviews::health_weights_set,
        commands::reviews::review_reminder_get,
        commands::reviews::review_reminder_set,
        commands::requests::requests_board,
        commands::requests::request_get,
        commands::requests::account_requests,
        commands::requests::request_create,
        commands::requests::email_import,
        commands::requests::request_respond,
        commands::requests::request_add_update,
        commands::requests::request_set_status,
        commands::requests::request_set_severity,
        commands::requests::request_launch_call,
        commands::requests::request_open_slack,
        commands::requests::call_settings_get,
        commands::requests::call_settings_set,
        commands::rca::rca_open,
        commands::rca::rca_get,
        commands::rca::rca_save,
        commands::rca::rca_set_state,
        commands::rca::rca_export,
        commands::reports::sla_report,
        commands::reports::sla_report_export,
        commands::sync::sync_status,
        commands::sync::sync_sign_in,
        commands::sync::sync_sign_out,
        commands::sync::sync_now,
        commands::sync::attention_list,
        commands::sync::attention_resend,
        commands::sync::attention_discard,
        commands::intake::intake_unmatched,
        commands::intake::intake_assign,
        commands::intake::intake_keys,
        commands::intake::intake_key_create,
        commands::intake::intake_key_revoke,
        commands::intake::intake_mailboxes,
        commands::intake::intake_errors,
        commands::oncall::oncall_get,
        commands::oncall::oncall_override_create,
        commands::oncall::oncall_override_delete,
        commands::oncall::oncall_ack,
        commands::requests::request_assign,
        commands::contacts::contact_get,
    ])
}

/// Opens the cache (and loads the demo when asked), then shows the window, so no command
/// can run before the store is managed.
fn setup(
    app: &mut App,
    data_dir: &Path,
    demo: bool,
    started: Instant,
) -> Result<(), Box<dyn std::error::Error>> {
    // A cache this build cannot migrate is rebuilt from the server, keeping the outbox.
    let (store, rebuilt) = tauri::async_runtime::block_on(Store::open_or_rebuild(data_dir))?;
    if let Some(r) = rebuilt {
        tracing::warn!(reason = %r.reason, moved_to = %r.moved_to.display(), outbox_kept = r.outbox_kept, "cache rebuilt");
    }
    tracing::info!(
        path = %store.path().map_or_else(PathBuf::new, Path::to_path_buf).display(),
        ms = started.elapsed().as_millis(),
        "store opened"
    );
    if demo {
        commands::demo::load_if_empty(&store)?;
    }
    // One clock for every loop below and the commands (clock.rs).
    let clock = clock::Clock::desktop();
    app.manage(clock);
    let sync = sync_task::SyncRuntime::new(store.clone(), clock);
    app.manage(store.clone());
    app.manage(sync.clone());
    sync_task::load_token(app.handle().clone(), sync.clone());
    start_loops_after_first_paint(app, store, sync, clock, started);

    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN_WINDOW)
        .ok_or("tauri.conf.json has no main window")?
        .clone();
    WebviewWindowBuilder::from_config(app.handle(), &config)?.build()?;
    tracing::info!(ms = started.elapsed().as_millis(), "window created");
    exit_on_signals(app.handle().clone());
    Ok(())
}

/// The latest the background loops wait for the first paint (a start page that marks none:
/// the first start, an error, an empty list).
const LOOPS_AT_THE_LATEST: std::time::Duration = std::time::Duration::from_secs(3);

/// The reminders, the health scores, the desktop alerts and the sync start once the start
/// page has painted its data (`startup_mark`), so they do not compete with it for the two
/// cores and the cache; at the latest [`LOOPS_AT_THE_LATEST`] after the window opened.
fn start_loops_after_first_paint(
    app: &App,
    store: Store,
    sync: std::sync::Arc<sync_task::SyncRuntime>,
    clock: clock::Clock,
    started: Instant,
) {
    let painted = app.state::<Launched>().painted.clone();
    let app = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        tokio::select! {
            () = painted.notified() => {}
            () = tokio::time::sleep(LOOPS_AT_THE_LATEST) => {}
        }
        tracing::info!(
            ms = started.elapsed().as_millis(),
            "starting the background loops"
        );
        reminders::spawn(app.clone(), store.clone(), clock);
        review_reminders::start(app.clone(), store, clock);
        alerts::start(app.clone(), clock);
        sync_task::spawn(app, sync);
    });
}

/// Ctrl-C or SIGTERM (e.g. from `make run`'s terminal) quits like closing the window does,
/// so the window state is saved and the cache closed cleanly.
fn exit_on_signals(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return tracing::warn!("cannot listen for SIGTERM");
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        tracing::info!("asked to stop by a signal");
        app.exit(0);
    });
}

/// Under WebDriver (tauri-driver sets `TAURI_WEBVIEW_AUTOMATION=true`) the app is a child
/// of WebKitWebDriver, which drives it over the inspector socket and kills it when the
/// session is deleted. When WebKitWebDriver itself is stopped first (tauri-driver stopping
/// right after the session's deletion was answered), nothing ended the app: it ran on,
/// undriven, until someone killed it. Now the kernel sends it SIGTERM when its driver goes
/// away, and it quits as it does on any SIGTERM (window state saved, cache closed).
/// Outside automation nothing changes: a launcher that exits must not take the app along.
fn end_with_the_webdriver() {
    if std::env::var_os("TAURI_WEBVIEW_AUTOMATION").is_none_or(|v| v != "true") {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let parent = std::os::unix::process::parent_id();
        let set =
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM));
        if let Err(e) = set {
            return tracing::warn!(error = %e, "cannot tie the app to its WebDriver");
        }
        // The driver may have gone between our start and the prctl: then no signal comes.
        if std::os::unix::process::parent_id() != parent {
            tracing::info!("the WebDriver that started the app is gone: quitting");
            std::process::exit(0);
        }
        tracing::info!(parent, "under WebDriver: the app ends when its driver does");
    }
}

/// A second launch on the same data folder lands here (in the first instance).
fn focus_main_window(app: &AppHandle) {
    tracing::info!("a second launch handed over: focusing the window");
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let shown = window
            .unminimize()
            .and_then(|()| window.show())
            .and_then(|()| window.set_focus());
        if let Err(e) = shown {
            tracing::warn!(error = %e, "could not focus the window");
        }
    }
}

/// Before logging is up, stderr is the only place to say why the app cannot start.
fn exit_before_logging(message: &str) -> ! {
    eprintln!("rapport-desktop: {message}");
    std::process::exit(2);
}

#[cfg(test)]
mod tests {
    use super::COMMANDS;

    /// The command names of the table in docs/IPC.md, in order.
    fn ipc_md_commands() -> Vec<String> {
        let doc = include_str!("../../docs/IPC.md");
        let table = &doc[doc
            .find("## Commands")
            .expect("docs/IPC.md lists the commands")..];
        let table = &table[..table.find("## Types").unwrap_or(table.len())];
        table
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split('`').next())
            .map(ToOwned::to_owned)
            .collect()
    }

    #[test]
    fn commands_are_exactly_those_of_docs_ipc() {
        assert_eq!(
            COMMANDS,
            ipc_md_commands(),
            "src/command_names.rs must follow docs/IPC.md"
        );
    }

    #[test]
    fn the_main_window_capability_grants_each_command_and_nothing_else() {
        let cap: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main-window.json")).unwrap();
        assert_eq!(cap["windows"], serde_json::json!(["main"]));
        let granted: Vec<&str> = cap["permissions"]
            .as_array()
            .expect("permissions is a list")
            .iter()
            .map(|p| p.as_str().expect("plain permission identifiers"))
            .collect();
        let mut expected: Vec<String> = COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        // The window listens to the background sync's events (src/sync_task.rs); it may
        // not emit any.
        expected.extend([
            "core:event:allow-listen".into(),
            "core:event:allow-unlisten".into(),
        ]);
        assert_eq!(
            granted, expected,
            "one allow-<command> per IPC command, no plugin or core API"
        );
    }

    #[test]
    fn the_csp_is_strict() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        let csp = &conf["app"]["security"]["csp"];
        assert_eq!(csp["script-src"], "'self'", "no inline or eval'd script");
        assert_eq!(csp["object-src"], "'none'");
        assert_eq!(csp["frame-src"], "'none'");
        assert_eq!(csp["base-uri"], "'none'");
        assert_eq!(csp["form-action"], "'none'");
        let allowed = ["'self'", "'none'", "ipc:", "http://ipc.localhost"];
        for (directive, sources) in csp.as_object().expect("csp is an object of directives") {
            for source in sources
                .as_str()
                .expect("one string per directive")
                .split_whitespace()
            {
                assert!(
                    allowed.contains(&source),
                    "{directive} allows {source}: no inline, eval, data: or remote sources"
                );
            }
        }
        assert_eq!(
            csp["connect-src"], "ipc: http://ipc.localhost",
            "IPC only, no network"
        );
    }
}
