import { describe, expect, it } from "vitest";
import { timeAxis } from "./chartAxis";
import { dateIn, hhmmIn } from "./time";

const at = (iso: string): number => Date.parse(iso) / 1000;
const DAY = 86_400;
const berlin = { tz: "Europe/Berlin", width: 560, locale: "en-GB" };
const iso = (s: number): string => new Date(s * 1000).toISOString();

describe("timeAxis", () => {
  it("keeps a single point within a week, labelled in days", () => {
    const a = timeAxis([at("2026-12-02T09:00:00Z")], berlin)!;
    expect(a.unit).toBe("day");
    expect(a.max - a.min).toBeLessThanOrEqual(8 * DAY);
    expect(a.min).toBeLessThan(at("2026-12-02T09:00:00Z"));
    expect(a.max).toBeGreaterThan(at("2026-12-02T09:00:00Z"));
    expect(a.labels).toContain("2 Dec");
    expect(a.labels.every((l) => /^\d{1,2} [A-Z][a-z]+$/.test(l))).toBe(true);
  });

  it("labels a 30-day trend in days, at local midnights, as many as fit", () => {
    const xs = Array.from({ length: 31 }, (_, i) => at("2026-03-15T10:00:00Z") + i * DAY);
    const a = timeAxis(xs, berlin)!;
    expect(a.unit).toBe("day");
    expect(a.splits.length).toBeGreaterThanOrEqual(4);
    expect(a.splits.length).toBeLessThanOrEqual(Math.floor(560 / 64));
    // Across Berlin's spring-forward (29 March) every label is still a local midnight.
    expect(a.splits.every((s) => hhmmIn(iso(s), "Europe/Berlin") === "00:00")).toBe(true);
    expect(new Set(a.labels).size).toBe(a.labels.length);
    expect(a.splits.every((s) => s >= a.min && s <= a.max)).toBe(true);
  });

  it("counts months once the spread passes two months", () => {
    const xs = [at("2025-10-01T08:00:00Z"), at("2026-12-01T08:00:00Z")];
    const a = timeAxis(xs, berlin)!;
    expect(a.unit).toBe("month");
    expect(a.labels.every((l) => /^[A-Z][a-z]+ \d{4}$/.test(l))).toBe(true);
    expect(a.splits.every((s) => dateIn(iso(s), "Europe/Berlin").endsWith("-01"))).toBe(true);
    expect(a.splits.length).toBeLessThanOrEqual(Math.floor(560 / 76));
    expect(a.max - a.min).toBeLessThan(460 * DAY);
  });

  it("a lone month of the SLA report spans a quarter, not years", () => {
    const a = timeAxis([Date.UTC(2026, 11, 1) / 1000], { tz: "UTC", width: 700, unit: "month", locale: "en-GB" })!;
    expect(a.unit).toBe("month");
    expect(a.max - a.min).toBeLessThan(100 * DAY);
    expect(a.labels).toContain("Dec 2026");
  });

  it("keeps room at both ends for half a label, and answers null without points", () => {
    const a = timeAxis([at("2026-12-02T09:00:00Z")], { ...berlin, width: 320 })!;
    expect(a.edge).toBeGreaterThanOrEqual(32);
    expect(a.splits.length).toBeLessThanOrEqual(5);
    expect(timeAxis([], berlin)).toBeNull();
    expect(timeAxis([Number.NaN], berlin)).toBeNull();
  });
});
