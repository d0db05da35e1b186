import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { debounce } from "./debounce";

describe("debounce", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs once with the last arguments, ms after the last call", () => {
    const seen: string[] = [];
    const d = debounce((s: string) => seen.push(s), 80);
    d("a");
    vi.advanceTimersByTime(50);
    d("ab");
    vi.advanceTimersByTime(79);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual(["ab"]);
  });

  it("cancel drops the pending call; flush runs it now", () => {
    const seen: string[] = [];
    const d = debounce((s: string) => seen.push(s), 80);
    d("x");
    d.cancel();
    vi.advanceTimersByTime(200);
    expect(seen).toEqual([]);
    d("y");
    d.flush();
    expect(seen).toEqual(["y"]);
    vi.advanceTimersByTime(200);
    expect(seen).toEqual(["y"]);
    d.flush();
    expect(seen).toEqual(["y"]);
  });
});
