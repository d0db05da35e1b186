// Small parsers and checks of form input.

import { tick } from "svelte";
import { addDays, formatDay, todayIn, zonedInstant } from "./time";

/** "a, b,,c " → ["a", "b", "c"]: a comma- or newline-separated list, blanks dropped. */
export function parseList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}


/** How far ahead a typed date may lie. */
export const MAX_YEARS_AHEAD = 10;

/** Why the date typed into the field labelled `label` is refused, or null when it is a
 * real date in the sane window: not before `notBefore` (a "YYYY-MM-DD", e.g. when the
 * record began) and at most [`MAX_YEARS_AHEAD`] years from today on my clock. */
export function dateProblem(value: string, label: string, notBefore: string | null = null): string | null {
  const v = value.trim();
  if (v === "") return `${label}: enter a date`;
  if (zonedInstant(v, "12:00") === null) return `${label}: "${v}" is not a date`;
  if (v > addDays(todayIn(), MAX_YEARS_AHEAD * 365 + 2)) {
    return `${label}: must be within ${MAX_YEARS_AHEAD} years from today`;
  }
  if (notBefore !== null && v < notBefore) return `${label}: must not be before ${formatDay(notBefore)}`;
  return null;
}

/** After a form was refused: scrolls its first error into view and puts the cursor in the
 * field it belongs to (the first invalid field, else the error message itself). */
export async function focusFirstError(root: ParentNode | null = null): Promise<void> {
  await tick();
  const scope = root ?? document;
  const target =
    scope.querySelector<HTMLElement>("[aria-invalid='true']") ??
    scope.querySelector<HTMLElement>(".field.invalid input, .field.invalid select, .field.invalid textarea") ??
    scope.querySelector<HTMLElement>("[role='alert'], .form-error, .error");
  if (target === null) return;
  target.scrollIntoView({ block: "center" });
  if (!target.matches("input, select, textarea, button")) target.setAttribute("tabindex", "-1");
  target.focus();
}
