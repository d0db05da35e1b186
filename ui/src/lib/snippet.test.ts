import { describe, expect, it } from "vitest";
import { markdownToText, splitSnippet } from "./snippet";

describe("splitSnippet", () => {
  it("marks the words between STX and ETX", () => {
    expect(splitSnippet("the \u0002renewal\u0003 call went \u0002well\u0003")).toEqual([
      { text: "the ", mark: false },
      { text: "renewal", mark: true },
      { text: " call went ", mark: false },
      { text: "well", mark: true },
    ]);
  });

  it("keeps HTML-looking text as plain text", () => {
    const parts = splitSnippet("<img src=x onerror=alert(1)> \u0002x\u0003");
    expect(parts[0]).toEqual({ text: "<img src=x onerror=alert(1)> ", mark: false });
    expect(parts[1]).toEqual({ text: "x", mark: true });
  });

  it("copes with no markers, empty marks and an unclosed mark", () => {
    expect(splitSnippet("plain")).toEqual([{ text: "plain", mark: false }]);
    expect(splitSnippet("a\u0002\u0003b")).toEqual([{ text: "ab", mark: false }]);
    expect(splitSnippet("a \u0002open")).toEqual([
      { text: "a ", mark: false },
      { text: "open", mark: true },
    ]);
    expect(splitSnippet("")).toEqual([]);
  });
});

describe("markdownToText", () => {
  it("shows a note's words, not its Markdown", () => {
    expect(markdownToText("## Onboarding session\n\nWalked **Ana** through `#acme`:\n\n- [x] Kick-off done\n- Read the [status page](https://status.example.com)")).toBe(
      "Onboarding session Walked Ana through #acme: Kick-off done Read the status page",
    );
    expect(markdownToText("1. first\n> quoted _word_")).toBe("first quoted word");
  });
});
