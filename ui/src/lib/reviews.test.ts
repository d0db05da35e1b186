import { describe, expect, it } from "vitest";
import { columnBesideState } from "./reviews";

describe("columnBesideState", () => {
  it("shows the state once: the column only when it says something else", () => {
    expect(columnBesideState("scheduled", "scheduled")).toBeNull();
    expect(columnBesideState("requested", "requested")).toBeNull();
    expect(columnBesideState("completed", "done")).toBeNull();
    expect(columnBesideState("not_requested", "due")).toBeNull();
    expect(columnBesideState(null, "due")).toBeNull();
  });

  it("keeps the column when it is news", () => {
    expect(columnBesideState("requested", "overdue")).toBe("Overdue");
    expect(columnBesideState("no_show", "overdue")).toBe("Overdue");
    expect(columnBesideState("declined", "done")).toBe("Done");
    expect(columnBesideState("no_show", "requested")).toBe("Requested");
  });
});
