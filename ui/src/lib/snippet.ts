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
