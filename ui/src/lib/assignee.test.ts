import { describe, expect, it } from "vitest";
import { assignChoices, matchesAssignee } from "./assignee";

const me = "00000000-0000-0000-0000-000000000007";
const other = "00000000-0000-0000-0000-000000000008";

describe("matchesAssignee", () => {
  it("Mine shows only my requests, Unassigned only nobody's, no filter everything", () => {
    const rows = [me, other, null];
    expect(rows.filter((a) => matchesAssignee(a, "mine", me))).toEqual([me]);
    expect(rows.filter((a) => matchesAssignee(a, "unassigned", me))).toEqual([null]);
    expect(rows.filter((a) => matchesAssignee(a, "", me))).toEqual(rows);
  });

  it("without a profile nothing is mine", () => {
    expect(matchesAssignee(null, "mine", null)).toBe(false);
  });
});

describe("assignChoices", () => {
  it("anyone takes an unassigned request and gives back their own", () => {
    expect(assignChoices(null, me, false)).toEqual({ take: true, giveBack: false, pick: false });
    expect(assignChoices(me, me, false)).toEqual({ take: false, giveBack: true, pick: false });
  });

  it("only a lead takes someone else's request or picks anyone", () => {
    expect(assignChoices(other, me, false)).toEqual({ take: false, giveBack: false, pick: false });
    expect(assignChoices(other, me, true)).toEqual({ take: true, giveBack: false, pick: true });
  });

  it("offers nothing before a profile exists", () => {
    expect(assignChoices(null, null, true)).toEqual({ take: false, giveBack: false, pick: false });
  });
});
