import { afterEach, describe, expect, it } from "vitest";
import {
  addDays,
  dateIn,
  formatDate,
  formatDateTime,
  formatTime,
  hhmmIn,
  profileZone,
  setClock,
  theirClock,
  zonedInstant,
} from "./time";

describe("one clock for people", () => {
  afterEach(() => setClock("UTC", false));
  // Fri 27 Nov 2026, 08:00 UTC: 09:00 in Berlin (CET), 19:00 in Sydney (AEDT).
  const iso = "2026-11-27T08:00:00Z";

  it("reads every time on the profile's clock, not the computer's", () => {
    setClock("Europe/Berlin", false);
    expect(profileZone()).toBe("Europe/Berlin");
    expect(formatTime(iso)).toBe("09:00");
    setClock("Australia/Sydney", false);
    expect(formatTime(iso)).toBe("19:00");
    expect(formatDate(iso)).toContain("27");
    expect(formatTime(iso, "Asia/Kathmandu")).toBe("13:45");
  });

  it("shows 12-hour times when the option says so, in one format everywhere", () => {
    setClock("Europe/Berlin", true);
    expect(formatTime("2026-11-27T14:30:00Z")).toMatch(/03:30\s?PM/i);
    setClock("Europe/Berlin", false);
    expect(formatTime("2026-11-27T14:30:00Z")).toBe("15:30");
    expect(formatDateTime("2026-11-27T14:30:00Z")).toBe(`${formatDate("2026-11-27T14:30:00Z")}, 15:30`);
    expect(formatTime("2026-11-27T14:30:05Z", undefined, true)).toBe("15:30:05");
    // A request's timeline: the date and the time to the second, on the profile's clock.
    expect(formatDateTime("2026-11-27T14:30:05Z", undefined, true)).toBe(
      `${formatDate("2026-11-27T14:30:05Z")}, 15:30:05`,
    );
  });

  it("puts the other party's clock beside mine, with the date when it differs", () => {
    setClock("Europe/Berlin", false);
    expect(theirClock("2026-11-27T14:00:00Z", "Europe/London")).toBe("14:00 Europe/London");
    const sydney = theirClock("2026-11-27T14:00:00Z", "Australia/Sydney");
    expect(sydney).toContain("01:00");
    expect(sydney).toContain("28");
    expect(sydney).toContain("Australia/Sydney");
  });

  it("puts an instant on each zone's calendar day", () => {
    expect(dateIn("2026-11-27T14:00:00Z", "Europe/Berlin")).toBe("2026-11-27");
    expect(dateIn("2026-11-27T14:00:00Z", "Australia/Sydney")).toBe("2026-11-28");
    expect(hhmmIn("2026-11-27T14:05:00Z", "Asia/Kolkata")).toBe("19:35");
  });

  it("reads a typed date and time on the profile's clock", () => {
    setClock("America/New_York", false);
    expect(zonedInstant("2026-11-27", "09:00")).toBe("2026-11-27T14:00:00.000Z");
    expect(zonedInstant("2026-07-01", "09:00")).toBe("2026-07-01T13:00:00.000Z");
    // 02:30 does not exist on 8 Mar 2026 in New York: read as 03:30 EDT.
    expect(zonedInstant("2026-03-08", "02:30")).toBe("2026-03-08T07:30:00.000Z");
    expect(zonedInstant("2026-02-30", "09:00")).toBeNull();
    expect(zonedInstant("", "09:00")).toBeNull();
    expect(zonedInstant("2026-11-27", "25:00")).toBeNull();
  });

  it("steps days across month ends and DST", () => {
    expect(addDays("2026-03-23", 7)).toBe("2026-03-30");
    expect(addDays("2026-11-30", -7)).toBe("2026-11-23");
  });
});
