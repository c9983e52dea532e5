// Convex's limits on values, function arguments, request bodies and execution time, with the
// messages Convex gives when one is passed. Sources are files of get-convex/convex-backend:
//   crates/value/src/array.rs        MAX_ARRAY_LEN 8192, "Array length is too long (...)"
//   crates/value/src/object.rs       MAX_OBJECT_FIELDS 1024, "Object has too many fields (...)"
//   crates/value/src/size.rs         MAX_SIZE 32 MiB, MAX_NESTING 64, "Value is too large (...)",
//                                    "Value is too nested (...)"; how a value's size is counted
//                                    (crates/value/src/lib.rs, string.rs, bytes.rs)
//   crates/udf/src/helpers.rs        parse_udf_args: "Invalid arguments for <path>: <why>";
//                                    validate_args_size: "Arguments for <path> are too large (...)"
//   crates/common/src/knobs.rs       FUNCTION_MAX_ARGS_SIZE 16 MiB,
//                                    MAX_BACKEND_PUBLIC_API_REQUEST_SIZE 16 MiB + 2000 bytes,
//                                    DATABASE_UDF_USER_TIMEOUT 1 s, V8_ACTION_USER_TIMEOUT 1800 s
// The limits on the documents a function writes are in documents.ts.
import { CommitTsPlaceholder, type Value } from "convex/values";

export const MAX_ARRAY_LEN = 8192;
export const MAX_OBJECT_FIELDS = 1024;
export const MAX_NESTING = 64;
export const MAX_VALUE_SIZE = 1 << 25;
export const MAX_ARGS_SIZE = 1 << 24;
/** Bodies of `POST /api/query|mutation|action`; a bigger one is refused before it is parsed. */
export const MAX_REQUEST_BODY_BYTES = (1 << 24) + 2000;
/** User (JavaScript) time a query or mutation may take before Convex stops it, and an action. */
export const USER_TIMEOUT_MS = { query: 1000, mutation: 1000, action: 1_800_000 } as const;
/** Convex warns about a function past this share of a limit (knobs.rs FUNCTION_LIMIT_WARNING_RATIO). */
export const LIMIT_WARNING_RATIO = 0.8;

/** A value over one of Convex's limits; the message is Convex's own. */
export class LimitError extends Error {}

/** A value's size and nesting as Convex counts them (a number is 9 bytes, a string 2 + its UTF-8). */
export type Measure = { size: number; nesting: number };

/**
 * Sizes as Convex writes them in its messages (the `humansize` crate's BINARY format: whole
 * numbers bare, anything else with two decimals rounded half to even).
 */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let scale = 0;
  while (scale < units.length - 1 && bytes >= 1024 ** (scale + 1)) scale += 1;
  const divisor = BigInt(1024 ** scale);
  const whole = BigInt(bytes) / divisor;
  const remainder = BigInt(bytes) % divisor;
  if (remainder === 0n) return `${whole} ${units[scale]}`;
  // Two decimals of bytes / divisor, exactly, the half rounded to even as Rust formats floats.
  const hundredths = BigInt(bytes) * 100n;
  let rounded = hundredths / divisor;
  const rest = hundredths % divisor;
  if (rest * 2n > divisor || (rest * 2n === divisor && rounded % 2n === 1n)) rounded += 1n;
  const text = rounded.toString().padStart(3, "0");
  return `${text.slice(0, -2)}.${text.slice(-2)} ${units[scale]}`;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

function checkSize(size: number): void {
  if (size > MAX_VALUE_SIZE) {
    throw new LimitError(`Value is too large (${formatSize(size)} > maximum size ${formatSize(MAX_VALUE_SIZE)})`);
  }
}

function checkNesting(nesting: number): void {
  if (nesting > MAX_NESTING) {
    throw new LimitError(`Value is too nested (nested ${nesting} levels deep > maximum nesting ${MAX_NESTING})`);
  }
}

/** The checks Convex makes as it builds an array from its elements. */
export function checkArray(length: number, size: number, nesting: number): void {
  if (length > MAX_ARRAY_LEN) {
    throw new LimitError(`Array length is too long (${length} > maximum length ${MAX_ARRAY_LEN})`);
  }
  checkSize(size);
  checkNesting(nesting);
}

/** The checks Convex makes as it builds an object from its fields. */
function checkObject(fieldCount: number, size: number, nesting: number): void {
  if (fieldCount > MAX_OBJECT_FIELDS) {
    throw new LimitError(`Object has too many fields (${fieldCount} > maximum number ${MAX_OBJECT_FIELDS})`);
  }
  checkSize(size);
  checkNesting(nesting);
}

/**
 * Measure a value the way Convex builds it from JSON, innermost first, and throw the first
 * limit it passes, with Convex's message.
 */
export function measure(value: Value | undefined): Measure {
  if (value === null) return { size: 1, nesting: 0 };
  switch (typeof value) {
    case "boolean":
      return { size: 1, nesting: 0 };
    case "number":
    case "bigint":
      return { size: 9, nesting: 0 };
    case "string": {
      const size = 2 + utf8Length(value);
      checkSize(size);
      return { size, nesting: 0 };
    }
  }
  if (value instanceof CommitTsPlaceholder) return { size: 9, nesting: 0 };
  if (value instanceof ArrayBuffer) {
    const size = 2 + value.byteLength;
    checkSize(size);
    return { size, nesting: 0 };
  }
  if (Array.isArray(value)) {
    let size = 2;
    let deepest = 0;
    for (const item of value) {
      const inner = measure(item);
      size += inner.size;
      deepest = Math.max(deepest, inner.nesting);
    }
    checkArray(value.length, size, deepest + 1);
    return { size, nesting: deepest + 1 };
  }
  if (typeof value === "object" && value !== undefined) {
    let size = 2;
    let deepest = 0;
    let fields = 0;
    for (const [key, field] of Object.entries(value)) {
      if (field === undefined) continue;
      const inner = measure(field);
      size += utf8Length(key) + 1 + inner.size;
      deepest = Math.max(deepest, inner.nesting);
      fields += 1;
    }
    checkObject(fields, size, deepest + 1);
    return { size, nesting: deepest + 1 };
  }
  throw new LimitError(`Unsupported value: ${String(value)}`);
}

/** `notes:add` -> `notes.js:add`, as Convex names a function in its messages (CanonicalizedUdfPath). */
export function canonicalPath(udfPath: string): string {
  const [module, name = "default"] = udfPath.split(":");
  const file = module.split("/").pop() ?? module;
  return `${file.includes(".") ? module : `${module}.js`}:${name}`;
}

/**
 * Why Convex would refuse these arguments before running the function, in its words, or null.
 * The arguments travel as a one-element array, which counts for size and nesting too.
 */
export function argumentsProblem(udfPath: string, args: Record<string, Value>): string | null {
  const path = canonicalPath(udfPath);
  let size: number;
  try {
    const inner = measure(args);
    size = 2 + inner.size;
    checkArray(1, size, inner.nesting + 1);
  } catch (error) {
    if (error instanceof LimitError) return `Invalid arguments for ${path}: ${error.message}`;
    throw error;
  }
  if (size > MAX_ARGS_SIZE) {
    return `Arguments for ${path} are too large (actual: ${formatSize(size)}, limit: ${formatSize(MAX_ARGS_SIZE)})`;
  }
  return null;
}
