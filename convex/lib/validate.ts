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
