//! Quarters in an account's time zone: calendar quarters, or fiscal quarters from the
//! account's fiscal-year start month.
//!
//! Decisions where the brief is silent:
//! - A fiscal year is named by the calendar year it ends in: with an October start,
//!   October 2026 – September 2027 is FY2027. With a January start it is the calendar year.
//! - Labels: `2027 Q1` for calendar quarters, `FY2027 Q1` for fiscal ones.
//! - A quarter starts at the first instant the account's wall clock reads 00:00 on its first
//!   day (or, when a DST jump skips midnight, the first instant after it) and ends where the
//!   next quarter starts: `[start_utc, end_utc)`.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Quarter {
    pub fiscal_year: i32,
    /// 1..=4
    pub q: u8,
    pub start_utc: DateTime<Utc>,
    /// Exclusive: the next quarter's start.
    pub end_utc: DateTime<Utc>,
    /// 1 = January (calendar quarters).
    pub fy_start_month: u8,
    #[cfg_attr(feature = "ts", ts(as = "String"))]
    pub time_zone: Tz,
}

/// The quarter `instant` falls in, read on the account's clock.
pub fn quarter_of(
    instant: DateTime<Utc>,
    tz: Tz,
    fy_start_month: u8,
) -> Result<Quarter, FieldError> {
    check_month(fy_start_month)?;
    let local = instant.with_timezone(&tz).date_naive();
    let months_into_fy = (local.month() + 12 - u32::from(fy_start_month)) % 12;
    let fy_start_year = if local.month() >= u32::from(fy_start_month) {
        local.year()
    } else {
        local.year() - 1
    };
    let q = u8::try_from(months_into_fy / 3 + 1).expect("1..=4");
    Ok(build(fy_start_year, q, fy_start_month, tz))
}

impl Quarter {
    pub fn next(&self) -> Quarter {
        let (year, q) = if self.q == 4 {
            (self.fy_start_year() + 1, 1)
        } else {
            (self.fy_start_year(), self.q + 1)
        };
        build(year, q, self.fy_start_month, self.time_zone)
    }

    pub fn previous(&self) -> Quarter {
        let (year, q) = if self.q == 1 {
            (self.fy_start_year() - 1, 4)
        } else {
            (self.fy_start_year(), self.q - 1)
        };
        build(year, q, self.fy_start_month, self.time_zone)
    }

    /// `FY2027 Q1`, or `2027 Q1` for calendar quarters.
    pub fn label(&self) -> String {
        if self.fy_start_month == 1 {
            format!("{} Q{}", self.fiscal_year, self.q)
        } else {
            format!("FY{} Q{}", self.fiscal_year, self.q)
        }
    }

    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start_utc <= instant && instant < self.end_utc
    }

    /// The local date of the quarter's first day.
    pub fn first_day(&self) -> NaiveDate {
        first_day(self.fy_start_year(), self.q, self.fy_start_month)
    }

    /// The local date of the quarter's last day.
    pub fn last_day(&self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .expect("not the first day of time")
    }

    fn fy_start_year(&self) -> i32 {
        if self.fy_start_month == 1 {
            self.fiscal_year
        } else {
            self.fiscal_year - 1
        }
    }
}

fn check_month(m: u8) -> Result<(), FieldError> {
    if (1..=12).contains(&m) {
        Ok(())
    } else {
        Err(FieldError::new(
            "fiscal_year_start_month",
            format!("must be a month from 1 to 12, not {m}"),
        ))
    }
}

/// First local day of quarter `q` of the fiscal year starting in `fy_start_month` of `year`.
fn first_day(fy_start_year: i32, q: u8, fy_start_month: u8) -> NaiveDate {
    let month0 = u32::from(fy_start_month) - 1 + u32::from(q - 1) * 3; // 0-based, may pass 11
    let year = fy_start_year + i32::try_from(month0 / 12).expect("small");
    NaiveDate::from_ymd_opt(year, month0 % 12 + 1, 1).expect("a valid first of month")
}

fn build(fy_start_year: i32, q: u8, fy_start_month: u8, tz: Tz) -> Quarter {
    let start = first_day(fy_start_year, q, fy_start_month);
    let (ny, nq) = if q == 4 {
        (fy_start_year + 1, 1)
    } else {
        (fy_start_year, q + 1)
    };
    let end = first_day(ny, nq, fy_start_month);
    Quarter {
        fiscal_year: if fy_start_month == 1 {
            fy_start_year
        } else {
            fy_start_year + 1
        },
        q,
        start_utc: local_midnight(start, tz),
        end_utc: local_midnight(end, tz),
        fy_start_month,
        time_zone: tz,
    }
}

/// The first instant the zone's clock reads `day` 00:00 or later.
pub fn local_midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // Midnight skipped by a DST jump: the first minute after the gap.
            (1..=24 * 60)
                .find_map(|m| {
                    tz.from_local_datetime(&(midnight + TimeDelta::minutes(m)))
                        .earliest()
                })
                .expect("no DST gap lasts a day")
                .with_timezone(&Utc)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Pacific::{Kiritimati, Pago_Pago};
    use proptest::prelude::*;
    use rstest::rstest;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    /// 2026-12-31 23:30 UTC: already 2027-01-01 13:30 in Kiritimati (+14), still
    /// 2026-12-31 12:30 in Pago Pago (−11).
    fn edge() -> DateTime<Utc> {
        utc(2026, 12, 31, 23, 30)
    }

    #[rstest]
    #[case(
        Kiritimati,
        1,
        "2027 Q1",
        utc(2026, 12, 31, 10, 0),
        utc(2027, 3, 31, 10, 0)
    )]
    #[case(
        Pago_Pago,
        1,
        "2026 Q4",
        utc(2026, 10, 1, 11, 0),
        utc(2027, 1, 1, 11, 0)
    )]
    #[case(
        Kiritimati,
        4,
        "FY2027 Q4",
        utc(2026, 12, 31, 10, 0),
        utc(2027, 3, 31, 10, 0)
    )]
    #[case(
        Pago_Pago,
        4,
        "FY2027 Q3",
        utc(2026, 10, 1, 11, 0),
        utc(2027, 1, 1, 11, 0)
    )]
    #[case(
        Kiritimati,
        10,
        "FY2027 Q2",
        utc(2026, 12, 31, 10, 0),
        utc(2027, 3, 31, 10, 0)
    )]
    #[case(
        Pago_Pago,
        10,
        "FY2027 Q1",
        utc(2026, 10, 1, 11, 0),
        utc(2027, 1, 1, 11, 0)
    )]
    fn the_same_instant_in_the_most_extreme_zones(
        #[case] tz: Tz,
        #[case] fy: u8,
        #[case] label: &str,
        #[case] start: DateTime<Utc>,
        #[case] end: DateTime<Utc>,
    ) {
        let q = quarter_of(edge(), tz, fy).unwrap();
        assert_eq!(q.label(), label, "{tz} fiscal start {fy}");
        assert_eq!(
            (q.start_utc, q.end_utc),
            (start, end),
            "local midnights of {tz}"
        );
        assert!(q.contains(edge()));
    }

    #[test]
    fn fiscal_years_starting_in_april_and_october() {
        let april = quarter_of(utc(2026, 4, 15, 12, 0), chrono_tz::Europe::London, 4).unwrap();
        assert_eq!(
            april.label(),
            "FY2027 Q1",
            "April 2026 – March 2027 is FY2027"
        );
        assert_eq!(
            (april.first_day().to_string(), april.last_day().to_string()),
            ("2026-04-01".into(), "2026-06-30".into())
        );
        assert_eq!(
            april.start_utc,
            utc(2026, 3, 31, 23, 0),
            "midnight BST is 23:00 UTC"
        );
        let march = quarter_of(utc(2027, 3, 31, 12, 0), chrono_tz::Europe::London, 4).unwrap();
        assert_eq!(march.label(), "FY2027 Q4");
        let october =
            quarter_of(utc(2026, 10, 1, 12, 0), chrono_tz::America::New_York, 10).unwrap();
        assert_eq!(october.label(), "FY2027 Q1");
        assert_eq!(october.last_day().to_string(), "2026-12-31");
        let september =
            quarter_of(utc(2026, 9, 30, 12, 0), chrono_tz::America::New_York, 10).unwrap();
        assert_eq!(september.label(), "FY2026 Q4");
        assert_eq!(september.end_utc, october.start_utc, "quarters tile time");
    }

    #[test]
    fn next_and_previous_cross_year_ends() {
        let q4 = quarter_of(edge(), Pago_Pago, 1).unwrap();
        let q1 = q4.next();
        assert_eq!(
            (q1.label(), q1.start_utc),
            ("2027 Q1".to_owned(), q4.end_utc)
        );
        assert_eq!(q1.previous(), q4);
        let fy_q1 = quarter_of(edge(), Pago_Pago, 10).unwrap();
        assert_eq!(fy_q1.previous().label(), "FY2026 Q4");
        assert_eq!(fy_q1.previous().first_day().to_string(), "2026-07-01");
    }

    #[test]
    fn a_quarter_starting_in_a_midnight_dst_gap_starts_after_the_gap() {
        // Paraguay moved its clocks from 00:00 to 01:00 on Sunday 2023-10-01.
        let q = quarter_of(utc(2023, 11, 1, 12, 0), chrono_tz::America::Asuncion, 1).unwrap();
        assert_eq!(
            q.start_utc,
            utc(2023, 10, 1, 4, 0),
            "01:00 −03 is the first instant of the day"
        );
        assert_eq!(q.previous().end_utc, q.start_utc);
    }

    #[test]
    fn a_month_outside_1_to_12_is_refused() {
        for m in [0, 13] {
            let e = quarter_of(edge(), Kiritimati, m).unwrap_err();
            assert_eq!(e.field, "fiscal_year_start_month");
        }
    }

    const ZONES: [Tz; 6] = [
        Kiritimati,
        Pago_Pago,
        chrono_tz::America::Asuncion,
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::Asia::Kathmandu,
        chrono_tz::Europe::Berlin,
    ];

    proptest! {
        #[test]
        fn quarters_tile_time(secs in 0i64..(40 * 365 * 86_400), zone in 0usize..6, fy in 1u8..=12) {
            let t = utc(2000, 1, 1, 0, 0) + TimeDelta::seconds(secs);
            let tz = ZONES[zone];
            let q = quarter_of(t, tz, fy).unwrap();
            prop_assert!(q.contains(t), "the quarter contains the instant");
            prop_assert!((1..=4).contains(&q.q));
            prop_assert_eq!(q.next().start_utc, q.end_utc);
            prop_assert_eq!(q.previous().end_utc, q.start_utc);
            prop_assert_eq!(q.next().previous(), q);
            let days = (q.end_utc - q.start_utc).num_hours();
            prop_assert!((89 * 24 - 2..=92 * 24 + 2).contains(&days), "a quarter lasts 89–92 days");
            let local = t.with_timezone(&tz).date_naive();
            prop_assert!(q.first_day() <= local && local <= q.last_day(), "read on the local calendar");
        }
    }
}
