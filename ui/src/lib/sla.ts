// The SLA clock between two queries. rapport-domain computes each clock (`SlaClock`) at
// `computed_at` and decides when it turns at risk (`SlaClock.at_risk_at`) and breached
// (`due_at`); the board then ticks every second from those instants alone, without asking
// again and without a threshold of its own. A stopped clock (met / missed) never changes.
import type { RequestEventKind, RequestStatus, Severity, SlaClock, SlaState } from "../bindings";

export type LiveClock = {
  state: SlaState | null;
  /** Seconds to due (negative once late); null without an SLA. */
  remaining: number | null;
  /** Seconds since opening (to the first response once stopped). */
  elapsed: number;
};

/** The clock at `nowMs`, from the instants the domain decided (`at_risk_at`, `due_at`). */
export function liveClock(clock: SlaClock, nowMs: number): LiveClock {
  const opened = Date.parse(clock.opened_at);
  if (clock.stopped_at !== null) {
    return { state: clock.state, remaining: clock.remaining_secs, elapsed: clock.elapsed_secs };
  }
  const elapsed = Math.max(0, Math.floor((nowMs - opened) / 1000));
  if (clock.due_at === null || clock.at_risk_at === null) {
    return { state: clock.state, remaining: null, elapsed };
  }
  const due = Date.parse(clock.due_at);
  const remaining = Math.floor((due - nowMs) / 1000);
  let state: SlaState;
  if (nowMs > due) state = "breached";
  else if (nowMs > Date.parse(clock.at_risk_at)) state = "at_risk";
  else state = "on_track";
  return { state, remaining, elapsed };
}

function hms(total: number): string {
  const s = Math.abs(total);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(sec).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** "29:59 left", "1:05:00 late", "answered in 12:00", "open 3:00:00" (no SLA). */
export function describeClock(c: LiveClock): string {
  if (c.state === "met" || c.state === "missed") return `answered in ${hms(c.elapsed)}`;
  if (c.remaining === null) return `open ${hms(c.elapsed)}`;
  return c.remaining >= 0 ? `${hms(c.remaining)} left` : `${hms(c.remaining)} late`;
}

export const STATE_LABELS: Record<SlaState, string> = {
  on_track: "On track",
  at_risk: "At risk",
  breached: "Breached",
  met: "Met",
  missed: "Missed",
};

export function stateLabel(s: SlaState | null): string {
  return s === null ? "No SLA" : STATE_LABELS[s];
}

export const SEVERITIES: Severity[] = ["p1", "p2", "p3", "p4"];
export const STATUSES: RequestStatus[] = ["open", "acknowledged", "mitigated", "resolved", "closed"];

export function sevLabel(s: Severity): string {
  return s.toUpperCase();
}

export function statusLabel(s: RequestStatus): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** One timeline entry in words. */
export function describeEvent(k: RequestEventKind): string {
  switch (k.type) {
    case "opened":
      return `Opened as ${sevLabel(k.severity)} by ${k.channel}${k.needs_triage ? " (needs triage)" : ""}: ${k.title}`;
    case "severity_changed":
      return `Severity changed from ${sevLabel(k.from)} to ${sevLabel(k.to)}`;
    case "triage_requested":
      return "Escalated by an urgent email: needs triage again";
    case "triage_confirmed":
      return `Triage confirmed at ${sevLabel(k.severity)}`;
    case "response":
      return k.visibility === "public" ? "Responded to the customer" : "Internal note";
    case "status_changed":
      return `Status changed from ${k.from} to ${k.to}`;
    case "call_launched":
      return "Call launched";
    case "update":
      return "Update";
  }
}
