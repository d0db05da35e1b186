import { api } from "./api";
import { toIpcError } from "./errors";

/** The first paint of whichever page the app opened on is marked once per launch (docs/IPC.md,
 * `startup_mark`): two animation frames after its data is on screen, the app's own milliseconds
 * since `main()` go to `body[data-first-paint-ms]` and the page to `body[data-first-paint-page]`,
 * where the launch bench reads them. */
let marked = false;

let painted: Promise<void> | null = null;

/** Resolves once the first paint has been marked (or could not be): what a page defers until
 * after its first paint waits for this. */
export function markFirstPaint(page: string): Promise<void> {
  if (marked && painted !== null) return painted;
  marked = true;
  painted = new Promise((resolve) => {
    requestAnimationFrame(() => {
      requestAnimationFrame(() => {
        api
          .startupMark(`${page}_first_paint`)
          .then((ms) => {
            document.body.dataset["firstPaintPage"] = page;
            document.body.dataset["firstPaintMs"] = String(ms);
          })
          .catch((e: unknown) => {
            document.body.dataset["firstPaintError"] = toIpcError(e).message;
          })
          .finally(resolve);
      });
    });
  });
  return painted;
}

/** How many rows a list shows on its first paint: more than a window holds. */
export const FIRST_ROWS = 60;
/** How many more rows are added per animation frame after the first paint. */
const ROWS_PER_FRAME = 250;

/**
 * The number of rows to show of a long list: `FIRST_ROWS` until `painted` resolves, then
 * growing by `ROWS_PER_FRAME` a frame (so the page stays responsive) until `onlimit` has
 * been told `total`.
 */
export function growAfter(painted: Promise<void>, total: number, onlimit: (n: number) => void): void {
  let shown = FIRST_ROWS;
  const grow = (): void => {
    shown = Math.min(total, shown + ROWS_PER_FRAME);
    onlimit(shown);
    if (shown < total) requestAnimationFrame(grow);
  };
  if (total > shown) void painted.then(() => requestAnimationFrame(grow));
}
