use std::collections::{BTreeMap, HashSet};

use super::*;
use crate::request::{Actor, Channel, RequestEvent, RequestEventKind, RequestStatus, Visibility};
use crate::user::Weekday;
use chrono::NaiveTime;
use chrono_tz::{America, Asia, Australia, Europe};
use proptest::prelude::*;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
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

fn member(n: u128, role: Role, tz: Tz, days: &[Weekday], start: u16, end: u16) -> Member {
    Member {
        user_id: id(n),
        role,
        time_zone: tz,
        hours: WorkingHours {
            days: days.to_vec(),
            start_minute: start,
            end_minute: end,
        },
        opted_in: false,
    }
}

fn lead(n: u128, tz: Tz, start_h: u16, end_h: u16) -> Member {
    member(
        n,
        Role::SupportLead,
        tz,
        &WEEKDAYS,
        start_h * 60,
        end_h * 60,
    )
}

fn rotation(tz: Tz, minute: u16, period: RotationPeriod, first_day: NaiveDate) -> Rotation {
    Rotation {
        id: id(900),
        members: vec![id(101), id(102), id(103)],
        time_zone: tz,
        handoff_minute: minute,
        period,
        first_day,
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn ids(list: &[OnCall]) -> Vec<Uuid> {
    list.iter().map(|o| o.user_id).collect()
}

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %m-%d %H:%M %:z")
        .to_string()
}

// ---------------------------------------------------------------------------------------
// Who is on call: tables
// ---------------------------------------------------------------------------------------

#[test]
fn follow_the_sun_lists_the_leads_and_opted_in_members_working_now_in_roster_order() {
    let mut opted = member(4, Role::Csm, Australia::Sydney, &ALL_DAYS, 0, 24 * 60);
    opted.opted_in = true;
    let roster = Roster {
        members: vec![
            lead(1, Europe::Berlin, 9, 17),
            member(2, Role::Csm, Asia::Kolkata, &ALL_DAYS, 0, 24 * 60),
            lead(3, America::New_York, 9, 17),
            opted,
        ],
        ..Roster::default()
    };
    // Wed 2026-03-04 14:30 UTC: Berlin 15:30, New York 09:30, Sydney 01:30 (Thu).
    let now = utc(2026, 3, 4, 14, 30);
    let on = who_is_on_call(now, &roster);
    assert_eq!(
        ids(&on),
        [id(1), id(3), id(4)],
        "the CSM in Kolkata works now but did not opt in"
    );
    assert!(on.iter().all(|o| o.reason == OnCallReason::FollowTheSun));
    assert!(
        who_is_on_call(utc(2026, 3, 4, 16, 0), &roster)
            .iter()
            .all(|o| o.user_id != id(1)),
        "17:00 in Berlin ends the day: the window is [start, end)"
    );
}

#[test]
fn a_skipped_local_hour_covers_nothing_and_a_repeated_one_is_covered_twice() {
    let night = Roster {
        members: vec![member(
            1,
            Role::SupportLead,
            Europe::Berlin,
            &ALL_DAYS,
            2 * 60,
            3 * 60,
        )],
        ..Roster::default()
    };
    // Spring: 02:00 CET jumps to 03:00 CEST at 01:00 UTC on 2026-03-29.
    let spring = gaps(utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 12, 0), &night);
    let covered: Vec<(String, String)> =
        complement(&spring, utc(2026, 3, 28, 12, 0), utc(2026, 3, 30, 12, 0))
            .into_iter()
            .map(|s| (local(s.start, Europe::Berlin), local(s.end, Europe::Berlin)))
            .collect();
    assert_eq!(
        covered,
        [(
            "Mon 03-30 02:00 +02:00".to_owned(),
            "Mon 03-30 03:00 +02:00".to_owned()
        )],
        "on 29 March 02:00–03:00 does not exist in Berlin: that night nobody is covered"
    );
    // Autumn: 03:00 CEST falls back to 02:00 CET at 01:00 UTC on 2026-10-25.
    for (t, on) in [
        (utc(2026, 10, 24, 23, 59), false),
        (utc(2026, 10, 25, 0, 0), true),
        (utc(2026, 10, 25, 0, 59), true),
        (utc(2026, 10, 25, 1, 0), true),
        (utc(2026, 10, 25, 1, 59), true),
        (utc(2026, 10, 25, 2, 0), false),
    ] {
        assert_eq!(
            !who_is_on_call(t, &night).is_empty(),
            on,
            "{} ({t}): the repeated 02:00–03:00 is covered both times",
            local(t, Europe::Berlin)
        );
    }
}

/// The windows of `[from, to)` not in `gaps`.
fn complement(gaps: &[Slot], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Slot> {
    let mut out = Vec::new();
    let mut at = from;
    for g in gaps {
        if g.start > at {
            out.push(Slot::new(at, g.start));
        }
        at = g.end;
    }
    if at < to {
        out.push(Slot::new(at, to));
    }
    out
}

#[test]
fn santiago_handoff_at_the_skipped_midnight_is_when_the_clock_jumps() {
    // Chile springs forward at 24:00 on Sat 2026-09-05: Sunday 00:00 -04 never shows, the
    // clock reads 01:00 -03 at 04:00 UTC.
    let r = rotation(America::Santiago, 0, RotationPeriod::Daily, day(2026, 9, 1));
    let s4 = r.shift(4);
    let s5 = r.shift(5);
    let s6 = r.shift(6);
    assert_eq!(local(s4.start, America::Santiago), "Sat 09-05 00:00 -04:00");
    assert_eq!(s5.start, utc(2026, 9, 6, 4, 0), "the instant of the jump");
    assert_eq!(local(s5.start, America::Santiago), "Sun 09-06 01:00 -03:00");
    assert_eq!(local(s6.start, America::Santiago), "Mon 09-07 00:00 -03:00");
    assert_eq!(s4.end - s4.start, TimeDelta::hours(24));
    assert_eq!(
        s5.end - s5.start,
        TimeDelta::hours(23),
        "the day of the change is short"
    );
    assert_eq!(
        [s4.user_id, s5.user_id, s6.user_id],
        [id(102), id(103), id(101)],
        "the turn goes on through the change"
    );
    // Autumn: 24:00 on Sat 2026-04-04 falls back to 23:00; Sunday's midnight shows once.
    let r = rotation(America::Santiago, 0, RotationPeriod::Daily, day(2026, 4, 1));
    let sun = r.shift(4);
    assert_eq!(
        local(sun.start, America::Santiago),
        "Sun 04-05 00:00 -04:00"
    );
    assert_eq!(sun.start - r.shift(3).start, TimeDelta::hours(25));
}

#[test]
fn a_handoff_keeps_its_local_time_across_both_berlin_changes() {
    for (first, short_or_long) in [(day(2026, 3, 25), 23), (day(2026, 10, 21), 25)] {
        let r = rotation(Europe::Berlin, 9 * 60, RotationPeriod::Daily, first);
        let shifts: Vec<Shift> = (0..8).map(|k| r.shift(k)).collect();
        assert!(
            shifts
                .iter()
                .all(|s| s.start.with_timezone(&Europe::Berlin).time()
                    == NaiveTime::from_hms_opt(9, 0, 0).unwrap()),
            "every handoff is at 09:00 Berlin time"
        );
        let lengths: Vec<i64> = shifts
            .iter()
            .map(|s| (s.end - s.start).num_hours())
            .collect();
        assert_eq!(
            lengths.iter().filter(|h| **h == short_or_long).count(),
            1,
            "exactly the shift spanning the change is {short_or_long} h: {lengths:?}"
        );
    }
}

#[test]
fn a_repeated_handoff_time_hands_off_at_its_first_pass() {
    let r = rotation(
        Europe::Berlin,
        2 * 60 + 30,
        RotationPeriod::Daily,
        day(2026, 10, 25),
    );
    assert_eq!(
        r.handoff(0),
        utc(2026, 10, 25, 0, 30),
        "02:30 CEST, not 02:30 CET"
    );
    let r = rotation(
        Europe::Berlin,
        2 * 60 + 30,
        RotationPeriod::Daily,
        day(2026, 3, 29),
    );
    assert_eq!(
        r.handoff(0),
        utc(2026, 3, 29, 1, 0),
        "02:30 is skipped: 03:00 CEST"
    );
}

#[test]
fn lord_howe_skips_half_an_hour() {
    // Lord Howe goes from 02:00 +10:30 to 02:30 +11:00 on 2026-10-04.
    let r = rotation(
        Australia::Lord_Howe,
        2 * 60 + 15,
        RotationPeriod::Daily,
        day(2026, 10, 3),
    );
    assert_eq!(r.handoff(1), utc(2026, 10, 3, 15, 30), "02:15 is skipped");
    assert_eq!(
        local(r.handoff(1), Australia::Lord_Howe),
        "Sun 10-04 02:30 +11:00"
    );
    assert_eq!(
        r.handoff(1) - r.handoff(0),
        TimeDelta::minutes(23 * 60 + 45)
    );
    assert_eq!(
        r.handoff(2) - r.handoff(1),
        TimeDelta::minutes(23 * 60 + 45),
        "from 02:30, where the clock landed, to 02:15 the next day"
    );
}

#[test]
fn a_weekly_rotation_hands_off_on_the_first_days_weekday_and_not_before_it() {
    // Monday 2026-03-02 at local midnight in New York.
    let r = rotation(
        America::New_York,
        0,
        RotationPeriod::Weekly,
        day(2026, 3, 2),
    );
    assert_eq!(
        r.shift_at(utc(2026, 3, 2, 4, 59)),
        None,
        "before the first handoff"
    );
    let first = r.shift_at(utc(2026, 3, 2, 5, 0)).unwrap();
    assert_eq!((first.index, first.user_id), (0, id(101)));
    let second = r.shift_at(utc(2026, 3, 9, 3, 59)).unwrap();
    assert_eq!(
        (second.index, second.user_id),
        (0, id(101)),
        "New York springs forward on 8 March: Monday 00:00 is 04:00 UTC from then"
    );
    assert_eq!(r.shift_at(utc(2026, 3, 9, 4, 0)).unwrap().user_id, id(102));
    assert_eq!(first.end - first.start, TimeDelta::hours(7 * 24 - 1));
    assert_eq!(
        r.shift(3).user_id,
        id(101),
        "three members: the fourth week is the first's"
    );
    let next: Vec<i64> = r
        .handoffs(utc(2026, 3, 9, 4, 0), utc(2026, 3, 30, 4, 0))
        .iter()
        .map(|s| s.index)
        .collect();
    assert_eq!(
        next,
        [1, 2, 3],
        "a handoff at `from` is listed, one at `to` is not"
    );
}

#[test]
fn the_rotation_covers_only_the_hours_nobodys_day_covers() {
    let roster = Roster {
        members: vec![lead(1, Europe::Berlin, 9, 17)],
        rotation: Some(rotation(
            Europe::Berlin,
            0,
            RotationPeriod::Daily,
            day(2026, 3, 1),
        )),
        overrides: vec![],
    };
    let day_time = who_is_on_call(utc(2026, 3, 3, 10, 0), &roster);
    assert_eq!(ids(&day_time), [id(1)]);
    let night = who_is_on_call(utc(2026, 3, 3, 22, 0), &roster);
    assert_eq!(
        night,
        [OnCall {
            user_id: id(103),
            reason: OnCallReason::Rotation {
                rotation_id: id(900),
                shift: 2
            }
        }],
        "23:00 Berlin on Tue 3 March is the third daily shift"
    );
}

fn ovr(
    n: u128,
    covering: u128,
    covered: u128,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    created: DateTime<Utc>,
) -> Override {
    Override {
        id: id(n),
        covering: id(covering),
        covered: id(covered),
        start,
        end,
        created_at: created,
    }
}

#[test]
fn overlapping_overrides_the_latest_created_wins_and_nothing_chains() {
    let created = utc(2026, 3, 1, 0, 0);
    let roster = Roster {
        members: vec![
            lead(1, Europe::Berlin, 9, 17),
            lead(2, Europe::Berlin, 9, 17),
        ],
        rotation: None,
        overrides: vec![
            ovr(
                50,
                7,
                1,
                utc(2026, 3, 3, 8, 0),
                utc(2026, 3, 3, 16, 0),
                created,
            ),
            ovr(
                51,
                8,
                1,
                utc(2026, 3, 3, 10, 0),
                utc(2026, 3, 3, 12, 0),
                created + TimeDelta::hours(1),
            ),
            // Same creation instant as 51: the greater id wins.
            ovr(
                49,
                9,
                1,
                utc(2026, 3, 3, 11, 0),
                utc(2026, 3, 3, 12, 0),
                created + TimeDelta::hours(1),
            ),
            // Covers 7, who is on call only by an override: no effect.
            ovr(
                52,
                6,
                7,
                utc(2026, 3, 3, 8, 0),
                utc(2026, 3, 3, 16, 0),
                created + TimeDelta::hours(2),
            ),
            // 2, on call anyway, covers 1 from 14:00.
            ovr(
                53,
                2,
                1,
                utc(2026, 3, 3, 14, 0),
                utc(2026, 3, 3, 15, 0),
                created + TimeDelta::hours(3),
            ),
        ],
    };
    let at = |h, m| ids(&who_is_on_call(utc(2026, 3, 3, h, m), &roster));
    assert_eq!(at(9, 0), [id(7), id(2)], "only override 50 is in force");
    assert_eq!(at(10, 30), [id(8), id(2)], "51 was created after 50");
    assert_eq!(
        at(11, 30),
        [id(8), id(2)],
        "49 ties with 51 on creation; 51 has the greater id"
    );
    assert_eq!(at(12, 0), [id(7), id(2)], "51 ended at 12:00: [start, end)");
    assert_eq!(
        at(14, 0),
        [id(2)],
        "2 covers 1 and is on call anyway: listed once"
    );
    let r = who_is_on_call(utc(2026, 3, 3, 9, 0), &roster);
    assert_eq!(
        r[0].reason,
        OnCallReason::Override {
            override_id: id(50),
            covering_for: id(1)
        }
    );
}

#[test]
fn gaps_are_the_hours_no_day_covers_and_the_rotation_closes_them() {
    // Berlin and New York leads, Mon–Fri 09–17, in the week of 2 March 2026 (no change).
    let mut roster = Roster {
        members: vec![
            lead(1, Europe::Berlin, 9, 17),
            lead(2, America::New_York, 9, 17),
        ],
        ..Roster::default()
    };
    let from = utc(2026, 3, 2, 0, 0);
    let to = utc(2026, 3, 3, 0, 0);
    assert_eq!(
        gaps(from, to, &roster),
        [
            Slot::new(from, utc(2026, 3, 2, 8, 0)),
            Slot::new(utc(2026, 3, 2, 22, 0), to)
        ],
        "Berlin covers 08–16 UTC, New York 14–22 UTC"
    );
    roster.rotation = Some(rotation(
        Europe::Berlin,
        0,
        RotationPeriod::Daily,
        day(2026, 3, 2),
    ));
    assert!(
        gaps(from, to, &roster).is_empty(),
        "the rotation starts at Berlin midnight, 23:00 UTC the day before: no gap"
    );
    roster.rotation = Some(rotation(
        Europe::Berlin,
        0,
        RotationPeriod::Daily,
        day(2026, 3, 3),
    ));
    assert_eq!(
        gaps(from, to, &roster),
        [
            Slot::new(from, utc(2026, 3, 2, 8, 0)),
            Slot::new(utc(2026, 3, 2, 22, 0), utc(2026, 3, 2, 23, 0))
        ],
        "a rotation whose first handoff is Tue 00:00 Berlin leaves the hours before it"
    );
    assert!(
        gaps(to, from, &roster).is_empty(),
        "an empty range has no gap"
    );
}

#[test]
fn roster_check_names_each_refused_field() {
    let t = utc(2026, 3, 3, 9, 0);
    let mut r = rotation(
        Europe::Berlin,
        24 * 60,
        RotationPeriod::Daily,
        day(2026, 3, 1),
    );
    r.members.clear();
    let roster = Roster {
        members: vec![],
        rotation: Some(r),
        overrides: vec![
            ovr(1, 2, 3, t, t, t),
            ovr(2, 4, 4, t, t + TimeDelta::hours(1), t),
        ],
    };
    let fields: Vec<String> = roster
        .check()
        .unwrap_err()
        .0
        .into_iter()
        .map(|f| f.field)
        .collect();
    assert_eq!(
        fields,
        [
            "rotation.members",
            "rotation.handoff_minute",
            "overrides[0].end",
            "overrides[1].covering"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Who is on call: against a brute-force oracle, minute by minute over DST weeks
// ---------------------------------------------------------------------------------------

const ZONES: [Tz; 6] = [
    Europe::Berlin,
    America::New_York,
    Australia::Sydney,
    America::Santiago,
    Asia::Kolkata,
    Australia::Lord_Howe,
];

/// Weeks from three days before each 2026 change of the zones above, at 00:00 UTC.
fn dst_weeks() -> Vec<DateTime<Utc>> {
    [
        (3, 5),   // New York, 8 March
        (3, 26),  // Berlin, 29 March
        (4, 2),   // Sydney, Lord Howe, Santiago, 5 April
        (9, 3),   // Santiago, 6 September
        (10, 1),  // Sydney, Lord Howe, 4 October
        (10, 22), // Berlin, 25 October
        (10, 29), // New York, 1 November
    ]
    .into_iter()
    .map(|(m, d)| utc(2026, m, d, 0, 0))
    .collect()
}

#[test]
fn the_oracle_weeks_hold_a_change_in_every_zone_with_dst() {
    for tz in ZONES {
        let changes: usize = dst_weeks()
            .into_iter()
            .map(|w| offset_changes(tz, w, w + TimeDelta::days(7)).len())
            .sum();
        let expected = if tz == Asia::Kolkata { 0 } else { 2 };
        assert_eq!(
            changes, expected,
            "{tz}: both changes of 2026 fall in the weeks tested"
        );
    }
}

/// Everything in the oracle is counted in whole minutes since the epoch.
fn minute(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(60)
}

fn at_minute(m: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(m * 60, 0).unwrap()
}

/// The oracle: the same rules, computed the other way round. Working hours by walking each
/// local day's minutes and mapping them to every instant that shows them; handoffs by
/// walking the instants and watching for the first whose wall clock reaches the handoff.
struct Oracle {
    /// For each follow-the-sun member (roster order): the minutes covered.
    covered: Vec<(Uuid, HashSet<i64>)>,
    /// Handoff minute → shift index.
    handoffs: BTreeMap<i64, i64>,
}

impl Oracle {
    fn new(roster: &Roster, from: i64, to: i64) -> Self {
        let covered = roster
            .members
            .iter()
            .filter(|m| m.role == Role::SupportLead || m.opted_in)
            .map(|m| {
                let mut set = HashSet::new();
                let first =
                    at_minute(from).with_timezone(&m.time_zone).date_naive() - TimeDelta::days(2);
                for d in 0..14 {
                    let date = first + TimeDelta::days(d);
                    if !m.hours.days.contains(&Weekday::from(date.weekday())) {
                        continue;
                    }
                    for mm in m.hours.start_minute..m.hours.end_minute {
                        let wall =
                            date.and_hms_opt(0, 0, 0).unwrap() + TimeDelta::minutes(i64::from(mm));
                        // Every instant the wall clock shows `wall`: none, one or two.
                        for t in [
                            m.time_zone.from_local_datetime(&wall).earliest(),
                            m.time_zone.from_local_datetime(&wall).latest(),
                        ]
                        .into_iter()
                        .flatten()
                        {
                            set.insert(minute(t.with_timezone(&Utc)));
                        }
                    }
                }
                (m.user_id, set)
            })
            .collect();
        let mut handoffs = BTreeMap::new();
        if let Some(r) = &roster.rotation {
            // Handoff targets on the wall clock, in order; shift k at `first_day + k·period`.
            let targets: Vec<(i64, NaiveDateTime)> = (0..60)
                .map(|k| {
                    let date = r.first_day + TimeDelta::days(k * r.period.days());
                    (
                        k,
                        date.and_hms_opt(0, 0, 0).unwrap()
                            + TimeDelta::minutes(i64::from(r.handoff_minute)),
                    )
                })
                .collect();
            let mut next = 0;
            // Walk from well before the first handoff that can matter.
            let start = minute(utc(2025, 12, 1, 0, 0)).min(from - 3 * 24 * 60);
            let mut m = start;
            while m < to && next < targets.len() {
                let wall = at_minute(m).with_timezone(&r.time_zone).naive_local();
                while next < targets.len() && wall >= targets[next].1 {
                    handoffs.insert(m, targets[next].0);
                    next += 1;
                }
                // Far from any target, walk by the hour (a wall clock never jumps back more
                // than a day) to keep the oracle affordable.
                let far = targets
                    .get(next)
                    .is_some_and(|t| t.1 - wall > TimeDelta::hours(30));
                m += if far { 60 } else { 1 };
            }
        }
        Oracle { covered, handoffs }
    }

    fn on_call(&self, m: i64, roster: &Roster) -> Vec<Uuid> {
        let mut base: Vec<Uuid> = self
            .covered
            .iter()
            .filter(|(_, set)| set.contains(&m))
            .map(|(u, _)| *u)
            .collect();
        if base.is_empty()
            && let Some(r) = &roster.rotation
            && let Some((_, k)) = self.handoffs.range(..=m).next_back()
        {
            base.push(r.members[usize::try_from(k.rem_euclid(r.members.len() as i64)).unwrap()]);
        }
        let mut out: Vec<Uuid> = Vec::new();
        for u in base {
            let winner = roster
                .overrides
                .iter()
                .filter(|o| o.covered == u && minute(o.start) <= m && m < minute(o.end))
                .max_by_key(|o| (o.created_at, o.id));
            let who = winner.map_or(u, |o| o.covering);
            if !out.contains(&who) {
                out.push(who);
            }
        }
        out
    }
}

/// The local minutes where the zones above change (00:00 Santiago; 01:00–03:00 elsewhere),
/// and the ends of the day: working hours and handoffs are drawn near them.
const DST_MINUTES: [u16; 9] = [0, 60, 90, 120, 135, 150, 180, 23 * 60, 24 * 60];

/// The zones that change in the week starting `week` (all of them when none does).
fn changing_zones(week: DateTime<Utc>) -> Vec<Tz> {
    let z: Vec<Tz> = ZONES
        .into_iter()
        .filter(|tz| !offset_changes(*tz, week, week + TimeDelta::days(7)).is_empty())
        .collect();
    if z.is_empty() { ZONES.to_vec() } else { z }
}

/// A zone, most often one that changes in the week.
fn a_zone(week: DateTime<Utc>) -> impl Strategy<Value = Tz> {
    prop_oneof![
        3 => prop::sample::select(changing_zones(week)),
        1 => prop::sample::select(ZONES.to_vec()),
    ]
}

fn a_day_minute() -> impl Strategy<Value = u16> {
    prop_oneof![
        prop::sample::select(DST_MINUTES[..8].to_vec()),
        (0u16..48).prop_map(|h| h * 30),
    ]
}

prop_compose! {
    fn a_member(n: u128, week: DateTime<Utc>)(
        time_zone in a_zone(week),
        lead in prop::bool::weighted(0.7),
        opted_in in any::<bool>(),
        days in prop::sample::subsequence(ALL_DAYS.to_vec(), 1..=7),
        start in a_day_minute(),
        end in prop_oneof![
            prop::sample::select(DST_MINUTES[1..].to_vec()),
            (1u16..=48).prop_map(|h| h * 30),
        ],
    ) -> Member {
        let (start_minute, end_minute) = if start < end { (start, end) } else { (start, 24 * 60) };
        Member {
            user_id: id(n),
            role: if lead { Role::SupportLead } else { Role::Csm },
            time_zone,
            hours: WorkingHours { days, start_minute, end_minute },
            opted_in,
        }
    }
}

prop_compose! {
    fn a_roster()(week in prop::sample::select(dst_weeks()))(
        week in Just(week),
        members in (0usize..=3).prop_flat_map(move |n| {
            (0..n).map(|i| a_member(1 + i as u128, week)).collect::<Vec<_>>()
        }),
        rotation in prop::option::weighted(0.85, (
            a_zone(week),
            prop_oneof![a_day_minute(), (0u16..96).prop_map(|q| q * 15)],
            prop::bool::weighted(0.3),
            -10i64..4,
            1u128..=3,
        )),
        // Few distinct creation instants, so that ties between overrides are common.
        overrides in prop::collection::vec(
            (1u128..=6, 1u128..=6, 0i64..7 * 24 * 60, 1i64..48 * 60, 0i64..4),
            0..6,
        ),
    ) -> (DateTime<Utc>, Roster) {
        let rotation = rotation.map(|(time_zone, handoff_minute, weekly, offset, n)| Rotation {
            id: id(900),
            members: (0..n).map(|i| id(100 + i)).collect(),
            time_zone,
            handoff_minute: handoff_minute % (24 * 60),
            period: if weekly { RotationPeriod::Weekly } else { RotationPeriod::Daily },
            first_day: week.date_naive() + TimeDelta::days(offset),
        });
        // 1–3: the follow-the-sun members, 4–6: the rotation's.
        let people = |n: u128| if n <= 3 { id(n) } else { id(100 + (n - 4)) };
        let overrides = overrides
            .into_iter()
            .enumerate()
            .filter(|(_, (a, b, ..))| people(*a) != people(*b))
            .map(|(i, (a, b, start, len, created))| Override {
                id: id(500 + i as u128),
                covering: people(a),
                covered: people(b),
                start: week + TimeDelta::minutes(start),
                end: week + TimeDelta::minutes(start + len),
                created_at: week - TimeDelta::days(30) + TimeDelta::minutes(created),
            })
            .collect();
        (week, Roster { members, rotation, overrides })
    }
}

/// `who_is_on_call` equals the oracle at every minute of the week from `week`, and `gaps`
/// reports exactly the minutes where the oracle has nobody, each run whole.
fn agrees_with_the_oracle(week: DateTime<Utc>, roster: &Roster) -> Result<(), TestCaseError> {
    let from = minute(week);
    let to = from + 7 * 24 * 60;
    let oracle = Oracle::new(roster, from, to);
    let mut expected_gaps: Vec<Slot> = Vec::new();
    for m in from..to {
        let t = at_minute(m);
        let want = oracle.on_call(m, roster);
        let got = who_is_on_call(t, roster);
        prop_assert_eq!(&ids(&got), &want, "at {}", t);
        if want.is_empty() {
            match expected_gaps.last_mut() {
                Some(g) if g.end == t => g.end = at_minute(m + 1),
                _ => expected_gaps.push(Slot::new(t, at_minute(m + 1))),
            }
        }
    }
    prop_assert_eq!(
        gaps(week, at_minute(to), roster),
        expected_gaps,
        "every gap is reported, each whole"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn who_is_on_call_and_gaps_agree_with_the_oracle_minute_by_minute(
        (week, roster) in a_roster()
    ) {
        agrees_with_the_oracle(week, &roster)?;
    }

}

proptest! {
    // Each case walks a whole week minute by minute: fewer cases, each aimed at one rule.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_rotation_alone_agrees_with_the_oracle_at_every_change(
        week in prop::sample::select(dst_weeks()),
        zone in 0..ZONES.len(),
        handoff in prop::sample::select(DST_MINUTES[..8].to_vec()),
        offset in -3i64..3,
    ) {
        // Every zone's changing hours as a daily handoff, three members: each handoff is seen.
        let r = rotation(ZONES[zone], handoff, RotationPeriod::Daily, week.date_naive() + TimeDelta::days(offset));
        agrees_with_the_oracle(week, &Roster { rotation: Some(r), ..Roster::default() })?;
    }

    #[test]
    fn overlapping_overrides_of_always_on_leads_agree_with_the_oracle(
        week in prop::sample::select(dst_weeks()),
        overrides in prop::collection::vec((4u128..=6, 1u128..=2, 0i64..7 * 24 * 60, 1i64..72 * 60, 0i64..3), 2..8),
    ) {
        let always = |n| member(n, Role::SupportLead, Asia::Kolkata, &ALL_DAYS, 0, 24 * 60);
        let overrides = overrides
            .into_iter()
            .enumerate()
            .map(|(i, (a, b, start, len, created))| ovr(
                500 + i as u128, a, b,
                week + TimeDelta::minutes(start),
                week + TimeDelta::minutes(start + len),
                week - TimeDelta::days(1) + TimeDelta::minutes(created),
            ))
            .collect();
        agrees_with_the_oracle(week, &Roster { members: vec![always(1), always(2)], rotation: None, overrides })?;
    }

    #[test]
    fn every_handoff_is_at_its_local_time_unless_the_clock_skipped_it(
        zone in 0..ZONES.len(), q in 0u16..96, weekly in any::<bool>(), week in prop::sample::select(dst_weeks()),
    ) {
        let tz = ZONES[zone];
        let r = rotation(tz, q * 15, if weekly { RotationPeriod::Weekly } else { RotationPeriod::Daily }, week.date_naive());
        for k in 0..9 {
            let target = (r.first_day + TimeDelta::days(k * r.period.days())).and_hms_opt(0, 0, 0).unwrap()
                + TimeDelta::minutes(i64::from(r.handoff_minute));
            let at = r.handoff(k);
            let shown = at.with_timezone(&tz).naive_local();
            let just_before = (at - TimeDelta::seconds(1)).with_timezone(&tz).naive_local();
            prop_assert!(shown >= target, "the clock shows the handoff time or later");
            prop_assert!(just_before < target, "and a second earlier it did not yet: the first such instant");
            if tz.from_local_datetime(&target).earliest().is_some() {
                prop_assert_eq!(shown, target, "a time that exists is kept exactly");
            }
            prop_assert!(r.handoff(k + 1) > at, "handoffs move forward");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Escalation
// ---------------------------------------------------------------------------------------

const STAFF: Actor = Actor::Staff {
    user_id: Uuid::from_u128(42),
};

fn opened(sev: Severity, at: DateTime<Utc>) -> RequestEvent {
    RequestEvent {
        id: id(1),
        at,
        actor: Actor::Customer { contact_id: None },
        kind: RequestEventKind::Opened {
            severity: sev,
            channel: Channel::Chat,
            needs_triage: false,
            title: "down".into(),
        },
    }
}

fn event(n: u128, at: DateTime<Utc>, kind: RequestEventKind) -> RequestEvent {
    RequestEvent {
        id: id(n),
        at,
        actor: STAFF,
        kind,
    }
}

fn t(h: u32, m: u32) -> DateTime<Utc> {
    utc(2026, 3, 2, h, m)
}

/// A watcher that asks every minute from `from` to `to` and sends whatever is due, as the
/// server loop will; returns (minute sent, key) in order.
fn watch(
    history: &RequestHistory,
    plan: Plan,
    acks: &[DateTime<Utc>],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step: TimeDelta,
) -> Vec<(String, String)> {
    let policy = EscalationPolicy::default();
    let mut sent: Vec<PageKey> = Vec::new();
    let mut log = Vec::new();
    let mut now = from;
    while now <= to {
        for p in due_pages(&policy, RequestFacts { history, plan }, acks, &sent, now) {
            assert!(
                !sent.contains(&p.key),
                "a page is never due twice: {:?}",
                p.key
            );
            assert!(p.due_at <= now, "nothing is due before its time");
            sent.push(p.key);
            log.push((now.format("%H:%M").to_string(), p.key.dedupe_key()));
        }
        now += step;
    }
    log
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn p1_pages_on_call_then_leads_at_5_then_admins_at_10_repeating_with_the_sla_pages() {
    let h = RequestHistory::new(vec![opened(Severity::P1, t(14, 0))]).unwrap();
    let log = watch(
        &h,
        Plan::ProfessionalSupport,
        &[],
        t(14, 0),
        t(14, 40),
        TimeDelta::minutes(1),
    );
    assert_eq!(
        log,
        pairs(&[
            ("14:00", "escalation:p1:0:0"),
            ("14:05", "escalation:p1:0:1"),
            ("14:10", "escalation:p1:0:2"),
            ("14:15", "escalation:p1:1:0"),
            ("14:20", "escalation:p1:1:1"),
            // At risk strictly under 7.5 minutes left: from 14:22:30 on.
            ("14:23", "at_risk:p1"),
            ("14:25", "escalation:p1:1:2"),
            ("14:30", "escalation:p1:2:0"),
            // Breached once past 14:30.
            ("14:31", "breached:p1"),
            ("14:35", "escalation:p1:2:1"),
            ("14:40", "escalation:p1:2:2"),
        ])
    );
}

#[test]
fn p2_pages_at_0_15_30_and_p3_p4_are_in_the_app_only() {
    let h = RequestHistory::new(vec![opened(Severity::P2, t(9, 0))]).unwrap();
    let log = watch(
        &h,
        Plan::ProfessionalSupport,
        &[],
        t(9, 0),
        t(11, 1),
        TimeDelta::minutes(1),
    );
    assert_eq!(
        log,
        pairs(&[
            ("09:00", "escalation:p2:0:0"),
            ("09:15", "escalation:p2:0:1"),
            ("09:30", "escalation:p2:0:2"),
            ("09:45", "escalation:p2:1:0"),
            ("10:00", "escalation:p2:1:1"),
            ("10:15", "escalation:p2:1:2"),
            ("10:30", "escalation:p2:2:0"),
            // 30 minutes left of 2 hours is exactly 25 %: at risk starts just after.
            ("10:31", "at_risk:p2"),
            ("10:45", "escalation:p2:2:1"),
            ("11:00", "escalation:p2:2:2"),
            ("11:01", "breached:p2"),
        ])
    );
    for sev in [Severity::P3, Severity::P4] {
        let h = RequestHistory::new(vec![opened(sev, t(0, 0))]).unwrap();
        assert!(
            watch(
                &h,
                Plan::ProfessionalSupport,
                &[],
                t(0, 0),
                t(23, 59),
                TimeDelta::minutes(1)
            )
            .is_empty(),
            "{sev:?} is never paged, not even when breached"
        );
    }
}

#[test]
fn acknowledging_stops_the_paging_not_the_clock() {
    let h = RequestHistory::new(vec![opened(Severity::P1, t(14, 0))]).unwrap();
    let log = watch(
        &h,
        Plan::ProfessionalSupport,
        &[t(14, 7)],
        t(14, 0),
        t(15, 0),
        TimeDelta::minutes(1),
    );
    assert_eq!(
        log,
        pairs(&[
            ("14:00", "escalation:p1:0:0"),
            ("14:05", "escalation:p1:0:1"),
            ("14:23", "at_risk:p1"),
            ("14:31", "breached:p1"),
        ]),
        "no escalation after the 14:07 acknowledgement; the clock still turns at risk and breached"
    );
    let c = sla::clock(&h, Plan::ProfessionalSupport, t(15, 0));
    assert_eq!(
        c.state,
        Some(SlaState::Breached),
        "the SLA clock ignores acknowledgements"
    );
}

#[test]
fn moving_the_request_to_acknowledged_on_its_timeline_stops_the_escalation_too() {
    let h = RequestHistory::new(vec![
        opened(Severity::P1, t(14, 0)),
        event(
            2,
            t(14, 6),
            RequestEventKind::StatusChanged {
                from: RequestStatus::Open,
                to: RequestStatus::Acknowledged,
            },
        ),
    ])
    .unwrap();
    let log = watch(
        &h,
        Plan::ProfessionalSupport,
        &[],
        t(14, 0),
        t(14, 31),
        TimeDelta::minutes(1),
    );
    assert_eq!(
        log,
        pairs(&[
            ("14:00", "escalation:p1:0:0"),
            ("14:05", "escalation:p1:0:1"),
            ("14:23", "at_risk:p1"),
            ("14:31", "breached:p1"),
        ]),
        "the status change at 14:06 is an acknowledgement; the clock runs on"
    );
}

#[test]
fn an_acknowledgement_before_a_raise_does_not_silence_the_new_severity() {
    let h = RequestHistory::new(vec![
        opened(Severity::P3, t(9, 0)),
        event(
            2,
            t(10, 0),
            RequestEventKind::SeverityChanged {
                from: Severity::P3,
                to: Severity::P1,
            },
        ),
    ])
    .unwrap();
    let policy = EscalationPolicy::default();
    let due = due_pages(
        &policy,
        RequestFacts {
            history: &h,
            plan: Plan::ProfessionalSupport,
        },
        &[t(9, 5)],
        &[],
        t(10, 0),
    );
    assert_eq!(
        due,
        [DuePage {
            key: PageKey::Escalation {
                severity: Severity::P1,
                round: 0,
                step: 0
            },
            targets: vec![PageTarget::OnCall],
            due_at: t(10, 0)
        }],
        "the P1 escalation starts at the raise, after the 09:05 acknowledgement of the P3"
    );
    let future_ack = due_pages(
        &policy,
        RequestFacts {
            history: &h,
            plan: Plan::ProfessionalSupport,
        },
        &[t(10, 30)],
        &[],
        t(10, 1),
    );
    assert_eq!(
        future_ack.len(),
        1,
        "an acknowledgement stamped after `now` does not count yet"
    );
}

#[test]
fn a_late_watcher_pages_each_step_once_for_its_latest_round_and_breached_only() {
    let h = RequestHistory::new(vec![opened(Severity::P1, t(14, 0))]).unwrap();
    let policy = EscalationPolicy::default();
    let facts = RequestFacts {
        history: &h,
        plan: Plan::ProfessionalSupport,
    };
    let due: Vec<(String, DateTime<Utc>)> = due_pages(&policy, facts, &[], &[], t(14, 47))
        .into_iter()
        .map(|p| (p.key.dedupe_key(), p.due_at))
        .collect();
    assert_eq!(
        due,
        [
            ("escalation:p1:3:0".to_owned(), t(14, 45)),
            ("escalation:p1:2:1".to_owned(), t(14, 35)),
            ("escalation:p1:2:2".to_owned(), t(14, 40)),
            ("breached:p1".to_owned(), t(14, 30)),
        ],
        "no burst of every missed round; at risk is moot once breached"
    );
}

#[test]
fn a_first_public_response_or_resolving_stops_every_page() {
    let policy = EscalationPolicy::default();
    let answered = RequestHistory::new(vec![
        opened(Severity::P1, t(14, 0)),
        event(
            2,
            t(14, 3),
            RequestEventKind::Response {
                visibility: Visibility::Public,
                text: "on it".into(),
            },
        ),
    ])
    .unwrap();
    let internal = RequestHistory::new(vec![
        opened(Severity::P1, t(14, 0)),
        event(
            2,
            t(14, 3),
            RequestEventKind::Response {
                visibility: Visibility::Internal,
                text: "hm".into(),
            },
        ),
    ])
    .unwrap();
    let resolved = RequestHistory::new(vec![
        opened(Severity::P1, t(14, 0)),
        event(
            2,
            t(14, 3),
            RequestEventKind::StatusChanged {
                from: RequestStatus::Open,
                to: RequestStatus::Resolved,
            },
        ),
    ])
    .unwrap();
    let due = |h: &RequestHistory| {
        due_pages(
            &policy,
            RequestFacts {
                history: h,
                plan: Plan::ProfessionalSupport,
            },
            &[],
            &[],
            t(14, 40),
        )
        .len()
    };
    assert_eq!(due(&answered), 0, "the customer was answered");
    assert_eq!(due(&resolved), 0, "nothing to page about");
    assert_eq!(
        due(&internal),
        4,
        "an internal note answers nobody: three steps and breached"
    );
}

#[test]
fn the_standard_plan_is_escalated_without_sla_pages() {
    let h = RequestHistory::new(vec![opened(Severity::P1, t(14, 0))]).unwrap();
    let log = watch(
        &h,
        Plan::Standard,
        &[],
        t(14, 0),
        t(14, 31),
        TimeDelta::minutes(1),
    );
    assert!(
        log.iter().all(|(_, k)| k.starts_with("escalation:")),
        "no SLA, so no at-risk or breached page: {log:?}"
    );
    assert_eq!(log.len(), 7);
}

#[test]
fn a_downgrade_to_p3_stops_the_paging() {
    let h = RequestHistory::new(vec![
        opened(Severity::P1, t(14, 0)),
        event(
            2,
            t(14, 6),
            RequestEventKind::SeverityChanged {
                from: Severity::P1,
                to: Severity::P3,
            },
        ),
    ])
    .unwrap();
    let log = watch(
        &h,
        Plan::ProfessionalSupport,
        &[],
        t(14, 6),
        t(16, 0),
        TimeDelta::minutes(1),
    );
    assert!(log.is_empty(), "P3 is in the app only: {log:?}");
}

#[test]
fn policy_check_names_the_field() {
    let mut p = EscalationPolicy::default();
    p.p1.steps[2].after_minutes = 3;
    p.p2.repeat_minutes = Some(30);
    p.p3.repeat_minutes = Some(10);
    let fields: Vec<String> = p
        .check()
        .unwrap_err()
        .0
        .into_iter()
        .map(|f| f.field)
        .collect();
    assert_eq!(
        fields,
        [
            "p1.steps[2].after_minutes",
            "p2.repeat_minutes",
            "p3.repeat_minutes"
        ]
    );
    assert!(
        EscalationPolicy::default().check().is_ok(),
        "the defaults are valid"
    );
}

proptest! {
    #[test]
    fn a_page_is_never_due_twice_whatever_the_watchers_rhythm(
        sev in prop::sample::select(Severity::ALL.to_vec()),
        waits in prop::collection::vec(1i64..400, 1..60),
        ack in prop::option::of(0i64..200),
    ) {
        let h = RequestHistory::new(vec![opened(sev, t(8, 0))]).unwrap();
        let policy = EscalationPolicy::default();
        let acks: Vec<DateTime<Utc>> = ack.map(|a| t(8, 0) + TimeDelta::minutes(a)).into_iter().collect();
        let mut sent: Vec<PageKey> = Vec::new();
        let mut now = t(8, 0);
        for g in waits {
            for p in due_pages(&policy, RequestFacts { history: &h, plan: Plan::ProfessionalSupport }, &acks, &sent, now) {
                prop_assert!(!sent.contains(&p.key), "{:?} was already sent", p.key);
                prop_assert!(p.due_at <= now);
                if let PageKey::Escalation { .. } = p.key {
                    prop_assert!(acks.iter().all(|a| *a > now), "no escalation after an acknowledgement");
                }
                sent.push(p.key);
            }
            now += TimeDelta::seconds(g * 17);
        }
    }
}

#[test]
fn a_request_awaits_an_acknowledgement_until_acked_answered_or_moved_on() {
    let facts = |h| RequestFacts {
        history: h,
        plan: Plan::ProfessionalSupport,
    };
    let open = RequestHistory::new(vec![opened(Severity::P1, t(14, 0))]).unwrap();
    assert!(
        awaiting_ack(facts(&open), &[], t(14, 1)),
        "a new P1 waits for someone to acknowledge it"
    );
    assert!(
        !awaiting_ack(facts(&open), &[t(14, 2)], t(14, 3)),
        "an acknowledgement ends the wait"
    );
    assert!(
        awaiting_ack(facts(&open), &[t(14, 5)], t(14, 3)),
        "an acknowledgement after `now` does not count yet"
    );
    let answered = RequestHistory::new(vec![
        opened(Severity::P1, t(14, 0)),
        event(
            2,
            t(14, 3),
            RequestEventKind::Response {
                visibility: Visibility::Public,
                text: "on it".into(),
            },
        ),
    ])
    .unwrap();
    assert!(
        !awaiting_ack(facts(&answered), &[], t(14, 4)),
        "a first public response stops the paging, so nothing waits"
    );
    let moved = RequestHistory::new(vec![
        opened(Severity::P1, t(14, 0)),
        event(
            2,
            t(14, 3),
            RequestEventKind::StatusChanged {
                from: RequestStatus::Open,
                to: RequestStatus::Acknowledged,
            },
        ),
    ])
    .unwrap();
    assert!(
        !awaiting_ack(facts(&moved), &[], t(14, 4)),
        "moving the request on from open acknowledges it"
    );
    assert!(
        acknowledged(&moved, Severity::P1, &[], t(14, 4)),
        "the same rule due_pages uses"
    );
}
