// Check a function's arguments against its exported validator JSON before it
// runs, so a bad argument is reported as Convex reports it
// ("ArgumentValidationError: ...", a function failure) and never reaches a handler.
import type { Value } from "convex/values";

type ValidatorJson =
  | { type: "any" | "null" | "number" | "bigint" | "boolean" | "string" | "bytes" }
  | { type: "literal"; value: Value }
  | { type: "id"; tableName: string }
  | { type: "array"; value: ValidatorJson }
  | { type: "object"; value: Record<string, { fieldType: ValidatorJson; optional: boolean }> }
  | { type: "union"; value: ValidatorJson[] }
  | { type: "record"; keys: ValidatorJson; values: { fieldType: ValidatorJson } };

/** convex-test ids are `<digits><table>`. */
function idTable(id: string): string | null {
  const match = id.match(/^[0-9]+/);
  return match && match[0].length < id.length ? id.slice(match[0].length) : null;
}

/** The first problem with `value`, as a readable message, or null when it conforms. */
export function argumentProblem(validator: ValidatorJson, value: Value | undefined, path = ""): string | null {
  const at = path === "" ? "" : ` at path ${path}`;
  const got = (): string => JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)) ?? "undefined";
  const mismatch = (shown: string) => `Value does not match validator${at}. Value: ${got()} Validator: ${shown}`;
  switch (validator.type) {
    case "any":
      return null;
    case "null":
      return value === null ? null : mismatch("v.null()");
    case "number":
      return typeof value === "number" ? null : mismatch("v.float64()");
    case "bigint":
      return typeof value === "bigint" ? null : mismatch("v.int64()");
    case "boolean":
      return typeof value === "boolean" ? null : mismatch("v.boolean()");
    case "string":
      return typeof value === "string" ? null : mismatch("v.string()");
    case "bytes":
      return value instanceof ArrayBuffer ? null : mismatch("v.bytes()");
    case "literal":
      return value === validator.value ? null : mismatch(`v.literal(${JSON.stringify(validator.value)})`);
    case "id":
      return typeof value === "string" && idTable(value) === validator.tableName
        ? null
        : mismatch(`v.id("${validator.tableName}")`);
    case "array": {
      if (!Array.isArray(value)) return mismatch("v.array(...)");
      for (let i = 0; i < value.length; i++) {
        const problem = argumentProblem(validator.value, value[i], `${path}[${i}]`);
        if (problem) return problem;
      }
      return null;
    }
    case "object": {
      if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof ArrayBuffer) {
        return mismatch("v.object(...)");
      }
      const record = value as Record<string, Value | undefined>;
      for (const key of Object.keys(record)) {
        if (!(key in validator.value) && record[key] !== undefined) {
          return `Object contains extra field \`${key}\` that is not in the validator${at}.`;
        }
      }
      for (const [key, field] of Object.entries(validator.value)) {
        const fieldPath = path === "" ? `.${key}` : `${path}.${key}`;
        if (record[key] === undefined) {
          if (!field.optional) return `Object is missing the required field \`${key}\`${at}.`;
          continue;
        }
        const problem = argumentProblem(field.fieldType, record[key], fieldPath);
        if (problem) return problem;
      }
      return null;
    }
    case "union":
      return validator.value.some((member) => argumentProblem(member, value, path) === null)
        ? null
        : mismatch("v.union(...)");
    case "record": {
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        return mismatch("v.record(...)");
      }
      for (const [key, entry] of Object.entries(value as Record<string, Value>)) {
        const problem =
          argumentProblem(validator.keys, key, `${path}.${key}`) ??
          argumentProblem(validator.values.fieldType, entry, `${path}.${key}`);
        if (problem) return problem;
      }
      return null;
    }
    default:
      return null;
  }
}

export type { ValidatorJson };
