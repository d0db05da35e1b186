import { describe, expect, it } from "vitest";
import {
  BLANK_HEALTH_CHECK,
  BLANK_RCA,
  BLANK_REQUEST,
  BLANK_SESSION,
  accountFormStart,
  contactFormStart,
  fieldLabel,
  fieldText,
  formStart,
  noteEditorStart,
  noteResend,
  refusedCreate,
  requestControlResend,
  requestControlsStart,
  resendFields,
} from "./attention";
import type { AccountInput } from "../bindings";

const current: AccountInput = {
  name: "Acme",
  plan: "standard",
  time_zone: "Europe/Berlin",
  fiscal_year_start_month: 4,
  owner_csm_id: null,
  account_rep_id: null,
  slack_channel: null,
  support_email_domains: ["acme.com"],
  stage: "active",
  tags: ["eu"],
};

describe("accountFormStart", () => {
  it("shows the refused values over the record as the cache holds it", () => {
    const start = accountFormStart(current, { name: "Acme GmbH", team_id: "t-1" });
    expect(start.name).toBe("Acme GmbH");
    expect(start.fiscal_year_start_month).toBe(4);
    expect(start).not.toHaveProperty("team_id");
  });

  it("starts a refused create from its own fields", () => {
    const start = accountFormStart(null, { name: "Newco", plan: "standard", tags: ["x"] });
    expect([start.name, start.plan, start.tags]).toEqual(["Newco", "standard", ["x"]]);
    expect(start.support_email_domains).toEqual([]);
  });
});

describe("resendFields", () => {
  it("sends the refused fields with the form's values, and what else the user changed", () => {
    const form = { ...current, name: "Acme AG", tags: ["eu", "vip"] };
    expect(resendFields(form, { ...current }, { name: "Acme GmbH", team_id: "t-1" })).toEqual({
      name: "Acme AG",
      team_id: "t-1",
      tags: ["eu", "vip"],
    });
  });

  it("sends the whole form for a record the cache does not hold", () => {
    const form = { ...current };
    expect(resendFields(form, null, { team_id: "t-1" })).toEqual({ ...current, team_id: "t-1" });
  });

  it("labels wire names as people read them", () => {
    expect(fieldLabel("support_email_domains")).toBe("Support email domains");
    expect(fieldLabel("owner_csm_id")).toBe("Owner csm");
  });
});

describe("contactFormStart", () => {
  it("shows a refused contact change over the contact, and only the form's fields", () => {
    const current = { name: "Ana", email: "ana@acme.com", role: "CTO", time_zone: null };
    expect(contactFormStart(current, { email: "ana@acme", account_id: "a-1" })).toEqual({
      name: "Ana",
      email: "ana@acme",
      role: "CTO",
      time_zone: null,
    });
    expect(contactFormStart(null, { name: "Bo", email: "bo@acme.com" }).role).toBe("");
  });
});

describe("note edits", () => {
  it("opens the note editor on the refused body, and not for a pin", () => {
    expect(noteEditorStart({ body: "Call **Ana** on Monday", account_id: "a-1" })).toBe("Call **Ana** on Monday");
    expect(noteEditorStart({ body: "" })).toBe("");
    expect(noteEditorStart({ pinned: true })).toBeNull();
    expect(noteEditorStart({ body: null })).toBeNull();
  });

  it("sends the refused fields again with the editor's body", () => {
    const refused = { account_id: "a-1", author_id: "u-1", body: "draft", pinned: true, link: null };
    expect(noteResend(refused, "final")).toEqual({ ...refused, body: "final" });
    expect(noteResend({ body: "draft" }, "final")).toEqual({ body: "final" });
    expect(refused.body).toBe("draft");
  });
});

describe("formStart", () => {
  const blank = { outcome: "", meeting_link: null as string | null, attendee_ids: [] as string[] };

  it("takes the form's fields of the record, the refused ones over them", () => {
    const current = { id: "s-1", outcome: "Went well", meeting_link: "https://meet.jit.si/a", attendee_ids: ["c-1"], sequence: 2 };
    const start = formStart(blank, current, { outcome: "Went very well", updated_at: "2026-12-01T10:00:00Z" });
    expect(start).toEqual({ outcome: "Went very well", meeting_link: "https://meet.jit.si/a", attendee_ids: ["c-1"] });
  });

  it("starts a refused create from its fields and the blanks", () => {
    expect(formStart(blank, null, { attendee_ids: ["c-2"], account_id: "a-1" })).toEqual({
      outcome: "",
      meeting_link: null,
      attendee_ids: ["c-2"],
    });
  });

  it("gives the form copies, so editing it leaves the record and the refused write alone", () => {
    const current = { ...blank, attendee_ids: ["c-1"] };
    const refused = { agenda: [{ title: "SLA table", done: false }] };
    const start = formStart({ ...blank, agenda: [] as { title: string; done: boolean }[] }, current, refused);
    start.attendee_ids.push("c-9");
    start.agenda[0]!.done = true;
    expect(current.attendee_ids).toEqual(["c-1"]);
    expect(refused.agenda[0]!.done).toBe(false);
  });

  it("with resendFields, sends a refused session change again with the form's values", () => {
    const current = { ...BLANK_SESSION, outcome: "Went well", meeting_link: "https://meet.jit.si/a", sequence: 1 };
    const refused = { outcome: "Went very well", updated_at: "2026-12-01T10:00:00Z" };
    const form = { ...formStart(BLANK_SESSION, current, refused), outcome: "Went very well: SLA agreed", follow_ups: [] };
    expect(resendFields(form, current, refused)).toEqual({
      outcome: "Went very well: SLA agreed",
      updated_at: "2026-12-01T10:00:00Z",
    });
  });
});

describe("request controls", () => {
  const row = { status: "open" as const, severity: "p3" as const, needs_triage: false, assignee_id: null };

  it("start from the request with the refused status, severity or assignee over it", () => {
    expect(requestControlsStart(row, { severity: "p1", updated_at: "x" })).toEqual({ ...row, severity: "p1" });
    expect(requestControlsStart(row, { assignee_id: "u-2" })?.assignee_id).toBe("u-2");
    expect(requestControlsStart(null, { severity: "p1" })).toBeNull();
  });

  it("send the refused fields again with the control's value", () => {
    const refused = { severity: "p1", needs_triage: false, title: "Down" };
    expect(requestControlResend(refused, { severity: "p2" })).toEqual({ severity: "p2", needs_triage: false, title: "Down" });
    expect(requestControlResend({ assignee_id: "u-9" }, { assignee_id: null })).toEqual({ assignee_id: null });
  });

  it("start New request's form of a refused create from its fields", () => {
    const refused = { account_id: "a-1", contact_id: null, severity: "p2", title: "Checkout down", channel: "chat" };
    expect(formStart(BLANK_REQUEST, null, refused)).toEqual({ account_id: "a-1", contact_id: null, severity: "p2", title: "Checkout down" });
  });

  it("start the review's health check and the RCA from their records", () => {
    const review = { id: "r-1", state: "scheduled", checklist: [], findings: "Fine", action_items: [], sentiment: 4 };
    expect(formStart(BLANK_HEALTH_CHECK, review, { sentiment: 2 })).toEqual({ checklist: [], findings: "Fine", action_items: [], sentiment: 2 });
    const rca = { ...BLANK_RCA, summary: "Disk full", state: "draft", title: "Outage" };
    expect(formStart(BLANK_RCA, rca, { root_cause: "No alert" })).toEqual({ ...BLANK_RCA, summary: "Disk full", root_cause: "No alert" });
  });
});

describe("fieldText", () => {
  it("reads refused values as words, never as JSON", () => {
    expect(fieldText(null)).toBe("—");
    expect(fieldText(["acme.com", "acme.de"])).toBe("acme.com, acme.de");
    expect(fieldText([{ title: "SLA table", done: true }, { title: "Slack channel", done: false }])).toBe("SLA table ✓, Slack channel");
    expect(fieldText([])).toBe("(none)");
    expect(fieldText({ start: "x" })).toBe("(set)");
    expect(fieldText(3)).toBe("3");
  });
});

describe("formStart's blanks", () => {
  it("are copies too, so one form's edit never reaches the next form", () => {
    const start = formStart(BLANK_HEALTH_CHECK, null, {});
    start.action_items.push({ id: "a", title: "t", owner: "o", due: "2026-12-10", status: "open" });
    expect(BLANK_HEALTH_CHECK.action_items).toEqual([]);
  });
});

describe("refusedCreate", () => {
  it("tells a refused create, which carries its whole record, from a change", () => {
    expect(refusedCreate("request", { account_id: "a", title: "Down", opened_at: "2026-12-01T10:00:00Z" })).toBe(true);
    expect(refusedCreate("request", { assignee_id: "u-1" })).toBe(false);
    expect(refusedCreate("onboarding_session", { outcome: "x" })).toBe(false);
    expect(refusedCreate("rca", { impact: { start: "x", end: null, affected: "" }, summary: "" })).toBe(true);
    expect(refusedCreate("request_event", { kind: {} })).toBe(false);
  });
});
