// What the onboarding screens show: status words, times on a given zone's clock, and the
// clipboard.
import type { OnboardingStatus } from "../bindings";

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
