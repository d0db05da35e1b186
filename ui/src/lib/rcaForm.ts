// The RCA form's values: the RCA's fields (wire names), with the impact window as the
// `datetime-local` text a person types, on their profile's clock.
import { dateIn, hhmmIn, zonedInstant } from "./time";
import type { ActionItem, RcaInput, TimelineEntry } from "../bindings";

export type RcaFormValue = {
  summary: string;
  /** `datetime-local` text on my profile's clock ("" when not set). */
  start: string;
  end: string;
  affected: string;
  timeline: TimelineEntry[];
  root_cause: string;
  contributing_factors: string;
  resolution: string;
  action_items: ActionItem[];
};

/** An instant as a `datetime-local` value on my profile's clock. */
export function toLocal(iso: string | null): string {
  if (iso === null || iso === "") return "";
  return `${dateIn(iso)}T${hhmmIn(iso)}`;
}

/** A typed `datetime-local` value, read on my profile's clock. */
export function fromLocal(v: string): string | null {
  if (v.trim() === "") return null;
  const [day, time] = v.split("T");
  return zonedInstant(day ?? "", (time ?? "").slice(0, 5));
}

/** The form's values of an RCA (copies: the form edits them in place). */
export function rcaFormValue(r: RcaInput): RcaFormValue {
  return {
    summary: r.summary,
    start: toLocal(r.impact.start),
    end: toLocal(r.impact.end),
    affected: r.impact.affected,
    timeline: r.timeline.map((e) => ({ ...e })),
    root_cause: r.root_cause,
    contributing_factors: r.contributing_factors,
    resolution: r.resolution,
    action_items: r.action_items.map((a) => ({ ...a })),
  };
}

/** What the form saves, or the refused field when the impact has no start. */
export function rcaFormInput(v: RcaFormValue): RcaInput | { field: string; text: string } {
  const start = fromLocal(v.start);
  if (start === null) return { field: "impact.start", text: "Impact start: enter a date and time" };
  return {
    summary: v.summary,
    impact: { start, end: fromLocal(v.end), affected: v.affected },
    timeline: v.timeline.map((e) => ({ ...e })),
    root_cause: v.root_cause,
    contributing_factors: v.contributing_factors,
    resolution: v.resolution,
    action_items: v.action_items.map((a) => ({ ...a })),
  };
}
