// How a command is called: every rejection becomes a CommandError carrying the IpcError;
// every successful write tells the listeners (the status bar). The generated wrappers of
// ../commands.ts call these two; components call the wrappers, as `api` (./api.ts).
import { invoke } from "@tauri-apps/api/core";
import { CommandError, toIpcError } from "./errors";

export async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw new CommandError(toIpcError(e));
  }
}

type WriteListener = () => void;
const writeListeners = new Set<WriteListener>();

/** Runs `listener` after each successful write; returns the unsubscribe. */
export function onWrite(listener: WriteListener): () => void {
  writeListeners.add(listener);
  return () => writeListeners.delete(listener);
}

/** A command that changes what the outbox holds (src-tauri/src/wrappers.rs, `WRITES`). */
export async function write<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  const out = await call<T>(command, args);
  for (const l of writeListeners) l();
  return out;
}
