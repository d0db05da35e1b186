import { describe, expect, it } from "vitest";
import { CommandError } from "./errors";
import { loader } from "./loader.svelte";

/** A fetch whose answers the test hands out one by one. */
function controlled<T>(): { fetch: () => Promise<T>; answer: (v: T) => void; fail: (e: unknown) => void } {
  const pending: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  return {
    fetch: () => new Promise<T>((resolve, reject) => pending.push({ resolve, reject })),
    answer: (v) => pending.shift()?.resolve(v),
    fail: (e) => pending.shift()?.reject(e),
  };
}

describe("loader", () => {
  it("goes from loading to ready with the value", async () => {
    const l = loader(() => Promise.resolve(42));
    expect(l.phase).toBe("loading");
    expect(l.value).toBeNull();
    expect(await l.load()).toBe(true);
    expect(l.phase).toBe("ready");
    expect(l.value).toBe(42);
  });

  it("words a refusal for the user and keeps the last value", async () => {
    let fail = false;
    const l = loader(() =>
      fail ? Promise.reject(new CommandError({ code: "not_found", message: "No such account.", field: null })) : Promise.resolve("first"),
    );
    await l.load();
    fail = true;
    expect(await l.load()).toBe(false);
    expect(l.phase).toBe("error");
    expect(l.error).toContain("No such account.");
    expect(l.value).toBe("first");
  });

  it("shows loading again only when asked (a retry)", async () => {
    const c = controlled<number>();
    const l = loader(c.fetch);
    const first = l.load();
    c.answer(1);
    await first;
    const reload = l.load();
    expect(l.phase, "a reload keeps what is shown").toBe("ready");
    c.answer(2);
    await reload;
    const retry = l.load({ showLoading: true });
    expect(l.phase).toBe("loading");
    c.answer(3);
    await retry;
    expect(l.value).toBe(3);
  });

  it("keeps only the latest of overlapping loads", async () => {
    const c = controlled<string>();
    const l = loader(c.fetch);
    const older = l.load();
    const newer = l.load();
    c.answer("old");
    c.answer("new");
    expect(await older, "the older answer is dropped").toBe(false);
    expect(await newer).toBe(true);
    expect(l.value).toBe("new");
  });

  it("takes a write's answer at once and drops an older load still running", async () => {
    const c = controlled<string>();
    const l = loader(c.fetch);
    const running = l.load();
    l.set("saved");
    expect(l.phase).toBe("ready");
    expect(l.value).toBe("saved");
    c.answer("stale");
    expect(await running).toBe(false);
    expect(l.value).toBe("saved");
  });

  it("is busy while the latest of overlapping loads runs", async () => {
    const c = controlled<string>();
    const l = loader(c.fetch);
    expect(l.busy).toBe(false);
    const older = l.load();
    const newer = l.load();
    expect(l.busy).toBe(true);
    c.answer("old");
    await older;
    expect(l.busy, "an older answer does not end the newer load").toBe(true);
    c.answer("new");
    await newer;
    expect(l.busy).toBe(false);
    const failing = l.load();
    c.fail(new Error("gone"));
    await failing;
    expect(l.busy, "a failed load is over too").toBe(false);
  });
});
