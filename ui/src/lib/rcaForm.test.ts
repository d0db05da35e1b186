import { afterEach, describe, expect, it } from "vitest";
import { rcaFormInput, rcaFormValue } from "./rcaForm";
import { setClock } from "./time";

describe("the RCA form's values", () => {
  afterEach(() => setClock("UTC", false));
  const rca = {
    summary: "Checkout down",
    impact: { start: "2026-11-27T08:00:00Z", end: "2026-11-27T09:30:00Z", affected: "EU shoppers" },
    timeline: [{ at: "2026-11-27T08:00:00Z", who: "Acme (customer)", what: "opened" }],
    root_cause: "Disk full",
    contributing_factors: "",
    resolution: "Rotated logs",
    action_items: [],
  };

  it("show the impact window on my profile's clock and save it back", () => {
    setClock("Europe/Berlin", false);
    const v = rcaFormValue(rca);
    expect([v.start, v.end]).toEqual(["2026-11-27T09:00", "2026-11-27T10:30"]);
    const back = rcaFormInput(v);
    if ("field" in back) throw new Error(back.text);
    expect([Date.parse(back.impact.start), Date.parse(back.impact.end ?? "")]).toEqual([
      Date.parse(rca.impact.start),
      Date.parse(rca.impact.end),
    ]);
    expect({ ...back, impact: rca.impact }).toEqual(rca);
  });

  it("refuse an impact without a start, by field, and keep no end as none", () => {
    const v = { ...rcaFormValue(rca), start: "" };
    expect(rcaFormInput(v)).toEqual({ field: "impact.start", text: "Impact start: enter a date and time" });
    const open = rcaFormInput({ ...rcaFormValue(rca), end: "" });
    expect("field" in open ? null : open.impact.end).toBeNull();
  });

  it("give the form copies", () => {
    const v = rcaFormValue({ ...rca, action_items: [{ id: "a", title: "Alert on disk", owner: "Bo", due: "2026-12-10", status: "open" }] });
    v.timeline[0]!.who = "Someone";
    expect(rca.timeline[0]!.who).toBe("Acme (customer)");
  });
});
