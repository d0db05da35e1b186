import { describe, expect, it } from "vitest";
import { CommandError, describeError, formErrors, reasonOf, toIpcError } from "./errors";

describe("toIpcError", () => {
  it("keeps an IpcError as the shell sent it", () => {
    const e = { code: "invalid_input", message: "email: \"x\" is not an email address", field: "email" };
    expect(toIpcError(e)).toEqual(e);
  });
  it("turns other rejections into a storage error with their text", () => {
    expect(toIpcError("boom")).toEqual({ code: "storage", message: "boom", field: null });
    expect(toIpcError(new Error("bad"))).toEqual({ code: "storage", message: "bad", field: null });
    expect(toIpcError(42).code).toBe("storage");
  });
  it("never shows the IPC layer's text about unreadable arguments", () => {
    const raw = "invalid args `input` for command `onboarding_session_update`: premature end of input";
    const e = toIpcError(raw);
    expect(e.code).toBe("invalid_input");
    expect(describeError(e)).not.toMatch(/invalid args|command|premature|`/);
    expect(describeError(toIpcError(new Error("invalid type: string \"\", expected a date")))).not.toMatch(/invalid type/);
  });
  it("unwraps a CommandError", () => {
    const ipc = { code: "not_found" as const, message: "no such account", field: null };
    expect(toIpcError(new CommandError(ipc))).toBe(ipc);
  });
});

describe("describeError", () => {
  it("names the field by its label, then the reason", () => {
    const e = {
      code: "invalid_input" as const,
      message: "slack_channel: \"https://x.com\" is not a Slack link",
      field: "slack_channel",
    };
    expect(reasonOf(e)).toBe("\"https://x.com\" is not a Slack link");
    expect(describeError(e)).toBe("Slack channel: \"https://x.com\" is not a Slack link");
  });
});

describe("formErrors", () => {
  const fields = ["name", "time_zone"] as const;
  it("puts an invalid_input error next to the field it names", () => {
    const out = formErrors(
      { code: "invalid_input", message: "time_zone: unknown time zone \"Mars/Base\"", field: "time_zone" },
      fields,
    );
    expect(out).toEqual({ fields: { time_zone: "Time zone: unknown time zone \"Mars/Base\"" }, general: null });
  });
  it("shows an error for a field the form lacks, or of another code, above the buttons", () => {
    expect(formErrors({ code: "invalid_input", message: "tags: too long", field: "tags" }, fields)).toEqual({
      fields: {},
      general: "Tags: too long",
    });
    expect(formErrors({ code: "storage", message: "disk full", field: null }, fields)).toEqual({
      fields: {},
      general: "disk full",
    });
  });
});
