import { describe, expect, it } from "vitest";
import { accountFormStart, contactFormStart, fieldLabel, noteEditorStart, noteResend, resendFields } from "./attention";
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
