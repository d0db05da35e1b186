import { describe, expect, it } from "vitest";
import { MAX_TOASTS, showToast, toasts } from "./toasts.svelte";

describe("toasts", () => {
  it("shows at most two at once, the newest kept", () => {
    for (const t of ["one", "two", "three", "four"]) showToast(t);
    expect(MAX_TOASTS).toBe(2);
    expect(toasts.list.map((t) => t.text)).toEqual(["three", "four"]);
  });
});
