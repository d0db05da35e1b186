// What the accounts list shows, kept while the user visits an account so Esc returns to the
// same search, filters, sort, selection and scroll position.
import type { AccountSort, LifecycleStage, Plan } from "../bindings";

export const listView = $state<{
  search: string;
  plan: Plan | null;
  stage: LifecycleStage | null;
  ownerId: string | null;
  sort: AccountSort;
  descending: boolean;
  selectedId: string | null;
  scrollTop: number;
}>({
  search: "",
  plan: null,
  stage: null,
  ownerId: null,
  sort: "name",
  descending: false,
  selectedId: null,
  scrollTop: 0,
});

export function hasFilters(): boolean {
  return (
    listView.search.trim() !== "" ||
    listView.plan !== null ||
    listView.stage !== null ||
    listView.ownerId !== null
  );
}

export function clearFilters(): void {
  listView.search = "";
  listView.plan = null;
  listView.stage = null;
  listView.ownerId = null;
}

/** The first paint of the accounts list is marked once per launch (docs/IPC.md, startup_mark). */
export const firstPaint = { marked: false };
