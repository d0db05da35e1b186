//! Notes are Markdown; the UI shows them as HTML made here, never by the webview.
//!
//! pulldown-cmark renders (raw HTML in the source passes through to the sanitiser), then
//! ammonia keeps only an allow-list of tags and attributes:
//! - no `<script>`, `<style>`, `<iframe>`, `<svg>`, forms, nor any `on*` handler or `style`
//!   attribute;
//! - links only with `http`, `https` or `mailto` URLs (ammonia parses the URL, so
//!   `JaVaScRiPt:`, entity-encoded and whitespace-obfuscated schemes are recognised and
//!   dropped), relative URLs dropped, and every link gets `rel="noopener noreferrer"`;
//! - **images are dropped** (`<img>` is not allowed): a remote image in a note would call
//!   a third-party server each time the note is shown, and the app's CSP does not load
//!   them anyway. The image's alt text is not kept either; a link still works.

use std::collections::HashSet;
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{Options, Parser, html};
use rapport_domain::links::EXTERNAL_LINK_SCHEMES;

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::default();
    b.rm_tags(["img"])
        .url_schemes(HashSet::from(EXTERNAL_LINK_SCHEMES))
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true);
    b
});

/// Markdown to sanitised HTML, safe to put in the DOM with `innerHTML`.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let parser = Parser::new_ext(markdown, options);
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, parser);
    SANITIZER.clean(&raw).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// Nothing that can run script may survive, whatever the input: no dangerous element,
    /// no event handler or style attribute, no URL attribute other than http/https/mailto.
    /// (Text content may still spell `javascript:`; as text it is inert.)
    fn assert_inert(html: &str, input: &str) {
        let lower = html.to_ascii_lowercase();
        for tag in [
            "<script", "<iframe", "<svg", "<img", "<object", "<embed", "<style", "<form",
        ] {
            assert!(
                !lower.contains(tag),
                "{tag} must not survive {input:?}; got {html:?}"
            );
        }
        // Walk every tag's attributes.
        for tag in lower.split('<').skip(1) {
            let inside = tag.split('>').next().unwrap_or("");
            for attr in inside.split_whitespace().skip(1) {
                let (name, value) = attr.split_once('=').unwrap_or((attr, ""));
                let value = value.trim_matches('"');
                assert!(
                    !name.starts_with("on"),
                    "handler {name} survived {input:?}: {html:?}"
                );
                assert!(
                    name != "style" && name != "srcdoc",
                    "{name} survived {input:?}: {html:?}"
                );
                if ["href", "src", "action", "formaction", "data", "xlink:href"].contains(&name) {
                    assert!(
                        ["http://", "https://", "mailto:"]
                            .iter()
                            .any(|p| value.starts_with(p)),
                        "{name}={value} survived {input:?}: {html:?}"
                    );
                }
            }
        }
    }

    #[rstest]
    #[case::img_onerror("<img src=x onerror=alert(1)>")]
    #[case::script("<script>alert(1)</script>")]
    #[case::svg_onload("<svg onload=alert(1)>")]
    #[case::md_javascript_link("[x](javascript:alert(1))")]
    #[case::md_data_link("[x](data:text/html,<script>alert(1)</script>)")]
    #[case::md_data_base64("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)")]
    #[case::mixed_case_scheme("<a href=\"jAvAsCrIpT:alert(1)\">x</a>")]
    #[case::md_mixed_case("[x](JaVaScRiPt:alert(1))")]
    #[case::entity_encoded("<a href=\"&#106;avascript:alert(1)\">x</a>")]
    #[case::hex_entities("<a href=\"&#x6A;&#x61;vascript&#x3A;alert(1)\">x</a>")]
    #[case::tab_in_scheme("<a href=\"java\tscript:alert(1)\">x</a>")]
    #[case::leading_space("<a href=\" javascript:alert(1)\">x</a>")]
    #[case::vbscript("<a href=\"vbscript:msgbox(1)\">x</a>")]
    #[case::iframe("<iframe src=\"https://evil.example\"></iframe>")]
    #[case::iframe_srcdoc("<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>")]
    #[case::style_attr("<p style=\"background:url(javascript:alert(1))\">x</p>")]
    #[case::style_tag("<style>body{display:none}</style>")]
    #[case::body_onload("<body onload=alert(1)>")]
    #[case::details_ontoggle("<details open ontoggle=alert(1)>x</details>")]
    #[case::md_image_javascript("![x](javascript:alert(1))")]
    #[case::md_image_https("![chart](https://example.com/chart.png)")]
    #[case::object("<object data=\"data:text/html,x\"></object>")]
    #[case::form_action("<form action=\"javascript:alert(1)\"><button>go</button></form>")]
    #[case::autolink("<javascript:alert(1)>")]
    #[case::ref_link("[x][r]\n\n[r]: javascript:alert(1)")]
    fn hostile_input_renders_inert(#[case] input: &str) {
        assert_inert(&render(input), input);
    }

    #[rstest]
    #[case(
        "[site](https://example.com/a?b=1)",
        "href=\"https://example.com/a?b=1\""
    )]
    #[case("[old](http://example.com)", "href=\"http://example.com\"")]
    #[case("[mail](mailto:ana@acme.com)", "href=\"mailto:ana@acme.com\"")]
    #[case("<https://example.com>", "href=\"https://example.com\"")]
    fn safe_links_survive_with_rel(#[case] input: &str, #[case] href: &str) {
        let html = render(input);
        assert!(html.contains(href), "{input:?} keeps its link: {html}");
        assert!(
            html.contains("rel=\"noopener noreferrer\""),
            "links get rel: {html}"
        );
    }

    #[test]
    fn relative_and_unknown_scheme_links_lose_their_href() {
        for input in [
            "[x](/etc/passwd)",
            "[x](ftp://example.com)",
            "[x](file:///etc/passwd)",
        ] {
            let html = render(input);
            assert!(
                !html.contains("href"),
                "{input:?} must not keep an href: {html}"
            );
            assert!(html.contains('x'), "the link text stays: {html}");
        }
    }

    #[test]
    fn markdown_features_render() {
        let html = render(
            "# Kick-off\n\n**bold** and ~~gone~~\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done",
        );
        for want in [
            "<h1>Kick-off</h1>",
            "<strong>bold</strong>",
            "<del>gone</del>",
            "<table>",
            "<td>1</td>",
        ] {
            assert!(html.contains(want), "{want} expected in {html}");
        }
    }

    #[test]
    fn text_that_looks_like_html_is_kept_as_text() {
        let html = render("use `<script>` tags carefully: 1 < 2");
        assert!(
            html.contains("&lt;script&gt;"),
            "code spans are escaped: {html}"
        );
        assert!(html.contains("1 &lt; 2"), "{html}");
    }
}
