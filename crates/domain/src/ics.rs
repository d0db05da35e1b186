//! iCalendar (RFC 5545) export of sessions, with the iTIP method (RFC 5546) a calendar
//! client needs to treat it as an invitation, an update, a cancellation or a plain export;
//! and the plain-text invitation "Copy invite" puts on the clipboard.
//!
//! Output rules kept here: CRLF line endings; lines folded at 75 octets, never inside a
//! UTF-8 sequence; TEXT values escaped (`\\`, `\;`, `\,`, `\n`); parameter values quoted;
//! times in UTC (`...Z`), so no VTIMEZONE is needed.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const PRODID: &str = "-//Rapport//Rapport desktop//EN";

/// What the receiving calendar should do with the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum IcsMethod {
    /// An invitation, or an update of one (same UID, higher SEQUENCE).
    Request,
    /// The session is off (same UID, higher SEQUENCE, STATUS:CANCELLED).
    Cancel,
    /// A plain export (a week of sessions): no attendees, no replies expected.
    Publish,
}

impl IcsMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            IcsMethod::Request => "REQUEST",
            IcsMethod::Cancel => "CANCEL",
            IcsMethod::Publish => "PUBLISH",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AttendeeRole {
    Chair,
    ReqParticipant,
    OptParticipant,
}

impl AttendeeRole {
    fn as_str(self) -> &'static str {
        match self {
            AttendeeRole::Chair => "CHAIR",
            AttendeeRole::ReqParticipant => "REQ-PARTICIPANT",
            AttendeeRole::OptParticipant => "OPT-PARTICIPANT",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PartStat {
    NeedsAction,
    Accepted,
    Declined,
    Tentative,
}

impl PartStat {
    fn as_str(self) -> &'static str {
        match self {
            PartStat::NeedsAction => "NEEDS-ACTION",
            PartStat::Accepted => "ACCEPTED",
            PartStat::Declined => "DECLINED",
            PartStat::Tentative => "TENTATIVE",
        }
    }
}

/// A named email address (the organizer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CalendarPerson {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IcsAttendee {
    pub name: String,
    pub email: String,
    pub role: AttendeeRole,
    pub partstat: PartStat,
    pub rsvp: bool,
}

/// One session as a calendar event. The caller has validated it (end after start, link on
/// the allow-list); the writer only guarantees the file is well-formed whatever the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IcsEvent {
    /// The session (or review) id: the UID, stable across every edit.
    pub id: Uuid,
    /// Grows by one with each change the attendees should see (RFC 5545 §3.8.7.4).
    pub sequence: u32,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub description: String,
    pub meeting_link: Option<String>,
    pub organizer: CalendarPerson,
    pub attendees: Vec<IcsAttendee>,
    pub cancelled: bool,
    /// Minutes before the start for the reminder; `None` for no reminder.
    pub alarm_minutes_before: Option<u32>,
}

impl IcsEvent {
    /// `<session id>@rapport`: the same for every version of the session.
    pub fn uid(&self) -> String {
        format!("{}@rapport", self.id)
    }
}

/// Writes one session as a calendar with `method`. `Cancel` always writes
/// `STATUS:CANCELLED`; the caller raises `sequence` for every change it sends.
pub fn event_calendar(event: &IcsEvent, method: IcsMethod, now: DateTime<Utc>) -> String {
    calendar(std::slice::from_ref(event), method, now)
}

/// Writes a week (or any list) of sessions as one `METHOD:PUBLISH` calendar.
pub fn week_calendar(events: &[IcsEvent], now: DateTime<Utc>) -> String {
    calendar(events, IcsMethod::Publish, now)
}

fn calendar(events: &[IcsEvent], method: IcsMethod, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let mut line = |l: &str| {
        out.push_str(&fold_line(l));
        out.push_str("\r\n");
    };
    line("BEGIN:VCALENDAR");
    line(&format!("PRODID:{PRODID}"));
    line("VERSION:2.0");
    line("CALSCALE:GREGORIAN");
    line(&format!("METHOD:{}", method.as_str()));
    for e in events {
        for l in event_lines(e, method, now) {
            line(&l);
        }
    }
    line("END:VCALENDAR");
    out
}

fn event_lines(e: &IcsEvent, method: IcsMethod, now: DateTime<Utc>) -> Vec<String> {
    let cancelled = e.cancelled || method == IcsMethod::Cancel;
    let mut v = vec![
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", e.uid()),
        format!("SEQUENCE:{}", e.sequence),
        format!("DTSTAMP:{}", utc_stamp(now)),
        format!("DTSTART:{}", utc_stamp(e.start)),
        format!("DTEND:{}", utc_stamp(e.end)),
        format!("SUMMARY:{}", escape_text(&e.summary)),
    ];
    if !e.description.trim().is_empty() {
        v.push(format!("DESCRIPTION:{}", escape_text(&e.description)));
    }
    if let Some(link) = e.meeting_link.as_deref().filter(|l| !l.is_empty()) {
        v.push(format!("LOCATION:{}", escape_text(link)));
        // URI values are not TEXT: no escaping, but no line breaks or control characters.
        v.push(format!("URL:{}", uri_value(link)));
    }
    v.push(format!(
        "ORGANIZER;CN={}:mailto:{}",
        param_value(&e.organizer.name),
        uri_value(&e.organizer.email)
    ));
    if method != IcsMethod::Publish {
        for a in &e.attendees {
            v.push(format!(
                "ATTENDEE;CN={};ROLE={};PARTSTAT={};RSVP={}:mailto:{}",
                param_value(&a.name),
                a.role.as_str(),
                a.partstat.as_str(),
                if a.rsvp { "TRUE" } else { "FALSE" },
                uri_value(&a.email)
            ));
        }
    }
    v.push(format!(
        "STATUS:{}",
        if cancelled { "CANCELLED" } else { "CONFIRMED" }
    ));
    if let (Some(minutes), false) = (e.alarm_minutes_before, cancelled) {
        v.extend([
            "BEGIN:VALARM".to_owned(),
            "ACTION:DISPLAY".to_owned(),
            format!("DESCRIPTION:{}", escape_text(&e.summary)),
            format!("TRIGGER:-PT{minutes}M"),
            "END:VALARM".to_owned(),
        ]);
    }
    v.push("END:VEVENT".to_owned());
    v
}

/// `20260303T090000Z`.
pub fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks;
/// other control characters (not allowed in TEXT) are dropped, tabs kept.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A quoted parameter value: control characters dropped, `"` (not allowed inside quotes)
/// replaced by `'`.
fn param_value(s: &str) -> String {
    let inner: String = s
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == '"' { '\'' } else { c })
        .collect();
    format!("\"{inner}\"")
}

fn uri_value(s: &str) -> String {
    s.chars().filter(|c| !c.is_control() && *c != ' ').collect()
}

/// Folds one content line (without its CRLF) so that no physical line is longer than 75
/// octets: continuation lines start with a space, and a UTF-8 sequence is never split.
pub fn fold_line(line: &str) -> String {
    const LIMIT: usize = 75;
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3);
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > LIMIT {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out
}

/// The plain-text invitation "Copy invite" puts on the clipboard: what, when on both
/// clocks, where to join, who.
pub fn invite_text(event: &IcsEvent, facilitator_tz: Tz, customer_tz: Tz) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", event.summary.trim());
    if event.cancelled {
        let _ = writeln!(out, "CANCELLED");
    }
    let _ = writeln!(out);
    let zones = if facilitator_tz == customer_tz {
        vec![facilitator_tz]
    } else {
        vec![customer_tz, facilitator_tz]
    };
    for (i, tz) in zones.iter().enumerate() {
        let label = if i == 0 { "When:" } else { "     " };
        let _ = writeln!(out, "{label} {}", local_range(event.start, event.end, *tz));
    }
    if let Some(link) = &event.meeting_link {
        let _ = writeln!(out, "Join: {link}");
    }
    let _ = writeln!(
        out,
        "Organizer: {} <{}>",
        event.organizer.name, event.organizer.email
    );
    if !event.attendees.is_empty() {
        let names: Vec<String> = event
            .attendees
            .iter()
            .map(|a| format!("{} <{}>", a.name, a.email))
            .collect();
        let _ = writeln!(out, "Attendees: {}", names.join(", "));
    }
    if !event.description.trim().is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", event.description.trim_end());
    }
    out
}

/// `Tue 3 Mar 2026, 09:00–10:00 Europe/Berlin (CET, UTC+01:00)`; the end's date is shown
/// too when it falls on another local day.
fn local_range(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> String {
    let s = start.with_timezone(&tz);
    let e = end.with_timezone(&tz);
    let end_fmt = if s.date_naive() == e.date_naive() {
        "%H:%M"
    } else {
        "%a %-d %b %Y, %H:%M"
    };
    format!(
        "{}–{} {} ({}, UTC{})",
        s.format("%a %-d %b %Y, %H:%M"),
        e.format(end_fmt),
        tz.name(),
        s.format("%Z"),
        s.format("%:z")
    )
}

#[cfg(test)]
mod tests;
