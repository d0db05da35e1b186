// The IANA time zones the webview knows, and the filter of the searchable picker.

export function allTimeZones(): string[] {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return zones.includes("UTC") ? [...zones] : [...zones, "UTC"];
}

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function normalize(s: string): string {
  return s.toLowerCase().replaceAll("_", " ");
}

/**
 * Zones matching every word of the query (spaces and underscores alike, any case), those
 * where a word starts a segment ("syd" → Australia/Sydney) first, at most `limit`.
 */
export function filterZones(zones: readonly string[], query: string, limit: number): string[] {
  const words = normalize(query).split(/[\s/]+/).filter((w) => w !== "");
  if (words.length === 0) return zones.slice(0, limit);
  const starts: string[] = [];
  const contains: string[] = [];
  for (const z of zones) {
    const n = normalize(z);
    if (!words.every((w) => n.includes(w))) continue;
    const segments = n.split(/[/ ]/);
    if (words.some((w) => segments.some((seg) => seg.startsWith(w)))) starts.push(z);
    else contains.push(z);
  }
  return [...starts, ...contains].slice(0, limit);
}
