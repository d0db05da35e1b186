// The time axis of the health trend and the SLA chart (uPlot), decided here rather than by
// uPlot's defaults: labels in whole days or whole months whatever the spread, a range that
// hugs the data (a single point is not stretched years ahead), and room at both ends so the
// first and last labels are not clipped.
import { addDays, dateIn, zonedInstant } from "./time";

export type AxisUnit = "day" | "month";

export type TimeAxis = {
  unit: AxisUnit;
  /** The x scale's range, unix seconds. */
  min: number;
  max: number;
  /** Where the labels go (unix seconds, local midnights), and what they read. */
  splits: number[];
  labels: string[];
  /** Pixels to keep free left and right of the plot so no label is cut at an edge. */
  edge: number;
};

const DAY = 86_400;
/** Beyond this spread the axis counts months. */
const MONTHS_FROM_DAYS = 62;
/** Room a label needs (a day "30 Sept", a month "Sept 2026") at the app's 12 px. */
const LABEL_PX: Record<AxisUnit, number> = { day: 64, month: 76 };
const DAY_STEPS = [1, 2, 3, 7, 14, 28];
const MONTH_STEPS = [1, 2, 3, 6, 12, 24, 60];

/** Local midnight of `day` ("YYYY-MM-DD") on `tz`'s clock, unix seconds. */
function midnight(day: string, tz: string): number {
  const iso = zonedInstant(day, "00:00", tz);
  return iso === null ? Number.NaN : Date.parse(iso) / 1000;
}

function dayOf(sec: number, tz: string): string {
  return dateIn(new Date(sec * 1000).toISOString(), tz);
}

function firstOfNextMonth(day: string): string {
  const y = Number(day.slice(0, 4));
  const m = Number(day.slice(5, 7));
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, "0")}-01`;
}

/**
 * The axis for points at `xs` (unix seconds), read on `tz`'s clock, in a plot `width` pixels
 * wide; `unit` forces days or months (the SLA report counts months), else a spread over
 * 62 days counts months. Null when there is no point.
 */
export function timeAxis(
  xs: readonly number[],
  o: { tz: string; width: number; unit?: AxisUnit; locale?: string },
): TimeAxis | null {
  const pts = xs.filter((x) => Number.isFinite(x));
  if (pts.length === 0) return null;
  let lo = Math.min(...pts);
  let hi = Math.max(...pts);
  const unit: AxisUnit = o.unit ?? (hi - lo > MONTHS_FROM_DAYS * DAY ? "month" : "day");
  // The least the axis spans: a week of days, three months; a lone point sits in the middle.
  const least = unit === "day" ? 6 * DAY : 60 * DAY;
  if (hi - lo < least) {
    const mid = (lo + hi) / 2;
    lo = mid - least / 2;
    hi = mid + least / 2;
  }
  // Half a unit of air at both ends, so points at the ends are not on the frame.
  const air = unit === "day" ? DAY / 2 : 15 * DAY;
  lo -= air;
  hi += air;

  // Every candidate label inside the range: local midnights of days or of month starts.
  const candidates: number[] = [];
  let day = dayOf(lo, o.tz);
  if (unit === "month") day = `${day.slice(0, 7)}-01`;
  for (let guard = 0; guard < 5000; guard++) {
    const t = midnight(day, o.tz);
    if (t > hi) break;
    if (t >= lo) candidates.push(t);
    day = unit === "day" ? addDays(day, 1) : firstOfNextMonth(day);
  }
  const room = Math.max(2, Math.floor(o.width / LABEL_PX[unit]));
  const steps = unit === "day" ? DAY_STEPS : MONTH_STEPS;
  const step = steps.find((s) => Math.ceil(candidates.length / s) <= room) ?? Math.ceil(candidates.length / room);
  const splits = candidates.filter((_, i) => i % step === 0);

  const fmt = new Intl.DateTimeFormat(
    o.locale,
    unit === "day"
      ? { day: "numeric", month: "short", timeZone: o.tz }
      : { month: "short", year: "numeric", timeZone: o.tz },
  );
  return {
    unit,
    min: lo,
    max: hi,
    splits,
    labels: splits.map((t) => fmt.format(new Date(t * 1000))),
    edge: Math.ceil(LABEL_PX[unit] / 2),
  };
}
