// The loading / ready / error state of a screen or panel that reads through a command:
// one helper instead of the same three variables and try/catch in every component.
import { describeError, toIpcError } from "./errors";

export type Phase = "loading" | "ready" | "error";

export class Loader<T> {
  /** "loading" until the first answer; then "ready", or "error" when the last load failed. */
  phase = $state<Phase>("loading");
  /** The last value loaded (kept while a reload runs; `null` before the first). Not deeply
   * reactive: a load replaces it whole (a board of thousands of rows stays cheap). */
  value = $state.raw<T | null>(null);
  /** What went wrong, worded for the user (describeError), when `phase` is "error". */
  error = $state("");
  /** True while the latest load runs (a reload under what is shown: "Searching…"). */
  busy = $state(false);

  #fetch: () => Promise<T>;
  #seq = 0;

  constructor(fetch: () => Promise<T>) {
    this.#fetch = fetch;
  }

  /**
   * Loads (again). What is shown stays until the answer comes, unless `showLoading` puts
   * the screen back to "loading" first (a Retry). When loads overlap, only the latest one's
   * answer is kept. Resolves to whether this load made the state "ready".
   */
  async load(opts: { showLoading?: boolean } = {}): Promise<boolean> {
    const mine = ++this.#seq;
    this.busy = true;
    if (opts.showLoading === true) this.phase = "loading";
    try {
      const value = await this.#fetch();
      if (mine !== this.#seq) return false;
      this.value = value;
      this.phase = "ready";
      return true;
    } catch (e) {
      if (mine !== this.#seq) return false;
      this.error = describeError(toIpcError(e));
      this.phase = "error";
      return false;
    } finally {
      if (mine === this.#seq) this.busy = false;
    }
  }

  /**
   * Takes the state a write answered with (an editor's save returns the record as it now
   * is): ready with it at once, and a load still running is superseded, so its older
   * answer cannot overwrite the newer one.
   */
  set(value: T): void {
    this.#seq++;
    this.value = value;
    this.phase = "ready";
    this.busy = false;
  }
}

/** A loader of `fetch` (not started: call `load()`, usually in onMount). */
export function loader<T>(fetch: () => Promise<T>): Loader<T> {
  return new Loader(fetch);
}
