// Convex's HTTP API on the wire: value formats and response shapes, as the
// backend writes them (get-convex/convex-backend: crates/local_backend/src/public_api.rs
// for UdfResponse, crates/value/src/export.rs for the formats).
import { convexToJson, type JSONValue, type Value } from "convex/values";

export type ValueFormat = "convex_encoded_json" | "json";

/** The `format` values Convex accepts, with its legacy aliases. */
export function parseFormat(format: unknown): ValueFormat | null {
  switch (format) {
    case undefined:
    case null:
    case "convex_encoded_json":
    case "convex_json":
      return "convex_encoded_json";
    case "json":
    case "convex_clean_json":
      return "json";
    default:
      return null;
  }
}

/** Export a value in a format: encoded keeps int64/bytes as {$integer}/{$bytes}; clean flattens them. */
export function exportValue(value: Value, format: ValueFormat): JSONValue {
  return format === "convex_encoded_json" ? convexToJson(value) : clean(value);
}

function clean(value: Value): JSONValue {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, clean(v as Value)]),
    );
  }
  if (typeof value === "number" && !Number.isFinite(value)) return convexToJson(value);
  return value as JSONValue;
}

/**
 * Serialise JSON as Convex (Rust, serde_json) does: a float64 always carries a
 * fraction or an exponent (`1.0`, not `1`). Clients rely on it: the official
 * Python client decodes a bare `1` as an int, which is not a Convex value.
 */
export function stringify(value: JSONValue): string {
  if (typeof value === "number") {
    if (Number.isInteger(value)) {
      const plain = String(value);
      return /[e.]/i.test(plain) ? plain : `${plain}.0`;
    }
    return String(value);
  }
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stringify).join(",")}]`;
  const fields = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}:${stringify(v as JSONValue)}`);
  return `{${fields.join(",")}}`;
}

export type UdfResponse =
  | { status: "success"; value: JSONValue; logLines: string[] }
  | { status: "error"; errorMessage: string; errorData?: JSONValue; logLines: string[] };

/** A request error, answered with an HTTP status and `{code, message}` as Convex's ErrorMetadata. */
export class RequestError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
