// Search snippets come as plain text with matches wrapped in STX (\u0002) … ETX (\u0003).
// Split them into text segments so the UI renders <mark> elements around text nodes,
// never parsing the snippet as HTML.

export type SnippetPart = { text: string; mark: boolean };

const START = "\u0002";
const END = "\u0003";

export function splitSnippet(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let mark = false;
  let buf = "";
  const flush = (): void => {
    if (buf === "") return;
    const last = parts[parts.length - 1];
    if (last !== undefined && last.mark === mark) last.text += buf;
    else parts.push({ text: buf, mark });
    buf = "";
  };
  for (const ch of snippet) {
    if (ch === START) {
      flush();
      mark = true;
    } else if (ch === END) {
      flush();
      mark = false;
    } else {
      buf += ch;
    }
  }
  flush();
  return parts;
}

/** A note's Markdown source as the words a reader sees, for one-line excerpts: headings,
 * emphasis, code marks, list and checkbox markers and quote marks go; a link keeps its
 * text; lines join with a space. (Search snippets keep their STX/ETX marks.) */
export function markdownToText(md: string): string {
  return md
    .split("\n")
    .map((line) =>
      line
        .replace(/^\s{0,3}#{1,6}\s+/, "")
        .replace(/^\s*>\s?/, "")
        .replace(/^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?/, "")
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .replace(/(\*\*|__|\*|_|~~|`)(?=\S)([^*_~`]*?\S)\1/g, "$2")
        .replace(/`/g, "")
        .trim(),
    )
    .filter((line) => line !== "")
    .join(" ");
}

/** A note's search snippet (a cut of its Markdown source, matches between STX and ETX) as
 * the words a reader sees, marks kept: what `markdownToText` does to a whole note, plus the
 * pieces of markup a cut leaves at either end (a lone `**`, the `](url)` of a link whose
 * text was cut, a link whose closing bracket was). */
export function snippetToText(snippet: string): string {
  const marks = /[\u0002\u0003]/g;
  return markdownToText(snippet)
    // A link cut after its text: "[status page](https://sta…" keeps "status page".
    .replace(/!?\[([^\]]*)\]\([^)]*$/, "$1")
    // A link cut before its "]": "…page](https://status.example.com) next" keeps "page".
    .replace(/^([^[]*?)\]\([^)]*\)/, "$1")
    // A link cut inside its URL: "…example.com) next".
    .replace(/^[^\s()[\]]*\)(?=\s|$)/, (m) => (/[/.]/.test(m.replace(marks, "")) ? "" : m))
    // Emphasis and code marks whose other half was cut away.
    .replace(/\*\*|__|~~|`/g, "")
    .replace(/(^|\s)[*_](?=\S)|(?<=\S)[*_](?=\s|$)/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
}
