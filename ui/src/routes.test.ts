import { describe, expect, it } from "vitest";
import { ROUTES, SECTIONS, screenKey, sectionOf } from "./routes";
import type { Route } from "./lib/nav.svelte";

describe("the route table", () => {
  it("lights the sidebar entry of each screen's section", () => {
    for (const s of SECTIONS) expect(ROUTES[s.name].section, `${s.name} is its own section`).toBe(s.name);
    const account: Route = { name: "account", id: "a", noteId: null };
    expect(sectionOf(account)).toBe("accounts");
    expect(sectionOf({ name: "rca", requestId: "r" })).toBe("requests");
    expect(sectionOf({ name: "sla-report" })).toBe("requests");
    expect(sectionOf({ name: "review", id: "v" })).toBe("quarter");
    expect(sectionOf({ name: "session", id: "s" })).toBe("onboarding");
    expect(sectionOf({ name: "attention" }), "Needs attention is no sidebar entry").toBeNull();
  });

  it("reloads read-only screens on a sync, never editors", () => {
    const board: Route = { name: "requests" };
    expect(screenKey(1, board, 1)).not.toBe(screenKey(1, board, 2));
    for (const editor of [{ name: "rca", requestId: "r" }, { name: "new-request", accountId: null }, { name: "settings" }, { name: "attention" }] as Route[]) {
      expect(screenKey(1, editor, 1), `${editor.name} keeps its unsaved input`).toBe(screenKey(1, editor, 2));
    }
  });

  it("opens another account or request as a new screen", () => {
    const a: Route = { name: "account", id: "a", noteId: null };
    const b: Route = { name: "account", id: "b", noteId: null };
    expect(screenKey(2, a, 0)).not.toBe(screenKey(2, b, 0));
    expect(screenKey(2, { name: "request", id: "x" }, 0)).not.toBe(screenKey(2, { name: "request", id: "y" }, 0));
  });
});
