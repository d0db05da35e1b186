// Column-header sorting of the accounts list: a click on the sorted column flips the
// direction, a click on another column sorts by it in its natural direction.
import type { AccountSort } from "../bindings";

export type SortState = { sort: AccountSort; descending: boolean };

/** Columns whose natural order is newest/largest first. */
const DESCENDING_FIRST: ReadonlySet<AccountSort> = new Set(["updated_at"]);

export function toggleSort(current: SortState, column: AccountSort): SortState {
  if (current.sort === column) return { sort: column, descending: !current.descending };
  return { sort: column, descending: DESCENDING_FIRST.has(column) };
}

/** The aria-sort value of a column header. */
export function ariaSort(current: SortState, column: AccountSort): "ascending" | "descending" | "none" {
  if (current.sort !== column) return "none";
  return current.descending ? "descending" : "ascending";
}
