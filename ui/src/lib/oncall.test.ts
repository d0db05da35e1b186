import { describe, expect, it } from "vitest";
import { dismissPage, handoffTime, oncall, personName, reasonLabel, receivePage } from "./oncall.svelte";
import type { OnCallPage, OnCallPerson } from "../bindings";

const people: OnCallPerson[] = [{ user_id: "0190-aaaa", name: "Lea Kim", role: "support_lead" }];

function page(requestId: string, at: string): OnCallPage {
  return {
    request_id: requestId,
    account_id: "acc",
    account_name: "Acme",
    title: "Checkout down",
    severity: "p1",
    first_paged_at: at,
    last_paged_at: at,
    pages: 1,
    paged_me: true,
  };
}

describe("on call in words", () => {
  it("names why someone is on call, and whom they cover for", () => {
    expect(reasonLabel("follow_the_sun", null, people)).toBe("working hours");
    expect(reasonLabel("rotation", null, people)).toBe("rotation");
    expect(reasonLabel("override", "0190-aaaa", people)).toBe("covering for Lea Kim");
    expect(personName(people, "0190-bbbb-cccc")).toBe("someone (0190-bbb)");
  });

  it("writes the handoff minute as HH:MM", () => {
    expect(handoffTime(0)).toBe("00:00");
    expect(handoffTime(1200)).toBe("20:00");
    expect(handoffTime(485)).toBe("08:05");
  });

  it("keeps one alert per request, the latest page", () => {
    const before = oncall.version;
    receivePage(page("r1", "2026-12-02T10:00:00Z"));
    receivePage(page("r1", "2026-12-02T10:05:00Z"));
    receivePage(page("r2", "2026-12-02T10:06:00Z"));
    expect(oncall.alerts.map((p) => [p.request_id, p.last_paged_at])).toEqual([
      ["r1", "2026-12-02T10:05:00Z"],
      ["r2", "2026-12-02T10:06:00Z"],
    ]);
    expect(oncall.version).toBe(before + 3);
    dismissPage("r1");
    expect(oncall.alerts.map((p) => p.request_id)).toEqual(["r2"]);
  });
});
