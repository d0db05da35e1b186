import { describe, expect, it } from "vitest";
import { listKey, type KeyPress } from "./keynav";

const key = (k: string, inTextField = false, extra: Partial<KeyPress> = {}): KeyPress => ({
  key: k,
  inTextField,
  ...extra,
});

describe("listKey", () => {
  it("moves down and up with arrows and j/k", () => {
    expect(listKey(key("ArrowDown"), 0, 5, 10)).toEqual({ kind: "select", index: 1 });
    expect(listKey(key("j"), 1, 5, 10)).toEqual({ kind: "select", index: 2 });
    expect(listKey(key("ArrowUp"), 2, 5, 10)).toEqual({ kind: "select", index: 1 });
    expect(listKey(key("k"), 1, 5, 10)).toEqual({ kind: "select", index: 0 });
  });

  it("stops at both ends instead of wrapping", () => {
    expect(listKey(key("k"), 0, 5, 10)).toEqual({ kind: "none" });
    expect(listKey(key("j"), 4, 5, 10)).toEqual({ kind: "none" });
  });

  it("starts a selection from nothing", () => {
    expect(listKey(key("j"), -1, 5, 10)).toEqual({ kind: "select", index: 0 });
    expect(listKey(key("k"), -1, 5, 10)).toEqual({ kind: "select", index: 4 });
  });

  it("treats j, k and / as typing inside a text field, but arrows still move", () => {
    expect(listKey(key("j", true), 0, 5, 10)).toEqual({ kind: "none" });
    expect(listKey(key("/", true), 0, 5, 10)).toEqual({ kind: "none" });
    expect(listKey(key("ArrowDown", true), 0, 5, 10)).toEqual({ kind: "select", index: 1 });
  });

  it("opens the selection with Enter, only when there is one", () => {
    expect(listKey(key("Enter"), 3, 5, 10)).toEqual({ kind: "open", index: 3 });
    expect(listKey(key("Enter", true), 0, 5, 10)).toEqual({ kind: "open", index: 0 });
    expect(listKey(key("Enter"), -1, 5, 10)).toEqual({ kind: "none" });
    expect(listKey(key("Enter"), 0, 0, 10)).toEqual({ kind: "none" });
  });

  it("focuses the search with / and leaves it with Esc", () => {
    expect(listKey(key("/"), 0, 5, 10)).toEqual({ kind: "focus-search" });
    expect(listKey(key("Escape", true), 0, 5, 10)).toEqual({ kind: "escape-search" });
    expect(listKey(key("Escape"), 0, 5, 10)).toEqual({ kind: "back" });
  });

  it("pages and jumps to the ends outside text fields", () => {
    expect(listKey(key("PageDown"), 0, 100, 10)).toEqual({ kind: "select", index: 10 });
    expect(listKey(key("PageUp"), 5, 100, 10)).toEqual({ kind: "select", index: 0 });
    expect(listKey(key("End"), 0, 100, 10)).toEqual({ kind: "select", index: 99 });
    expect(listKey(key("Home"), 50, 100, 10)).toEqual({ kind: "select", index: 0 });
  });

  it("ignores keys with modifiers and an empty list", () => {
    expect(listKey(key("j", false, { ctrlKey: true }), 0, 5, 10)).toEqual({ kind: "none" });
    expect(listKey(key("j"), -1, 0, 10)).toEqual({ kind: "none" });
  });
});
