use super::*;
use crate::user::Weekday;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::{America, Asia, Australia, Europe, Tz};
use proptest::prelude::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn party(tz: Tz, days: &[Weekday], start_h: u16, end_h: u16) -> Party {
    Party {
        time_zone: tz,
        hours: WorkingHours {
            days: days.to_vec(),
            start_minute: start_h * 60,
            end_minute: end_h * 60,
        },
    }
}

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];
const ALL_DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn office(tz: Tz) -> Party {
    party(tz, &WEEKDAYS, 9, 17)
}

fn opts(length: u32, step: u32, count: u32) -> SlotOptions {
    SlotOptions {
        length_minutes: length,
        step_minutes: step,
        count,
        ..SlotOptions::default()
    }
}

/// `opts` looking only `days` ahead.
fn within(days: u32, o: SlotOptions) -> SlotOptions {
    SlotOptions {
        horizon_days: days,
        ..o
    }
}

fn find(
    customer: Party,
    facilitator: Party,
    busy: Vec<Slot>,
    options: SlotOptions,
    now: DateTime<Utc>,
) -> Vec<Slot> {
    next_free_slots(&SlotRequest {
        customer,
        facilitator,
        busy,
        options,
        now,
    })
    .unwrap()
}

fn starts(slots: &[Slot]) -> Vec<DateTime<Utc>> {
    slots.iter().map(|s| s.start).collect()
}

/// The slots as "YYYY-MM-DD HH:MM" on a wall clock, for readable expectations.
fn on_clock(slots: &[Slot], tz: Tz) -> Vec<String> {
    slots
        .iter()
        .map(|s| {
            s.start
                .with_timezone(&tz)
                .format("%a %m-%d %H:%M")
                .to_string()
        })
        .collect()
}

#[test]
fn new_york_spring_forward_moves_the_overlap_in_utc_not_on_the_new_york_clock() {
    // NY springs forward on Sun 2026-03-08, Berlin three weeks later: the common hours are
    // 14–16 UTC on Friday and 13–16 UTC on Monday, 09:00 New York time both days.
    let slots = find(
        office(America::New_York),
        office(Europe::Berlin),
        vec![],
        within(4, opts(60, 60, 5)),
        utc(2026, 3, 6, 0, 0),
    );
    assert_eq!(
        starts(&slots),
        vec![
            utc(2026, 3, 6, 14, 0),
            utc(2026, 3, 6, 15, 0),
            utc(2026, 3, 9, 13, 0),
            utc(2026, 3, 9, 14, 0),
            utc(2026, 3, 9, 15, 0)
        ]
    );
    assert_eq!(
        on_clock(&slots, America::New_York),
        [
            "Fri 03-06 09:00",
            "Fri 03-06 10:00",
            "Mon 03-09 09:00",
            "Mon 03-09 10:00",
            "Mon 03-09 11:00"
        ],
        "the customer's first slot stays at 09:00 local across the change"
    );
}

#[test]
fn berlin_spring_forward_shrinks_the_overlap_with_new_york() {
    let slots = find(
        office(Europe::Berlin),
        office(America::New_York),
        vec![],
        within(4, opts(60, 60, 5)),
        utc(2026, 3, 27, 0, 0),
    );
    assert_eq!(
        on_clock(&slots, Europe::Berlin),
        [
            "Fri 03-27 14:00",
            "Fri 03-27 15:00",
            "Fri 03-27 16:00",
            "Mon 03-30 15:00",
            "Mon 03-30 16:00"
        ],
        "after 2026-03-29 Berlin is 6 hours ahead of New York, no longer 5"
    );
}

#[test]
fn sydney_autumn_fall_back_gives_tokyo_one_more_hour() {
    // Sydney leaves DST on Sun 2026-04-05 (+11 → +10); Tokyo has no DST.
    let slots = find(
        office(Australia::Sydney),
        office(Asia::Tokyo),
        vec![],
        within(5, opts(60, 60, 50)),
        utc(2026, 4, 2, 0, 0),
    );
    let day = |d: u32| {
        slots
            .iter()
            .filter(|s| s.start.date_naive() == NaiveDate::from_ymd_opt(2026, 4, d).unwrap())
            .count()
    };
    assert_eq!(
        (day(2), day(3), day(6)),
        (4, 6, 7),
        "Thu after notice, Fri 00–06 UTC, Mon 00–07 UTC"
    );
    assert_eq!(
        on_clock(&slots[10..], Australia::Sydney),
        [
            "Mon 04-06 10:00",
            "Mon 04-06 11:00",
            "Mon 04-06 12:00",
            "Mon 04-06 13:00",
            "Mon 04-06 14:00",
            "Mon 04-06 15:00",
            "Mon 04-06 16:00"
        ]
    );
}

#[test]
fn sydney_spring_forward_and_berlin_fall_back_week() {
    // Facilitator in Berlin 07–17, customer in Sydney 09–18. Before 2026-10-25 Berlin is +2
    // (overlap 05–07 UTC); after it +1 (overlap 06–07 UTC). Sydney is +11 since 2026-10-04.
    let slots = find(
        party(Australia::Sydney, &WEEKDAYS, 9, 18),
        party(Europe::Berlin, &WEEKDAYS, 7, 17),
        vec![],
        within(5, opts(60, 30, 5)),
        utc(2026, 10, 23, 0, 0),
    );
    // The spread: each day's first slot (Fri, Mon, Tue), then Friday's next clear one
    // (08:00), then what is left earliest first (07:30).
    assert_eq!(
        on_clock(&slots, Europe::Berlin),
        [
            "Fri 10-23 07:00",
            "Fri 10-23 07:30",
            "Fri 10-23 08:00",
            "Mon 10-26 07:00",
            "Tue 10-27 07:00"
        ]
    );
    assert_eq!(
        on_clock(&slots, Australia::Sydney),
        [
            "Fri 10-23 16:00",
            "Fri 10-23 16:30",
            "Fri 10-23 17:00",
            "Mon 10-26 17:00",
            "Tue 10-27 17:00"
        ]
    );
}

#[test]
fn berlin_and_sydney_default_hours_never_meet() {
    let slots = find(
        office(Australia::Sydney),
        office(Europe::Berlin),
        vec![],
        SlotOptions::default(),
        utc(2026, 1, 5, 0, 0),
    );
    assert!(
        slots.is_empty(),
        "09–17 Berlin and 09–17 Sydney share no instant in any season"
    );
}

#[test]
fn new_york_fall_back_week_keeps_nine_o_clock_in_new_york() {
    // Berlin falls back on 2026-10-25, New York a week later (11-01): in between they are 5
    // hours apart, after it 6 again. The shared hours shrink by one on the Berlin clock.
    let slots = find(
        office(America::New_York),
        office(Europe::Berlin),
        vec![],
        within(4, opts(60, 60, 5)),
        utc(2026, 10, 30, 0, 0),
    );
    assert_eq!(
        starts(&slots),
        vec![
            utc(2026, 10, 30, 13, 0),
            utc(2026, 10, 30, 14, 0),
            utc(2026, 10, 30, 15, 0),
            utc(2026, 11, 2, 14, 0),
            utc(2026, 11, 2, 15, 0)
        ]
    );
    assert_eq!(
        on_clock(&slots, America::New_York),
        [
            "Fri 10-30 09:00",
            "Fri 10-30 10:00",
            "Fri 10-30 11:00",
            "Mon 11-02 09:00",
            "Mon 11-02 10:00"
        ],
        "09:00 in New York on both sides of its fall-back"
    );
    assert_eq!(
        on_clock(&slots, Europe::Berlin)[3],
        "Mon 11-02 15:00",
        "on the Berlin clock the shared hours start one hour later"
    );
}

fn around_the_clock() -> Party {
    party(chrono_tz::UTC, &ALL_DAYS, 0, 24)
}

#[test]
fn fall_back_hour_counts_twice() {
    // New York, Sun 2026-11-01: 01:00–02:00 happens twice, so 00:00–04:00 holds 5 hours.
    let ny_sunday_night = party(America::New_York, &[Weekday::Sun], 0, 4);
    let slots = find(
        ny_sunday_night,
        around_the_clock(),
        vec![],
        within(2, opts(60, 60, 5)),
        utc(2026, 10, 31, 0, 0),
    );
    assert_eq!(
        starts(&slots),
        (4..9).map(|h| utc(2026, 11, 1, h, 0)).collect::<Vec<_>>()
    );
    assert_eq!(
        on_clock(&slots, America::New_York),
        [
            "Sun 11-01 00:00",
            "Sun 11-01 01:00",
            "Sun 11-01 01:00",
            "Sun 11-01 02:00",
            "Sun 11-01 03:00"
        ]
    );
}

#[test]
fn spring_forward_gap_holds_no_slot_and_a_slot_may_span_it() {
    // New York, Sun 2026-03-08: 02:00–03:00 does not exist, so 01:00–05:00 holds 3 hours.
    let ny = party(America::New_York, &[Weekday::Sun], 1, 5);
    let hourly = find(
        ny.clone(),
        around_the_clock(),
        vec![],
        within(2, opts(60, 60, 3)),
        utc(2026, 3, 7, 0, 0),
    );
    assert_eq!(
        on_clock(&hourly, America::New_York),
        ["Sun 03-08 01:00", "Sun 03-08 03:00", "Sun 03-08 04:00"]
    );
    let two_hours = find(
        ny,
        around_the_clock(),
        vec![],
        within(2, opts(120, 60, 2)),
        utc(2026, 3, 7, 0, 0),
    );
    assert_eq!(
        starts(&two_hours),
        [utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 7, 0)],
        "01:00 EST + 2 real hours ends at 04:00 EDT, inside the window"
    );
}

#[test]
fn berlin_fall_back_night_window() {
    // Berlin, Sun 2026-10-25: 02:00–03:00 happens twice (CEST then CET).
    let berlin = party(Europe::Berlin, &[Weekday::Sun], 2, 3);
    let slots = find(
        berlin,
        around_the_clock(),
        vec![],
        within(2, opts(30, 30, 4)),
        utc(2026, 10, 24, 0, 0),
    );
    assert_eq!(
        starts(&slots),
        [
            utc(2026, 10, 25, 0, 0),
            utc(2026, 10, 25, 0, 30),
            utc(2026, 10, 25, 1, 0),
            utc(2026, 10, 25, 1, 30)
        ]
    );
}

#[test]
fn half_and_three_quarter_hour_zones() {
    // Kolkata (+5:30) facilitator, Kathmandu (+5:45) customer: 03:30–11:15 UTC in common.
    let slots = find(
        office(Asia::Kathmandu),
        office(Asia::Kolkata),
        vec![],
        within(1, opts(60, 30, 50)),
        utc(2026, 3, 2, 0, 0),
    );
    let monday: Vec<&Slot> = slots.iter().filter(|s| s.start.day() == 2).collect();
    assert_eq!(monday.len(), 14);
    assert_eq!(monday[0].start, utc(2026, 3, 2, 3, 30), "09:00 in Kolkata");
    assert_eq!(
        monday[13].start,
        utc(2026, 3, 2, 10, 0),
        "ends 16:45 in Kathmandu; 30 min later would pass 17:00"
    );
    assert_eq!(
        on_clock(&slots[..2], Asia::Kathmandu),
        ["Mon 03-02 09:15", "Mon 03-02 09:45"]
    );

    // Eucla (+8:45) facilitator, Adelaide customer (+10:30, then +9:30 from 2026-04-05).
    let eucla = |now, count| {
        find(
            office(Australia::Adelaide),
            office(Australia::Eucla),
            vec![],
            within(2, opts(45, 15, count)),
            now,
        )
    };
    let before = eucla(utc(2026, 3, 29, 0, 0), 23);
    assert_eq!(
        before[0].start,
        utc(2026, 3, 30, 0, 15),
        "Mon 09:00 Eucla = 10:45 Adelaide"
    );
    assert_eq!(
        before.last().unwrap().start,
        utc(2026, 3, 30, 5, 45),
        "ends 17:00 Adelaide daylight time"
    );
    let after = eucla(utc(2026, 4, 5, 0, 0), 27);
    assert_eq!(
        after.last().unwrap().start,
        utc(2026, 4, 6, 6, 45),
        "ends 17:00 Adelaide standard time"
    );
    assert!(
        before
            .iter()
            .chain(&after)
            .all(|s| s.start.weekday() == chrono::Weekday::Mon),
        "23 and 27 slots fit in one Monday"
    );
}

#[test]
fn busy_intervals_are_kept_clear_with_the_buffer() {
    let busy = vec![Slot::new(utc(2026, 3, 2, 10, 0), utc(2026, 3, 2, 11, 0))];
    let slots = find(
        office(chrono_tz::UTC),
        office(chrono_tz::UTC),
        busy,
        within(2, opts(30, 15, 50)),
        utc(2026, 3, 1, 0, 0),
    );
    let morning: Vec<_> = starts(&slots)
        .into_iter()
        .filter(|s| *s < utc(2026, 3, 2, 12, 0))
        .collect();
    assert_eq!(
        morning,
        [
            utc(2026, 3, 2, 9, 0),
            utc(2026, 3, 2, 9, 15),
            utc(2026, 3, 2, 11, 15),
            utc(2026, 3, 2, 11, 30),
            utc(2026, 3, 2, 11, 45)
        ],
        "09:15–09:45 touches the buffer and is fine; 09:30 to 11:00 would overlap 09:45–11:15"
    );
}

#[test]
fn notice_and_horizon_bound_the_search() {
    let now = utc(2026, 3, 2, 9, 10);
    let slots = find(
        office(chrono_tz::UTC),
        office(chrono_tz::UTC),
        vec![],
        opts(30, 15, 1),
        now,
    );
    assert_eq!(
        slots[0].start,
        utc(2026, 3, 2, 11, 15),
        "2 h notice from 09:10, on the 15-minute grid"
    );
    let friday_night = utc(2026, 3, 6, 20, 0);
    let short = SlotOptions {
        horizon_days: 2,
        ..opts(30, 15, 5)
    };
    let none = find(
        office(chrono_tz::UTC),
        office(chrono_tz::UTC),
        vec![],
        short,
        friday_night,
    );
    assert!(
        none.is_empty(),
        "a 2-day horizon from Friday night holds only a weekend"
    );
}

#[test]
fn the_offer_spreads_over_the_days_before_more_of_one_morning() {
    let slots = find(
        office(chrono_tz::UTC),
        office(chrono_tz::UTC),
        vec![],
        opts(60, 15, 5),
        utc(2026, 3, 2, 0, 0),
    );
    assert_eq!(
        on_clock(&slots, chrono_tz::UTC),
        [
            "Mon 03-02 09:00",
            "Tue 03-03 09:00",
            "Wed 03-04 09:00",
            "Thu 03-05 09:00",
            "Fri 03-06 09:00"
        ],
        "the first free slot of each working day, not 09:00, 09:15, 09:30… of Monday"
    );
    // Only two days ahead: each day's first slot, then each day's next one clear of it.
    let two_days = find(
        office(chrono_tz::UTC),
        office(chrono_tz::UTC),
        vec![Slot::new(utc(2026, 3, 3, 9, 0), utc(2026, 3, 3, 10, 0))],
        within(2, opts(60, 15, 5)),
        utc(2026, 3, 2, 0, 0),
    );
    assert_eq!(
        on_clock(&two_days, chrono_tz::UTC),
        [
            "Mon 03-02 09:00",
            "Mon 03-02 10:00",
            "Mon 03-02 11:00",
            "Tue 03-03 10:15",
            "Tue 03-03 11:15"
        ],
        "rounds: Mon 09:00 and Tue 10:15 (after the busy hour and its buffer), then Mon \
         10:00 and Tue 11:15, then Mon 11:00"
    );
}

#[test]
fn a_24_hour_day_runs_through_midnight_into_another_working_day() {
    let desk = |days: &[Weekday], end_h: u16| party(chrono_tz::UTC, days, 0, end_h);
    let late_monday = utc(2026, 3, 2, 23, 30);
    let once = |facilitator: Party| {
        find(
            around_the_clock(),
            facilitator,
            vec![],
            SlotOptions {
                notice_minutes: 0,
                ..within(1, opts(60, 30, 1))
            },
            late_monday,
        )
    };
    assert_eq!(
        on_clock(&once(desk(&ALL_DAYS, 24)), chrono_tz::UTC),
        ["Mon 03-02 23:30"],
        "every minute of 23:30–00:30 is inside a 24/7 desk's hours"
    );
    assert_eq!(
        on_clock(
            &once(desk(&[Weekday::Mon, Weekday::Wed], 24)),
            chrono_tz::UTC
        ),
        Vec::<String>::new(),
        "Tuesday is not a working day, so Monday's last half hour holds no hour-long slot"
    );
    assert_eq!(
        on_clock(
            &once(party(chrono_tz::UTC, &ALL_DAYS, 0, 23)),
            chrono_tz::UTC
        ),
        ["Tue 03-03 00:00"],
        "a day that ends at 23:00 is not crossed; the next day starts the offer"
    );
}

#[test]
fn dst_changes_at_midnight_neither_drop_nor_shift_a_slot() {
    // Each zone's midnight change, the local minute before it and the one after.
    let changes = [
        // 24:00 → 01:00: Saturday 23:30 plus one hour ends at 01:30 on Sunday.
        (
            America::Santiago,
            utc(2026, 9, 6, 3, 30),
            60,
            "Sat 23:30",
            "Sun 01:30",
        ),
        (
            Asia::Beirut,
            utc(2026, 3, 28, 21, 30),
            60,
            "Sat 23:30",
            "Sun 01:30",
        ),
        (
            America::Havana,
            utc(2026, 3, 8, 4, 30),
            60,
            "Sat 23:30",
            "Sun 01:30",
        ),
        // 24:00 → 23:00: Saturday's last hour happens twice.
        (
            America::Santiago,
            utc(2026, 4, 5, 2, 30),
            60,
            "Sat 23:30",
            "Sat 23:30",
        ),
        (
            Asia::Beirut,
            utc(2026, 10, 24, 20, 30),
            60,
            "Sat 23:30",
            "Sat 23:30",
        ),
        (
            America::Asuncion,
            utc(2024, 3, 24, 2, 30),
            60,
            "Sat 23:30",
            "Sat 23:30",
        ),
        // 01:00 → 00:00 on Sunday: the hour after midnight happens twice, so two real hours
        // from Saturday 23:30 end at 00:30.
        (
            America::Havana,
            utc(2026, 11, 1, 3, 30),
            120,
            "Sat 23:30",
            "Sun 00:30",
        ),
    ];
    for (tz, start, minutes, local_start, local_end) in changes {
        let slot = Slot::new(start, start + TimeDelta::minutes(minutes));
        let clock = |t: DateTime<Utc>| t.with_timezone(&tz).format("%a %H:%M").to_string();
        assert_eq!(
            (clock(slot.start), clock(slot.end)),
            (local_start.to_owned(), local_end.to_owned()),
            "{tz}: the change falls where this table says"
        );
        let desk = party(tz, &ALL_DAYS, 0, 24);
        assert!(
            inside_hours(&slot, &desk),
            "{tz}: a 24/7 desk works through the change"
        );
        let saturday_only = party(tz, &[Weekday::Sat], 0, 24);
        assert_eq!(
            inside_hours(&slot, &saturday_only),
            local_end.starts_with("Sat"),
            "{tz}: with Sunday off, only a slot that stays on Saturday's clock is inside"
        );
        let req = SlotRequest {
            customer: desk.clone(),
            facilitator: around_the_clock(),
            busy: vec![],
            options: SlotOptions {
                notice_minutes: 0,
                ..within(1, opts(u32::try_from(minutes).unwrap(), 30, 50))
            },
            now: start - TimeDelta::hours(6),
        };
        let offer = next_free_slots(&req).unwrap();
        assert!(
            offer.contains(&slot),
            "{tz}: the slot across the change is offered"
        );
        assert_eq!(
            offer,
            brute_force(&req),
            "{tz}: agrees with the brute force"
        );
    }
}

#[test]
fn bad_options_and_hours_name_their_fields() {
    let bad_hours = Party {
        time_zone: chrono_tz::UTC,
        hours: WorkingHours {
            days: vec![],
            start_minute: 0,
            end_minute: 60,
        },
    };
    let options = SlotOptions {
        length_minutes: 0,
        count: 0,
        step_minutes: 7,
        horizon_days: 0,
        ..SlotOptions::default()
    };
    let errs = next_free_slots(&SlotRequest {
        customer: bad_hours,
        facilitator: office(chrono_tz::UTC),
        busy: vec![],
        options,
        now: utc(2026, 1, 1, 0, 0),
    })
    .unwrap_err();
    let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "customer_working_hours",
            "length_minutes",
            "count",
            "step_minutes",
            "horizon_days"
        ]
    );
}

#[test]
fn reminders_show_once_in_the_lead_time_before_the_start() {
    let start = utc(2026, 3, 2, 10, 0);
    assert!(
        !reminder_due(start, 15, utc(2026, 3, 2, 9, 44), false),
        "too early"
    );
    assert!(
        reminder_due(start, 15, utc(2026, 3, 2, 9, 45), false),
        "exactly 15 minutes before"
    );
    assert!(reminder_due(start, 15, utc(2026, 3, 2, 9, 59), false));
    assert!(
        !reminder_due(start, 15, utc(2026, 3, 2, 9, 50), true),
        "shown already"
    );
    assert!(
        !reminder_due(start, 15, start, false),
        "the session has started"
    );
}

// ---- properties, checked by reading each minute back on the wall clocks ------------------

const ZONES: [Tz; 17] = [
    America::New_York,
    Europe::Berlin,
    Australia::Sydney,
    Asia::Kolkata,
    Asia::Kathmandu,
    Australia::Adelaide,
    Australia::Eucla,
    Australia::Lord_Howe,
    America::St_Johns,
    chrono_tz::Pacific::Chatham,
    chrono_tz::Pacific::Kiritimati,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::UTC,
    // DST changes at local midnight: 24:00 → 01:00 or 24:00 → 23:00 (Santiago, Beirut),
    // 00:00 → 01:00 and 01:00 → 00:00 (Havana); Asunción's until it kept summer time in 2024.
    America::Santiago,
    America::Asuncion,
    America::Havana,
    Asia::Beirut,
];

/// Independent of the finder: every minute of the slot, read on the party's clock, is on a
/// working day within the window (of the date that minute falls on: the midnight rule).
fn brute_inside(slot: &Slot, p: &Party) -> bool {
    let mut t = slot.start;
    while t < slot.end {
        let l = t.with_timezone(&p.time_zone);
        let minute = u16::try_from(l.hour() * 60 + l.minute()).unwrap();
        let ok = p.hours.days.contains(&Weekday::from(l.weekday()))
            && minute >= p.hours.start_minute
            && minute < p.hours.end_minute;
        if !ok {
            return false;
        }
        t += TimeDelta::minutes(1);
    }
    true
}

fn arb_party() -> impl Strategy<Value = Party> {
    (
        prop::sample::select(ZONES.to_vec()),
        prop::sample::subsequence(ALL_DAYS.to_vec(), 1..=7),
        // A window of quarter hours, or a whole 24-hour day (a 24/7 desk: slots then run
        // through midnight whenever the next day is a working day too).
        prop_oneof![(0u16..=80, 16u16..=64), Just((0u16, 96u16)),],
    )
        .prop_map(|(tz, days, (start_q, len_q))| Party {
            time_zone: tz,
            hours: WorkingHours {
                days,
                start_minute: start_q * 15,
                end_minute: (start_q * 15 + len_q * 15).min(1440),
            },
        })
}

prop_compose! {
    fn arb_request()(
        customer in arb_party(),
        facilitator in arb_party(),
        // Any minute of 2026, mostly in the weeks around the DST changes of the zones above
        // (Santiago's September change, and Asunción's last midnight change in March 2024).
        now_min in prop_oneof![
            0i64..(365 * 24 * 60),
            (60 * 24 * 60i64)..(96 * 24 * 60),
            (270 * 24 * 60i64)..(308 * 24 * 60),
            (244 * 24 * 60i64)..(252 * 24 * 60),
            (-652 * 24 * 60i64)..(-644 * 24 * 60),
        ],
        busy in prop::collection::vec((0i64..(3 * 24 * 60), 15i64..240), 0..6),
        length in prop::sample::select(vec![15u32, 30, 45, 60, 90, 120]),
        count in prop::sample::select(vec![1u32, 2, 3, 5, 50]),
        step in prop::sample::select(vec![5u32, 15, 30, 60]),
        notice in prop::sample::select(vec![0u32, 120, 7]),
        buffer in prop::sample::select(vec![0u32, 15, 10]),
    ) -> SlotRequest {
        let now = utc(2026, 1, 1, 0, 0) + TimeDelta::minutes(now_min) + TimeDelta::seconds(now_min % 61);
        let busy = busy.into_iter().map(|(s, l)| {
            let start = now + TimeDelta::minutes(s);
            Slot::new(start, start + TimeDelta::minutes(l))
        }).collect();
        let options = SlotOptions { length_minutes: length, count, buffer_minutes: buffer,
            notice_minutes: notice, step_minutes: step, horizon_days: 3 };
        SlotRequest { customer, facilitator, busy, options, now }
    }
}

/// The offer, by brute force: every valid slot found minute by minute over the whole horizon
/// ([`all_valid`]), then spread as the module doc says ([`spread_by_rounds`]).
fn brute_force(req: &SlotRequest) -> Vec<Slot> {
    spread_by_rounds(
        &all_valid(req),
        req.facilitator.time_zone,
        req.options.count as usize,
    )
}

/// The spread, written the slow way: round after round, each day (on the facilitator's
/// calendar, days in order) gives its earliest valid slot not yet offered that overlaps none
/// offered on that day; when a round adds nothing, the rest earliest first; in time order.
fn spread_by_rounds(valid: &[Slot], tz: Tz, count: usize) -> Vec<Slot> {
    let day = |s: &Slot| s.start.with_timezone(&tz).date_naive();
    let mut days: Vec<NaiveDate> = valid.iter().map(day).collect();
    days.dedup();
    let mut offer: Vec<Slot> = Vec::new();
    loop {
        let before = offer.len();
        for d in &days {
            if offer.len() == count {
                break;
            }
            let next = valid.iter().find(|s| {
                day(s) == *d
                    && !offer.contains(s)
                    && !offer.iter().any(|o| day(o) == *d && o.overlaps(s))
            });
            if let Some(s) = next {
                offer.push(*s);
            }
        }
        if offer.len() == before || offer.len() == count {
            break;
        }
    }
    for s in valid {
        if offer.len() == count {
            break;
        }
        if !offer.contains(s) {
            offer.push(*s);
        }
    }
    offer.sort();
    offer
}

/// Every valid start, by brute force over every minute: facilitator-aligned, after the
/// notice, before the horizon, inside both parties' hours, clear of busy + buffer.
fn all_valid(req: &SlotRequest) -> Vec<Slot> {
    let o = req.options;
    let earliest = req.now + TimeDelta::minutes(i64::from(o.notice_minutes));
    let horizon = req.now + TimeDelta::days(i64::from(o.horizon_days));
    let buffer = TimeDelta::minutes(i64::from(o.buffer_minutes));
    let mut t = DateTime::from_timestamp(earliest.timestamp().div_euclid(60) * 60, 0).unwrap();
    if t < earliest {
        t += TimeDelta::minutes(1);
    }
    let mut out = Vec::new();
    while t < horizon {
        let s = Slot::new(t, t + TimeDelta::minutes(i64::from(o.length_minutes)));
        let fl = t.with_timezone(&req.facilitator.time_zone);
        if (fl.hour() * 60 + fl.minute()).is_multiple_of(o.step_minutes)
            && brute_inside(&s, &req.facilitator)
            && brute_inside(&s, &req.customer)
            && req
                .busy
                .iter()
                .all(|b| !(s.start < b.end + buffer && b.start - buffer < s.end))
        {
            out.push(s);
        }
        t += TimeDelta::minutes(1);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_slot_respects_hours_busy_notice_and_length(req in arb_request()) {
        let slots = next_free_slots(&req).unwrap();
        let earliest = req.now + TimeDelta::minutes(i64::from(req.options.notice_minutes));
        for (i, s) in slots.iter().enumerate() {
            prop_assert_eq!(s.minutes(), i64::from(req.options.length_minutes), "exact length");
            prop_assert!(s.start >= earliest, "never before now + notice");
            prop_assert!(brute_inside(s, &req.customer), "inside the customer's hours: {:?}", s);
            prop_assert!(brute_inside(s, &req.facilitator), "inside the facilitator's hours: {:?}", s);
            let buffer = TimeDelta::minutes(i64::from(req.options.buffer_minutes));
            for b in &req.busy {
                prop_assert!(!s.overlaps(&Slot::new(b.start - buffer, b.end + buffer)), "clear of busy + buffer");
            }
            if i > 0 {
                prop_assert!(slots[i - 1].start < s.start, "sorted and distinct");
            }
        }
    }

    #[test]
    fn the_offer_is_the_spread_of_every_valid_slot(req in arb_request()) {
        // The finder offers exactly what spreading a minute-by-minute search's valid slots
        // gives: none dropped, none outside the rules, the same days first.
        prop_assert_eq!(next_free_slots(&req).unwrap(), brute_force(&req));
    }
}
