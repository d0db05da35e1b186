// Typed calls of the Tauri commands of docs/IPC.md. Every rejection becomes a CommandError
// carrying the IpcError; every successful write tells the listeners (the status bar).
import { invoke } from "@tauri-apps/api/core";
import { CommandError, toIpcError } from "./errors";
import type {
  AttentionItem,
  SyncStatus,
  Account,
  AccountDetail,
  DeletedAccount,
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
  AccountOnboarding,
  ExportedFile,
  NewSession,
  OnboardingBoard,
  OnboardingSession,
  OnboardingSessionInput,
  OnboardingSettings,
  OnboardingStatus,
  SessionDetail,
  SessionRow,
  Slot,
  SlotQuery,
  WeekView,
} from "../bindings";
import type {
  BoardFilter,
  BoardRow,
  HealthCheckInput,
  HealthView,
  HealthWeights,
  QuarterBoard,
  ReviewOutcome,
  ReviewView,
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
  accountDelete: (id: string): Promise<DeletedAccount> => write("account_delete", { id }),
  accountRestore: (account: Account): Promise<Account> => write("account_restore", { account }),

  contactCreate: (accountId: string, input: ContactInput): Promise<Contact> =>
    write("contact_create", { accountId, input }),
  contactUpdate: (id: string, input: ContactInput): Promise<Contact> =>
    write("contact_update", { id, input }),
  contactDelete: (id: string): Promise<null> => write("contact_delete", { id }),
  contactGet: (id: string): Promise<Contact> => call("contact_get", { id }),

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

  onboardingBoard: (): Promise<OnboardingBoard> => call("onboarding_board"),
  onboardingSessionGet: (id: string): Promise<SessionDetail> => call("onboarding_session_get", { id }),
  onboardingForAccount: (accountId: string): Promise<AccountOnboarding> =>
    call("onboarding_for_account", { accountId }),
  onboardingWeek: (day: string | null): Promise<WeekView> => call("onboarding_week", { day }),
  onboardingToday: (): Promise<SessionRow[]> => call("onboarding_today"),
  onboardingSlots: (accountId: string, query: SlotQuery): Promise<Slot[]> =>
    call("onboarding_slots", { accountId, query }),
  onboardingSessionCreate: (accountId: string, input: NewSession): Promise<OnboardingSession> =>
    write("onboarding_session_create", { accountId, input }),
  onboardingSessionUpdate: (id: string, input: OnboardingSessionInput): Promise<OnboardingSession> =>
    write("onboarding_session_update", { id, input }),
  onboardingSessionSetStatus: (id: string, status: OnboardingStatus): Promise<OnboardingSession> =>
    write("onboarding_session_set_status", { id, status }),
  onboardingSessionExport: (id: string): Promise<ExportedFile> => call("onboarding_session_export", { id }),
  onboardingWeekExport: (day: string | null): Promise<ExportedFile> =>
    call("onboarding_week_export", { day }),
  onboardingInviteText: (id: string): Promise<string> => call("onboarding_invite_text", { id }),
  onboardingSettingsGet: (): Promise<OnboardingSettings> => call("onboarding_settings_get"),
  onboardingSettingsSet: (settings: OnboardingSettings): Promise<OnboardingSettings> =>
    call("onboarding_settings_set", { settings }),
  quarterBoard: (offset: number, filter: BoardFilter): Promise<QuarterBoard> =>
    call("quarter_board", { offset, filter }),
  reviewsOverdueMine: (): Promise<BoardRow[]> => call("reviews_overdue_mine"),
  reviewCreate: (accountId: string, offset: number): Promise<ReviewView> =>
    write("review_create", { accountId, offset }),
  reviewGet: (id: string): Promise<ReviewView> => call("review_get", { id }),
  reviewSlots: (id: string): Promise<Slot[]> => call("review_slots", { id }),
  reviewBook: (id: string, start: string, end: string, meetingLink: string | null): Promise<ReviewView> =>
    write("review_book", { id, start, end, meetingLink }),
  reviewIcs: (id: string): Promise<ExportedFile> => call("review_ics", { id }),
  reviewSave: (id: string, input: HealthCheckInput): Promise<ReviewView> =>
    write("review_save", { id, input }),
  reviewComplete: (id: string, held: Slot | null): Promise<ReviewView> =>
    write("review_complete", { id, held }),
  reviewSetOutcome: (id: string, outcome: ReviewOutcome): Promise<ReviewView> =>
    write("review_set_outcome", { id, outcome }),
  healthGet: (accountId: string): Promise<HealthView> => call("health_get", { accountId }),
  healthWeightsGet: (): Promise<HealthWeights> => call("health_weights_get"),
  healthWeightsSet: (weights: HealthWeights): Promise<HealthWeights> =>
    write("health_weights_set", { weights }),
  reviewReminderGet: (): Promise<number> => call("review_reminder_get"),
  reviewReminderSet: (minutes: number): Promise<number> => write("review_reminder_set", { minutes }),

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

// --- Urgent requests, incidents and RCAs (docs/IPC.md, "requests" and "rca") ---
import type {
  CallSettings,
  EmailImportOutcome,
  LaunchedCall,
  NewRequestInput,
  RcaInput,
  RcaState,
  RcaView,
  RequestBoard,
  RequestDetail,
  RequestRow,
  RequestStatus,
  Severity,
  Visibility,
} from "../bindings";

export const requestsApi = {
  board: (): Promise<RequestBoard> => call("requests_board"),
  get: (id: string): Promise<RequestDetail> => call("request_get", { id }),
  ofAccount: (accountId: string): Promise<RequestRow[]> => call("account_requests", { accountId }),
  create: (input: NewRequestInput): Promise<string> => write("request_create", { input }),
  importEmail: (content: number[], accountId: string | null): Promise<EmailImportOutcome> =>
    write("email_import", { content, accountId }),
  respond: (id: string, visibility: Visibility, text: string): Promise<null> =>
    write("request_respond", { id, visibility, text }),
  addUpdate: (id: string, text: string): Promise<null> => write("request_add_update", { id, text }),
  setStatus: (id: string, status: RequestStatus): Promise<null> => write("request_set_status", { id, status }),
  setSeverity: (id: string, severity: Severity): Promise<null> =>
    write("request_set_severity", { id, severity }),
  launchCall: (id: string): Promise<LaunchedCall> => write("request_launch_call", { id }),
  openSlack: (id: string): Promise<null> => call("request_open_slack", { id }),
  callSettingsGet: (): Promise<CallSettings> => call("call_settings_get"),
  callSettingsSet: (input: CallSettings): Promise<CallSettings> => call("call_settings_set", { input }),
  rcaOpen: (requestId: string): Promise<RcaView> => write("rca_open", { requestId }),
  rcaGet: (id: string): Promise<RcaView> => call("rca_get", { id }),
  rcaSave: (id: string, input: RcaInput): Promise<RcaView> => write("rca_save", { id, input }),
  rcaSetState: (id: string, state: RcaState): Promise<RcaView> => write("rca_set_state", { id, state }),
  rcaExport: (id: string): Promise<string> => call("rca_export", { id }),
  /** My id takes the request, `null` gives it back (leads and admins assign anyone). */
  assign: (id: string, assigneeId: string | null): Promise<null> => write("request_assign", { id, assigneeId }),
};

import type { SlaReport } from "../bindings";

export const reportsApi = {
  slaReport: (accountId: string | null): Promise<SlaReport> => call("sla_report", { accountId }),
  slaReportExport: (accountId: string | null): Promise<string> => call("sla_report_export", { accountId }),
};

// --- Intake: the Unmatched queue and Settings → Intake (docs/IPC.md, "intake") ---
import type {
  Assigned,
  CreatedIntakeKey,
  IntakeErrorRow,
  IntakeKey,
  MailboxState,
  UnmatchedItem,
} from "../bindings";

export const intakeApi = {
  unmatched: (): Promise<UnmatchedItem[]> => call("intake_unmatched"),
  assign: (id: string, accountId: string): Promise<Assigned> => write("intake_assign", { id, accountId }),
  keys: (): Promise<IntakeKey[]> => call("intake_keys"),
  createKey: (name: string): Promise<CreatedIntakeKey> => call("intake_key_create", { name }),
  revokeKey: (id: string): Promise<IntakeKey> => call("intake_key_revoke", { id }),
  mailboxes: (): Promise<MailboxState[]> => call("intake_mailboxes"),
  errors: (): Promise<IntakeErrorRow[]> => call("intake_errors"),
};

// --- On call (docs/IPC.md, "oncall"): read from the server, never cached ---
import type { Acknowledged, NewOverride, OnCallNow, OnCallOverride } from "../bindings";

export const oncallApi = {
  get: (): Promise<OnCallNow> => call("oncall_get"),
  overrideCreate: (input: NewOverride): Promise<OnCallOverride> => call("oncall_override_create", { input }),
  overrideDelete: (id: string): Promise<null> => call("oncall_override_delete", { id }),
  ack: (requestId: string): Promise<Acknowledged> => call("oncall_ack", { requestId }),
};
