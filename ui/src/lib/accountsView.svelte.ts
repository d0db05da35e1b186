// What the accounts list shows, kept while the user visits an account so Esc returns to the
// same search, filters, sort, selection and scroll position.
import type { AccountQuery, AccountRow, AccountSort, LifecycleStage, Plan } from "../bindings";

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


/** The query the list sends for what `listView` says now. */
export function currentQuery(): AccountQuery {
  const search = listView.search.trim();
  return {
    search: search === "" ? null : search,
    plan: listView.plan,
    stage: listView.stage,
    owner_id: listView.ownerId,
    sort: listView.sort,
    descending: listView.descending,
  };
}

// At boot the list's rows are asked for while the profile is still being read, so the two
// round trips overlap instead of following each other. The list takes the answer once.
let early: { key: string; rows: Promise<AccountRow[]> } | null = null;

/** Starts loading the list for `query` before the list exists (the app's boot). */
export function prefetchAccounts(query: AccountQuery, load: (q: AccountQuery) => Promise<AccountRow[]>): void {
  const rows = load(query);
  // Nobody may ever take it (no profile yet): a failure then is not an unhandled rejection.
  rows.catch(() => undefined);
  early = { key: JSON.stringify(query), rows };
}

/** The prefetched answer when it was for exactly `query`; it is handed out once. */
export function takePrefetched(query: AccountQuery): Promise<AccountRow[]> | null {
  const e = early;
  early = null;
  return e !== null && e.key === JSON.stringify(query) ? e.rows : null;
}

/** Drops a prefetched answer nobody will take (e.g. onboarding comes first). */
export function dropPrefetched(): void {
  early = null;
}
