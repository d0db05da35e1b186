// What the onboarding screens show: status words, times on a given zone's clock, and the
// clipboard.
import type { OnboardingStatus } from "../bindings";

export const STATUSES: readonly OnboardingStatus[] = [
  "planned",
  "scheduled",
  "completed",
  "no_show",
  "cancelled",
];

export function statusLabel(s: OnboardingStatus): string {
  switch (s) {
    case "planned":
      return "Planned";
    case "scheduled":
      return "Scheduled";
    case "completed":
      return "Completed";
    case "cancelled":
      return "Cancelled";
    case "no_show":
      return "No-show";
  }
}

/** "Fri 27 Nov, 09:00" on the clock of `tz`. */
export function dayTimeIn(iso: string, tz: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: tz,
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).format(t);
  } catch {
    return t.toISOString();
  }
}

/** "09:00" on the clock of `tz`. */
export function timeIn(iso: string, tz: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: tz,
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).format(t);
  } catch {
    return t.toISOString();
  }
}

/** "2026-11-27" on the clock of `tz` (from the parts: engines differ in how a locale
 * writes a date). */
export function dateIn(iso: string, tz: string): string {
  const t = new Date(iso);
  try {
    const parts = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).formatToParts(t);
    const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? "";
    return `${part("year")}-${part("month")}-${part("day")}`;
  } catch {
    return t.toISOString().slice(0, 10);
  }
}

/** "2026-11-27" ± days. */
export function addDays(day: string, days: number): string {
  const t = new Date(`${day}T12:00:00Z`);
  t.setUTCDate(t.getUTCDate() + days);
  return t.toISOString().slice(0, 10);
}

/** Puts `text` on the clipboard: the async clipboard API, else a selected text area. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // Fall through: older engines, or no permission.
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("the clipboard is not available");
}
