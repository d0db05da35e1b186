import { describe, expect, it } from "vitest";
import { addDays, dateIn, dayTimeIn, statusLabel, timeIn } from "./onboarding";

describe("onboarding times", () => {
  // Fri 27 Nov 2026, 08:00 UTC: 09:00 in Berlin (CET), 19:00 in Sydney (AEDT).
  const iso = "2026-11-27T08:00:00Z";

  it("reads one instant on each party's clock", () => {
    expect(timeIn(iso, "Europe/Berlin")).toBe("09:00");
    expect(timeIn(iso, "Australia/Sydney")).toBe("19:00");
    expect(timeIn(iso, "Asia/Kathmandu")).toBe("13:45");
    expect(dayTimeIn(iso, "Australia/Sydney")).toContain("27 Nov");
  });

  it("puts a session on the customer's calendar day", () => {
    expect(dateIn("2026-11-27T14:00:00Z", "Europe/Berlin")).toBe("2026-11-27");
    expect(dateIn("2026-11-27T14:00:00Z", "Australia/Sydney")).toBe("2026-11-28");
  });

  it("steps weeks across month ends and DST", () => {
    expect(addDays("2026-03-23", 7)).toBe("2026-03-30");
    expect(addDays("2026-11-30", -7)).toBe("2026-11-23");
  });

  it("labels every status", () => {
    expect(statusLabel("no_show")).toBe("No-show");
  });
});
