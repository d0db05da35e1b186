//! The slot finder: free slots inside both the customer's and the facilitator's working
//! hours, each in their own IANA zone, clear of the facilitator's other sessions, spread
//! across the coming days.
//!
//! Working hours are a set of instants: an instant is inside a party's hours when, read on
//! that party's wall clock, it falls on a working day between the day's start and end.
//! Everything is computed from UTC instants read on each wall clock (UTC → local is never
//! ambiguous), so DST needs no special case: on a spring-forward day the missing hour simply
//! holds no instants, and on a fall-back day the repeated hour holds twice as many. A slot
//! is offered only when every instant of it is inside both parties' hours.
//!
//! **Midnight.** That one rule also decides slots that cross local midnight: a slot may run
//! from one local date into the next exactly when every minute of it is inside the party's
//! hours on the date that minute falls on. So a party working 00:00–24:00 on Monday and
//! Tuesday (a 24/7 desk) is offered Monday 23:30–00:30; a party whose Tuesday is not a working
//! day, or whose day ends before 24:00 or starts after 00:00, is not. A DST change at
//! midnight (Santiago, Asunción, Havana, Beirut) changes nothing: the skipped or repeated
//! minutes are read on the clock like any others.
//!
//! **Spread.** The offer is not the earliest `count` slots (fifteen-minute steps of one
//! morning) but the first free slot of each day, day after day (days on the facilitator's
//! calendar, a slot belonging to the day it starts); when the horizon holds fewer days than
//! `count`, a second round takes each day's next slot that does not overlap one already
//! offered on that day, then a third, and so on; last, if still short, the remaining free slots earliest
//! first. The offer is returned in time order.
//!
//! Decisions where the issue is silent:
//! - Candidate starts are aligned to the facilitator's wall clock (a 30-minute step gives
//!   :00 and :30 on the facilitator's clock, whatever the customer's offset).
//! - Busy intervals are widened by the buffer on both sides; a slot may touch the widened
//!   interval but not overlap it.
//! - A slot must start at or after `now + notice` and before `now + horizon`.

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::user::WorkingHours;
use crate::validation::{Checker, FieldError, ValidationErrors};

/// A time range `[start, end)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Slot {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Slot { start, end }
    }

    /// Shares at least one instant with `other` (touching ends do not overlap).
    pub fn overlaps(&self, other: &Slot) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }
}

/// Someone whose hours a slot must respect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub time_zone: Tz,
    pub hours: WorkingHours,
}

/// The knobs of a search (Settings and the "find a slot" form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SlotOptions {
    pub length_minutes: u32,
    /// How many slots to return at most.
    pub count: u32,
    /// Kept free before and after each busy interval.
    pub buffer_minutes: u32,
    /// The earliest slot starts this long after `now`.
    pub notice_minutes: u32,
    /// Candidate starts are this far apart on the facilitator's clock; divides 60.
    pub step_minutes: u32,
    /// How far ahead of `now` to look.
    pub horizon_days: u32,
}

impl Default for SlotOptions {
    fn default() -> Self {
        SlotOptions {
            length_minutes: 60,
            count: 5,
            buffer_minutes: 15,
            notice_minutes: 120,
            step_minutes: 15,
            horizon_days: 60,
        }
    }
}

impl SlotOptions {
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut c = Checker::new();
        if !(5..=8 * 60).contains(&self.length_minutes) {
            c.push(FieldError::new(
                "length_minutes",
                "must be from 5 minutes to 8 hours",
            ));
        }
        if !(1..=50).contains(&self.count) {
            c.push(FieldError::new("count", "must be from 1 to 50"));
        }
        if self.buffer_minutes > 4 * 60 {
            c.push(FieldError::new("buffer_minutes", "must be at most 4 hours"));
        }
        if self.notice_minutes > 30 * 24 * 60 {
            c.push(FieldError::new("notice_minutes", "must be at most 30 days"));
        }
        if ![5, 10, 15, 20, 30, 60].contains(&self.step_minutes) {
            c.push(FieldError::new(
                "step_minutes",
                "must be 5, 10, 15, 20, 30 or 60 minutes",
            ));
        }
        if !(1..=366).contains(&self.horizon_days) {
            c.push(FieldError::new(
                "horizon_days",
                "must be from 1 to 366 days",
            ));
        }
        c.finish()
    }
}

/// One search: whose hours, what is already booked, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotRequest {
    pub customer: Party,
    pub facilitator: Party,
    /// The facilitator's other sessions and reviews.
    pub busy: Vec<Slot>,
    pub options: SlotOptions,
    pub now: DateTime<Utc>,
}

/// Up to `options.count` free slots spread over the days (see the module doc), in time
/// order, or every refused field.
pub fn next_free_slots(req: &SlotRequest) -> Result<Vec<Slot>, ValidationErrors> {
    let mut c = Checker::new();
    let customer_hours = c.check(req.customer.hours.check("customer_working_hours"));
    let facilitator_hours = c.check(req.facilitator.hours.check("facilitator_working_hours"));
    if let Err(e) = req.options.check() {
        for f in e.0 {
            c.push(f);
        }
    }
    c.finish()?;
    let customer = Party {
        time_zone: req.customer.time_zone,
        hours: customer_hours.unwrap_or_default(),
    };
    let facilitator = Party {
        time_zone: req.facilitator.time_zone,
        hours: facilitator_hours.unwrap_or_default(),
    };
    let o = req.options;
    let count = o.count as usize;

    let length = TimeDelta::minutes(i64::from(o.length_minutes));
    let buffer = TimeDelta::minutes(i64::from(o.buffer_minutes));
    let mut blocked: Vec<Slot> = req
        .busy
        .iter()
        .filter(|b| b.start < b.end)
        .map(|b| Slot::new(b.start - buffer, b.end + buffer))
        .collect();
    blocked.sort();

    let earliest = req.now + TimeDelta::minutes(i64::from(o.notice_minutes));
    let last_start = req.now + TimeDelta::days(i64::from(o.horizon_days));
    // Every zone in use today has an offset that is a whole number of quarter hours, so a
    // UTC grid of gcd(step, 15) minutes meets every aligned start on the facilitator's clock.
    let grid = if o.step_minutes.is_multiple_of(15) {
        15
    } else {
        5
    };
    let mut t = ceil_to_grid(earliest, grid);
    // Every free slot, in time order, until `count` days have one (then the first round
    // alone fills the offer and later slots cannot be chosen).
    let mut free = Vec::new();
    let mut days = 0usize;
    let mut last_day: Option<NaiveDate> = None;
    while t < last_start && days < count {
        let slot = Slot::new(t, t + length);
        if aligned(t, facilitator.time_zone, o.step_minutes)
            && inside_hours(&slot, &facilitator)
            && inside_hours(&slot, &customer)
            && !blocked.iter().any(|b| b.overlaps(&slot))
        {
            let day = day_of(&slot, facilitator.time_zone);
            if last_day != Some(day) {
                days += 1;
                last_day = Some(day);
            }
            free.push(slot);
        }
        t += TimeDelta::minutes(grid);
    }
    Ok(spread(&free, facilitator.time_zone, count))
}

/// The facilitator's calendar day a slot belongs to: the local date of its start.
fn day_of(slot: &Slot, tz: Tz) -> NaiveDate {
    slot.start.with_timezone(&tz).date_naive()
}

/// Picks up to `count` of `free` (in time order): round after round, each day's earliest
/// slot that overlaps none already picked on that day; then whatever is left, earliest first.
fn spread(free: &[Slot], tz: Tz, count: usize) -> Vec<Slot> {
    // Per day (in order), the greedy run of non-overlapping slots: each one the first that
    // starts once the previous one has ended. Slots have one length, so that is the earliest
    // slot clear of every slot already picked on the day.
    let mut runs: Vec<Vec<usize>> = Vec::new();
    let mut last: Option<NaiveDate> = None;
    for (i, s) in free.iter().enumerate() {
        let d = day_of(s, tz);
        if last != Some(d) {
            runs.push(vec![i]);
            last = Some(d);
        } else {
            let run = runs.last_mut().expect("a day was opened");
            let prev = free[*run.last().expect("a run starts with a slot")];
            if s.start >= prev.end {
                run.push(i);
            }
        }
    }
    let mut taken = vec![false; free.len()];
    let mut picked: Vec<Slot> = Vec::new();
    let longest = runs.iter().map(Vec::len).max().unwrap_or(0);
    'rounds: for round in 0..longest {
        for run in &runs {
            if picked.len() == count {
                break 'rounds;
            }
            if let Some(&i) = run.get(round) {
                taken[i] = true;
                picked.push(free[i]);
            }
        }
    }
    for (i, s) in free.iter().enumerate() {
        if picked.len() == count {
            break;
        }
        if !taken[i] {
            picked.push(*s);
        }
    }
    picked.sort();
    picked
}

/// The first instant at or after `t` on a whole multiple of `minutes` since the epoch.
fn ceil_to_grid(t: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    let step = minutes * 60;
    let secs = t.timestamp();
    let on_grid = secs.rem_euclid(step) == 0 && t.timestamp_subsec_nanos() == 0;
    let up = secs.div_euclid(step) * step + if on_grid { 0 } else { step };
    DateTime::from_timestamp(up, 0).expect("within chrono's range")
}

/// The instant reads as a whole multiple of `step` minutes on the zone's clock.
fn aligned(t: DateTime<Utc>, tz: Tz, step: u32) -> bool {
    let local = t.with_timezone(&tz);
    local.second() == 0 && (local.hour() * 60 + local.minute()).is_multiple_of(step)
}

/// Every instant of `slot` is inside the party's working hours.
///
/// Within a stretch of constant UTC offset the wall clock runs like UTC, so a stretch is
/// inside the hours when its first instant is on a working day, at or after the day's start,
/// and the stretch ends by the day's end. A slot (at most 8 hours) crosses at most one
/// offset change; the change is found by bisection and each side is checked on its own.
pub fn inside_hours(slot: &Slot, party: &Party) -> bool {
    if slot.end <= slot.start {
        return false;
    }
    let tz = party.time_zone;
    let offset_at = |t: DateTime<Utc>| t.with_timezone(&tz).offset().fix().local_minus_utc();
    let last = slot.end - TimeDelta::seconds(1);
    if offset_at(slot.start) == offset_at(last) {
        return stretch_inside(slot.start, slot.end, party);
    }
    // Bisect for the first second with the later offset.
    let (mut lo, mut hi) = (slot.start, last);
    let later = offset_at(last);
    while hi - lo > TimeDelta::seconds(1) {
        let mid = lo + (hi - lo) / 2;
        if offset_at(mid) == later {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    stretch_inside(slot.start, hi, party) && stretch_inside(hi, slot.end, party)
}

/// Every instant of `[from, to)`, a stretch of constant offset, is inside the party's hours:
/// on the wall clock it runs like UTC, so it is walked date by date; it may pass midnight
/// only out of a day whose window ends at 24:00 into a working day whose window starts at
/// 00:00 (the module doc's midnight rule).
fn stretch_inside(from: DateTime<Utc>, to: DateTime<Utc>, party: &Party) -> bool {
    const DAY: i64 = 24 * 60 * 60;
    let local = from.with_timezone(&party.time_zone);
    let start_of_window = i64::from(party.hours.start_minute) * 60;
    let end_of_window = i64::from(party.hours.end_minute) * 60;
    let mut date = local.date_naive();
    let mut second_of_day = i64::from(local.num_seconds_from_midnight());
    let mut left = (to - from).num_seconds();
    loop {
        if !party.hours.works_on(date.weekday()) || second_of_day < start_of_window {
            return false;
        }
        if second_of_day + left <= end_of_window {
            return true;
        }
        if end_of_window < DAY {
            return false;
        }
        left -= DAY - second_of_day;
        second_of_day = 0;
        let Some(next) = date.succ_opt() else {
            return false;
        };
        date = next;
    }
}

/// Whether the reminder of a session starting at `start` should show at `now`: from
/// `minutes_before` the start until the start, once (`shown` is kept by the caller across
/// restarts). Decided: no reminder once the session has started (the app was closed).
pub fn reminder_due(
    start: DateTime<Utc>,
    minutes_before: u32,
    now: DateTime<Utc>,
    shown: bool,
) -> bool {
    !shown && now < start && start - now <= TimeDelta::minutes(i64::from(minutes_before))
}

#[cfg(test)]
mod tests;
