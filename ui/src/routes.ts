// The route table: every screen of the app, once. `Route` (lib/nav.svelte.ts) says what a
// screen needs to open; this table says which component shows it, which sidebar entry it
// belongs to and whether a sync reloads it. The table is keyed by every `Route["name"]`, so a
// new route without an entry here does not compile.
import type { Component } from "svelte";
import AccountPage from "./components/accounts/AccountPage.svelte";
import AccountsList from "./components/accounts/AccountsList.svelte";
import OnboardingBoard from "./components/onboarding/OnboardingBoard.svelte";
import SessionPage from "./components/onboarding/SessionPage.svelte";
import NewRequest from "./components/requests/NewRequest.svelte";
import RcaEditor from "./components/requests/RcaEditor.svelte";
import RequestPage from "./components/requests/RequestPage.svelte";
import RequestsBoard from "./components/requests/RequestsBoard.svelte";
import SlaReport from "./components/requests/SlaReport.svelte";
import QuarterBoard from "./components/reviews/QuarterBoard.svelte";
import ReviewPage from "./components/reviews/ReviewPage.svelte";
import Settings from "./components/settings/Settings.svelte";
import NeedsAttention from "./components/shared/NeedsAttention.svelte";
import SearchPage from "./components/shared/SearchPage.svelte";
import Today from "./components/today/Today.svelte";
import type { User } from "./bindings";
import type { Route } from "./lib/nav.svelte";

/** The sidebar entries, in their order; each is the root of a section. */
export const SECTIONS = [
  { name: "today", label: "Today", foot: false },
  { name: "accounts", label: "Accounts", foot: false },
  { name: "onboarding", label: "Onboarding", foot: false },
  { name: "quarter", label: "Reviews", foot: false },
  { name: "requests", label: "Requests", foot: false },
  { name: "settings", label: "Settings", foot: true },
] as const;

export type Section = (typeof SECTIONS)[number]["name"];

/** What every screen may be given by the frame: who I am, and how to change it. */
export type Frame = { me: User; onprofile: (me: User) => void };

/** A component with the props it opens with (checked against each other by `view`). */
export type View = { component: Component<Record<string, unknown>>; props: Record<string, unknown> };

function view<P extends Record<string, unknown>>(component: Component<P>, props: P): View {
  return { component: component as unknown as View["component"], props };
}

type RouteNamed<N extends Route["name"]> = Extract<Route, { name: N }>;

type Entry<N extends Route["name"]> = {
  /** The sidebar entry that is lit while this screen is open (none for Needs attention). */
  section: Section | null;
  /**
   * A view that only reads: records changed by a sync reload it. Editors (RCA, new
   * request, settings, needs attention) keep their unsaved input and are not reloaded.
   */
  live: boolean;
  /** What makes two screens of this route different ones (remounted when it changes). */
  identity?: (route: RouteNamed<N>) => string;
  view: (route: RouteNamed<N>, frame: Frame) => View;
};

export const ROUTES: { [N in Route["name"]]: Entry<N> } = {
  today: { section: "today", live: true, view: () => view(Today, {}) },
  accounts: { section: "accounts", live: true, view: (_, f) => view(AccountsList, { me: f.me }) },
  account: {
    section: "accounts",
    live: true,
    identity: (r) => r.id,
    view: (r) => view(AccountPage, { id: r.id, noteId: r.noteId }),
  },
  search: { section: null, live: true, view: (r) => view(SearchPage, { query: r.query }) },
  requests: { section: "requests", live: true, view: () => view(RequestsBoard, {}) },
  request: {
    section: "requests",
    live: true,
    identity: (r) => r.id,
    view: (r) => view(RequestPage, { id: r.id }),
  },
  "new-request": {
    section: "requests",
    live: false,
    view: (r) => view(NewRequest, { accountId: r.accountId }),
  },
  rca: { section: "requests", live: false, view: (r) => view(RcaEditor, { requestId: r.requestId }) },
  "sla-report": { section: "requests", live: true, view: () => view(SlaReport, {}) },
  settings: {
    section: "settings",
    live: false,
    view: (_, f) => view(Settings, { me: f.me, onprofile: f.onprofile }),
  },
  onboarding: { section: "onboarding", live: true, view: () => view(OnboardingBoard, {}) },
  session: { section: "onboarding", live: true, view: (r) => view(SessionPage, { id: r.id }) },
  quarter: { section: "quarter", live: true, view: (_, f) => view(QuarterBoard, { me: f.me }) },
  review: { section: "quarter", live: true, view: (r, f) => view(ReviewPage, { id: r.id, me: f.me }) },
  attention: { section: null, live: false, view: () => view(NeedsAttention, {}) },
};

function entry<N extends Route["name"]>(route: RouteNamed<N>): Entry<N> {
  return ROUTES[route.name as N];
}

/** The component and props that show `route`. */
export function viewOf(route: Route, frame: Frame): View {
  return entry(route).view(route, frame);
}

/** The sidebar entry lit for `route`. */
export function sectionOf(route: Route): Section | null {
  return entry(route).section;
}

/**
 * The key of the open screen: a new one when the stack depth, the screen or (for a live
 * view) the sync version changes.
 */
export function screenKey(depth: number, route: Route, liveVersion: number): string {
  const e = entry(route);
  const identity = e.identity?.(route) ?? route.name;
  return `${depth}:${identity}:${e.live ? liveVersion : 0}`;
}
