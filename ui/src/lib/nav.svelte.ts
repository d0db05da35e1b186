// Where the app is: a small stack of screens (no URL routing: the webview never navigates).

export type Route =
  | { name: "today" }
  | { name: "accounts" }
  | { name: "account"; id: string; noteId: string | null }
  | { name: "search"; query: string }
  | { name: "settings" }
  | { name: "onboarding" }
  | { name: "session"; id: string }
  | { name: "quarter" }
  | { name: "review"; id: string }
  | { name: "requests" }
  | { name: "request"; id: string }
  | { name: "new-request"; accountId: string | null }
  | { name: "rca"; requestId: string }
  | { name: "sla-report" }
  | { name: "attention" };

// The app opens on Today: what needs attention now (urgent requests, sessions today,
// overdue reviews).
export const nav = $state<{ stack: Route[] }>({ stack: [{ name: "today" }] });

export function current(): Route {
  return nav.stack[nav.stack.length - 1] ?? { name: "accounts" };
}

/** Opens a screen on top of the current one (Esc / Back returns). */
export function go(route: Route): void {
  nav.stack.push(route);
  if (nav.stack.length > 50) nav.stack.splice(0, nav.stack.length - 50);
}

/** Opens a top-level screen (a sidebar entry): the history starts again there. */
export function goRoot(route: Route): void {
  nav.stack = [route];
}

export function canGoBack(): boolean {
  return nav.stack.length > 1;
}

/** Returns to the screen below; from a lone account or search page, to the accounts list. */
export function back(): void {
  if (nav.stack.length > 1) nav.stack.pop();
  else if (current().name !== "accounts") nav.stack = [{ name: "accounts" }];
}
