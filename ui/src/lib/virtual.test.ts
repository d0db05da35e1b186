import { describe, expect, it } from "vitest";
import { revealRow, rowsPerPage, virtualWindow } from "./virtual";

describe("virtualWindow", () => {
  it("renders only the visible rows plus the overscan at the top", () => {
    const w = virtualWindow(0, 340, 34, 10_000, 5);
    expect(w).toEqual({ start: 0, end: 15, offset: 0, total: 340_000 });
  });

  it("follows the scroll position in the middle of 10,000 rows", () => {
    const w = virtualWindow(34 * 5000 + 10, 340, 34, 10_000, 5);
    expect(w.start).toBe(4995);
    expect(w.end).toBe(5016);
    expect(w.offset).toBe(4995 * 34);
    expect(w.end - w.start).toBeLessThan(30);
  });

  it("clamps at the end of the list even when scrollTop overshoots", () => {
    const w = virtualWindow(10_000_000, 340, 34, 100, 5);
    expect(w.end).toBe(100);
    expect(w.start).toBe(100 - 10 - 5);
  });

  it("renders nothing for an empty list", () => {
    expect(virtualWindow(0, 500, 34, 0, 5)).toEqual({ start: 0, end: 0, offset: 0, total: 0 });
  });

  it("renders every row of a list shorter than the viewport", () => {
    const w = virtualWindow(0, 800, 34, 3, 10);
    expect([w.start, w.end]).toEqual([0, 3]);
  });

  it("still renders a row when the viewport has no height yet", () => {
    const w = virtualWindow(0, 0, 34, 50, 0);
    expect(w.end - w.start).toBe(1);
  });
});

describe("revealRow", () => {
  it("keeps the scroll position when the row is visible", () => {
    expect(revealRow(3, 34, 0, 340)).toBe(0);
  });
  it("scrolls up to a row above the viewport", () => {
    expect(revealRow(2, 34, 200, 340)).toBe(68);
  });
  it("scrolls down just enough to show a row below the viewport", () => {
    expect(revealRow(10, 34, 0, 340)).toBe(11 * 34 - 340);
  });
});

describe("rowsPerPage", () => {
  it("counts whole rows, at least one", () => {
    expect(rowsPerPage(34, 340)).toBe(10);
    expect(rowsPerPage(34, 10)).toBe(1);
  });
});
