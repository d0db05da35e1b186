//! How large anything Rapport accepts may be: every text field and every list of every
//! synced kind, and the fields of the service's own request bodies (sign-in, admin).
//!
//! One table per kind ([`fields`]) says, for each wire field, how long its text or how
//! many its items may be. The central service checks a pushed mutation against it
//! ([`check_fields`]) before anything else reads the values, so an oversized or hostile
//! value costs one linear pass and is refused naming the field; the desktop runs the same
//! check before a write reaches its outbox, so a user learns of it at once. The OpenAPI
//! document of the service is generated from the same table.
//!
//! Texts are counted in characters (Unicode scalar values). A single-line text refuses
//! every control character; a free text ([`Limit::Text`]) may hold line breaks and tabs,
//! nothing else below U+0020 (NUL included) or in U+007F–U+009F.

use serde_json::Value;

use crate::sync::{EntityKind, Fields, RejectCode, Rejection};
use crate::validation::FieldError;

/// Names, titles, owners: one line (see [`crate::validation::MAX_NAME_LEN`]).
pub const MAX_NAME_LEN: usize = crate::validation::MAX_NAME_LEN;
/// An email address: 64 before the @, 255 after it.
pub const MAX_EMAIL_LEN: usize = 320;
/// On call: members of the rotation, steps of one severity's escalation, targets of one
/// at-risk or breached page, and the longest override.
pub const MAX_ROTATION_MEMBERS: usize = 200;
pub const MAX_ESCALATION_STEPS: usize = 20;
pub const MAX_PAGE_TARGETS: usize = 3;
pub const MAX_OVERRIDE_DAYS: i64 = 90;
/// An IANA time zone name (the longest is 32 characters).
pub const MAX_TIME_ZONE_LEN: usize = 64;
/// A link (meeting, Slack): see [`crate::links::MAX_LINK_LEN`].
pub const MAX_LINK_LEN: usize = crate::links::MAX_LINK_LEN;
/// A DNS host name.
pub const MAX_DOMAIN_LEN: usize = 253;
/// One account tag.
pub const MAX_TAG_LEN: usize = 40;
/// Tags of one account.
pub const MAX_TAGS: usize = 100;
/// Support email domains of one account.
pub const MAX_EMAIL_DOMAINS: usize = 50;
/// Attendees of one onboarding session.
pub const MAX_ATTENDEES: usize = 100;
/// Agenda items of one onboarding session.
pub const MAX_AGENDA_ITEMS: usize = 100;
/// Follow-ups or action items of one session, review or RCA.
pub const MAX_ACTION_ITEMS: usize = 200;
/// Entries of a review's checklist.
pub const MAX_CHECKLIST: usize = 32;
/// Entries of an RCA's timeline.
pub const MAX_TIMELINE: usize = 1000;
/// Who and what of one RCA timeline entry.
pub const MAX_TIMELINE_WHO_LEN: usize = 300;
pub const MAX_TIMELINE_WHAT_LEN: usize = 2000;
/// Who was affected (an RCA's impact).
pub const MAX_AFFECTED_LEN: usize = 20_000;
/// Message-IDs of one request, and the longest one (RFC 5322 line limit).
pub const MAX_THREAD_KEYS: usize = 500;
pub const MAX_MESSAGE_ID_LEN: usize = 998;
/// A note's body: see [`crate::note::MAX_NOTE_LEN`].
pub const MAX_NOTE_LEN: usize = crate::note::MAX_NOTE_LEN;
/// The text of a request's response or update: see [`crate::request::MAX_DETAILS_LEN`].
pub const MAX_DETAILS_LEN: usize = crate::request::MAX_DETAILS_LEN;
/// One section of an RCA: see [`crate::rca::MAX_SECTION_LEN`].
pub const MAX_SECTION_LEN: usize = crate::rca::MAX_SECTION_LEN;
/// An onboarding session's outcome: see [`crate::onboarding::MAX_OUTCOME_LEN`].
pub const MAX_OUTCOME_LEN: usize = crate::onboarding::MAX_OUTCOME_LEN;
/// A review's (or a checklist entry's) findings: see [`crate::review::MAX_FINDINGS_CHARS`].
pub const MAX_FINDINGS_LEN: usize = crate::review::MAX_FINDINGS_CHARS;
/// Days of the working week.
pub const MAX_WORKING_DAYS: usize = 7;
/// A sign-in password, and the shortest one an admin may set.
pub const MAX_PASSWORD_LEN: usize = 1024;
pub const MIN_PASSWORD_LEN: usize = 10;
/// An id, an enum value, an instant, a number: any string in a [`Limit::Token`] field.
pub const MAX_TOKEN_LEN: usize = 64;
/// Members of a small object ([`Limit::Token`]) and of any nested object.
pub const MAX_OBJECT_MEMBERS: usize = 16;
/// A pull page stops after the record that takes its fields past this many bytes (of
/// JSON), even when fewer records than the page size were read; a page holds at least one
/// record.
pub const MAX_PULL_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// How large one value may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A text of one line, at most this many characters, without control characters.
    Line(usize),
    /// A free text of at most this many characters; line breaks and tabs are allowed.
    Text(usize),
    /// A list of at most this many items, each within the item's limit.
    List(usize, &'static Limit),
    /// An object whose members have their own limits (others count as [`Limit::Token`]).
    Object(&'static [(&'static str, Limit)]),
    /// A number, a boolean, null, an id, an enum value or an instant (a string of at most
    /// [`MAX_TOKEN_LEN`] characters), or a small object of such values.
    Token,
}

impl Limit {
    /// The longest text (for a text) or the most items (for a list), if any.
    pub fn max(self) -> Option<usize> {
        match self {
            Limit::Line(n) | Limit::Text(n) | Limit::List(n, _) => Some(n),
            Limit::Token => Some(MAX_TOKEN_LEN),
            Limit::Object(_) => None,
        }
    }
}

const ACTION_ITEM: Limit = Limit::Object(&[
    ("id", Limit::Token),
    ("title", Limit::Line(MAX_NAME_LEN)),
    ("owner", Limit::Line(MAX_NAME_LEN)),
    ("due", Limit::Token),
    ("status", Limit::Token),
]);
const NAME: Limit = Limit::Line(MAX_NAME_LEN);
const ZONE: Limit = Limit::Line(MAX_TIME_ZONE_LEN);
const LINK: Limit = Limit::Line(MAX_LINK_LEN);

const ACCOUNT: &[(&str, Limit)] = &[
    ("name", NAME),
    ("time_zone", ZONE),
    ("slack_channel", LINK),
    (
        "support_email_domains",
        Limit::List(MAX_EMAIL_DOMAINS, &Limit::Line(MAX_DOMAIN_LEN)),
    ),
    ("tags", Limit::List(MAX_TAGS, &Limit::Line(MAX_TAG_LEN))),
];
const CONTACT: &[(&str, Limit)] = &[
    ("name", NAME),
    ("email", Limit::Line(MAX_EMAIL_LEN)),
    ("role", NAME),
    ("time_zone", ZONE),
];
const NOTE: &[(&str, Limit)] = &[("body", Limit::Text(MAX_NOTE_LEN)), ("link", Limit::Token)];
const USER: &[(&str, Limit)] = &[
    ("name", NAME),
    ("email", Limit::Line(MAX_EMAIL_LEN)),
    ("time_zone", ZONE),
    (
        "working_hours",
        Limit::Object(&[("days", Limit::List(MAX_WORKING_DAYS, &Limit::Token))]),
    ),
];
const ONBOARDING: &[(&str, Limit)] = &[
    ("attendee_ids", Limit::List(MAX_ATTENDEES, &Limit::Token)),
    ("time_zone", ZONE),
    ("meeting_link", LINK),
    (
        "agenda",
        Limit::List(
            MAX_AGENDA_ITEMS,
            &Limit::Object(&[("title", NAME), ("done", Limit::Token)]),
        ),
    ),
    ("outcome", Limit::Text(MAX_OUTCOME_LEN)),
    ("follow_ups", Limit::List(MAX_ACTION_ITEMS, &ACTION_ITEM)),
];
const REVIEW: &[(&str, Limit)] = &[
    ("time_zone", ZONE),
    ("meeting_link", LINK),
    (
        "checklist",
        Limit::List(
            MAX_CHECKLIST,
            &Limit::Object(&[
                ("item", Limit::Token),
                ("done", Limit::Token),
                ("findings", Limit::Text(MAX_FINDINGS_LEN)),
            ]),
        ),
    ),
    ("findings", Limit::Text(MAX_FINDINGS_LEN)),
    ("action_items", Limit::List(MAX_ACTION_ITEMS, &ACTION_ITEM)),
];
const REQUEST: &[(&str, Limit)] = &[
    ("title", NAME),
    (
        "thread_keys",
        Limit::List(MAX_THREAD_KEYS, &Limit::Line(MAX_MESSAGE_ID_LEN)),
    ),
    ("meeting_link", LINK),
];
const REQUEST_EVENT: &[(&str, Limit)] = &[
    ("by", Limit::Token),
    (
        "kind",
        Limit::Object(&[
            ("title", NAME),
            ("text", Limit::Text(MAX_DETAILS_LEN)),
            ("link", LINK),
        ]),
    ),
];
const RCA: &[(&str, Limit)] = &[
    ("summary", Limit::Text(MAX_SECTION_LEN)),
    (
        "impact",
        Limit::Object(&[("affected", Limit::Text(MAX_AFFECTED_LEN))]),
    ),
    (
        "timeline",
        Limit::List(
            MAX_TIMELINE,
            &Limit::Object(&[
                ("at", Limit::Token),
                ("who", Limit::Line(MAX_TIMELINE_WHO_LEN)),
                ("what", Limit::Text(MAX_TIMELINE_WHAT_LEN)),
            ]),
        ),
    ),
    ("root_cause", Limit::Text(MAX_SECTION_LEN)),
    ("contributing_factors", Limit::Text(MAX_SECTION_LEN)),
    ("resolution", Limit::Text(MAX_SECTION_LEN)),
    ("action_items", Limit::List(MAX_ACTION_ITEMS, &ACTION_ITEM)),
];

/// The limits of a kind's wire fields that hold text or lists. A field of the kind that is
/// not listed is a [`Limit::Token`]: an id, a number, an enum value, an instant, a flag.
pub fn fields(kind: EntityKind) -> &'static [(&'static str, Limit)] {
    match kind {
        EntityKind::Account => ACCOUNT,
        EntityKind::Contact => CONTACT,
        EntityKind::Note => NOTE,
        EntityKind::User => USER,
        EntityKind::OnboardingSession => ONBOARDING,
        EntityKind::Review => REVIEW,
        EntityKind::Request => REQUEST,
        EntityKind::RequestEvent => REQUEST_EVENT,
        EntityKind::Rca => RCA,
    }
}

/// The limit of one wire field of `kind`.
pub fn field_limit(kind: EntityKind, field: &str) -> Limit {
    fields(kind)
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(Limit::Token, |(_, l)| *l)
}

/// Checks the fields a mutation sets against the kind's limits, in one pass over the
/// values (linear in their size). Fields the kind does not have are left to
/// [`crate::sync::merge_fields`], which names them. The refusal names the top-level field;
/// its message says where inside it and what the limit is.
pub fn check_fields(kind: EntityKind, set: &Fields) -> Result<(), Rejection> {
    let known = crate::sync::wire_fields(kind);
    for (name, value) in set {
        let own = known.contains(&name.as_str())
            || (kind == EntityKind::User && (name == "email" || name == "role"));
        if !own {
            continue;
        }
        check_value(name, value, field_limit(kind, name), 0).map_err(|reason| {
            Rejection::field(RejectCode::InvalidField, name, reason.to_string())
        })?;
    }
    Ok(())
}

/// [`check_fields`] as the desktop's validation error, naming the field.
pub fn check_fields_input(kind: EntityKind, set: &Fields) -> Result<(), FieldError> {
    check_fields(kind, set).map_err(|r| {
        let field = r.field.clone().unwrap_or_default();
        let reason = r
            .message
            .strip_prefix(&format!("{field}: "))
            .unwrap_or(&r.message)
            .to_owned();
        FieldError::new(field, reason)
    })
}

/// Nesting deeper than this is refused (no synced field nests more than three levels).
const MAX_DEPTH: usize = 6;

fn check_value(path: &str, v: &Value, limit: Limit, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("{path}: nested too deeply"));
    }
    match (limit, v) {
        (_, Value::Null | Value::Bool(_) | Value::Number(_)) => Ok(()),
        (Limit::Line(max), Value::String(s)) => text(path, s, max, false),
        (Limit::Text(max), Value::String(s)) => text(path, s, max, true),
        (Limit::Token, Value::String(s)) => text(path, s, MAX_TOKEN_LEN, false),
        (Limit::List(max, item), Value::Array(items)) => {
            if items.len() > max {
                return Err(format!("{path}: at most {max} items, not {}", items.len()));
            }
            for (i, x) in items.iter().enumerate() {
                check_value(&format!("{path}[{i}]"), x, *item, depth + 1)?;
            }
            Ok(())
        }
        (Limit::Object(members), Value::Object(m)) => object(path, m, members, depth),
        (Limit::Token, Value::Object(m)) => object(path, m, &[], depth),
        (Limit::Token, Value::Array(items)) => {
            if items.len() > MAX_OBJECT_MEMBERS {
                return Err(format!(
                    "{path}: at most {MAX_OBJECT_MEMBERS} items, not {}",
                    items.len()
                ));
            }
            for (i, x) in items.iter().enumerate() {
                check_value(&format!("{path}[{i}]"), x, Limit::Token, depth + 1)?;
            }
            Ok(())
        }
        // A value of another shape than the field's is left to the kind's type checks,
        // once its size is known to be small.
        (_, Value::String(s)) => text(path, s, MAX_TOKEN_LEN, false),
        (_, Value::Array(_)) => check_value(path, v, Limit::Token, depth),
        (_, Value::Object(m)) => object(path, m, &[], depth),
    }
}

fn object(
    path: &str,
    m: &serde_json::Map<String, Value>,
    members: &[(&str, Limit)],
    depth: usize,
) -> Result<(), String> {
    let most = members.len().max(MAX_OBJECT_MEMBERS);
    if m.len() > most {
        return Err(format!("{path}: at most {most} members, not {}", m.len()));
    }
    for (k, x) in m {
        if k.chars().count() > MAX_TOKEN_LEN || k.chars().any(char::is_control) {
            return Err(format!(
                "{path}: a member name is longer than {MAX_TOKEN_LEN} characters or holds control characters"
            ));
        }
        let limit = members
            .iter()
            .find(|(n, _)| n == k)
            .map_or(Limit::Token, |(_, l)| *l);
        check_value(&format!("{path}.{k}"), x, limit, depth + 1)?;
    }
    Ok(())
}

fn text(path: &str, s: &str, max: usize, free: bool) -> Result<(), String> {
    // A string of at most `max` bytes has at most `max` characters: no count needed.
    if s.len() > max {
        let n = s.chars().count();
        if n > max {
            return Err(format!("{path}: at most {max} characters, not {n}"));
        }
    }
    check_controls(path, s, free)
}

/// Refuses control characters; a free text keeps line feeds, carriage returns and tabs.
fn check_controls(path: &str, s: &str, free: bool) -> Result<(), String> {
    let bad = s
        .chars()
        .find(|c| c.is_control() && !(free && matches!(c, '\n' | '\r' | '\t')));
    match bad {
        None => Ok(()),
        Some(c) => Err(format!(
            "{path}: must not contain the control character U+{:04X}{}",
            u32::from(c),
            if free {
                " (line breaks and tabs are fine)"
            } else {
                ""
            }
        )),
    }
}

/// A single-line text of an API body (sign-in, admin): at most `max` characters, no
/// control characters. Not trimmed: only its size and characters are checked.
pub fn check_line(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    text(field, value, max, false).map_err(|reason| {
        let reason = reason
            .strip_prefix(&format!("{field}: "))
            .unwrap_or(&reason)
            .to_owned();
        FieldError::new(field, reason)
    })
}

/// A list of an API body: at most `max` items.
pub fn check_list_len(field: &str, len: usize, max: usize) -> Result<(), FieldError> {
    if len > max {
        Err(FieldError::new(
            field,
            format!("at most {max} items, not {len}"),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(v: Value) -> Fields {
        match v {
            Value::Object(m) => m,
            _ => Fields::new(),
        }
    }

    fn refused(kind: EntityKind, v: Value) -> Rejection {
        check_fields(kind, &set(v)).unwrap_err()
    }

    #[test]
    fn every_kind_of_the_sync_has_a_table_naming_only_its_own_fields() {
        for kind in EntityKind::ALL {
            for (f, _) in fields(kind) {
                let own = crate::sync::wire_fields(kind).contains(f)
                    || (kind == EntityKind::User && *f == "email");
                assert!(own, "{}.{f} is a field of the kind", kind.as_str());
            }
        }
    }

    #[test]
    fn oversized_texts_and_lists_are_refused_naming_the_field() {
        let r = refused(EntityKind::Request, json!({"title": "x".repeat(201)}));
        assert_eq!(
            (r.code, r.field.as_deref()),
            (RejectCode::InvalidField, Some("title"))
        );
        assert!(
            r.message.contains("at most 200 characters"),
            "{}",
            r.message
        );
        let tags: Vec<String> = (0..40_000).map(|i| format!("t{i}")).collect();
        let r = refused(EntityKind::Account, json!({ "tags": tags }));
        assert_eq!(r.field.as_deref(), Some("tags"));
        assert!(r.message.contains("at most 100 items"), "{}", r.message);
        let r = refused(
            EntityKind::Rca,
            json!({"timeline": [{"at": "2026-01-01T00:00:00Z", "who": "Ana", "what": "y".repeat(2001)}]}),
        );
        assert_eq!(r.field.as_deref(), Some("timeline"));
        assert!(r.message.contains("timeline[0].what"), "{}", r.message);
        let r = refused(
            EntityKind::Account,
            json!({"slack_channel": format!("https://a.slack.com/{}", "c".repeat(1024 * 1024))}),
        );
        assert_eq!(r.field.as_deref(), Some("slack_channel"));
    }

    #[test]
    fn control_characters_are_refused_but_free_text_keeps_its_lines() {
        let r = refused(EntityKind::Account, json!({"name": "Acme\u{0}"}));
        assert_eq!(r.field.as_deref(), Some("name"));
        assert!(r.message.contains("U+0000"), "{}", r.message);
        let r = refused(EntityKind::Note, json!({"body": "a\u{0}b"}));
        assert_eq!(
            r.field.as_deref(),
            Some("body"),
            "NUL is refused in free text too"
        );
        assert!(
            check_fields(
                EntityKind::Note,
                &set(json!({"body": "line 1\n\tline 2\r\n"}))
            )
            .is_ok(),
            "line breaks and tabs stay in free text"
        );
        let r = refused(EntityKind::Account, json!({"name": "two\nlines"}));
        assert_eq!(r.field.as_deref(), Some("name"), "a name is one line");
        let r = refused(
            EntityKind::RequestEvent,
            json!({"kind": {"type": "update", "te\u{0}xt": "x"}}),
        );
        assert_eq!(
            r.field.as_deref(),
            Some("kind"),
            "member names are checked too"
        );
        let r = refused(
            EntityKind::RequestEvent,
            json!({"by": {"kind": "staff", "user_id": "x".repeat(65)}}),
        );
        assert_eq!(r.field.as_deref(), Some("by"), "tokens are short");
    }

    #[test]
    fn values_of_a_sane_size_pass_and_unknown_fields_are_left_to_the_merge() {
        let ok = json!({
            "name": "Acme", "tags": ["a", "b"], "support_email_domains": ["acme.com"],
            "slack_channel": null, "fiscal_year_start_month": 4, "nmae": "x".repeat(500)
        });
        assert!(check_fields(EntityKind::Account, &set(ok)).is_ok());
        let deep = json!({"kind": {"type": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}});
        assert!(
            check_fields(EntityKind::RequestEvent, &set(deep)).is_err(),
            "nesting is bounded"
        );
    }

    #[test]
    fn api_body_checks_name_the_field() {
        let e = check_line("email", "a\u{0}@b.com", MAX_EMAIL_LEN).unwrap_err();
        assert_eq!(e.field, "email");
        assert!(e.reason.contains("control"), "{}", e.reason);
        let e = check_line("email", &"a".repeat(MAX_EMAIL_LEN + 1), MAX_EMAIL_LEN).unwrap_err();
        assert!(e.reason.contains("at most 320"), "{}", e.reason);
        assert!(check_list_len("working_hours.days", 8, MAX_WORKING_DAYS).is_err());
    }
}
