// The one list of expected failure codes. Every expected failure is thrown as
// ConvexError({code, message, ...}) through `fail`; the BFF maps each code to one HTTP
// status (and a test there fails when its table and this list disagree), and
// docs/data-model.md lists them.
import { ConvexError } from "convex/values";

export const ERROR_CODES = {
  not_found: "The document does not exist in this client (a document of another client is reported the same way).",
  forbidden: "The actor's role lacks the capability this function needs.",
  invalid_actor: "The actor is forged or stale: no such membership, API key or platform admin.",
  validation: "An argument breaks a rule that the validator cannot express (dates, bounds, formats).",
  conflict: "The change collides with existing data (a duplicate, a document still in use).",
  invalid_transition: "The status change is not allowed by the entity's state machine.",
  capacity_full: "The event has no free place left.",
  already_registered: "The member already has an active registration for this event.",
  already_enrolled: "The member already has an active enrollment in this course.",
  registration_closed: "The event is not open for registration (not published, or outside its window).",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function fail(
  code: ErrorCode,
  message: string,
  extra: Record<string, string | number | boolean | null> = {},
): never {
  throw new ConvexError({ code, message, ...extra });
}
