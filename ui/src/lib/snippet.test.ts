import { describe, expect, it } from "vitest";
import { markdownToText, snippetToText, splitSnippet } from "./snippet";

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

describe("snippetToText", () => {
  const S = "\u0002";
  const E = "\u0003";

  it("drops the Markdown of a search snippet and keeps its marks", () => {
    expect(snippetToText(`## ${S}Renewal${E} call\n\nWalked **${S}Ana${E}** through \`#acme\``)).toBe(
      `${S}Renewal${E} call Walked ${S}Ana${E} through #acme`,
    );
    expect(snippetToText(`- [ ] send the [${S}status${E} page](https://status.example.com) link`)).toBe(
      `send the ${S}status${E} page link`,
    );
  });

  it("drops the markup a cut leaves at either end", () => {
    expect(snippetToText(`…ed** the ${S}renewal${E} with _Ana…`)).toBe(`…ed the ${S}renewal${E} with Ana…`);
    expect(snippetToText(`…page](https://status.example.com) and the ${S}renewal${E}`)).toBe(
      `…page and the ${S}renewal${E}`,
    );
    expect(snippetToText(`the ${S}renewal${E} [status page](https://sta…`)).toBe(`the ${S}renewal${E} status page`);
    expect(snippetToText(`example.com/x) then the ${S}renewal${E}`)).toBe(`then the ${S}renewal${E}`);
  });

  it("leaves plain words alone, snake_case and sums included", () => {
    expect(snippetToText(`the ${S}api_key${E} rotates (weekly) at 2 * 3`)).toBe(`the ${S}api_key${E} rotates (weekly) at 2 * 3`);
    expect(splitSnippet(snippetToText(`**${S}Ana${E}**`))).toEqual([{ text: "Ana", mark: true }]);
  });
});
