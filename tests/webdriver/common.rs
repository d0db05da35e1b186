//! Steps several tests share: launching on the demo workspace, reading the accounts list,
//! opening an account by searching for it, writing a note.

use anyhow::{Context, Result, bail, ensure};
use rapport_tests::{App, Workspace, by_testid};
use serde_json::{Value, json};

/// The demo workspace has at least this many accounts (issue 2: "≥ 40 accounts").
pub const DEMO_ACCOUNTS: usize = 40;

/// A word no demo data contains, to find a note again by.
pub fn unique_word(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}{nanos:x}")
}

/// Launches the app with `--demo` (it opens on Today), opens the accounts list and waits
/// until it shows its rows.
pub async fn launch_demo(ws: &mut Workspace) -> Result<App> {
    let app = App::launch(ws, &["--demo"]).await?;
    show_accounts(&app, |n| n >= DEMO_ACCOUNTS)
        .await
        .context("the demo accounts show")?;
    Ok(app)
}

/// First start as a new user would: answers "who are you" with `name`, `email` and `role`
/// (the role select's value), chooses the demo data and waits for the accounts list.
pub async fn start_demo_as(ws: &mut Workspace, name: &str, email: &str, role: &str) -> Result<App> {
    let app = App::launch(ws, &[]).await?;
    app.testid("onboarding").await?;
    app.fill(&by_testid("profile-name"), name).await?;
    app.fill(&by_testid("profile-email"), email).await?;
    app.find(&by_testid("profile-role"))
        .await?
        .select_by_value(role)
        .await?;
    app.click(&by_testid("choose-demo")).await?;
    show_accounts(&app, |n| n >= DEMO_ACCOUNTS).await?;
    Ok(app)
}

/// The app opens on Today: goes to the accounts list from the sidebar and waits until its
/// counter satisfies `ok`.
pub async fn show_accounts(app: &App, ok: impl Fn(usize) -> bool) -> Result<usize> {
    app.testid("today-page")
        .await
        .context("the app opens on Today")?;
    app.click(&by_testid("nav-accounts")).await?;
    wait_account_count(app, ok).await
}

/// The number in the "N accounts" counter, once it satisfies `ok`.
pub async fn wait_account_count(app: &App, ok: impl Fn(usize) -> bool) -> Result<usize> {
    let sel = by_testid("accounts-count");
    app.poll(
        "the accounts counter",
        rapport_tests::driver::WAIT,
        async |c| {
            let Ok(el) = c.find(fantoccini::Locator::Css(&sel)).await else {
                return Ok(None);
            };
            let text = el.text().await?;
            let n = text
                .split_whitespace()
                .next()
                .and_then(|w| w.replace(',', "").parse::<usize>().ok());
            Ok(n.filter(|n| ok(*n)))
        },
    )
    .await
}

/// The names of the rows the virtualised list has rendered, top to bottom.
pub async fn rendered_names(app: &App) -> Result<Vec<String>> {
    let v = app
        .js(
            "return Array.from(document.querySelectorAll('[data-testid=account-row]'))
               .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
               .map(r => r.querySelector('[data-testid=account-row-name]').textContent.trim())",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Index of the selected row (or -1).
pub async fn selected_index(app: &App) -> Result<i64> {
    let v = app
        .js(
            "const r = document.querySelector('[data-testid=account-row].selected');
             return r ? Number(r.dataset.index) : -1",
            vec![],
        )
        .await?;
    v.as_i64().context("a number")
}

/// A search fragment of `name`: a lower-cased middle part of its first long word.
pub fn fragment_of(name: &str) -> String {
    let word = name
        .split_whitespace()
        .find(|w| w.chars().count() >= 4)
        .unwrap_or(name);
    let chars: Vec<char> = word.chars().collect();
    let end = chars.len().min(5);
    chars[1..end].iter().collect::<String>().to_lowercase()
}

/// Searches the accounts list for `query` (all or part of `name`), opens the account named
/// `name` and waits for its page; returns its id.
pub async fn open_account_by(app: &App, name: &str, query: &str) -> Result<String> {
    app.click(&by_testid("nav-accounts")).await?;
    let part = query;
    app.fill(&by_testid("accounts-search"), part).await?;
    let id = app
        .wait_js(
            &format!("a row named {name:?} after searching {part:?}"),
            &format!(
                "const rows = Array.from(document.querySelectorAll('[data-testid=account-row]'));
                 const row = rows.find(r => r.querySelector('[data-testid=account-row-name]').textContent.trim() === {name:?});
                 return row ? row.dataset.accountId : null"
            ),
        )
        .await?;
    let id = id.as_str().context("an account id")?.to_owned();
    app.click(&format!(
        "[data-testid=account-row][data-account-id=\"{id}\"]"
    ))
    .await?;
    let shown = app.text(&by_testid("account-name")).await?;
    ensure!(
        shown == name,
        "the account page shows {shown:?}, not {name:?}"
    );
    Ok(id)
}

/// Opens the account named `name` by searching its whole name.
pub async fn open_account(app: &App, name: &str) -> Result<String> {
    open_account_by(app, name, name).await
}

/// Writes a note on the open account page and waits until it is listed; returns its id.
pub async fn add_note(app: &App, body: &str, marker: &str) -> Result<String> {
    // Right after a first start the account page is still growing as its panels load, and a
    // click WebKit reports as done can land beside "New note" when the page moves under it:
    // click again until the editor is open (bounded by the driver's wait).
    app.poll(
        "the new-note editor to open",
        rapport_tests::driver::WAIT,
        async |c| {
            if c.find(fantoccini::Locator::Css(&by_testid("note-editor-body")))
                .await
                .is_ok()
            {
                return Ok(Some(()));
            }
            if let Ok(button) = c
                .find(fantoccini::Locator::Css(&by_testid("note-new")))
                .await
            {
                c.execute(
                    "arguments[0].scrollIntoView({ block: 'center' });",
                    vec![serde_json::to_value(&button)?],
                )
                .await?;
                button.click().await?;
            }
            Ok(None)
        },
    )
    .await?;
    app.fill(&by_testid("note-editor-body"), body).await?;
    app.click(&by_testid("note-save")).await?;
    app.wait_gone(&by_testid("note-new-editor")).await?;
    note_id_containing(app, marker).await
}

/// The id of the listed note whose rendered text contains `marker`.
pub async fn note_id_containing(app: &App, marker: &str) -> Result<String> {
    let v = app
        .wait_js(
            &format!("a note containing {marker:?}"),
            &format!(
                "const n = Array.from(document.querySelectorAll('[data-testid=note]'))
                   .find(n => n.querySelector('[data-testid=note-body]')?.textContent.includes({marker:?}));
                 return n ? n.dataset.noteId : null"
            ),
        )
        .await?;
    Ok(v.as_str().context("a note id")?.to_owned())
}

/// The notes of the open account page as `(id, pinned)`, in display order.
pub async fn listed_notes(app: &App) -> Result<Vec<(String, bool)>> {
    let v = app
        .js(
            "return Array.from(document.querySelectorAll('[data-testid=note]'))
               .map(n => [n.dataset.noteId, n.dataset.pinned === 'true'])",
            vec![],
        )
        .await?;
    let Value::Array(items) = v else {
        bail!("not a list: {v}")
    };
    items
        .into_iter()
        .map(|i| match i {
            Value::Array(pair) => match (pair.first(), pair.get(1)) {
                (Some(Value::String(id)), Some(Value::Bool(p))) => Ok((id.clone(), *p)),
                _ => bail!("bad note entry {pair:?}"),
            },
            other => bail!("bad note entry {other}"),
        })
        .collect()
}

/// The status bar's count of local changes not yet synced.
pub async fn pending_changes(app: &App) -> Result<u64> {
    let v = app
        .wait_js(
            "the status bar's pending count",
            "const s = document.querySelector('[data-testid=status-sync]');
             return s && s.dataset.pending !== '' ? s.dataset.pending : null",
        )
        .await?;
    v.as_str().context("a count")?.parse().context("a number")
}

/// Fails unless `value` is JSON `true`, with `why`.
pub fn expect_true(value: &Value, why: &str) -> Result<()> {
    ensure!(*value == json!(true), "{why} (got {value})");
    Ok(())
}
