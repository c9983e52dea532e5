// Rules the argument validators cannot express; failures carry the offending field.
import { fail } from "./errors";
import { TEXT_MAX } from "./limits";

export function text(field: string, value: string, max: number, min = 1): string {
  const trimmed = value.trim();
  if (trimmed.length < min || trimmed.length > max) {
    fail("validation", `${field} must have ${min} to ${max} characters`, { field });
  }
  return trimmed;
}

export function optionalText(field: string, value: string | undefined, max: number): string | undefined {
  return value === undefined ? undefined : text(field, value, max, 0);
}

export function wholeNumber(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail("validation", `${field} must be a whole number from ${min} to ${max}`, { field });
  }
  return value;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function email(field: string, value: string): string {
  const normalized = value.trim().toLowerCase();
  if (normalized.length > TEXT_MAX.email || !EMAIL.test(normalized)) {
    fail("validation", `${field} must be an email address`, { field });
  }
  return normalized;
}

/**
 * A field that the function's argument validator requires, read back from a checking helper
 * that create and update share (so its result types every field as optional). It is always
 * there; were it not, that would be a bug here, not the caller's mistake: a plain Error (an
 * internal error), never a validation problem.
 */
export function required<T>(field: string, value: T | undefined): T {
  if (value === undefined) throw new Error(`${field} is required by the argument validator but is missing`);
  return value;
}
