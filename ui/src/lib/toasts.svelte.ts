// Short messages at the bottom of the window, optionally with one action (Undo).

export type Toast = {
  id: number;
  text: string;
  action: { label: string; run: () => void } | null;
  kind: "info" | "error";
};

export const toasts = $state<{ list: Toast[] }>({ list: [] });

/** At most this many toasts show at once: a new one pushes out the oldest. */
export const MAX_TOASTS = 2;

let nextId = 1;

export function dismiss(id: number): void {
  toasts.list = toasts.list.filter((t) => t.id !== id);
}

/** Shows a toast for `ms` milliseconds (an action toast stays long enough to be used). */
export function showToast(
  text: string,
  options: { action?: { label: string; run: () => void }; kind?: "info" | "error"; ms?: number } = {},
): number {
  const id = nextId++;
  toasts.list = [
    ...toasts.list.slice(-(MAX_TOASTS - 1)),
    { id, text, action: options.action ?? null, kind: options.kind ?? "info" },
  ];
  setTimeout(() => dismiss(id), options.ms ?? (options.action ? 10_000 : 5_000));
  return id;
}
