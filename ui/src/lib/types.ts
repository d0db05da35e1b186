// TEMPORARY: the IPC types as docs/IPC.md and the Rust sources declare them, until the shell
// generates ui/src/bindings.ts (`make bindings`). Then this file only re-exports it.
export type Plan = "professional_support" | "standard";
export type LifecycleStage = "onboarding" | "active" | "at_risk" | "churned";
export type Role = "csm" | "account_rep" | "support_lead" | "admin";
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
export type WorkingHours = { days: Array<Weekday>; start_minute: number; end_minute: number };
export type UserInput = {
  name: string;
  email: string;
  role: Role;
  time_zone: string;
  working_hours: WorkingHours;
};
export type User = UserInput & { id: string };
export type AccountInput = {
  name: string;
  plan: Plan;
  time_zone: string;
  fiscal_year_start_month: number;
  owner_csm_id: string | null;
  account_rep_id: string | null;
  slack_channel: string | null;
  support_email_domains: Array<string>;
  stage: LifecycleStage;
  tags: Array<string>;
};
export type Account = AccountInput & { id: string; created_at: string; updated_at: string };
export type ContactInput = { name: string; email: string; role: string; time_zone: string | null };
export type Contact = ContactInput & {
  id: string;
  account_id: string;
  created_at: string;
  updated_at: string;
};
export type NoteLinkKind = "session" | "incident";
export type NoteLink = { kind: NoteLinkKind; id: string };
export type NoteInput = { body: string; pinned: boolean; link: NoteLink | null };
export type AccountSort = "name" | "plan" | "stage" | "owner" | "time_zone" | "updated_at";
export type AccountQuery = {
  search: string | null;
  plan: Plan | null;
  stage: LifecycleStage | null;
  owner_id: string | null;
  sort: AccountSort;
  descending: boolean;
};
export type AccountRow = {
  id: string;
  name: string;
  plan: Plan;
  stage: LifecycleStage;
  time_zone: string;
  owner_csm_id: string | null;
  owner_name: string | null;
  tags: Array<string>;
  contact_count: number;
  note_count: number;
  updated_at: string;
};
export type AccountDetail = {
  account: Account;
  owner_name: string | null;
  rep_name: string | null;
  contacts: Array<Contact>;
};
export type NoteView = {
  id: string;
  account_id: string;
  author_id: string;
  author_name: string | null;
  body: string;
  body_html: string;
  pinned: boolean;
  link: NoteLink | null;
  created_at: string;
  updated_at: string;
};
export type SearchHitKind = "account" | "contact" | "note";
export type SearchHit = {
  kind: SearchHitKind;
  id: string;
  account_id: string;
  account_name: string;
  title: string;
  snippet: string;
};
export type SearchResults = {
  accounts: Array<SearchHit>;
  contacts: Array<SearchHit>;
  notes: Array<SearchHit>;
};
export type NoteSummary = {
  id: string;
  account_id: string;
  account_name: string;
  excerpt: string;
  pinned: boolean;
  updated_at: string;
};
export type TodayView = { me: User; my_accounts: Array<AccountRow>; recent_notes: Array<NoteSummary> };
export type StoreStatus = { pending_changes: number; last_write_at: string | null };
export type DemoSummary = { accounts: number; contacts: number; notes: number; users: number };
export type IpcErrorCode = "invalid_input" | "not_found" | "no_profile" | "storage";
export type IpcError = { code: IpcErrorCode; message: string; field: string | null };
