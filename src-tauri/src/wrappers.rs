//! `ui/src/commands.ts`: one typed TypeScript function per IPC command, read from the
//! commands' own Rust signatures (`src/commands/*.rs`, parsed with syn), so a command's
//! name, its arguments and their types are written once, in Rust.
//!
//! What Tauri itself does with a `#[tauri::command]` decides the shape: arguments are sent
//! by name in camelCase, `State`/`AppHandle` parameters are the shell's own, a
//! `Result<T, IpcError>` answers `T` or rejects with the `IpcError`. Argument and answer
//! types are the declarations of `bindings.ts` (ts-rs) or the few standard ones below; a
//! type the generator does not know is an error, never `any`.

use std::fmt::Write as _;

use syn::{FnArg, GenericArgument, Item, PathArguments, ReturnType, Type};

/// The command modules, each with its source (embedded when the generator is built).
const SOURCES: &[(&str, &str)] = &[
    ("accounts", include_str!("commands/accounts.rs")),
    ("contacts", include_str!("commands/contacts.rs")),
    ("demo", include_str!("commands/demo.rs")),
    ("intake", include_str!("commands/intake.rs")),
    ("links", include_str!("commands/links.rs")),
    ("notes", include_str!("commands/notes.rs")),
    ("onboarding", include_str!("commands/onboarding.rs")),
    ("oncall", include_str!("commands/oncall.rs")),
    ("perf", include_str!("commands/perf.rs")),
    ("profile", include_str!("commands/profile.rs")),
    ("rca", include_str!("commands/rca.rs")),
    ("reports", include_str!("commands/reports.rs")),
    ("requests", include_str!("commands/requests.rs")),
    ("reviews", include_str!("commands/reviews.rs")),
    ("search", include_str!("commands/search.rs")),
    ("status", include_str!("commands/status.rs")),
    ("sync", include_str!("commands/sync.rs")),
    ("today", include_str!("commands/today.rs")),
];

/// The commands that change what the outbox holds: after each succeeds, the UI's write
/// listeners run (the status bar re-reads the count of unsynced changes). Settings kept on
/// this machine only, sign-in and the server-only calls (intake keys, on call) do not.
pub const WRITES: &[&str] = &[
    "profile_create",
    "profile_update",
    "demo_load",
    "account_create",
    "account_update",
    "account_delete",
    "account_restore",
    "contact_create",
    "contact_update",
    "contact_delete",
    "note_create",
    "note_update",
    "note_set_pinned",
    "note_delete",
    "note_restore",
    "onboarding_session_create",
    "onboarding_session_update",
    "onboarding_session_set_status",
    "review_create",
    "review_book",
    "review_save",
    "review_complete",
    "review_set_outcome",
    "health_weights_set",
    "review_reminder_set",
    "attention_resend",
    "attention_discard",
    "request_create",
    "email_import",
    "request_respond",
    "request_add_update",
    "request_set_status",
    "request_set_severity",
    "request_launch_call",
    "rca_open",
    "rca_save",
    "rca_set_state",
    "request_assign",
    "intake_assign",
];

/// Commands that answer JSON they serialised themselves (`tauri::ipc::Response`, for speed):
/// the Rust type that JSON is, which their signature cannot say.
const PRESERIALISED: &[(&str, &str)] = &[("accounts_list", "Vec<AccountRow>")];

/// One command as the UI calls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub name: String,
    pub docs: Vec<String>,
    /// (Rust name, TypeScript type), in the Rust order.
    pub args: Vec<(String, String)>,
    pub answer: String,
}

/// Why the command sources could not be turned into wrappers.
#[derive(Debug, thiserror::Error)]
pub enum WrapperError {
    #[error("src/commands/{module}.rs does not parse: {message}")]
    Parse { module: String, message: String },
    #[error(
        "`{command}` is in COMMANDS but no `#[tauri::command] fn {command}` is in src/commands"
    )]
    Missing { command: String },
    #[error(
        "`{command}` ({place}): no TypeScript type for `{rust}`; add it to `ts_type` in src/wrappers.rs or give it a ts-rs declaration in bindings.rs"
    )]
    UnknownType {
        command: String,
        place: String,
        rust: String,
    },
}

/// Every command of `names`, in that order, read from the sources. `declared` are the
/// type names bindings.ts exports.
pub fn commands(names: &[&str], declared: &[&str]) -> Result<Vec<Command>, WrapperError> {
    let mut found: Vec<Command> = Vec::new();
    for (module, source) in SOURCES {
        let file = syn::parse_file(source).map_err(|e| WrapperError::Parse {
            module: (*module).to_string(),
            message: e.to_string(),
        })?;
        for item in file.items {
            let Item::Fn(f) = item else { continue };
            if !f
                .attrs
                .iter()
                .any(|a| is_path(a.path(), &["tauri", "command"]))
            {
                continue;
            }
            found.push(command(&f, declared)?);
        }
    }
    names
        .iter()
        .map(|name| {
            found
                .iter()
                .find(|c| c.name == *name)
                .cloned()
                .ok_or_else(|| WrapperError::Missing {
                    command: (*name).to_string(),
                })
        })
        .collect()
}

fn is_path(path: &syn::Path, segments: &[&str]) -> bool {
    path.segments.len() == segments.len()
        && path
            .segments
            .iter()
            .zip(segments)
            .all(|(s, want)| s.ident == want)
}

fn command(f: &syn::ItemFn, declared: &[&str]) -> Result<Command, WrapperError> {
    let name = f.sig.ident.to_string();
    let docs = f
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value().trim().to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let mut args = Vec::new();
    for input in &f.sig.inputs {
        let FnArg::Typed(pt) = input else { continue };
        if is_shell_param(&pt.ty) {
            continue;
        }
        let syn::Pat::Ident(ident) = &*pt.pat else {
            continue;
        };
        let arg = ident.ident.to_string();
        let ts = ts_type(&pt.ty, declared).ok_or_else(|| WrapperError::UnknownType {
            command: name.clone(),
            place: format!("argument `{arg}`"),
            rust: type_text(&pt.ty),
        })?;
        args.push((arg, ts));
    }
    let answer = match &f.sig.output {
        ReturnType::Default => "null".to_string(),
        ReturnType::Type(_, ty) => {
            let ok = result_ok(ty).unwrap_or(ty);
            let said = PRESERIALISED.iter().find(|(c, _)| *c == name);
            let parsed;
            let ok = match (last_ident(ok).as_deref(), said) {
                (Some("Response"), Some((_, rust))) => {
                    parsed = syn::parse_str::<Type>(rust).expect("PRESERIALISED holds Rust types");
                    &parsed
                }
                _ => ok,
            };
            ts_type(ok, declared).ok_or_else(|| WrapperError::UnknownType {
                command: name.clone(),
                place: "answer".to_string(),
                rust: type_text(ok),
            })?
        }
    };
    Ok(Command {
        name,
        docs,
        args,
        answer,
    })
}

/// Parameters Tauri fills in itself, never sent by the UI.
fn is_shell_param(ty: &Type) -> bool {
    matches!(
        last_ident(ty).as_deref(),
        Some("State" | "AppHandle" | "Window" | "WebviewWindow" | "Webview")
    )
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) => p.path.segments.last(),
        Type::Reference(r) => last_segment(&r.elem),
        _ => None,
    }
}

fn last_ident(ty: &Type) -> Option<String> {
    last_segment(ty).map(|s| s.ident.to_string())
}

fn type_args(ty: &Type) -> Vec<&Type> {
    match last_segment(ty).map(|s| &s.arguments) {
        Some(PathArguments::AngleBracketed(a)) => a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `T` of a `Result<T, _>`.
fn result_ok(ty: &Type) -> Option<&Type> {
    (last_ident(ty).as_deref() == Some("Result"))
        .then(|| type_args(ty).into_iter().next())
        .flatten()
}

fn type_text(ty: &Type) -> String {
    quote::ToTokens::to_token_stream(ty).to_string()
}

/// The TypeScript of a Rust argument or answer type, as serde sends it and ts-rs declares
/// it (integers are `number`, ids and times `string`, `Option<T>` is `T | null`).
fn ts_type(ty: &Type, declared: &[&str]) -> Option<String> {
    if let Type::Tuple(t) = ty {
        return t.elems.is_empty().then(|| "null".to_string());
    }
    let ident = last_ident(ty)?;
    let args = type_args(ty);
    let one = |wrap: fn(String) -> String| -> Option<String> {
        match args.as_slice() {
            [inner] => ts_type(inner, declared).map(wrap),
            _ => None,
        }
    };
    match ident.as_str() {
        "String" | "str" | "Uuid" | "DateTime" | "NaiveDate" | "NaiveTime" => {
            Some("string".to_string())
        }
        "bool" => Some("boolean".to_string()),
        "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" | "f32"
        | "f64" => Some("number".to_string()),
        "Option" => one(|t| format!("{t} | null")),
        "Vec" => one(|t| format!("Array<{t}>")),
        // A JSON object of fields (Needs attention's corrected fields).
        "Map" if matches!(args.as_slice(), [k, v] if last_ident(k).as_deref() == Some("String") && last_ident(v).as_deref() == Some("Value")) => {
            Some("Record<string, unknown>".to_string())
        }
        name if args.is_empty() && declared.contains(&name) => Some(name.to_string()),
        _ => None,
    }
}

/// `note_set_pinned` → `noteSetPinned` (what Tauri expects argument names to be, too).
pub fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

const HEADER: &str = "\
// Generated by `rapport-bindings` (src-tauri/src/wrappers.rs) from the signatures of the
// `#[tauri::command]` functions in src-tauri/src/commands (docs/IPC.md). Do not edit: change
// the command, then run `make bindings`. `make test` fails when this file is stale.
";

/// The whole of `ui/src/commands.ts`.
pub fn render(commands: &[Command]) -> String {
    let mut types: Vec<&str> = commands
        .iter()
        .flat_map(|c| {
            c.args
                .iter()
                .map(|(_, t)| t.as_str())
                .chain([c.answer.as_str()])
        })
        .flat_map(|t| t.split(|c: char| !c.is_ascii_alphanumeric() && c != '_'))
        .filter(|w| {
            w.starts_with(|c: char| c.is_ascii_uppercase()) && *w != "Array" && *w != "Record"
        })
        .collect();
    types.sort_unstable();
    types.dedup();

    let mut out = String::from(HEADER);
    out.push_str("import { call, write } from \"./lib/ipc\";\n");
    out.push_str("import type {\n");
    for t in &types {
        let _ = writeln!(out, "  {t},");
    }
    out.push_str("} from \"./bindings\";\n\n");
    out.push_str(
        "/** Every command of docs/IPC.md. A rejection is a CommandError carrying the IpcError. */\n",
    );
    out.push_str("export const commands = {\n");
    for c in commands {
        if !c.docs.is_empty() {
            out.push_str("  /**\n");
            for line in &c.docs {
                if line.is_empty() {
                    out.push_str("   *\n");
                } else {
                    // A `*/` in the text would end the TypeScript comment.
                    let _ = writeln!(out, "   * {}", line.replace("*/", "*\\/"));
                }
            }
            out.push_str("   */\n");
        }
        let params: Vec<String> = c
            .args
            .iter()
            .map(|(n, t)| format!("{}: {t}", camel(n)))
            .collect();
        let how = if WRITES.contains(&c.name.as_str()) {
            "write"
        } else {
            "call"
        };
        let sent = if c.args.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = c.args.iter().map(|(n, _)| camel(n)).collect();
            format!(", {{ {} }}", names.join(", "))
        };
        let _ = writeln!(
            out,
            "  {}: ({}): Promise<{}> => {how}(\"{}\"{sent}),",
            camel(&c.name),
            params.join(", "),
            c.answer,
            c.name,
        );
    }
    out.push_str("};\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str, declared: &[&str]) -> Result<Command, WrapperError> {
        let f: syn::ItemFn = syn::parse_str(src).unwrap();
        command(&f, declared)
    }

    #[test]
    fn a_command_becomes_its_ui_signature() {
        let c = one(
            "/// Pins or unpins.\n#[tauri::command]\npub async fn note_set_pinned(store: State<'_, Store>, note_id: String, pinned: bool, held: Option<Slot>, content: Vec<u8>) -> Result<NoteView, IpcError> { todo!() }",
            &["NoteView", "Slot"],
        )
        .unwrap();
        assert_eq!(c.name, "note_set_pinned");
        assert_eq!(c.docs, vec!["Pins or unpins."], "the doc comment travels");
        assert_eq!(
            c.args,
            vec![
                ("note_id".to_string(), "string".to_string()),
                ("pinned".to_string(), "boolean".to_string()),
                ("held".to_string(), "Slot | null".to_string()),
                ("content".to_string(), "Array<number>".to_string()),
            ],
            "State is the shell's, not an argument"
        );
        assert_eq!(c.answer, "NoteView");
        let ts = render(&[c]);
        assert!(
            ts.contains("  noteSetPinned: (noteId: string, pinned: boolean, held: Slot | null, content: Array<number>): Promise<NoteView> => write(\"note_set_pinned\", { noteId, pinned, held, content }),"),
            "arguments go by their camelCase name, as Tauri reads them: {ts}"
        );
        assert!(
            ts.contains("  NoteView,\n  Slot,\n"),
            "types are imported: {ts}"
        );
    }

    #[test]
    fn unit_answers_are_null_and_reads_use_call() {
        let c = one(
            "#[tauri::command]\npub fn open_external<R: Runtime>(app: AppHandle<R>, url: String) -> Result<(), IpcError> { todo!() }",
            &[],
        )
        .unwrap();
        assert_eq!(c.answer, "null");
        assert!(render(&[c]).contains(
            "openExternal: (url: string): Promise<null> => call(\"open_external\", { url }),"
        ));
    }

    #[test]
    fn an_unknown_type_is_an_error_not_any() {
        let err = one(
            "#[tauri::command]\npub fn x(thing: Mystery) -> Result<(), IpcError> { todo!() }",
            &[],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`Mystery`"),
            "the message names the type: {err}"
        );
    }

    #[test]
    fn every_command_is_found_and_every_write_is_a_command() {
        let bindings = crate::bindings::render();
        let declared = crate::bindings::declared_names(&bindings);
        let cmds = commands(crate::COMMANDS, &declared).expect("every command has a wrapper");
        assert_eq!(cmds.len(), crate::COMMANDS.len());
        for w in WRITES {
            assert!(
                crate::COMMANDS.contains(w),
                "WRITES names `{w}`, which is no command"
            );
        }
    }

    #[test]
    fn every_command_file_is_read() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let Some(module) = name.strip_suffix(".rs") else {
                continue;
            };
            if module == "mod" {
                continue;
            }
            assert!(
                SOURCES.iter().any(|(m, _)| *m == module),
                "src/commands/{name} is not in SOURCES: its commands would have no wrapper"
            );
        }
    }
}
