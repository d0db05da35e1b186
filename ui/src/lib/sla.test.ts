import { describe, expect, it } from "vitest";
import { describeClock, liveClock } from "./sla";
import type { SlaClock } from "../bindings";

const opened = "2026-11-26T09:00:00Z";
const base: SlaClock = {
  severity: "p1",
  opened_at: opened,
  state: "on_track",
  due_at: "2026-11-26T09:30:00Z",
  target_secs: 1800,
  stopped_at: null,
  // The domain says: at risk from 09:22:30 on (under 25 % of 30 min left).
  at_risk_at: "2026-11-26T09:22:30Z",
  remaining_secs: 1800,
  elapsed_secs: 0,
};
const at = (min: number, sec = 0): number => Date.parse(opened) + (min * 60 + sec) * 1000;

describe("liveClock", () => {
  it("ticks from the domain's instants: at risk after at_risk_at, breached past due", () => {
    expect(liveClock(base, at(0)).state).toBe("on_track");
    expect(liveClock(base, at(22, 30)).state).toBe("on_track"); // exactly 25 % left
    expect(liveClock(base, at(22, 31)).state).toBe("at_risk");
    expect(liveClock(base, at(30)).state).toBe("at_risk"); // at the due instant, 0 left
    expect(liveClock(base, at(30, 1)).state).toBe("breached");
    expect(describeClock(liveClock(base, at(0, 1)))).toBe("29:59 left");
    expect(describeClock(liveClock(base, at(95)))).toBe("1:05:00 late");
  });
  it("a stopped clock does not move; no SLA counts elapsed time", () => {
    const met = { ...base, state: "met" as const, stopped_at: "2026-11-26T09:12:00Z", at_risk_at: null, elapsed_secs: 720, remaining_secs: 1080 };
    expect(liveClock(met, at(500)).state).toBe("met");
    expect(describeClock(liveClock(met, at(500)))).toBe("answered in 12:00");
    const none = { ...base, state: null, due_at: null, target_secs: null, at_risk_at: null, remaining_secs: null };
    expect(describeClock(liveClock(none, at(61)))).toBe("open 1:01:00");
  });
});
