// The sync state the status bar, Settings → Connection and Needs attention show. The
// background sync task sends `sync://status` whenever its state changes and `sync://changed`
// when synced records changed; views that show records reload on the latter.
import { listen } from "@tauri-apps/api/event";
import { api, onWrite } from "./api";
import { toIpcError } from "./errors";
import type { SyncStatus } from "../bindings";

export const sync = $state<{ status: SyncStatus | null; error: string | null; version: number }>({
  status: null,
  error: null,
  version: 0,
});

export async function refreshSync(): Promise<void> {
  try {
    sync.status = await api.syncStatus();
    sync.error = null;
  } catch (e) {
    sync.error = toIpcError(e).message;
  }
}

let started = false;

/** Subscribes to the task's events (once). */
export function startSyncEvents(): void {
  if (started) return;
  started = true;
  void refreshSync();
  void listen<SyncStatus>("sync://status", (e) => {
    sync.status = e.payload;
  }).catch(() => {});
  void listen("sync://changed", () => {
    sync.version += 1;
  }).catch(() => {});
  onWrite(() => {
    void refreshSync();
  });
}

/** "3 changes", "1 change". */
export function changes(n: number): string {
  return `${n.toLocaleString()} ${n === 1 ? "change" : "changes"}`;
}
