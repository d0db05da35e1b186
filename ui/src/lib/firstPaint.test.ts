import { afterEach, describe, expect, it, vi } from "vitest";
import { FIRST_ROWS, growAfter } from "./firstPaint";

/** Animation frames run one at a time, when the test says so. */
function frames(): { run: () => number } {
  const queue: FrameRequestCallback[] = [];
  vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => queue.push(cb));
  return {
    run: () => {
      const now = queue.splice(0);
      for (const cb of now) cb(0);
      return now.length;
    },
  };
}

afterEach(() => vi.unstubAllGlobals());

describe("a long list after the first paint", () => {
  it("shows the first screen's rows until the first paint, then grows a frame at a time to all", async () => {
    const f = frames();
    let resolvePaint = (): void => {};
    const painted = new Promise<void>((r) => (resolvePaint = r));
    const limits: number[] = [];
    growAfter(painted, 1000, (n) => limits.push(n));
    await Promise.resolve();
    expect(f.run(), "nothing grows before the first paint").toBe(0);
    expect(limits).toEqual([]);
    resolvePaint();
    await painted;
    await Promise.resolve();
    while (f.run() > 0) {
      /* one frame */
    }
    expect(limits.length, "more than one frame: the page stays responsive").toBeGreaterThan(1);
    expect(limits.at(-1), "every row is shown in the end").toBe(1000);
    expect([...limits].sort((a, b) => a - b), "it only grows").toEqual(limits);
    expect(limits[0]).toBeGreaterThan(FIRST_ROWS);
  });

  it("leaves a short list alone", async () => {
    const f = frames();
    const limits: number[] = [];
    growAfter(Promise.resolve(), FIRST_ROWS, (n) => limits.push(n));
    await Promise.resolve();
    await Promise.resolve();
    expect(f.run()).toBe(0);
    expect(limits, "a list within the first screen's rows is shown whole from the start").toEqual([]);
  });
});
