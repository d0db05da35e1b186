import { describe, expect, it } from "vitest";
import { customerLabel, mailboxState, managesIntake, seesUnmatched } from "./intake";

describe("intake", () => {
  it("shows the Unmatched queue to support leads and admins only", () => {
    expect(seesUnmatched("support_lead")).toBe(true);
    expect(seesUnmatched("admin")).toBe(true);
    expect(seesUnmatched("csm")).toBe(false);
    expect(seesUnmatched("account_rep")).toBe(false);
  });
  it("shows Settings → Intake to admins only", () => {
    expect(managesIntake("admin")).toBe(true);
    expect(managesIntake("support_lead")).toBe(false);
  });
  it("says whether a mailbox is connected", () => {
    expect(mailboxState({ state: "idle" })).toEqual({ label: "Connected, idle (waiting for mail)", connected: true });
    expect(mailboxState({ state: "importing" }).connected).toBe(true);
    expect(mailboxState({ state: "disconnected" }).connected).toBe(false);
    expect(mailboxState({ state: "connecting" }).connected).toBe(false);
    expect(mailboxState({ state: "something new" })).toEqual({ label: "something new", connected: false });
  });
  it("names the customer", () => {
    expect(customerLabel("Ops Team", "ops@x.example")).toBe("Ops Team <ops@x.example>");
    expect(customerLabel(null, "ops@x.example")).toBe("ops@x.example");
    expect(customerLabel("  ", "ops@x.example")).toBe("ops@x.example");
  });
});
