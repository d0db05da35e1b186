use super::*;
use chrono::{NaiveDateTime, TimeDelta, TimeZone};
use chrono_tz::Australia::Sydney;
use chrono_tz::Europe::Berlin;
use icalendar::parser::{Component, read_calendar, unfold};
use proptest::prelude::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn session() -> IcsEvent {
    IcsEvent {
        id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001),
        sequence: 2,
        start: utc(2026, 3, 2, 22, 0),
        end: utc(2026, 3, 2, 23, 0),
        summary: "Onboarding: Acme, Inc.; welcome \\ hello".into(),
        description:
            "Agenda:\n1. How to reach support, by chat or email\r\n2. The SLA table; P1 = 30 min"
                .into(),
        meeting_link: Some("https://meet.jit.si/rapport-abc?x=1,2".into()),
        organizer: CalendarPerson {
            name: "Ana \"CSM\" López".into(),
            email: "ana@vendor.example".into(),
        },
        attendees: vec![
            IcsAttendee {
                name: "Bob: Ops, Lead".into(),
                email: "bob@acme.example".into(),
                role: AttendeeRole::ReqParticipant,
                partstat: PartStat::NeedsAction,
                rsvp: true,
            },
            IcsAttendee {
                name: "Chloé".into(),
                email: "chloe@acme.example".into(),
                role: AttendeeRole::OptParticipant,
                partstat: PartStat::Accepted,
                rsvp: false,
            },
        ],
        cancelled: false,
        alarm_minutes_before: Some(15),
    }
}

fn now() -> DateTime<Utc> {
    utc(2026, 2, 20, 8, 30)
}

/// Parses with the independent `icalendar` parser; returns the calendar's properties and
/// its components.
fn parse(ics: &str) -> (Vec<(String, String)>, Vec<Component<'static>>) {
    let unfolded = unfold(ics);
    let leaked: &'static str = Box::leak(unfolded.into_boxed_str());
    let cal = read_calendar(leaked).expect("the independent parser reads the file");
    let props = cal
        .properties
        .iter()
        .map(|p| (p.name.as_str().to_owned(), p.val.as_str().to_owned()))
        .collect();
    (props, cal.components)
}

fn prop<'a>(c: &'a Component<'_>, name: &str) -> &'a str {
    c.find_prop(name)
        .unwrap_or_else(|| panic!("{name} present"))
        .val
        .as_str()
}

fn utc_value(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ")
        .expect("a UTC date-time")
        .and_utc()
}

#[test]
fn a_request_parses_back_with_its_times_uid_sequence_and_method() {
    let s = session();
    let ics = event_calendar(&s, IcsMethod::Request, now());
    let (props, comps) = parse(&ics);
    assert!(props.contains(&("METHOD".into(), "REQUEST".into())));
    assert!(props.contains(&("VERSION".into(), "2.0".into())));
    assert!(props.contains(&("PRODID".into(), PRODID.into())));
    assert_eq!(comps.len(), 1, "one VEVENT");
    let ev = &comps[0];
    assert_eq!(ev.name.as_str(), "VEVENT");
    assert_eq!(prop(ev, "UID"), s.uid());
    assert_eq!(prop(ev, "SEQUENCE"), "2");
    assert_eq!(
        utc_value(prop(ev, "DTSTART")),
        s.start,
        "DTSTART is the session start in UTC"
    );
    assert_eq!(utc_value(prop(ev, "DTEND")), s.end);
    assert_eq!(
        utc_value(prop(ev, "DTSTAMP")),
        now(),
        "DTSTAMP comes from `now`, not a clock"
    );
    assert_eq!(prop(ev, "STATUS"), "CONFIRMED");
    assert_eq!(
        prop(ev, "URL"),
        "https://meet.jit.si/rapport-abc?x=1,2",
        "URI values are not escaped"
    );
    assert_eq!(
        prop(ev, "LOCATION"),
        "https://meet.jit.si/rapport-abc?x=1,2"
    );
    let alarm = ev
        .components
        .iter()
        .find(|c| c.name.as_str() == "VALARM")
        .expect("a reminder");
    assert_eq!(prop(alarm, "ACTION"), "DISPLAY");
    assert_eq!(prop(alarm, "TRIGGER"), "-PT15M");
}

#[test]
fn text_is_escaped_and_comes_back_unchanged() {
    let s = session();
    let ics = event_calendar(&s, IcsMethod::Request, now());
    assert!(
        ics.contains("SUMMARY:Onboarding: Acme\\, Inc.\\; welcome \\\\ hello\r\n"),
        "{ics}"
    );
    let (_, comps) = parse(&ics);
    assert_eq!(
        prop(&comps[0], "SUMMARY"),
        s.summary,
        "the parser unescapes to the original"
    );
    assert_eq!(
        prop(&comps[0], "DESCRIPTION"),
        "Agenda:\n1. How to reach support, by chat or email\n2. The SLA table; P1 = 30 min",
        "CRLF and LF inside text both travel as \\n"
    );
}

#[test]
fn organizer_and_attendees_carry_their_parameters() {
    let ics = event_calendar(&session(), IcsMethod::Request, now());
    let (_, comps) = parse(&ics);
    let ev = &comps[0];
    let organizer = ev.find_prop("ORGANIZER").unwrap();
    assert_eq!(organizer.val.as_str(), "mailto:ana@vendor.example");
    let attendees: Vec<_> = ev
        .properties
        .iter()
        .filter(|p| p.name.as_str() == "ATTENDEE")
        .collect();
    assert_eq!(attendees.len(), 2);
    let param = |p: &icalendar::parser::Property<'_>, k: &str| {
        p.params
            .iter()
            .find(|x| x.key.as_str() == k)
            .and_then(|x| x.val.as_ref())
            .map(|v| v.as_str().trim_matches('"').to_owned())
    };
    assert_eq!(attendees[0].val.as_str(), "mailto:bob@acme.example");
    assert_eq!(
        param(attendees[0], "CN").as_deref(),
        Some("Bob: Ops, Lead"),
        "a quoted CN keeps : and ,"
    );
    assert_eq!(
        param(attendees[0], "ROLE").as_deref(),
        Some("REQ-PARTICIPANT")
    );
    assert_eq!(
        param(attendees[0], "PARTSTAT").as_deref(),
        Some("NEEDS-ACTION")
    );
    assert_eq!(param(attendees[0], "RSVP").as_deref(), Some("TRUE"));
    assert_eq!(param(attendees[1], "RSVP").as_deref(), Some("FALSE"));
    assert_eq!(
        param(organizer, "CN").as_deref(),
        Some("Ana 'CSM' López"),
        "no double quote inside a quoted value"
    );
}

#[test]
fn a_cancellation_keeps_the_uid_and_says_cancelled() {
    let mut s = session();
    s.sequence = 3;
    let ics = event_calendar(&s, IcsMethod::Cancel, now());
    let (props, comps) = parse(&ics);
    assert!(props.contains(&("METHOD".into(), "CANCEL".into())));
    assert_eq!(
        prop(&comps[0], "UID"),
        session().uid(),
        "the same UID cancels the same event"
    );
    assert_eq!(prop(&comps[0], "SEQUENCE"), "3");
    assert_eq!(prop(&comps[0], "STATUS"), "CANCELLED");
    assert!(
        comps[0].components.is_empty(),
        "no reminder for a cancelled session"
    );
}

#[test]
fn a_week_exports_every_session_without_attendees() {
    let mut second = session();
    second.id = Uuid::from_u128(7);
    second.start += TimeDelta::days(2);
    second.end += TimeDelta::days(2);
    second.alarm_minutes_before = None;
    let ics = week_calendar(&[session(), second.clone()], now());
    let (props, comps) = parse(&ics);
    assert!(props.contains(&("METHOD".into(), "PUBLISH".into())));
    assert_eq!(comps.len(), 2);
    assert_eq!(utc_value(prop(&comps[1], "DTSTART")), second.start);
    assert_ne!(prop(&comps[0], "UID"), prop(&comps[1], "UID"));
    assert!(
        comps.iter().all(|c| c.find_prop("ATTENDEE").is_none()),
        "PUBLISH carries no attendees (RFC 5546)"
    );
    assert!(comps[1].components.is_empty(), "no alarm asked for");
}

#[test]
fn lines_end_in_crlf_and_fold_at_75_octets_without_splitting_characters() {
    let mut s = session();
    s.description = "Überprüfung der Nutzung — 使用状況の確認 🚀 ".repeat(12);
    let ics = event_calendar(&s, IcsMethod::Request, now());
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    assert!(
        !ics.replace("\r\n", "").contains(['\r', '\n']),
        "no bare CR or LF"
    );
    let physical: Vec<&str> = ics.split("\r\n").collect();
    assert!(
        physical.iter().all(|l| l.len() <= 75),
        "every line within 75 octets"
    );
    assert!(
        physical.iter().any(|l| l.starts_with(' ')),
        "the long description was folded"
    );
    let (_, comps) = parse(&ics);
    assert_eq!(
        prop(&comps[0], "DESCRIPTION"),
        s.description,
        "unfolding gives the text back"
    );
}

#[test]
fn folding_examples() {
    assert_eq!(fold_line("short"), "short");
    let a75 = "a".repeat(75);
    assert_eq!(fold_line(&a75), a75, "exactly 75 octets stays on one line");
    assert_eq!(fold_line(&"a".repeat(76)), format!("{a75}\r\n a"));
    // 74 ASCII + a 4-byte emoji: the emoji moves whole to the next line.
    let s = format!("{}🚀", "a".repeat(74));
    assert_eq!(fold_line(&s), format!("{}\r\n 🚀", "a".repeat(74)));
}

#[test]
fn escaping_examples() {
    assert_eq!(
        escape_text("a,b;c\\d\ne\r\nf\rg"),
        "a\\,b\\;c\\\\d\\ne\\nf\\ng"
    );
    assert_eq!(
        escape_text("bell\u{7}\ttab"),
        "bell\ttab",
        "controls other than tab are dropped"
    );
}

#[test]
fn the_alarm_lead_time_is_configurable() {
    let s = IcsEvent {
        alarm_minutes_before: Some(60),
        ..session()
    };
    assert!(event_calendar(&s, IcsMethod::Request, now()).contains("TRIGGER:-PT60M\r\n"));
}

#[test]
fn the_invite_text_gives_both_local_times() {
    // 22:00 UTC on Mon 2 March: 23:00 in Berlin, 09:00 on Tuesday in Sydney.
    let text = invite_text(&session(), Berlin, Sydney);
    let expected = "Onboarding: Acme, Inc.; welcome \\ hello\n\
        \n\
        When: Tue 3 Mar 2026, 09:00–10:00 Australia/Sydney (AEDT, UTC+11:00)\n\
        \u{20}     Mon 2 Mar 2026, 23:00–Tue 3 Mar 2026, 00:00 Europe/Berlin (CET, UTC+01:00)\n";
    assert!(text.starts_with(expected), "{text}");
    assert!(text.contains("Join: https://meet.jit.si/rapport-abc?x=1,2\n"));
    assert!(
        text.contains("Attendees: Bob: Ops, Lead <bob@acme.example>, Chloé <chloe@acme.example>\n")
    );
}

#[test]
fn the_invite_text_shows_the_end_date_when_the_day_changes() {
    // 22:00–23:30 UTC is 23:00–00:30 in Berlin: the end is shown with its date.
    let s = IcsEvent {
        end: utc(2026, 3, 2, 23, 30),
        ..session()
    };
    let text = invite_text(&s, Berlin, Berlin);
    assert!(
        text.contains("When: Mon 2 Mar 2026, 23:00–Tue 3 Mar 2026, 00:30 Europe/Berlin"),
        "{text}"
    );
    assert_eq!(
        text.matches("Europe/Berlin").count(),
        1,
        "one zone when both are the same"
    );
}

proptest! {
    #[test]
    fn any_text_round_trips_through_the_independent_parser(summary in "\\PC{0,200}", description in ".{0,300}") {
        // \PC: any printable character; `.`: anything but a newline; plus explicit breaks.
        let description = format!("{description}\n{description}");
        let s = IcsEvent { summary: summary.clone(), description: description.clone(), ..session() };
        let ics = event_calendar(&s, IcsMethod::Request, now());
        for l in ics.split("\r\n") {
            prop_assert!(l.len() <= 75);
        }
        let (_, comps) = parse(&ics);
        let want_summary: String = summary.chars().filter(|c| !c.is_control() || *c == '\t').collect();
        prop_assert_eq!(prop(&comps[0], "SUMMARY"), want_summary.as_str());
        if !description.trim().is_empty() {
            let want: String = description.replace("\r\n", "\n").replace('\r', "\n").chars()
                .filter(|c| !c.is_control() || *c == '\t' || *c == '\n').collect();
            prop_assert_eq!(prop(&comps[0], "DESCRIPTION"), want.as_str());
        }
    }
}
