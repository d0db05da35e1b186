// Needs attention: a refused write is edited in the form its record is normally edited
// with. The refused mutation holds only the fields it set (wire names, which are the form's
// names); the form starts from the record as the cache holds it now with those fields over
// it, and what goes back is the refused fields with the form's values, plus any other
// field the user changed in the form.

import type { AccountInput, ContactInput, HealthCheckInput, RcaInput, RequestStatus, Severity } from "../bindings";
import type { SessionFields } from "./onboarding";

type Fields = Record<string, unknown>;

/** The fields of `AccountInput`, as the account form edits them. */
export const ACCOUNT_FORM_FIELDS = [
  "name",
  "plan",
  "time_zone",
  "fiscal_year_start_month",
  "owner_csm_id",
  "account_rep_id",
  "slack_channel",
  "support_email_domains",
  "stage",
  "tags",
] as const;

const BLANK_ACCOUNT: AccountInput = {
  name: "",
  plan: "professional_support",
  time_zone: "UTC",
  fiscal_year_start_month: 1,
  owner_csm_id: null,
  account_rep_id: null,
  slack_channel: null,
  support_email_domains: [],
  stage: "onboarding",
  tags: [],
};

/**
 * The account form's starting values: the record as the cache has it (`null` when it is
 * not there, e.g. a refused create), with the refused write's fields over it.
 */
export function accountFormStart(current: AccountInput | null, refused: Fields): AccountInput {
  const out: Record<string, unknown> = { ...BLANK_ACCOUNT, ...(current ?? {}) };
  for (const k of ACCOUNT_FORM_FIELDS) {
    if (k in refused) out[k] = refused[k];
  }
  return out as unknown as AccountInput;
}

/** The fields of `ContactInput`, as the contact form edits them. */
export const CONTACT_FORM_FIELDS = ["name", "email", "role", "time_zone"] as const;

/** The contact form's starting values, as [`accountFormStart`] for an account. */
export function contactFormStart(current: ContactInput | null, refused: Fields): ContactInput {
  const out: Record<string, unknown> = { name: "", email: "", role: "", time_zone: null, ...(current ?? {}) };
  for (const k of CONTACT_FORM_FIELDS) {
    if (k in refused) out[k] = refused[k];
  }
  return { name: out["name"], email: out["email"], role: out["role"], time_zone: out["time_zone"] } as ContactInput;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * The fields to send again: every field of the refused write (those the form edits with
 * the form's value, the others — such as `team_id` — as they were), and every other form
 * field whose value differs from the record the form started from.
 */
export function resendFields(form: Fields, current: Fields | null, refused: Fields): Fields {
  const out: Fields = { ...refused };
  for (const [k, v] of Object.entries(form)) {
    if (k in refused || current === null || !same(v, current[k])) out[k] = v;
  }
  return out;
}

/** A wire field name as a person reads it ("support_email_domains" → "Support email domains"). */
export function fieldLabel(name: string): string {
  const words = name.replace(/_id$/, "").replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The note editor's starting text for a refused note write: the body it set. `null` when
 * it set no body (a pin or unpin, whose normal edit is the Pin button, not the editor): that
 * one is edited field by field.
 */
export function noteEditorStart(refused: Fields): string | null {
  const body = refused["body"];
  return typeof body === "string" ? body : null;
}

/**
 * What a refused note write sends again from the note editor: its fields as they were
 * (`account_id`, `pinned`, … of a refused create), the body as the editor has it.
 */
export function noteResend(refused: Fields, body: string): Fields {
  return { ...refused, body };
}

/** A deep copy of a JSON value (the form edits its start in place). */
function copy<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * A form's starting values: `blank`, then the record as the cache holds it (`null` when
 * it is not there), then the refused write's fields; only the form's fields (the keys of
 * `blank`, which are wire names).
 */
export function formStart<T extends object>(blank: T, current: object | null, refused: Fields): T {
  const out: Fields = {};
  const held = (current ?? {}) as Fields;
  for (const [k, v] of Object.entries(blank)) {
    out[k] = copy(k in refused ? refused[k] : k in held ? held[k] : v);
  }
  return out as unknown as T;
}

/** The session form (SessionForm.svelte) of an onboarding session. */
export const BLANK_SESSION: SessionFields = {
  attendee_ids: [],
  meeting_link: null,
  agenda: [],
  outcome: "",
  follow_ups: [],
};

/** The review page's health check. */
export const BLANK_HEALTH_CHECK: HealthCheckInput = {
  checklist: [],
  findings: "",
  action_items: [],
  sentiment: null,
};

/** The RCA editor's fields. */
export const BLANK_RCA: RcaInput = {
  summary: "",
  impact: { start: "", end: null, affected: "" },
  timeline: [],
  root_cause: "",
  contributing_factors: "",
  resolution: "",
  action_items: [],
};

/** New request's fields as a request record holds them (the details are its first
 * timeline entry, a write of its own). */
export type RequestFields = {
  account_id: string;
  contact_id: string | null;
  severity: Severity | "";
  title: string;
};

export const BLANK_REQUEST: RequestFields = { account_id: "", contact_id: null, severity: "", title: "" };

/** What the request page's controls set on a request: its status, severity and assignee. */
export type RequestControlFields = {
  status: RequestStatus;
  severity: Severity;
  needs_triage: boolean;
  assignee_id: string | null;
};

/**
 * The request controls' start for a refused request change: the request as the cache
 * holds it with the refused status, severity and assignee over it; `null` when the cache
 * does not hold the request (then it is edited field by field).
 */
export function requestControlsStart(
  current: RequestControlFields | null,
  refused: Fields,
): RequestControlFields | null {
  return current === null ? null : formStart(current, current, refused);
}

/**
 * What one of the request controls sends again: the refused fields with the control's
 * value over them (a click on a status, a severity or an assignee acts at once, as on the
 * request page).
 */
export function requestControlResend(refused: Fields, change: Partial<RequestControlFields>): Fields {
  return { ...refused, ...change };
}

/** A refused field's value as a person reads it: lists by their items (an agenda item or
 * an action item by its title), nothing as "—", other structures as "(set)". */
export function fieldText(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (Array.isArray(v)) {
    if (v.length === 0) return "(none)";
    return v
      .map((x) =>
        typeof x === "object" && x !== null && typeof (x as Fields)["title"] === "string"
          ? String((x as Fields)["title"]) + ((x as Fields)["done"] === true ? " ✓" : "")
          : typeof x === "object"
            ? "(set)"
            : String(x),
      )
      .join(", ");
  }
  return typeof v === "object" ? "(set)" : String(v);
}

/** A field every create of the kind carries (a create sets every field of its record). */
const CREATE_CARRIES: Record<string, string> = {
  onboarding_session: "starts_at",
  review: "checklist",
  rca: "impact",
  request: "opened_at",
};

/**
 * Whether a refused write of `entity` created its record. A refused change holds only the
 * fields it changed: when the cache no longer holds its record, its form has nothing to
 * start from, and it is edited field by field.
 */
export function refusedCreate(entity: string, refused: Fields): boolean {
  const mark = CREATE_CARRIES[entity];
  return mark !== undefined && mark in refused;
}
