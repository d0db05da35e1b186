// The status bar's view of the local store, refreshed after every write.
import { api, onWrite } from "./api";
import type { StoreStatus } from "../bindings";
import { toIpcError } from "./errors";

export const store = $state<{ status: StoreStatus | null; error: string | null }>({
  status: null,
  error: null,
});

let seq = 0;

export async function refreshStatus(): Promise<void> {
  const mine = ++seq;
  try {
    const s = await api.statusGet();
    if (mine === seq) {
      store.status = s;
      store.error = null;
    }
  } catch (e) {
    if (mine === seq) store.error = toIpcError(e).message;
  }
}

onWrite(() => {
  void refreshStatus();
});
