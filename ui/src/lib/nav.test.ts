import { beforeEach, describe, expect, it } from "vitest";
import { back, canGoBack, current, go, goRoot, nav } from "./nav.svelte";

describe("nav", () => {
  beforeEach(() => goRoot({ name: "accounts" }));

  it("Esc/back from an account returns to the list it was opened from", () => {
    go({ name: "account", id: "a1", noteId: null });
    expect(current()).toEqual({ name: "account", id: "a1", noteId: null });
    expect(canGoBack()).toBe(true);
    back();
    expect(current()).toEqual({ name: "accounts" });
    expect(canGoBack()).toBe(false);
  });

  it("back from a lone account or search page lands on the accounts list", () => {
    goRoot({ name: "account", id: "a2", noteId: null });
    back();
    expect(current()).toEqual({ name: "accounts" });
    back();
    expect(nav.stack).toEqual([{ name: "accounts" }]);
  });

  it("a sidebar entry starts the history again", () => {
    go({ name: "search", query: "renewal" });
    go({ name: "account", id: "a3", noteId: "n1" });
    goRoot({ name: "today" });
    expect(nav.stack).toEqual([{ name: "today" }]);
  });
});
