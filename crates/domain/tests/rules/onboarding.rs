//! A CSM in Berlin books an onboarding with a customer in Sydney: slots, session checks,
//! the .ics read back by an independent parser, and the plain-text invite.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::{Australia::Sydney, Europe::Berlin};
use icalendar::parser::{read_calendar, unfold};
use rapport_domain::ics::{
    self, AttendeeRole, CalendarPerson, IcsAttendee, IcsEvent, IcsMethod, PartStat,
};
use rapport_domain::links::{LinkPolicy, jitsi_room_url};
use rapport_domain::onboarding::{OnboardingSessionInput, SessionContext, default_agenda};
use rapport_domain::schedule::{Party, SlotOptions, SlotRequest, next_free_slots};
use rapport_domain::{Weekday, WorkingHours};
use uuid::Uuid;

fn hours(start_h: u16, end_h: u16) -> WorkingHours {
    WorkingHours {
        days: vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ],
        start_minute: start_h * 60,
        end_minute: end_h * 60,
    }
}

#[test]
fn berlin_csm_books_a_sydney_customer() {
    let now: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
    let slots = next_free_slots(&SlotRequest {
        customer: Party {
            time_zone: Sydney,
            hours: hours(9, 18),
        },
        facilitator: Party {
            time_zone: Berlin,
            hours: hours(7, 17),
        },
        busy: vec![],
        options: SlotOptions {
            length_minutes: 45,
            count: 3,
            ..SlotOptions::default()
        },
        now,
    })
    .unwrap();
    assert_eq!(slots.len(), 3);
    let slot = slots[0];
    // Berlin +1, Sydney +11 in late November: 07:00 Berlin is 17:00 Sydney.
    assert_eq!(
        slot.start
            .with_timezone(&Berlin)
            .format("%a %H:%M")
            .to_string(),
        "Fri 07:00"
    );
    assert_eq!(
        slot.start
            .with_timezone(&Sydney)
            .format("%a %H:%M")
            .to_string(),
        "Fri 17:00"
    );

    let contact = Uuid::from_u128(3);
    let policy = LinkPolicy::default();
    let session = OnboardingSessionInput {
        account_id: Uuid::from_u128(1),
        facilitator_id: Uuid::from_u128(2),
        attendee_contact_ids: vec![contact],
        start: slot.start,
        end: slot.end,
        customer_time_zone: "Australia/Sydney".into(),
        meeting_link: Some(jitsi_room_url([1; 16])),
        agenda: default_agenda(),
        outcome: String::new(),
        follow_ups: vec![],
    }
    .normalize(&SessionContext {
        account_contact_ids: &[contact],
        link_policy: &policy,
        now,
        stored_times: None,
    })
    .unwrap();

    let event = IcsEvent {
        id: Uuid::from_u128(0xabc),
        sequence: 0,
        start: session.start,
        end: session.end,
        summary: "Onboarding: Acme".into(),
        description: session
            .agenda
            .iter()
            .map(|a| format!("- {}", a.title))
            .collect::<Vec<_>>()
            .join("\n"),
        meeting_link: session.meeting_link.clone(),
        organizer: CalendarPerson {
            name: "Ana".into(),
            email: "ana@vendor.example".into(),
        },
        attendees: vec![IcsAttendee {
            name: "Bob".into(),
            email: "bob@acme.example".into(),
            role: AttendeeRole::ReqParticipant,
            partstat: PartStat::NeedsAction,
            rsvp: true,
        }],
        cancelled: false,
        alarm_minutes_before: Some(15),
    };
    let file = ics::event_calendar(&event, IcsMethod::Request, now);
    let unfolded = unfold(&file);
    let cal = read_calendar(&unfolded).unwrap();
    let vevent = &cal.components[0];
    let start = vevent.find_prop("DTSTART").unwrap().val.as_str();
    let parsed = NaiveDateTime::parse_from_str(start, "%Y%m%dT%H%M%SZ")
        .unwrap()
        .and_utc();
    assert_eq!(parsed, slot.start, "the calendar gets the booked slot");
    assert!(
        vevent
            .find_prop("DESCRIPTION")
            .unwrap()
            .val
            .as_str()
            .contains("\"urgent\"")
    );

    let invite = ics::invite_text(&event, Berlin, Sydney);
    assert!(invite.contains("17:00–17:45 Australia/Sydney"), "{invite}");
    assert!(invite.contains("07:00–07:45 Europe/Berlin"), "{invite}");
}
