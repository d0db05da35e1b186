// On call in the window: the pages the shell announces (`oncall://page`, one per page that
// reached me; see src-tauri/src/alerts.rs) are shown as the in-app alert with Acknowledge,
// and bump `oncall.version` so Today's on-call card reloads.
import { listen } from "@tauri-apps/api/event";
import { api } from "./api";
import type { Acknowledged, OnCallPage, OnCallPerson } from "../bindings";

export const oncall = $state<{ alerts: OnCallPage[]; version: number }>({ alerts: [], version: 0 });

let started = false;

/** Subscribes to the shell's page events (once). */
export function startPageEvents(): void {
  if (started) return;
  started = true;
  void listen<OnCallPage>("oncall://page", (e) => {
    receivePage(e.payload);
  }).catch(() => {});
}

/** A page that reached me: shown (once per request) until acknowledged or dismissed. */
export function receivePage(page: OnCallPage): void {
  oncall.alerts = [...oncall.alerts.filter((p) => p.request_id !== page.request_id), page];
  oncall.version += 1;
}

export function dismissPage(requestId: string): void {
  oncall.alerts = oncall.alerts.filter((p) => p.request_id !== requestId);
}

/** Acknowledges a page (stops its escalation); the alert goes and the card reloads. */
export async function acknowledge(requestId: string): Promise<Acknowledged> {
  const done = await api.oncallAck(requestId);
  dismissPage(requestId);
  oncall.version += 1;
  return done;
}

/** A person's name from the server's list, else a short form of the id. */
export function personName(people: OnCallPerson[], id: string): string {
  return people.find((p) => p.user_id === id)?.name ?? `someone (${id.slice(0, 8)})`;
}

/** Why someone is on call, in words. */
export function reasonLabel(reason: string, coveringFor: string | null, people: OnCallPerson[]): string {
  switch (reason) {
    case "follow_the_sun":
      return "working hours";
    case "rotation":
      return "rotation";
    case "override":
      return coveringFor === null ? "override" : `covering for ${personName(people, coveringFor)}`;
    default:
      return reason;
  }
}

/** A rotation's handoff time, `HH:MM`, from minutes after midnight. */
export function handoffTime(minute: number): string {
  const h = Math.floor(minute / 60);
  const m = minute % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}
