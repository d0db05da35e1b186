//! Video-call links: which links Rapport will open for an incident call or put in an
//! invitation, and Jitsi rooms made without an account.
//!
//! A link is parsed as a URL (WHATWG rules, as browsers read it), never matched as a
//! string: `https://meet.google.com@evil.example` is a link to `evil.example` with a user
//! name, and `zoom.us.evil.example` is a host of `evil.example`.

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::validation::{self, FieldError};

/// Longest link accepted (characters); real meeting links are well under it.
pub const MAX_LINK_LEN: usize = 2048;

/// The schemes of the links Rapport hands to the system (the browser or the mail client):
/// links in notes and on account pages. Note Markdown keeps no other link either.
pub const EXTERNAL_LINK_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// A link the app may open outside its window: parsed, with one of
/// [`EXTERNAL_LINK_SCHEMES`], and a host unless it is a `mailto:`.
pub fn check_external_link(field: &str, raw: &str) -> Result<Url, FieldError> {
    let url = Url::parse(raw.trim()).map_err(|_| FieldError::new(field, "not a link"))?;
    if !EXTERNAL_LINK_SCHEMES.contains(&url.scheme()) {
        return Err(FieldError::new(
            field,
            format!(
                "{}: links are not opened; only http, https and mailto are",
                url.scheme()
            ),
        ));
    }
    if url.scheme() != "mailto" && url.host_str().is_none_or(str::is_empty) {
        return Err(FieldError::new(field, "the link has no host"));
    }
    Ok(url)
}

/// The hosts a meeting link may point at. An entry is a host name (`meet.google.com`,
/// exactly that host) or `*.` and a host name (`*.zoom.us`: any host under `zoom.us`, not
/// `zoom.us` itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LinkPolicy {
    pub allowed_hosts: Vec<String>,
}

impl Default for LinkPolicy {
    /// Zoom, Google Meet, Microsoft Teams, Jitsi and Whereby.
    fn default() -> Self {
        let hosts = [
            "zoom.us",
            "*.zoom.us",
            "meet.google.com",
            "teams.microsoft.com",
            "teams.live.com",
            "meet.jit.si",
            "whereby.com",
            "*.whereby.com",
        ];
        LinkPolicy {
            allowed_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        }
    }
}

impl LinkPolicy {
    /// Checks and normalises an edited allow-list (Settings): each entry a host name,
    /// optionally prefixed with `*.`; lower case; duplicates dropped; not empty.
    pub fn check(&self, field: &str) -> Result<LinkPolicy, FieldError> {
        let mut hosts: Vec<String> = Vec::new();
        for entry in &self.allowed_hosts {
            let e = entry.trim();
            if e.is_empty() {
                continue;
            }
            let (wild, name) = match e.strip_prefix("*.") {
                Some(rest) => ("*.", rest),
                None => ("", e),
            };
            let name = validation::domain_name(field, name).map_err(|_| {
                FieldError::new(
                    field,
                    format!("\"{e}\" is not a host such as zoom.us or *.zoom.us"),
                )
            })?;
            if name.split('.').any(|l| l.starts_with("xn--")) {
                return Err(FieldError::new(
                    field,
                    format!("\"{e}\": internationalised hosts are not allowed"),
                ));
            }
            hosts.push(format!("{wild}{name}"));
        }
        let hosts = crate::validation::dedup_in_order(hosts);
        if hosts.is_empty() {
            return Err(FieldError::new(field, "at least one host is needed"));
        }
        Ok(LinkPolicy {
            allowed_hosts: hosts,
        })
    }

    /// Whether `host` (lower case, ASCII) is on the list.
    pub fn allows_host(&self, host: &str) -> bool {
        self.allowed_hosts
            .iter()
            .any(|entry| match entry.strip_prefix("*.") {
                Some(parent) => host
                    .strip_suffix(parent)
                    .and_then(|sub| sub.strip_suffix('.'))
                    .is_some_and(|sub| !sub.is_empty()),
                None => host == entry,
            })
    }
}

/// Checks a meeting link and returns it normalised, or a [`FieldError`] naming `field`.
///
/// Refused: any scheme but `https` (`http:`, `javascript:`, `data:`...); a user name or
/// password (`https://meet.google.com@evil.example`); a host off the allow-list, look-alikes
/// included (`zoom.us.evil.example`, `evilzoom.us`); IP addresses; an explicit port other
/// than 443; internationalised (punycode) host labels; backslashes, whitespace and control
/// characters anywhere; a link to a host's home page (no meeting in it).
pub fn check_meeting_link(
    field: &str,
    value: &str,
    policy: &LinkPolicy,
) -> Result<String, FieldError> {
    let v = value.trim();
    let refuse = |why: &str| Err(FieldError::new(field, format!("not a meeting link: {why}")));
    if v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if v.chars().count() > MAX_LINK_LEN {
        return refuse(&format!("longer than {MAX_LINK_LEN} characters"));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refuse("it contains spaces or control characters");
    }
    if v.contains('\\') {
        return refuse("it contains a backslash");
    }
    let Ok(url) = Url::parse(v) else {
        return refuse("it is not a web address");
    };
    if url.scheme() != "https" {
        return refuse("it must start with https://");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("it must not carry a user name or password before the host");
    }
    let host = match url.host() {
        Some(Host::Domain(h)) => h.to_owned(),
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => {
            return refuse("it must name a host, not an IP address");
        }
        None => return refuse("it has no host"),
    };
    if url.port().is_some() {
        return refuse("it must not name a port");
    }
    if host.split('.').any(|label| label.starts_with("xn--")) {
        return refuse("internationalised host names are not accepted (look-alike risk)");
    }
    if !policy.allows_host(&host) {
        return refuse(&format!(
            "{host} is not an allowed meeting host ({})",
            policy.allowed_hosts.join(", ")
        ));
    }
    if url.path() == "/" && url.query().is_none() {
        return refuse("it points at the home page, not at a meeting");
    }
    Ok(url.to_string())
}

/// The Jitsi host rooms are generated on (no account needed).
pub const JITSI_HOST: &str = "meet.jit.si";

/// An unguessable Jitsi room link from 16 caller-supplied random bytes (the domain has no
/// RNG: the client passes bytes from the OS generator). The room name is `rapport-` and the
/// 128 bits in lower-case base32, 26 characters: nothing about the customer or incident
/// leaks into it.
pub fn jitsi_room_url(random_bytes: [u8; 16]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bits: u128 = u128::from_be_bytes(random_bytes);
    let mut name = [0u8; 26];
    // 26 * 5 = 130 bits: the first character takes the top 3 bits, the rest 5 each.
    for slot in name.iter_mut().rev() {
        *slot = ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    let room = std::str::from_utf8(&name).expect("the alphabet is ASCII");
    format!("https://{JITSI_HOST}/rapport-{room}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    fn check(v: &str) -> Result<String, FieldError> {
        check_meeting_link("meeting_link", v, &LinkPolicy::default())
    }

    #[rstest]
    #[case(
        "https://zoom.us/j/123456789?pwd=abc",
        "https://zoom.us/j/123456789?pwd=abc"
    )]
    #[case("https://acme.zoom.us/j/123", "https://acme.zoom.us/j/123")]
    #[case(
        "https://meet.google.com/abc-defg-hij",
        "https://meet.google.com/abc-defg-hij"
    )]
    #[case(
        "  https://Meet.Google.com/abc-defg-hij  ",
        "https://meet.google.com/abc-defg-hij"
    )]
    #[case(
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting",
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting"
    )]
    #[case("https://teams.live.com/meet/123", "https://teams.live.com/meet/123")]
    #[case(
        "https://meet.jit.si/SomeRoom#config.startWithAudioMuted=true",
        "https://meet.jit.si/SomeRoom#config.startWithAudioMuted=true"
    )]
    #[case("https://whereby.com/acme-support", "https://whereby.com/acme-support")]
    #[case("https://acme.whereby.com/room", "https://acme.whereby.com/room")]
    #[case("https://zoom.us:443/j/1", "https://zoom.us/j/1")]
    fn links_accepted(#[case] input: &str, #[case] want: &str) {
        assert_eq!(check(input).unwrap(), want, "{input}");
    }

    #[rstest]
    #[case("javascript:alert(1)", "https://")]
    #[case("JavaScript://zoom.us/%0aalert(1)", "https://")]
    #[case("data:text/html,<script>alert(1)</script>", "https://")]
    #[case("data:text/html;base64,PHNjcmlwdD4=", "https://")]
    #[case("http://zoom.us/j/1", "https://")]
    #[case("ftp://zoom.us/j/1", "https://")]
    #[case("zoom.us/j/1", "web address")]
    #[case("//zoom.us/j/1", "web address")]
    #[case("https://meet.google.com@evil.example/abc", "user name")]
    #[case("https://meet.google.com:pw@evil.example/abc", "user name")]
    #[case(
        "https://evil.example#@meet.google.com/abc",
        "not an allowed meeting host"
    )]
    #[case("https://zoom.us.evil.example/j/1", "not an allowed meeting host")]
    #[case("https://evilzoom.us/j/1", "not an allowed meeting host")]
    #[case("https://zoom.us./j/1", "not an allowed meeting host")]
    #[case(
        "https://meet.google.com.evil.example/x",
        "not an allowed meeting host"
    )]
    #[case("https://google.com/meet", "not an allowed meeting host")]
    #[case("https://www.meet.google.com/abc", "not an allowed meeting host")]
    #[case("https://zoom.us:8443/j/1", "port")]
    #[case("https://zооm.us/j/1", "internationalised")]
    #[case("https://xn--zm-fmca.us/j/1", "internationalised")]
    #[case("https://xn--80ak6aa92e.zoom.us/j/1", "internationalised")]
    #[case("https://zoom.us\\@evil.example/j/1", "backslash")]
    #[case("https:\\\\evil.example\\zoom.us", "backslash")]
    #[case("https://zoom.us/j/1 onmouseover=x", "spaces")]
    #[case("https://zoom.us/j/1\u{0}", "control")]
    #[case("https://zoom.us/j/\n1", "control")]
    #[case("https://93.184.216.34/j/1", "IP address")]
    #[case("https://[::1]/j/1", "IP address")]
    #[case("https://zoom.us/", "home page")]
    #[case("https://zoom.us", "home page")]
    fn links_refused(#[case] input: &str, #[case] reason: &str) {
        let e = check(input).unwrap_err();
        assert_eq!(e.field, "meeting_link", "the error names the field");
        assert!(
            e.reason.contains(reason),
            "{input}: {} should say {reason}",
            e.reason
        );
    }

    #[test]
    fn empty_and_overlong_links_are_refused() {
        assert_eq!(check("  ").unwrap_err().reason, "must not be empty");
        let long = format!("https://zoom.us/j/{}", "1".repeat(MAX_LINK_LEN));
        assert!(check(&long).unwrap_err().reason.contains("longer"));
    }

    #[test]
    fn a_wildcard_entry_does_not_allow_the_bare_parent_and_a_plain_entry_no_subdomains() {
        let p = LinkPolicy {
            allowed_hosts: vec!["*.example.com".into(), "video.example.org".into()],
        };
        assert!(p.allows_host("a.example.com") && p.allows_host("a.b.example.com"));
        assert!(
            !p.allows_host("example.com"),
            "*.x does not include x itself"
        );
        assert!(!p.allows_host("badexample.com"));
        assert!(
            !p.allows_host("x.video.example.org"),
            "a plain entry is that host only"
        );
        assert!(
            check_meeting_link("meeting_link", "https://zoom.us/j/1", &p).is_err(),
            "the policy is what counts"
        );
    }

    #[test]
    fn allow_list_edits_are_checked() {
        let p = LinkPolicy {
            allowed_hosts: vec![
                " Video.Example.com ".into(),
                "*.ZOOM.us".into(),
                "video.example.com".into(),
                "".into(),
            ],
        };
        assert_eq!(
            p.check("allowed_hosts").unwrap().allowed_hosts,
            vec!["video.example.com", "*.zoom.us"]
        );
        for bad in [
            "*",
            "*.com.",
            "evil example",
            "https://zoom.us",
            "xn--zm-fmca.us",
        ] {
            let p = LinkPolicy {
                allowed_hosts: vec![bad.into()],
            };
            assert_eq!(
                p.check("allowed_hosts").unwrap_err().field,
                "allowed_hosts",
                "{bad}"
            );
        }
        let empty = LinkPolicy {
            allowed_hosts: vec![" ".into()],
        };
        assert!(
            empty
                .check("allowed_hosts")
                .unwrap_err()
                .reason
                .contains("at least one")
        );
    }

    #[test]
    fn jitsi_rooms_are_valid_links_that_carry_all_128_bits() {
        let zero = jitsi_room_url([0; 16]);
        assert_eq!(
            zero,
            "https://meet.jit.si/rapport-aaaaaaaaaaaaaaaaaaaaaaaaaa"
        );
        let ones = jitsi_room_url([0xff; 16]);
        let want = format!("https://meet.jit.si/rapport-h{}", "7".repeat(25));
        assert_eq!(
            ones, want,
            "the first character holds the top 3 bits, the others 5 each"
        );
        let mut last_bit = [0u8; 16];
        last_bit[15] = 1;
        assert_ne!(
            jitsi_room_url(last_bit),
            zero,
            "the lowest bit changes the name"
        );
        let mut first_bit = [0u8; 16];
        first_bit[0] = 0x80;
        assert_ne!(
            jitsi_room_url(first_bit),
            zero,
            "the highest bit changes the name"
        );
    }

    proptest! {
        #[test]
        fn every_generated_room_passes_the_default_policy(bytes in any::<[u8; 16]>()) {
            let link = jitsi_room_url(bytes);
            prop_assert_eq!(check(&link).unwrap(), link.clone());
            prop_assert_eq!(link.len(), "https://meet.jit.si/rapport-".len() + 26);
        }

        #[test]
        fn distinct_bytes_give_distinct_rooms(a in any::<[u8; 16]>(), b in any::<[u8; 16]>()) {
            prop_assume!(a != b);
            prop_assert_ne!(jitsi_room_url(a), jitsi_room_url(b), "the encoding is injective");
        }

        #[test]
        fn accepted_links_are_https_on_an_allowed_host(s in "[a-z:/.@\\\\%#?=0-9-]{0,40}") {
            for candidate in [s.clone(), format!("https://{s}"), format!("https://zoom.us{s}")] {
                if let Ok(link) = check(&candidate) {
                    let url = Url::parse(&link).unwrap();
                    prop_assert_eq!(url.scheme(), "https");
                    prop_assert!(url.username().is_empty() && url.password().is_none());
                    prop_assert!(LinkPolicy::default().allows_host(url.host_str().unwrap()));
                }
            }
        }
    }
}

#[cfg(test)]
mod external_link_tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("https://acme.slack.com/archives/C01")]
    #[case("http://example.com/a?b=c#d")]
    #[case("  https://meet.jit.si/rapport-room  ")]
    #[case("mailto:ana@acme.com?subject=Hello")]
    #[case("HTTPS://EXAMPLE.COM/")]
    fn web_and_mail_links_are_opened(#[case] raw: &str) {
        let url =
            check_external_link("url", raw).unwrap_or_else(|e| panic!("{raw} should open: {e}"));
        assert!(EXTERNAL_LINK_SCHEMES.contains(&url.scheme()));
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
    fn everything_else_is_refused_naming_the_field(#[case] raw: &str) {
        let e = check_external_link("url", raw).expect_err(raw);
        assert_eq!(e.field, "url", "the refusal names the field: {raw}");
    }
}
