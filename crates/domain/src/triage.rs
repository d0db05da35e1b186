//! Email triage: the "urgent" subject rule, the severity an email opens with, and matching a
//! reply to the request it belongs to.
//!
//! The client parses the `.eml` (mail-parser) and hands over decoded strings: the subject
//! with any RFC 2047 encoded words already decoded, and the raw `Message-ID`,
//! `In-Reply-To` and `References` header values.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;
use uuid::Uuid;

use crate::request::{RequestEventKind, RequestSummary, Severity};

/// True when the subject contains the word "urgent", in any case, as a whole word.
///
/// Words are split at Unicode word boundaries (UAX #29), so:
/// - `[URGENT]`, `Urgent:`, `URGENT!!`, `re: urgent`, `Dringend / urgent` match;
/// - `urgently`, `nonurgent`, `urgentes` do not (the word is longer);
/// - `urgent_ops` does not: `_` joins words in UAX #29 (an identifier, such as a list name);
/// - `non-urgent` does: a hyphen separates words. Decided: a false alarm costs one triage,
///   a missed urgent email costs the SLA, so the rule errs towards alerting;
/// - `URGENT:DB down`, `urgent.now`, `urgent's` do: UAX #29 keeps letters joined by `:`,
///   `.` or an apostrophe in one word (for "c:a" or "can't"), which would hide the word in
///   a terse subject, so those joiners split words here too.
pub fn subject_is_urgent(subject: &str) -> bool {
    subject
        .split_word_bounds()
        .flat_map(|w| w.split(is_joiner))
        .any(is_urgent_word)
}

/// The UAX #29 mid-word punctuation (MidLetter, MidNumLet, MidNum) that still separates
/// words in a subject line.
fn is_joiner(c: char) -> bool {
    matches!(
        c,
        ':' | '.'
            | '\''
            | '\u{2019}'
            | '\u{2018}'
            | '\u{00B7}'
            | '\u{0387}'
            | '\u{05F3}'
            | '\u{05F4}'
            | '\u{FE13}'
            | '\u{FE52}'
            | '\u{FE55}'
            | '\u{FF07}'
            | '\u{FF0E}'
            | '\u{FF1A}'
            | ','
            | ';'
            | '\u{2024}'
            | '\u{FE50}'
            | '\u{FF0C}'
            | '\u{FF1B}'
    )
}

fn is_urgent_word(word: &str) -> bool {
    // Unicode lower-casing, compared as a whole: "URGENT", "Urgent", "uRgEnT".
    word.chars().count() == 6 && word.to_lowercase() == "urgent"
}

/// How a new email opens: the severity and whether the team is alerted. Every email needs
/// triage (a support lead confirms its severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EmailTriage {
    pub severity: Severity,
    pub needs_triage: bool,
    pub urgent_alert: bool,
}

/// An urgent email opens as P1 *needs triage* (the strictest clock until a lead confirms a
/// severity); any other as P3 *needs triage*.
pub fn initial_triage(subject: &str) -> EmailTriage {
    if subject_is_urgent(subject) {
        EmailTriage {
            severity: Severity::P1,
            needs_triage: true,
            urgent_alert: true,
        }
    } else {
        EmailTriage {
            severity: Severity::P3,
            needs_triage: true,
            urgent_alert: false,
        }
    }
}

/// Reply and forward prefixes stripped from subjects, lower case, without the colon:
/// English (Re, Fw, Fwd), German (AW, WG), Scandinavian (SV), Finnish (VS), Dutch (Antw),
/// French (TR), Spanish (RV), and `Re[2]`-style counters.
const PREFIXES: [&str; 10] = [
    "re", "fwd", "fw", "aw", "sv", "wg", "vs", "antw", "tr", "rv",
];

/// A request's title from an email's subject: the reply and forward prefixes mail clients
/// add (`Re:`, `Fwd:`, `FW:`, `AW:`, `WG:`, `SV:`, `VS:`, `Antw:`, `TR:`, `RV:`, also
/// `Re[2]:`), however many, are dropped from the front; the rest is kept as written (tags
/// such as `[URGENT]` included). An empty subject is "(no subject)". The desktop's `.eml`
/// import and the service's mailbox intake both name requests with it.
pub fn title_from_subject(subject: &str) -> String {
    let mut s = subject.trim();
    while let Some(rest) = strip_prefix(s) {
        s = rest.trim_start();
    }
    if s.is_empty() {
        "(no subject)".to_owned()
    } else {
        s.to_owned()
    }
}

/// The subject a thread is known by: `Re:`/`Fwd:`/`Fw:`/`AW:`/`SV:`/`WG:` prefixes and
/// `[tags]` removed from the front, repeatedly; whitespace collapsed; lower case.
///
/// `"RE: Fwd: [URGENT] [Acme]  Database down"` → `"database down"`.
pub fn normalize_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let before = s;
        if let Some(rest) = strip_tag(s) {
            s = rest.trim_start();
        }
        if let Some(rest) = strip_prefix(s) {
            s = rest.trim_start();
        }
        if s == before {
            break;
        }
    }
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `[anything without brackets]` at the front.
fn strip_tag(s: &str) -> Option<&str> {
    let rest = s.strip_prefix('[')?;
    let end = rest.find(']')?;
    if rest[..end].contains('[') {
        return None;
    }
    Some(&rest[end + 1..])
}

/// `re:`, `RE :`, `Re[3]:`, `Re(2):` at the front.
fn strip_prefix(s: &str) -> Option<&str> {
    let word_end = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    let word = s[..word_end].to_ascii_lowercase();
    if !PREFIXES.contains(&word.as_str()) {
        return None;
    }
    let mut rest = &s[word_end..];
    for (open, close) in [('[', ']'), ('(', ')')] {
        if let Some(inner) = rest.strip_prefix(open) {
            let end = inner.find(close)?;
            if !inner[..end].chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            rest = &inner[end + 1..];
        }
    }
    rest.trim_start().strip_prefix(':')
}

/// The message ids in a `Message-ID`, `In-Reply-To` or `References` header value, without
/// their angle brackets, in order. Comments and stray text between ids are ignored; a
/// value without brackets is read as whitespace-separated ids.
pub fn message_ids(header: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else { break };
        let id = after[..close].trim();
        if !id.is_empty() && !id.chars().any(char::is_whitespace) {
            ids.push(id.to_owned());
        }
        rest = &after[close + 1..];
    }
    if ids.is_empty() && !header.contains('<') {
        ids = header.split_whitespace().map(str::to_owned).collect();
    }
    ids
}

/// An open request an incoming email might belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadCandidate {
    pub request_id: Uuid,
    pub account_id: Uuid,
    pub opened_at: DateTime<Utc>,
    /// The request's title or the subject of the email that opened it.
    pub subject: String,
    /// Message-IDs of every email already on the request (without angle brackets).
    pub message_ids: Vec<String>,
}

/// The headers of an incoming email that thread it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncomingEmail {
    pub subject: String,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
}

/// How an incoming email was matched to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ThreadMatch {
    /// `In-Reply-To` or `References` names an email already on the request.
    MessageId,
    /// Same normalised subject.
    Subject,
}

/// The open request of `account_id` that `email` continues, if any. Candidates of other
/// accounts never match. A Message-ID match wins over a subject match; among subject
/// matches the most recently opened request wins; an empty normalised subject never matches.
pub fn find_thread(
    email: &IncomingEmail,
    account_id: Uuid,
    candidates: &[ThreadCandidate],
) -> Option<(Uuid, ThreadMatch)> {
    let mine = || candidates.iter().filter(|c| c.account_id == account_id);
    let mut referenced = Vec::new();
    for header in [&email.in_reply_to, &email.references]
        .into_iter()
        .flatten()
    {
        referenced.extend(message_ids(header));
    }
    if let Some(c) = mine()
        .filter(|c| c.message_ids.iter().any(|id| referenced.contains(id)))
        .max_by_key(|c| c.opened_at)
    {
        return Some((c.request_id, ThreadMatch::MessageId));
    }
    let subject = normalize_subject(&email.subject);
    if subject.is_empty() {
        return None;
    }
    mine()
        .filter(|c| normalize_subject(&c.subject) == subject)
        .max_by_key(|c| c.opened_at)
        .map(|c| (c.request_id, ThreadMatch::Subject))
}

/// The events that escalate an open request when an urgent email continues it: raised to
/// P1 (unless it is P1 already) and put back to triage (unless it awaits triage already).
/// Empty when there is nothing to change.
pub fn escalation_events(request: &RequestSummary) -> Vec<RequestEventKind> {
    let mut events = Vec::new();
    if request.severity != Severity::P1 {
        events.push(RequestEventKind::SeverityChanged {
            from: request.severity,
            to: Severity::P1,
        });
    }
    if !request.needs_triage {
        events.push(RequestEventKind::TriageRequested);
    }
    events
}

/// Which account an email comes from, by its sender's domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SenderMatch {
    Account {
        account_id: Uuid,
    },
    /// Several accounts claim the domain equally: the user chooses.
    Ambiguous {
        account_ids: Vec<Uuid>,
    },
    /// No account claims it (or the address has no domain): the user chooses.
    Unknown,
}

/// Finds the account of `sender` (an address such as `ana@eu.acme.com`) among accounts and
/// their support email domains. A domain matches itself and its subdomains
/// (`eu.acme.com` is `acme.com`'s); the longest matching domain wins, so a subsidiary with
/// its own account is not filed under the parent.
pub fn account_for_sender(sender: &str, accounts: &[(Uuid, Vec<String>)]) -> SenderMatch {
    let Some((_, domain)) = sender.trim().trim_matches(['<', '>']).rsplit_once('@') else {
        return SenderMatch::Unknown;
    };
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() {
        return SenderMatch::Unknown;
    }
    let mut best: Option<(usize, Vec<Uuid>)> = None;
    for (id, domains) in accounts {
        for d in domains {
            let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
            let matches = !d.is_empty()
                && (domain == d
                    || domain
                        .strip_suffix(&d)
                        .is_some_and(|sub| sub.ends_with('.')));
            if !matches {
                continue;
            }
            match &mut best {
                Some((len, ids)) if *len == d.len() => {
                    if !ids.contains(id) {
                        ids.push(*id);
                    }
                }
                Some((len, _)) if *len > d.len() => {}
                _ => best = Some((d.len(), vec![*id])),
            }
        }
    }
    match best {
        None => SenderMatch::Unknown,
        Some((_, ids)) if ids.len() == 1 => SenderMatch::Account { account_id: ids[0] },
        Some((_, account_ids)) => SenderMatch::Ambiguous { account_ids },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Channel, RequestStatus};
    use chrono::TimeZone;
    use rstest::rstest;

    #[rstest]
    #[case("Re: URGENT: checkout down", "URGENT: checkout down")]
    #[case("RE: Fwd: re:  Invoices twice", "Invoices twice")]
    #[case("FW: AW: WG: Login broken", "Login broken")]
    #[case("Re[2]: Exports slow", "Exports slow")]
    #[case("Re(3): TR: RV: Antw: VS: SV: Sync stuck", "Sync stuck")]
    #[case("Re : spaced colon", "spaced colon")]
    #[case(
        "Urgent: Re: nothing to strip first",
        "Urgent: Re: nothing to strip first"
    )]
    #[case("[URGENT] Re: tags stay", "[URGENT] Re: tags stay")]
    #[case("Reply needed: API keys", "Reply needed: API keys")]
    #[case("Re:", "(no subject)")]
    #[case("   ", "(no subject)")]
    fn titles_drop_reply_and_forward_prefixes(#[case] subject: &str, #[case] title: &str) {
        assert_eq!(
            title_from_subject(subject),
            title,
            "the title of {subject:?}"
        );
    }

    #[rstest]
    #[case("urgent")]
    #[case("URGENT: db down")]
    #[case("[URGENT] db down")]
    #[case("Urgent: db down")]
    #[case("db down URGENT!!")]
    #[case("Re: Fwd: urgent - prod")]
    #[case("(urgent)")]
    #[case("non-urgent question")]
    #[case("Dringend/urgent: Ausfall")]
    #[case("sehr dringend, uRgEnT")]
    #[case("«urgent» panne")]
    #[case("urgent\u{00A0}prod down")]
    #[case("緊急 urgent 本番停止")]
    #[case("URGENT:DB down")]
    #[case("urgent.now")]
    #[case("urgent's meaning")]
    #[case("re:urgent")]
    fn urgent_subjects(#[case] subject: &str) {
        assert!(
            subject_is_urgent(subject),
            "{subject:?} contains the word urgent"
        );
        assert_eq!(initial_triage(subject).severity, Severity::P1);
    }

    #[rstest]
    #[case("")]
    #[case("urgently needed")]
    #[case("nonurgent")]
    #[case("urgent_ops list digest")]
    #[case("urgentes: consulta")]
    #[case("Dringend: Ausfall")]
    #[case("urg ent")]
    #[case("urgent\u{0301} with a combining accent")]
    #[case("urgent2 ticket")]
    #[case("urgentissime")]
    fn not_urgent_subjects(#[case] subject: &str) {
        assert!(
            !subject_is_urgent(subject),
            "{subject:?} does not contain the word urgent"
        );
        let t = initial_triage(subject);
        assert_eq!(
            (t.severity, t.needs_triage, t.urgent_alert),
            (Severity::P3, true, false)
        );
    }

    #[test]
    fn urgent_email_opens_p1_needing_triage_with_the_alert() {
        let t = initial_triage("[URGENT] checkout failing");
        assert_eq!(
            t,
            EmailTriage {
                severity: Severity::P1,
                needs_triage: true,
                urgent_alert: true
            }
        );
    }

    #[rstest]
    #[case("Re: Database down", "database down")]
    #[case("RE: Fwd: FW: AW: SV: WG: Database   down ", "database down")]
    #[case("[URGENT] [Acme] Re: Database down", "database down")]
    #[case("Re[2]: Re(3): database down", "database down")]
    #[case("Re : database down", "database down")]
    #[case("Re\t: database down", "database down")]
    #[case("Aw:WG:database down", "database down")]
    #[case("Regarding: database down", "regarding: database down")]
    #[case("Recap of the outage", "recap of the outage")]
    #[case("[unclosed tag Re: x", "[unclosed tag re: x")]
    #[case("Re: [URGENT]", "")]
    #[case("Réponse: panne", "réponse: panne")]
    fn subjects_normalise(#[case] input: &str, #[case] want: &str) {
        assert_eq!(normalize_subject(input), want, "{input:?}");
    }

    #[test]
    fn message_ids_are_read_from_headers() {
        assert_eq!(message_ids("<a@x.example>"), vec!["a@x.example"]);
        assert_eq!(
            message_ids("<a@x.example>\r\n <b@y.example> (comment) <c@z>"),
            vec!["a@x.example", "b@y.example", "c@z"]
        );
        assert_eq!(
            message_ids("a@x.example"),
            vec!["a@x.example"],
            "brackets are optional"
        );
        assert_eq!(message_ids("<>  <broken"), Vec::<String>::new());
    }

    fn cand(n: u128, account: u128, subject: &str, ids: &[&str], day: u32) -> ThreadCandidate {
        ThreadCandidate {
            request_id: Uuid::from_u128(n),
            account_id: Uuid::from_u128(account),
            opened_at: Utc.with_ymd_and_hms(2026, 3, day, 0, 0, 0).unwrap(),
            subject: subject.into(),
            message_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn threads_match_by_message_id_before_subject() {
        let cands = [
            cand(1, 7, "Database down", &["m1@acme"], 1),
            cand(2, 7, "Something else", &["m2@acme"], 2),
        ];
        let email = IncomingEmail {
            subject: "Re: Database down".into(),
            in_reply_to: None,
            references: Some("<m0@acme> <m2@acme>".into()),
        };
        assert_eq!(
            find_thread(&email, Uuid::from_u128(7), &cands),
            Some((Uuid::from_u128(2), ThreadMatch::MessageId)),
            "the References header names request 2's email"
        );
    }

    #[test]
    fn threads_match_by_subject_within_the_account_only() {
        let cands = [
            cand(1, 7, "[URGENT] Database down", &[], 1),
            cand(3, 7, "Database down", &[], 3),
            cand(9, 8, "Database down", &[], 9),
        ];
        let email = IncomingEmail {
            subject: "RE: urgent: x".into(),
            ..IncomingEmail::default()
        };
        assert_eq!(
            find_thread(&email, Uuid::from_u128(7), &cands),
            None,
            "different subject"
        );
        let reply = IncomingEmail {
            subject: "Fwd: Re: database DOWN".into(),
            ..IncomingEmail::default()
        };
        assert_eq!(
            find_thread(&reply, Uuid::from_u128(7), &cands),
            Some((Uuid::from_u128(3), ThreadMatch::Subject)),
            "the most recent open request of the same account; account 8's never matches"
        );
        let other_account = IncomingEmail {
            subject: "x".into(),
            in_reply_to: Some("<m@acme>".into()),
            references: None,
        };
        let foreign = [cand(5, 8, "x", &["m@acme"], 1)];
        assert_eq!(
            find_thread(&other_account, Uuid::from_u128(7), &foreign),
            None
        );
    }

    #[test]
    fn an_empty_subject_never_threads() {
        let cands = [cand(1, 7, "Re:", &[], 1)];
        let email = IncomingEmail {
            subject: "[URGENT]".into(),
            ..IncomingEmail::default()
        };
        assert_eq!(find_thread(&email, Uuid::from_u128(7), &cands), None);
    }

    #[test]
    fn the_sender_s_domain_finds_the_account() {
        let (acme, acme_eu, other) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let accounts = vec![
            (acme, vec!["acme.com".to_owned()]),
            (acme_eu, vec!["eu.acme.com".to_owned()]),
            (other, vec!["shared.example".to_owned()]),
            (Uuid::from_u128(4), vec!["Shared.Example".to_owned()]),
        ];
        let find = |s: &str| account_for_sender(s, &accounts);
        assert_eq!(
            find("Ana@ACME.com"),
            SenderMatch::Account { account_id: acme }
        );
        assert_eq!(
            find("ops@mail.acme.com"),
            SenderMatch::Account { account_id: acme },
            "a subdomain"
        );
        assert_eq!(
            find("<bo@eu.acme.com>"),
            SenderMatch::Account {
                account_id: acme_eu
            },
            "the longest domain wins"
        );
        assert_eq!(
            find("x@notacme.com"),
            SenderMatch::Unknown,
            "a look-alike is not a subdomain"
        );
        assert_eq!(
            find("x@shared.example"),
            SenderMatch::Ambiguous {
                account_ids: vec![other, Uuid::from_u128(4)]
            }
        );
        assert_eq!(find("no-at-sign"), SenderMatch::Unknown);
        assert_eq!(find("x@"), SenderMatch::Unknown);
    }

    proptest::proptest! {
        #[test]
        fn normalising_twice_changes_nothing(s in "([Rr][Ee]|[Ff][Ww][Dd]?|AW|\\[[a-z ]{0,6}\\]|[ \t:\\[\\]]|[a-zé]{1,5}){0,8}") {
            let once = normalize_subject(&s);
            proptest::prop_assert_eq!(normalize_subject(&once), once.clone(), "thread keys are stable");
        }

        #[test]
        fn an_urgent_word_is_found_between_any_separators(
            before in "[a-z]{0,6}", sep1 in "[ \\[(:!.,/-]", sep2 in "[ \\])!:.,/-]", after in "[a-z]{0,6}",
            case in proptest::sample::select(vec!["urgent", "URGENT", "Urgent", "uRgEnT"]),
        ) {
            let subject = format!("{before}{sep1}{case}{sep2}{after}");
            proptest::prop_assert!(subject_is_urgent(&subject), "{}", subject);
            let glued = format!("{before}{case}{after}");
            proptest::prop_assert_eq!(subject_is_urgent(&glued), before.is_empty() && after.is_empty(), "{}", glued);
        }
    }

    fn summary(severity: Severity, needs_triage: bool) -> RequestSummary {
        RequestSummary {
            opened_at: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
            channel: Channel::Email,
            title: "x".into(),
            severity,
            worst_severity: severity,
            status: RequestStatus::Acknowledged,
            needs_triage,
            urgent_alert: false,
            first_public_response_at: None,
            resolved_at: None,
            call_link: None,
        }
    }

    #[test]
    fn escalation_raises_to_p1_and_back_to_triage() {
        assert_eq!(
            escalation_events(&summary(Severity::P3, false)),
            vec![
                RequestEventKind::SeverityChanged {
                    from: Severity::P3,
                    to: Severity::P1
                },
                RequestEventKind::TriageRequested
            ]
        );
        assert_eq!(
            escalation_events(&summary(Severity::P1, false)),
            vec![RequestEventKind::TriageRequested],
            "already P1: only back to triage"
        );
        assert!(
            escalation_events(&summary(Severity::P1, true)).is_empty(),
            "nothing to change"
        );
    }
}
