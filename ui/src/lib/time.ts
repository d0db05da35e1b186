// The one clock for people: every date and time the UI shows, and every date a user
// types, goes through this module.
//
// - Times read on the profile's clock (its IANA zone), never the computer's: `setClock`
//   is called with the profile when the app starts and whenever the profile changes.
// - One date format ("Wed, 2 Dec 2026" in the locale's words and order) and one time
//   format (the locale's, 24-hour or 12-hour by the Settings option, 24-hour until set),
//   everywhere.
// - Where a screen is about someone else (a customer), their local time goes beside mine
//   with `theirClock`.
// - A date (and time) typed into a form is read on the profile's clock: `zonedInstant`.

import type { Weekday, WorkingHours } from "../bindings";
import { WEEKDAYS } from "./labels";

type Clock = { timeZone: string; hour12: boolean };

const clock: Clock = { timeZone: "UTC", hour12: false };

function validZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Sets whose clock the UI reads: the profile's zone, and 12-hour or 24-hour times. */
export function setClock(timeZone: string, hour12: boolean): void {
  clock.timeZone = validZone(timeZone) ? timeZone : "UTC";
  clock.hour12 = hour12;
}

/** The profile's zone (the clock every time is shown on). */
export function profileZone(): string {
  return clock.timeZone;
}

/** Whether times show on a 12-hour clock. */
export function uses12h(): boolean {
  return clock.hour12;
}

// The 24/12-hour option is a display preference of this desktop, kept per profile.
const HOUR12_KEY = "rapport.clock.hour12.";

/** The stored 24/12-hour option of profile `userId` (24-hour until set: the team reads
 * times across zones, where a 24-hour clock leaves no AM/PM to misread). */
export function storedHour12(userId: string): boolean {
  try {
    const v = localStorage.getItem(HOUR12_KEY + userId);
    if (v === "12") return true;
    if (v === "24") return false;
  } catch {
    // No storage: the default.
  }
  return false;
}

export function storeHour12(userId: string, hour12: boolean): void {
  try {
    localStorage.setItem(HOUR12_KEY + userId, hour12 ? "12" : "24");
  } catch {
    // No storage: the choice holds for this session.
  }
}

function zoneOr(tz: string | undefined): string {
  return tz !== undefined && validZone(tz) ? tz : clock.timeZone;
}

function parse(iso: string): Date | null {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? null : t;
}

const DATE_OPTIONS: Intl.DateTimeFormatOptions = {
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
};

function timeOptions(seconds: boolean): Intl.DateTimeFormatOptions {
  return {
    hour: "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}),
    ...(clock.hour12 ? { hour12: true } : { hourCycle: "h23" }),
  };
}

/** The date of an instant on the clock of `tz` (the profile's by default). */
export function formatDate(iso: string, tz?: string): string {
  const t = parse(iso);
  if (t === null) return iso;
  return new Intl.DateTimeFormat(undefined, { ...DATE_OPTIONS, timeZone: zoneOr(tz) }).format(t);
}

/** A calendar day ("2026-12-02") in the one date format. */
export function formatDay(day: string): string {
  const t = parse(`${day}T12:00:00Z`);
  if (t === null) return day;
  return new Intl.DateTimeFormat(undefined, { ...DATE_OPTIONS, timeZone: "UTC" }).format(t);
}

/** The time of an instant on the clock of `tz` (the profile's by default). */
export function formatTime(iso: string, tz?: string, seconds = false): string {
  const t = parse(iso);
  if (t === null) return iso;
  return new Intl.DateTimeFormat(undefined, { ...timeOptions(seconds), timeZone: zoneOr(tz) }).format(t);
}

/** Date and time of an instant on the clock of `tz` (the profile's by default). */
export function formatDateTime(iso: string, tz?: string, seconds = false): string {
  const t = parse(iso);
  if (t === null) return iso;
  return `${formatDate(iso, tz)}, ${formatTime(iso, tz, seconds)}`;
}

/** The exact date and time on my clock (tooltips, "last saved", timelines). */
export function formatExact(iso: string): string {
  return formatDateTime(iso);
}

/** Someone else's clock beside mine: "Thu, 3 Dec 2026, 07:00 Australia/Sydney" (the date
 * left out when it is the same day there as here). */
export function theirClock(iso: string, tz: string): string {
  const zone = zoneOr(tz);
  const sameDay = dateIn(iso, zone) === dateIn(iso, clock.timeZone);
  return sameDay ? `${formatTime(iso, zone)} ${zone}` : `${formatDateTime(iso, zone)} ${zone}`;
}

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", else the date. */
export function formatWhen(iso: string, now: Date): string {
  const t = parse(iso);
  if (t === null) return iso;
  const s = Math.round((now.getTime() - t.getTime()) / 1000);
  if (s < 45) return "just now";
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  if (d === 1) return "yesterday";
  if (d < 7) return `${d} days ago`;
  return formatDate(iso);
}

type Parts = { year: number; month: number; day: number; hour: number; minute: number; second: number };

function partsIn(t: Date, tz: string): Parts {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(t);
  const part = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    year: part("year"),
    month: part("month"),
    day: part("day"),
    hour: part("hour"),
    minute: part("minute"),
    second: part("second"),
  };
}

/** "2026-11-27": the calendar day of an instant on the clock of `tz` (the profile's by
 * default), e.g. for a date field's value. */
export function dateIn(iso: string, tz?: string): string {
  const t = parse(iso);
  if (t === null) return "";
  const p = partsIn(t, zoneOr(tz));
  return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

/** "09:05": the wall time of an instant on the clock of `tz` (the profile's by default),
 * for a time field's value. */
export function hhmmIn(iso: string, tz?: string): string {
  const t = parse(iso);
  if (t === null) return "";
  const p = partsIn(t, zoneOr(tz));
  return `${String(p.hour % 24).padStart(2, "0")}:${String(p.minute).padStart(2, "0")}`;
}

/** Today's date on the profile's clock. */
export function todayIn(tz?: string): string {
  return dateIn(new Date().toISOString(), tz);
}

/** "2026-11-27" ± days. */
export function addDays(day: string, days: number): string {
  const t = new Date(`${day}T12:00:00Z`);
  t.setUTCDate(t.getUTCDate() + days);
  return t.toISOString().slice(0, 10);
}

/** The instant a user means by `day` ("YYYY-MM-DD") at `hhmm` ("HH:MM") on the clock of
 * `tz` (the profile's by default), or null when either is not a real date or time. A
 * wall time a DST change skips reads as the same time after the change. */
export function zonedInstant(day: string, hhmm: string, tz?: string): string | null {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day.trim());
  const minutes = hhmmToMinutes(hhmm);
  if (d === null || minutes === null || minutes >= 1440) return null;
  const [y, mo, da] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const check = new Date(Date.UTC(y, mo - 1, da));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== da) return null;
  const zone = zoneOr(tz);
  const wall = Date.UTC(y, mo - 1, da, Math.floor(minutes / 60), minutes % 60);
  const offsetAt = (ms: number): number => {
    const p = partsIn(new Date(ms), zone);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second) - ms;
  };
  // The candidates of the two offsets around the wall time: one that reads back as the
  // wall time is it (the earlier of two in a repeated hour); none does in a skipped hour,
  // then the later one (the same time after the change).
  const a = wall - offsetAt(wall);
  const b = wall - offsetAt(a);
  const reads = (t: number): boolean => t + offsetAt(t) === wall;
  const fits = [a, b].filter(reads);
  const t = fits.length > 0 ? Math.min(...fits) : Math.max(a, b);
  return new Date(t).toISOString();
}

/** The working-hours fields as the profile takes them (days in week order), or null when
 * a time is not HH:MM. */
export function workingHours(days: Weekday[], start: string, end: string): WorkingHours | null {
  const s = hhmmToMinutes(start);
  const e = hhmmToMinutes(end);
  if (s === null || e === null) return null;
  return { days: WEEKDAYS.filter((d) => days.includes(d)), start_minute: s, end_minute: e };
}

/** The error shown when [`workingHours`] refuses the times. */
export const HOURS_FORMAT_ERROR = "Working hours: enter times as HH:MM, e.g. 09:00";

/** 540 → "09:00". */
export function minutesToHhmm(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}

/** "09:00" → 540; "24:00" → 1440; anything else → null. */
export function hhmmToMinutes(text: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (m === null) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return null;
  return h * 60 + min;
}
