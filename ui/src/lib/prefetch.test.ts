import { describe, expect, it } from "vitest";
import type { AccountQuery, AccountRow } from "../bindings";
import { currentQuery, dropPrefetched, prefetchAccounts, takePrefetched } from "./accountsView.svelte";

const row = { id: "r1", name: "Acme" } as unknown as AccountRow;

function loader(calls: AccountQuery[]): (q: AccountQuery) => Promise<AccountRow[]> {
  return (q) => {
    calls.push(q);
    return Promise.resolve([row]);
  };
}

describe("the boot prefetch of the accounts list", () => {
  it("is handed out once, and only for the same query", async () => {
    const calls: AccountQuery[] = [];
    prefetchAccounts(currentQuery(), loader(calls));
    expect(calls).toEqual([currentQuery()]);
    expect(takePrefetched({ ...currentQuery(), search: "other" })).toBeNull();
    // A mismatch drops it: a later query must not get rows of an older one.
    expect(takePrefetched(currentQuery())).toBeNull();

    prefetchAccounts(currentQuery(), loader(calls));
    const got = takePrefetched(currentQuery());
    expect(got).not.toBeNull();
    expect(await got).toEqual([row]);
    expect(takePrefetched(currentQuery())).toBeNull();
  });

  it("is dropped when nobody will take it", () => {
    prefetchAccounts(currentQuery(), loader([]));
    dropPrefetched();
    expect(takePrefetched(currentQuery())).toBeNull();
  });

  it("leaves no unhandled rejection when it fails", async () => {
    prefetchAccounts(currentQuery(), () => Promise.reject(new Error("storage")));
    const got = takePrefetched(currentQuery());
    await expect(got).rejects.toThrow("storage");
  });
});
