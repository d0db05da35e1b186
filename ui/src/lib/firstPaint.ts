import { api } from "./api";
import { toIpcError } from "./errors";

/** The first paint of whichever page the app opened on is marked once per launch (docs/IPC.md,
 * `startup_mark`): two animation frames after its data is on screen, the app's own milliseconds
 * since `main()` go to `body[data-first-paint-ms]` and the page to `body[data-first-paint-page]`,
 * where the launch bench reads them. */
let marked = false;

export function markFirstPaint(page: string): void {
  if (marked) return;
  marked = true;
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
        });
    });
  });
}
