// Every IPC command of docs/IPC.md, in its order. Shared by build.rs (which generates an
// `allow-<command>` permission for each, so a command is callable only when a capability
// grants it) and by the crate's tests (which check this list against docs/IPC.md and the
// capability file). Keep it in step with `invoke_handler` in lib.rs.
pub const COMMANDS: &[&str] = &[
    "profile_get",
    "profile_create",
    "profile_update",
    "users_list",
    "demo_load",
    "accounts_list",
    "account_get",
    "account_create",
    "account_update",
    "contact_create",
    "contact_update",
    "contact_delete",
    "notes_list",
    "note_create",
    "note_update",
    "note_set_pinned",
    "note_delete",
    "note_restore",
    "search",
    "today_get",
    "status_get",
    "startup_mark",
    "open_external",
];
