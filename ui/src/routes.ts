// The route table: every screen of the app, once. `Route` (lib/nav.svelte.ts) says what a
// screen needs to open; this table says which component shows it, which sidebar entry it
// belongs to and whether a sync reloads it. The table is keyed by every `Route["name"]`, so a
// new route without an entry here does not compile.
import type { Component } from "svelte";
import Lazy from "./components/shared/Lazy.svelte";
import RequestPage from "./components/requests/RequestPage.svelte";
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

/**
 * A screen other than the start page: its code is a chunk of its own, fetched the first time
 * the screen opens (a Vite dynamic import), so the start page loads only its own code.
 */
export class LazyScreen<P extends Record<string, unknown> = Record<string, unknown>> {
  /** The component once loaded: later opens mount it at once. */
  component: Component<P> | null = null;
  #pending: Promise<Component<P>> | null = null;
  #import: () => Promise<{ default: Component<P> }>;

  constructor(load: () => Promise<{ default: Component<P> }>) {
    this.#import = load;
  }

  load(): Promise<Component<P>> {
    this.#pending ??= this.#import().then(
      (m) => (this.component = m.default),
      (e: unknown) => {
        this.#pending = null; // a later open tries again
        throw e;
      },
    );
    return this.#pending;
  }
}

function lazyView<P extends Record<string, unknown>>(screen: LazyScreen<P>, props: P): View {
  return view(Lazy, { screen: screen as unknown as LazyScreen, props });
}

const AccountsList = new LazyScreen(() => import("./components/accounts/AccountsList.svelte"));
const AccountPage = new LazyScreen(() => import("./components/accounts/AccountPage.svelte"));
const SearchPage = new LazyScreen(() => import("./components/shared/SearchPage.svelte"));
const RequestsBoard = new LazyScreen(() => import("./components/requests/RequestsBoard.svelte"));
const NewRequest = new LazyScreen(() => import("./components/requests/NewRequest.svelte"));
const RcaEditor = new LazyScreen(() => import("./components/requests/RcaEditor.svelte"));
const SlaReport = new LazyScreen(() => import("./components/requests/SlaReport.svelte"));
const Settings = new LazyScreen(() => import("./components/settings/Settings.svelte"));
const OnboardingBoard = new LazyScreen(() => import("./components/onboarding/OnboardingBoard.svelte"));
const SessionPage = new LazyScreen(() => import("./components/onboarding/SessionPage.svelte"));
const QuarterBoard = new LazyScreen(() => import("./components/reviews/QuarterBoard.svelte"));
const ReviewPage = new LazyScreen(() => import("./components/reviews/ReviewPage.svelte"));
const NeedsAttention = new LazyScreen(() => import("./components/shared/NeedsAttention.svelte"));

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
  accounts: { section: "accounts", live: true, view: (_, f) => lazyView(AccountsList, { me: f.me }) },
  account: {
    section: "accounts",
    live: true,
    identity: (r) => r.id,
    view: (r) => lazyView(AccountPage, { id: r.id, noteId: r.noteId }),
  },
  search: { section: null, live: true, view: (r) => lazyView(SearchPage, { query: r.query }) },
  requests: { section: "requests", live: true, view: () => lazyView(RequestsBoard, {}) },
  request: {
    section: "requests",
    live: true,
    identity: (r) => r.id,
    view: (r) => view(RequestPage, { id: r.id }),
  },
  "new-request": {
    section: "requests",
    live: false,
    view: (r) => lazyView(NewRequest, { accountId: r.accountId }),
  },
  rca: { section: "requests", live: false, view: (r) => lazyView(RcaEditor, { requestId: r.requestId }) },
  "sla-report": { section: "requests", live: true, view: () => lazyView(SlaReport, {}) },
  settings: {
    section: "settings",
    live: false,
    view: (_, f) => lazyView(Settings, { me: f.me, onprofile: f.onprofile }),
  },
  onboarding: { section: "onboarding", live: true, view: () => lazyView(OnboardingBoard, {}) },
  session: { section: "onboarding", live: true, view: (r) => lazyView(SessionPage, { id: r.id }) },
  quarter: { section: "quarter", live: true, view: (_, f) => lazyView(QuarterBoard, { me: f.me }) },
  review: { section: "quarter", live: true, view: (r, f) => lazyView(ReviewPage, { id: r.id, me: f.me }) },
  attention: { section: null, live: false, view: () => lazyView(NeedsAttention, {}) },
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
