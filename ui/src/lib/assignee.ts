// Who works a request, as the Requests board and the request page show it. The rules are
// rapport-domain's (`request::check_assignee_change`), asked again by the client and the
// service; this only decides which controls to offer.

export type AssigneeFilter = "" | "mine" | "unassigned";

/** Whether a request with `assigneeId` passes the board's assignee filter for `me`. */
export function matchesAssignee(assigneeId: string | null, filter: AssigneeFilter, me: string | null): boolean {
  switch (filter) {
    case "":
      return true;
    case "mine":
      return me !== null && assigneeId === me;
    case "unassigned":
      return assigneeId === null;
  }
}

export interface AssignChoices {
  /** "Take": assign it to me (an unassigned request, or anyone's for a lead). */
  take: boolean;
  /** "Give back": it is mine. */
  giveBack: boolean;
  /** The lead's picker: assign anyone, or nobody. */
  pick: boolean;
}

/** The controls the request page offers, by the same rule the domain enforces. */
export function assignChoices(assigneeId: string | null, me: string | null, canAssignOthers: boolean): AssignChoices {
  if (me === null) return { take: false, giveBack: false, pick: false };
  return {
    take: assigneeId !== me && (assigneeId === null || canAssignOthers),
    giveBack: assigneeId === me,
    pick: canAssignOthers,
  };
}
