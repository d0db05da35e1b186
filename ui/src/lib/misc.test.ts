import { describe, expect, it } from "vitest";
import { parseList } from "./form";
import { fieldLabel } from "./labels";
import { ariaSort, toggleSort } from "./sort";
import { formatWhen, hhmmToMinutes, minutesToHhmm, workingHours } from "./time";
import { filterZones } from "./timezones";

describe("toggleSort", () => {
  it("flips the direction of the sorted column and starts another ascending", () => {
    const s = { sort: "name" as const, descending: false };
    expect(toggleSort(s, "name")).toEqual({ sort: "name", descending: true });
    expect(toggleSort({ sort: "name", descending: true }, "name")).toEqual({ sort: "name", descending: false });
    expect(toggleSort(s, "plan")).toEqual({ sort: "plan", descending: false });
  });
  it("starts Updated with the newest first", () => {
    expect(toggleSort({ sort: "name", descending: false }, "updated_at")).toEqual({ sort: "updated_at", descending: true });
  });
  it("reports aria-sort for headers", () => {
    expect(ariaSort({ sort: "name", descending: true }, "name")).toBe("descending");
    expect(ariaSort({ sort: "name", descending: true }, "stage")).toBe("none");
  });
});

describe("time", () => {
  it("converts working hours both ways", () => {
    expect(minutesToHhmm(540)).toBe("09:00");
    expect(minutesToHhmm(1020)).toBe("17:00");
    expect(hhmmToMinutes("09:30")).toBe(570);
    expect(hhmmToMinutes("24:00")).toBe(1440);
    expect(hhmmToMinutes("24:30")).toBeNull();
    expect(hhmmToMinutes("9h")).toBeNull();
  });
  it("says how long ago", () => {
    const now = new Date("2026-03-10T12:00:00Z");
    expect(formatWhen("2026-03-10T11:59:50Z", now)).toBe("just now");
    expect(formatWhen("2026-03-10T11:55:00Z", now)).toBe("5 min ago");
    expect(formatWhen("2026-03-10T09:00:00Z", now)).toBe("3 h ago");
    expect(formatWhen("2026-03-09T12:00:00Z", now)).toBe("yesterday");
    expect(formatWhen("not a date", now)).toBe("not a date");
  });
});

describe("filterZones", () => {
  const zones = ["America/New_York", "Australia/Sydney", "Europe/Berlin", "Pacific/Auckland", "UTC"];
  it("finds zones by any part, segment starts first", () => {
    expect(filterZones(zones, "syd", 10)).toEqual(["Australia/Sydney"]);
    expect(filterZones(zones, "new york", 10)).toEqual(["America/New_York"]);
    expect(filterZones(zones, "land", 10)).toEqual(["Pacific/Auckland"]);
    expect(filterZones(zones, "a", 2)).toHaveLength(2);
  });
  it("lists the first zones for an empty query", () => {
    expect(filterZones(zones, " ", 3)).toEqual(zones.slice(0, 3));
  });
});

describe("parseList and fieldLabel", () => {
  it("splits comma lists and drops blanks", () => {
    expect(parseList(" acme.com, ,acme.io\nx ")).toEqual(["acme.com", "acme.io", "x"]);
    expect(parseList("")).toEqual([]);
  });
  it("labels Rust field names", () => {
    expect(fieldLabel("slack_channel")).toBe("Slack channel");
    expect(fieldLabel("some_new_field")).toBe("Some new field");
  });
  it("names an item of a list as the form numbers it", () => {
    expect(fieldLabel("follow_ups.1.owner")).toBe("Follow-up 2: owner");
    expect(fieldLabel("action_items.0.due")).toBe("Action item 1: due date");
    expect(fieldLabel("impact.end")).toBe("Impact: end");
    expect(fieldLabel("weights.sla_misses")).toBe("Weights: SLA misses");
    expect(fieldLabel("agenda.3")).toBe("Agenda item 4");
  });
});

describe("workingHours", () => {
  it("keeps the week's order and reads HH:MM", () => {
    expect(workingHours(["fri", "mon"], "07:30", "19:00")).toEqual({
      days: ["mon", "fri"],
      start_minute: 450,
      end_minute: 1140,
    });
  });
  it("refuses a time that is not HH:MM", () => {
    expect(workingHours(["mon"], "7", "19:00")).toBeNull();
  });
});
