import { describe, expect, it } from "vitest";
import { statusLabel } from "./onboarding";

describe("onboarding", () => {
  it("labels every status", () => {
    expect(statusLabel("no_show")).toBe("No-show");
  });
});
