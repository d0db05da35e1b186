// What the onboarding screens show: status words, times on a given zone's clock, and the
// clipboard.
import type { ActionItem, AgendaItem, OnboardingStatus } from "../bindings";
import { dateProblem } from "./form";
import { fieldLabel } from "./labels";

export const STATUSES: readonly OnboardingStatus[] = [
  "planned",
  "scheduled",
  "completed",
  "no_show",
  "cancelled",
];

export function statusLabel(s: OnboardingStatus): string {
  switch (s) {
    case "planned":
      return "Planned";
    case "scheduled":
      return "Scheduled";
    case "completed":
      return "Completed";
    case "cancelled":
      return "Cancelled";
    case "no_show":
      return "No-show";
  }
}

/** Puts `text` on the clipboard: the async clipboard API, else a selected text area. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // Fall through: older engines, or no permission.
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("the clipboard is not available");
}

/** What the session form edits, by wire name (the page's agenda, attendees, link, outcome
 * and follow-ups). The page saves it with its times; Needs attention sends it again. */
export type SessionFields = {
  attendee_ids: string[];
  meeting_link: string | null;
  agenda: AgendaItem[];
  outcome: string;
  follow_ups: ActionItem[];
};

/** The session form's values of a session (copies: the form edits them in place). */
export function sessionFields(s: SessionFields): SessionFields {
  return {
    attendee_ids: [...s.attendee_ids],
    meeting_link: s.meeting_link,
    agenda: s.agenda.map((a) => ({ ...a })),
    outcome: s.outcome,
    follow_ups: s.follow_ups.map((f) => ({ ...f })),
  };
}

/** The values as they are saved: a blank link is no link, a typed one is trimmed. */
export function sessionFieldsSaved(v: SessionFields): SessionFields {
  const link = (v.meeting_link ?? "").trim();
  return { ...sessionFields(v), meeting_link: link === "" ? null : link };
}

/** The first follow-up whose due date is refused (not before the session was planned, at
 * most ten years ahead), by field; `null` when every one is fine. */
export function followUpProblem(
  followUps: readonly ActionItem[],
  notBefore: string | null,
): { field: string; text: string } | null {
  for (const [i, f] of followUps.entries()) {
    const field = `follow_ups.${i}.due`;
    const problem = dateProblem(f.due, fieldLabel(field), notBefore);
    if (problem !== null) return { field, text: problem };
  }
  return null;
}
