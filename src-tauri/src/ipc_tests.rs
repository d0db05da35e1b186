//! The commands driven through Tauri's real IPC path (mock runtime, in-memory cache): the
//! argument names the UI sends (camelCase, docs/IPC.md), the answers, and the error shape.

use std::time::Instant;

use rapport_client::Store;
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context};
use tauri::webview::InvokeRequest;
use tauri::{WebviewWindow, WebviewWindowBuilder};

use crate::commands::perf::Launched;

fn app_window() -> WebviewWindow<MockRuntime> {
    let store = tauri::async_runtime::block_on(Store::open_in_memory()).expect("in-memory cache");
    let app = crate::with_commands(mock_builder())
        .manage(store)
        .manage(Launched::new(Instant::now()))
        .build(mock_context(tauri::test::noop_assets()))
        .expect("mock app");
    WebviewWindowBuilder::new(&app, crate::MAIN_WINDOW, Default::default())
        .build()
        .expect("mock window")
}

fn call(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().expect("url"),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.into(),
    };
    get_ipc_response(window, request).map(|body| body.deserialize().expect("JSON answer"))
}

fn ok(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Value {
    call(window, cmd, args).unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
}

fn err(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Value {
    call(window, cmd, args).expect_err(cmd)
}

fn me() -> Value {
    json!({
        "name": "Ana Lopez", "email": "ana@vendor.example", "role": "csm",
        "time_zone": "Europe/Berlin",
        "working_hours": { "days": ["mon", "tue"], "start_minute": 540, "end_minute": 1020 }
    })
}

fn account(name: &str) -> Value {
    json!({
        "name": name, "plan": "professional_support", "time_zone": "Australia/Sydney",
        "fiscal_year_start_month": 7, "owner_csm_id": null, "account_rep_id": null,
        "slack_channel": null, "support_email_domains": ["acme.com"], "stage": "active",
        "tags": ["fintech"]
    })
}

#[test]
fn a_user_story_through_ipc() {
    let w = app_window();

    assert_eq!(
        ok(&w, "profile_get", json!({})),
        Value::Null,
        "no profile on a fresh cache"
    );
    let refused = err(&w, "account_create", json!({ "input": account("Acme") }));
    assert_eq!(
        refused["code"], "no_profile",
        "writes need the profile: {refused}"
    );

    let mut bad_me = me();
    bad_me["email"] = json!("ana-at-vendor");
    let refused = err(&w, "profile_create", json!({ "input": bad_me }));
    assert_eq!(
        (refused["code"].as_str(), refused["field"].as_str()),
        (Some("invalid_input"), Some("email")),
        "a bad email is refused naming the field: {refused}"
    );
    assert!(
        refused["message"].as_str().unwrap().starts_with("email: "),
        "{refused}"
    );
    let profile = ok(&w, "profile_create", json!({ "input": me() }));
    assert_eq!(ok(&w, "profile_get", json!({}))["id"], profile["id"]);
    assert_eq!(
        ok(&w, "users_list", json!({})).as_array().map(Vec::len),
        Some(1)
    );

    let refused = err(&w, "account_create", json!({ "input": account(" ") }));
    assert_eq!(
        (refused["code"].as_str(), refused["field"].as_str()),
        (Some("invalid_input"), Some("name"))
    );
    let acme = ok(
        &w,
        "account_create",
        json!({ "input": account("Acme Corp") }),
    );
    let id = acme["id"].as_str().expect("ids are strings").to_owned();
    let renamed = ok(
        &w,
        "account_update",
        json!({ "id": id, "input": account("Acme Group") }),
    );
    assert_eq!(renamed["name"], "Acme Group");
    let query = json!({ "query": { "search": "acme", "plan": null, "stage": null,
        "owner_id": null, "sort": "name", "descending": false } });
    assert_eq!(ok(&w, "accounts_list", query)[0]["id"], acme["id"]);

    let contact = ok(
        &w,
        "contact_create",
        json!({ "accountId": id, "input": {
        "name": "Bo Chen", "email": "bo@acme.com", "role": "CTO", "time_zone": null } }),
    );
    let cid = contact["id"].as_str().unwrap().to_owned();
    let edited = json!({ "id": cid, "input": { "name": "Bo Chen", "email": "bo.chen@acme.com",
        "role": "CTO", "time_zone": null } });
    assert_eq!(
        ok(&w, "contact_update", edited)["email"],
        "bo.chen@acme.com"
    );
    assert_eq!(
        ok(&w, "account_get", json!({ "id": id }))["contacts"][0]["id"],
        contact["id"]
    );
    assert_eq!(ok(&w, "contact_delete", json!({ "id": cid })), Value::Null);

    let note = ok(
        &w,
        "note_create",
        json!({ "accountId": id,
        "input": { "body": "Kick-off **went well**", "pinned": false, "link": null } }),
    );
    let nid = note["id"].as_str().unwrap().to_owned();
    assert!(
        note["body_html"]
            .as_str()
            .unwrap()
            .contains("<strong>went well</strong>")
    );
    assert_eq!(
        ok(
            &w,
            "note_update",
            json!({ "id": nid, "body": "Kick-off went great" })
        )["body"],
        "Kick-off went great"
    );
    assert_eq!(
        ok(&w, "note_set_pinned", json!({ "id": nid, "pinned": true }))["pinned"],
        true
    );
    let found = ok(
        &w,
        "notes_list",
        json!({ "accountId": id, "search": "great" }),
    );
    assert_eq!(
        found.as_array().map(Vec::len),
        Some(1),
        "the note is found by a word: {found}"
    );
    let hits = ok(&w, "search", json!({ "query": "great", "limit": 10 }));
    assert_eq!(hits["notes"][0]["id"], note["id"], "{hits}");
    assert_eq!(ok(&w, "note_delete", json!({ "id": nid })), Value::Null);
    assert_eq!(
        ok(&w, "notes_list", json!({ "accountId": id, "search": null })),
        json!([])
    );
    assert_eq!(
        ok(&w, "note_restore", json!({ "id": nid }))["id"],
        note["id"],
        "undo brings it back"
    );

    assert_eq!(ok(&w, "today_get", json!({}))["me"]["id"], profile["id"]);
    let status = ok(&w, "status_get", json!({}));
    assert!(
        status["pending_changes"].as_u64().unwrap() >= 10,
        "every write queued: {status}"
    );
    assert!(status["last_write_at"].is_string());

    let missing = err(
        &w,
        "account_get",
        json!({ "id": "0190f5c2-0000-7000-8000-000000000000" }),
    );
    assert_eq!(
        missing,
        json!({ "code": "not_found", "message": missing["message"], "field": null })
    );
    assert_eq!(
        err(&w, "note_delete", json!({ "id": "nonsense" }))["code"],
        "not_found"
    );
    assert_eq!(
        err(&w, "demo_load", json!({}))["code"],
        "invalid_input",
        "demo needs an empty cache"
    );

    let ms = ok(
        &w,
        "startup_mark",
        json!({ "label": "accounts_first_paint" }),
    );
    assert!(ms.is_u64(), "milliseconds since start: {ms}");
    let refused = err(&w, "open_external", json!({ "url": "javascript:alert(1)" }));
    assert_eq!(
        (refused["code"].as_str(), refused["field"].as_str()),
        (Some("invalid_input"), Some("url"))
    );
}

#[test]
fn demo_load_fills_an_empty_cache() {
    let w = app_window();
    let summary = ok(&w, "demo_load", json!({}));
    assert!(summary["accounts"].as_u64().unwrap() >= 40, "{summary}");
    assert!(
        ok(&w, "profile_get", json!({})).is_object(),
        "the demo brings its profile"
    );
    let query = json!({ "query": { "search": null, "plan": null, "stage": null,
        "owner_id": null, "sort": "name", "descending": false } });
    let rows = ok(&w, "accounts_list", query);
    assert_eq!(
        rows.as_array().map(|r| r.len() as u64),
        summary["accounts"].as_u64(),
        "every demo account is listed"
    );
}
