// Words and small helpers of the quarter board, the review page and the health panel.
import type { ActionStatus, BoardColumn, CheckItem, HealthBand, HealthPart, ReviewState } from "../bindings";

export const COLUMNS: readonly BoardColumn[] = ["due", "requested", "scheduled", "done", "overdue"];

export function columnLabel(c: BoardColumn): string {
  switch (c) {
    case "due":
      return "Due";
    case "requested":
      return "Requested";
    case "scheduled":
      return "Scheduled";
    case "done":
      return "Done";
    case "overdue":
      return "Overdue";
  }
}

export function stateLabel(s: ReviewState | null): string {
  switch (s) {
    case null:
    case "not_requested":
      return "Not requested";
    case "requested":
      return "Requested";
    case "scheduled":
      return "Scheduled";
    case "completed":
      return "Completed";
    case "declined":
      return "Declined";
    case "no_show":
      return "No-show";
  }
}

/** The board column's word, when it says more than the state does: "Overdue" beside
 * "Requested" is news, "Scheduled" beside "Scheduled" is the state twice. */
export function columnBesideState(state: ReviewState | null, column: BoardColumn): string | null {
  const same: Record<BoardColumn, readonly (ReviewState | null)[]> = {
    due: [null, "not_requested"],
    requested: ["requested"],
    scheduled: ["scheduled"],
    done: ["completed"],
    overdue: [],
  };
  return same[column].includes(state) ? null : columnLabel(column);
}

export function checkItemLabel(i: CheckItem): string {
  switch (i) {
    case "usage_review":
      return "Usage review";
    case "performance":
      return "Performance";
    case "open_incidents":
      return "Open incidents";
    case "sla_compliance_last_quarter":
      return "SLA compliance last quarter";
    case "use_case_and_roadmap_changes":
      return "Changes to the use case or roadmap";
  }
}

export const ACTION_STATUSES: readonly ActionStatus[] = ["open", "in_progress", "done", "dropped"];

export function actionStatusLabel(s: ActionStatus): string {
  switch (s) {
    case "open":
      return "Open";
    case "in_progress":
      return "In progress";
    case "done":
      return "Done";
    case "dropped":
      return "Dropped";
  }
}

export const PARTS: readonly HealthPart[] = [
  "open_requests",
  "sla_misses",
  "review_recency",
  "onboarding",
  "sentiment",
];

export function partLabel(p: HealthPart): string {
  switch (p) {
    case "open_requests":
      return "Open requests";
    case "sla_misses":
      return "SLA misses (90 days)";
    case "review_recency":
      return "Review recency";
    case "onboarding":
      return "Onboarding done";
    case "sentiment":
      return "CSM sentiment";
  }
}

export function bandLabel(b: HealthBand | null): string {
  switch (b) {
    case "healthy":
      return "Healthy";
    case "neutral":
      return "Neutral";
    case "at_risk":
      return "At risk";
    case null:
      return "No score";
  }
}

/** "+3", "−4", "0", or "—" without a change. */
export function signed(n: number | null): string {
  if (n === null) return "—";
  if (n > 0) return `+${n}`;
  if (n < 0) return `−${Math.abs(n)}`;
  return "0";
}
