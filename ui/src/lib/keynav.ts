// The list keyboard map as a pure reducer: what a key press means on a list with a
// selection. The component applies the action (move, open, focus the search, go back).

export type KeyPress = {
  key: string;
  /** The key went to a text field (then j/k/`/` are typing, not commands). */
  inTextField: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
};

export type NavAction =
  | { kind: "select"; index: number }
  | { kind: "open"; index: number }
  | { kind: "focus-search" }
  | { kind: "escape-search" }
  | { kind: "back" }
  | { kind: "none" };

const NONE: NavAction = { kind: "none" };

export function listKey(
  press: KeyPress,
  selected: number,
  count: number,
  pageSize: number,
): NavAction {
  if (press.ctrlKey === true || press.metaKey === true || press.altKey === true) return NONE;
  const clamp = (i: number): number => Math.min(Math.max(i, 0), count - 1);
  const move = (delta: number): NavAction => {
    if (count === 0) return NONE;
    const next = selected < 0 ? (delta > 0 ? 0 : count - 1) : clamp(selected + delta);
    return next === selected ? NONE : { kind: "select", index: next };
  };
  switch (press.key) {
    case "ArrowDown":
      return move(1);
    case "ArrowUp":
      return move(-1);
    case "PageDown":
      return press.inTextField ? NONE : move(pageSize);
    case "PageUp":
      return press.inTextField ? NONE : move(-pageSize);
    case "j":
      return press.inTextField ? NONE : move(1);
    case "k":
      return press.inTextField ? NONE : move(-1);
    case "Home":
      return press.inTextField || count === 0 ? NONE : { kind: "select", index: 0 };
    case "End":
      return press.inTextField || count === 0 ? NONE : { kind: "select", index: count - 1 };
    case "Enter":
      return selected >= 0 && selected < count ? { kind: "open", index: selected } : NONE;
    case "/":
      return press.inTextField ? NONE : { kind: "focus-search" };
    case "Escape":
      return press.inTextField ? { kind: "escape-search" } : { kind: "back" };
    default:
      return NONE;
  }
}

/** True when keyboard focus is in something that takes typed text. */
export function isTextField(el: Element | null): boolean {
  if (el === null) return false;
  const tag = el.tagName.toLowerCase();
  if (tag === "textarea" || tag === "select") return true;
  if (tag === "input") {
    const type = (el.getAttribute("type") ?? "text").toLowerCase();
    return !["checkbox", "radio", "button", "submit", "reset"].includes(type);
  }
  return el instanceof HTMLElement && el.isContentEditable;
}
