// Words the UI shows for the values and field names the commands use.
import type { LifecycleStage, Plan, Role, Weekday } from "../bindings";

export const PLANS: readonly Plan[] = ["professional_support", "standard"];
export const STAGES: readonly LifecycleStage[] = ["onboarding", "active", "at_risk", "churned"];
export const ROLES: readonly Role[] = ["csm", "account_rep", "support_lead", "admin"];
export const WEEKDAYS: readonly Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export function planLabel(p: Plan): string {
  return p === "professional_support" ? "Professional Support" : "Standard";
}

export function stageLabel(s: LifecycleStage): string {
  switch (s) {
    case "onboarding":
      return "Onboarding";
    case "active":
      return "Active";
    case "at_risk":
      return "At risk";
    case "churned":
      return "Churned";
  }
}

export function roleLabel(r: Role): string {
  switch (r) {
    case "csm":
      return "Customer success manager";
    case "account_rep":
      return "Account rep";
    case "support_lead":
      return "Support lead";
    case "admin":
      return "Admin";
  }
}

export function weekdayLabel(d: Weekday): string {
  return d.charAt(0).toUpperCase() + d.slice(1);
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** 1 = January. */
export function monthLabel(m: number): string {
  return MONTHS[m - 1] ?? `Month ${m}`;
}

const FIELD_LABELS: Record<string, string> = {
  name: "Name",
  email: "Email",
  role: "Role",
  time_zone: "Time zone",
  working_hours: "Working hours",
  plan: "Plan",
  fiscal_year_start_month: "Fiscal year start",
  owner_csm_id: "Owner CSM",
  account_rep_id: "Account rep",
  slack_channel: "Slack channel",
  support_email_domains: "Support email domains",
  stage: "Stage",
  tags: "Tags",
  body: "Note",
  start: "Start",
  end: "End",
  meeting_link: "Meeting link",
  attendee_contact_ids: "Attendees",
  agenda: "Agenda",
  outcome: "Outcome",
  findings: "Findings",
  sentiment: "CSM sentiment",
  summary: "Summary",
  root_cause: "Root cause",
  contributing_factors: "Contributing factors",
  resolution: "Resolution",
  contact_id: "Contact",
  account_id: "Account",
  severity: "Severity",
  title: "Title",
  details: "Details",
  text: "Text",
  allowed_hosts: "Allowed meeting hosts",
  agenda_template: "Agenda template",
};

/** The list fields whose items a form numbers: "follow_ups.1" is "Follow-up 2". */
const ITEM_LABELS: Record<string, string> = {
  follow_ups: "Follow-up",
  action_items: "Action item",
  agenda: "Agenda item",
  agenda_template: "Agenda item",
  checklist: "Checklist item",
  timeline: "Timeline entry",
  contacts: "Contact",
};

/** The parts of a nested field as their form names them. */
const PART_LABELS: Record<string, string> = {
  owner: "owner",
  title: "title",
  due: "due date",
  status: "status",
  start: "start",
  end: "end",
  affected: "who was affected",
  open_requests: "open requests",
  sla_misses: "SLA misses",
  review_recency: "review recency",
  onboarding: "onboarding",
  sentiment: "CSM sentiment",
};

function plain(field: string): string {
  const known = FIELD_LABELS[field];
  if (known !== undefined) return known;
  const words = field.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** How a form names a field the shell reported, e.g. `slack_channel` → "Slack channel". */
export function fieldLabel(field: string): string {
  const [head = "", ...rest] = field.split(".");
  if (rest.length === 0) return plain(head);
  let label = plain(head);
  let parts = rest;
  const index = /^\d+$/.test(parts[0] ?? "") ? Number(parts[0]) : null;
  if (index !== null) {
    label = `${ITEM_LABELS[head] ?? label} ${index + 1}`;
    parts = parts.slice(1);
  }
  if (parts.length === 0) return label;
  const tail = parts.map((p) => PART_LABELS[p] ?? p.replaceAll("_", " ")).join(" ");
  return `${label}: ${tail}`;
}
