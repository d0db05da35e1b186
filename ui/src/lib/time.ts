// Times as the forms and lists show them.

import type { Weekday, WorkingHours } from "../bindings";
import { WEEKDAYS } from "./labels";

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

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", else the date. */
export function formatWhen(iso: string, now: Date): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const s = Math.round((now.getTime() - t.getTime()) / 1000);
  if (s < 45) return "just now";
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  if (d === 1) return "yesterday";
  if (d < 7) return `${d} days ago`;
  return t.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/** The local date and time of an instant, for tooltips. */
export function formatExact(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return t.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
