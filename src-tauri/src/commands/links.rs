//! `open_external`: links from notes and account pages open in the system browser (or mail
//! client), never inside the app window. Only http, https and mailto are opened.

use tauri::{AppHandle, Runtime, Url};
use tauri_plugin_opener::OpenerExt;

use crate::error::IpcError;

const ALLOWED_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn"))]
pub fn open_external<R: Runtime>(app: AppHandle<R>, url: String) -> Result<(), IpcError> {
    let url = external_url(&url)?;
    tracing::info!(
        scheme = url.scheme(),
        "opening a link in the system browser"
    );
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| {
            tracing::error!(error = %e, "the system could not open a link");
            IpcError::invalid_input("url", "the system has no program to open this link")
        })
}

/// The link, parsed, when its scheme is one the app hands to the system.
pub fn external_url(raw: &str) -> Result<Url, IpcError> {
    let url = Url::parse(raw.trim()).map_err(|_| IpcError::invalid_input("url", "not a link"))?;
    if !ALLOWED_SCHEMES.contains(&url.scheme()) {
        return Err(IpcError::invalid_input(
            "url",
            format!(
                "{}: links are not opened; only http, https and mailto are",
                url.scheme()
            ),
        ));
    }
    if url.scheme() != "mailto" && url.host_str().is_none_or(str::is_empty) {
        return Err(IpcError::invalid_input("url", "the link has no host"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::IpcErrorCode;
    use rstest::rstest;

    #[rstest]
    #[case("https://acme.slack.com/archives/C01")]
    #[case("http://example.com/a?b=c#d")]
    #[case("  https://meet.jit.si/rapport-room  ")]
    #[case("mailto:ana@acme.com?subject=Hello")]
    #[case("HTTPS://EXAMPLE.COM/")]
    fn web_and_mail_links_are_opened(#[case] raw: &str) {
        let url = external_url(raw).unwrap_or_else(|e| panic!("{raw} should open: {e}"));
        assert!(ALLOWED_SCHEMES.contains(&url.scheme()));
    }

    #[rstest]
    #[case("javascript:alert(1)")]
    #[case("JavaScript:alert(1)")]
    #[case("data:text/html,<script>alert(1)</script>")]
    #[case("file:///etc/passwd")]
    #[case("slack://channel?team=T1")]
    #[case("vbscript:msgbox")]
    #[case("ftp://example.com/x")]
    #[case("tauri://localhost/")]
    #[case("not a url")]
    #[case("/relative/path")]
    #[case("https://")]
    #[case("")]
    fn everything_else_is_refused_as_invalid_input(#[case] raw: &str) {
        let e = external_url(raw).expect_err(raw);
        assert_eq!(e.code, IpcErrorCode::InvalidInput, "{raw}");
        assert_eq!(e.field.as_deref(), Some("url"));
        assert!(e.message.starts_with("url: "), "{}", e.message);
    }
}
