// The shell answers every failed command with an IpcError `{ code, message, field }`
// (docs/IPC.md). These helpers turn whatever `invoke` threw into one, and an IpcError into
// what a form shows next to the field the error names.
import type { IpcError } from "../bindings";
import { fieldLabel } from "./labels";

const CODES: ReadonlySet<string> = new Set(["invalid_input", "not_found", "no_profile", "storage", "sync"]);

/** An error thrown by a command wrapper in api.ts; carries the IpcError as it came. */
export class CommandError extends Error {
  readonly ipc: IpcError;
  constructor(ipc: IpcError) {
    super(ipc.message);
    this.name = "CommandError";
    this.ipc = ipc;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

// What the IPC layer itself says when a form sent something the command cannot even read
// (an empty date, a number out of range): text for developers, never for users.
const DEVELOPER_TEXT =
  /invalid args `|for command `|premature end of input|invalid type: |unknown variant `|missing field `|expected .* at line \d+|not allowed by ACL|Command \S+ not found/;

/** What a user reads instead of the IPC layer's own text. */
export const UNREADABLE_INPUT =
  "Some of what you entered could not be read: check that every date, time and number is filled in and valid.";

function plainText(message: string): IpcError {
  if (DEVELOPER_TEXT.test(message)) {
    console.warn("a command refused its arguments:", message);
    return { code: "invalid_input", message: UNREADABLE_INPUT, field: null };
  }
  return { code: "storage", message, field: null };
}

/** Whatever a command rejected with, as an IpcError (unknown shapes become `storage`; the
 * IPC layer's own complaints about unreadable arguments become a sentence for users). */
export function toIpcError(e: unknown): IpcError {
  if (e instanceof CommandError) return e.ipc;
  if (isRecord(e) && typeof e["code"] === "string" && typeof e["message"] === "string") {
    const field = typeof e["field"] === "string" && e["field"] !== "" ? e["field"] : null;
    const code = CODES.has(e["code"]) ? (e["code"] as IpcError["code"]) : "storage";
    return { code, message: e["message"], field };
  }
  if (e instanceof Error) return plainText(e.message);
  if (typeof e === "string") return plainText(e);
  return { code: "storage", message: "Something went wrong.", field: null };
}

/** The reason without the `"<field>: "` prefix the shell puts in front of it. */
export function reasonOf(err: IpcError): string {
  if (err.field !== null && err.message.startsWith(`${err.field}: `)) {
    return err.message.slice(err.field.length + 2);
  }
  return err.message;
}

/** The sentence shown to a user: the field's label, then the reason. */
export function describeError(err: IpcError): string {
  if (err.field === null) return err.message;
  return `${fieldLabel(err.field)}: ${reasonOf(err)}`;
}

export type FormErrors = {
  /** Message per field of the form, keyed by the Rust field name. */
  fields: Record<string, string>;
  /** A message that belongs to no field of this form (shown above the buttons). */
  general: string | null;
};

export const NO_ERRORS: FormErrors = { fields: {}, general: null };

/** Places an error next to the form field it names, or in `general` when the form has no such field. */
export function formErrors(e: unknown, formFields: readonly string[]): FormErrors {
  const err = toIpcError(e);
  if (err.code === "invalid_input" && err.field !== null && formFields.includes(err.field)) {
    return { fields: { [err.field]: describeError(err) }, general: null };
  }
  return { fields: {}, general: describeError(err) };
}
