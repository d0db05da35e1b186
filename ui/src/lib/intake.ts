// Words and rules of the intake screens (the Unmatched queue, Settings → Intake).
import type { MailboxState, Role } from "../bindings";

/** How often the open Requests board asks for the Unmatched queue again: the service sends
 * no event for a new Unmatched request. */
export const UNMATCHED_POLL_MS = 30_000;

/** Who sees the Unmatched queue on the Requests board (the service checks it too). */
export function seesUnmatched(role: Role): boolean {
  return role === "support_lead" || role === "admin";
}

/** Who sees Settings → Intake. */
export function managesIntake(role: Role): boolean {
  return role === "admin";
}

/** A mailbox's state in words, and whether the service holds a connection to it. */
export function mailboxState(m: Pick<MailboxState, "state">): { label: string; connected: boolean } {
  switch (m.state) {
    case "idle":
      return { label: "Connected, idle (waiting for mail)", connected: true };
    case "importing":
      return { label: "Connected, importing", connected: true };
    case "starting":
      return { label: "Starting…", connected: false };
    case "connecting":
      return { label: "Connecting…", connected: false };
    case "disconnected":
      return { label: "Disconnected (retrying)", connected: false };
    case "stopped":
      return { label: "Stopped", connected: false };
    default:
      return { label: m.state, connected: false };
  }
}

/** The customer as the queue shows them: "Name <email>" or the email alone. */
export function customerLabel(name: string | null, email: string): string {
  const n = name?.trim() ?? "";
  return n === "" ? email : `${n} <${email}>`;
}
