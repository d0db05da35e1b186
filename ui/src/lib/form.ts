// Small parsers of form text.

/** "a, b,,c " → ["a", "b", "c"]: a comma- or newline-separated list, blanks dropped. */
export function parseList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
