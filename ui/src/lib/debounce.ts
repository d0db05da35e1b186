// A trailing debounce: the call runs once, `ms` after the last request.

export type Debounced<A extends unknown[]> = {
  (...args: A): void;
  /** Drops a pending call. */
  cancel(): void;
  /** Runs a pending call now. */
  flush(): void;
};

export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): Debounced<A> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: A | null = null;
  const run = (): void => {
    timer = null;
    const args = pending;
    pending = null;
    if (args !== null) fn(...args);
  };
  const debounced = (...args: A): void => {
    pending = args;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
  debounced.cancel = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    pending = null;
  };
  debounced.flush = (): void => {
    if (timer !== null) clearTimeout(timer);
    run();
  };
  return debounced;
}
