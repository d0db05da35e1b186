// Typed calls of the Tauri commands of docs/IPC.md. Every rejection becomes a CommandError
// carrying the IpcError; every successful write tells the listeners (the status bar).
import { invoke } from "@tauri-apps/api/core";
import { CommandError, toIpcError } from "./errors";
import type {
  AttentionItem,
  SyncStatus,
  Account,
  AccountDetail,
  AccountInput,
  AccountQuery,
  AccountRow,
  Contact,
  ContactInput,
  DemoSummary,
  NoteInput,
  NoteView,
  SearchResults,
  StoreStatus,
  TodayView,
  User,
  UserInput,
} from "../bindings";

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
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

async function write<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  const out = await call<T>(command, args);
  for (const l of writeListeners) l();
  return out;
}

export const api = {
  profileGet: (): Promise<User | null> => call("profile_get"),
  profileCreate: (input: UserInput): Promise<User> => write("profile_create", { input }),
  profileUpdate: (input: UserInput): Promise<User> => write("profile_update", { input }),
  usersList: (): Promise<User[]> => call("users_list"),
  demoLoad: (): Promise<DemoSummary> => write("demo_load"),

  accountsList: (query: AccountQuery): Promise<AccountRow[]> => call("accounts_list", { query }),
  accountGet: (id: string): Promise<AccountDetail> => call("account_get", { id }),
  accountCreate: (input: AccountInput): Promise<Account> => write("account_create", { input }),
  accountUpdate: (id: string, input: AccountInput): Promise<Account> =>
    write("account_update", { id, input }),

  contactCreate: (accountId: string, input: ContactInput): Promise<Contact> =>
    write("contact_create", { accountId, input }),
  contactUpdate: (id: string, input: ContactInput): Promise<Contact> =>
    write("contact_update", { id, input }),
  contactDelete: (id: string): Promise<null> => write("contact_delete", { id }),

  notesList: (accountId: string, search: string | null): Promise<NoteView[]> =>
    call("notes_list", { accountId, search }),
  noteCreate: (accountId: string, input: NoteInput): Promise<NoteView> =>
    write("note_create", { accountId, input }),
  noteUpdate: (id: string, body: string): Promise<NoteView> => write("note_update", { id, body }),
  noteSetPinned: (id: string, pinned: boolean): Promise<NoteView> =>
    write("note_set_pinned", { id, pinned }),
  noteDelete: (id: string): Promise<null> => write("note_delete", { id }),
  noteRestore: (id: string): Promise<NoteView> => write("note_restore", { id }),

  search: (query: string, limit: number): Promise<SearchResults> => call("search", { query, limit }),
  todayGet: (): Promise<TodayView> => call("today_get"),
  statusGet: (): Promise<StoreStatus> => call("status_get"),
  startupMark: (label: string): Promise<number> => call("startup_mark", { label }),
  openExternal: (url: string): Promise<null> => call("open_external", { url }),

  syncStatus: (): Promise<SyncStatus> => call("sync_status"),
  syncSignIn: (serverUrl: string, email: string, password: string): Promise<SyncStatus> =>
    call("sync_sign_in", { serverUrl, email, password }),
  syncSignOut: (keepPending: boolean): Promise<SyncStatus> => call("sync_sign_out", { keepPending }),
  syncNow: (): Promise<SyncStatus> => call("sync_now"),
  attentionList: (): Promise<AttentionItem[]> => call("attention_list"),
  attentionResend: (id: string, fields: Record<string, unknown> | null): Promise<null> =>
    write("attention_resend", { id, fields }),
  attentionDiscard: (id: string): Promise<null> => write("attention_discard", { id }),
};
