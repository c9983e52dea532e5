// Convex's limits on the documents a function writes (`db.insert`, `db.patch`, `db.replace`),
// checked before convex-test stores anything, so a refused write leaves nothing behind even if
// the function catches the error. Sources are files of get-convex/convex-backend:
//   crates/isolate/src/environment/udf/async_syscall.rs  insert / shallow_merge / replace parse
//       the value as any Convex value (limits.ts), refusing it with
//       "Invalid argument `value` for `db.insert`: <why>" (helpers/mod.rs with_argument_error)
//   crates/common/src/document.rs  the document with its `_id` and `_creationTime` is an object
//       of at most 1,024 fields; at most 16 levels deep (MAX_DOCUMENT_NESTING, "<document> isn't
//       a valid document: Document is too nested (...)"); at most 1 MiB (MAX_USER_SIZE,
//       check_user_size, "Value is too large (<size> > maximum size 1 MiB)", called from
//       crates/database/src/transaction.rs apply_validated_write for every non-system table)
//   crates/isolate/src/environment/helpers/promise.rs  such an error rejects the database call
//       with a plain Error carrying that message, which the function may catch
// System tables (`_scheduled_functions`, `_storage`) are not held to them, as on Convex.
//
// convex-test keeps its database (`DatabaseFake`) private. It is found once, when convex-test
// enters the context it runs every call in (an AsyncLocalStorage run with its "Convex global"),
// and its write methods are wrapped on that instance.
import { AsyncLocalStorage } from "node:async_hooks";
import { type JSONValue, jsonToConvex, type Value } from "convex/values";
import { formatSize, LimitError, type Measure, measure } from "./limits.js";

export const MAX_DOCUMENT_SIZE = 1 << 20;
export const MAX_DOCUMENT_NESTING = 16;

type Document = Record<string, Value>;

const LIMITED = Symbol.for("devbackend.documentLimits");

/** The parts of convex-test's DatabaseFake used here (convex-test/dist/index.js). */
type DatabaseFake = {
  get(table: string, id: string): Document | null;
  insert(table: string, value: Document): string;
  patch(table: string | undefined, id: string, value: Record<string, JSONValue>): void;
  replace(table: string | undefined, id: string, value: Record<string, JSONValue>): void;
  _nextDocId?: unknown;
  [LIMITED]?: true;
};

type ConvexGlobal = { components: Record<string, { db: DatabaseFake }>; transactionManager: unknown };

function isConvexGlobal(store: unknown): store is ConvexGlobal {
  return (
    typeof store === "object" &&
    store !== null &&
    "components" in store &&
    "transactionManager" in store &&
    typeof (store as ConvexGlobal).components === "object"
  );
}

/** The databases of a convex-test instance, found as `run` enters convex-test's context. */
export async function databasesOf(backend: { run(fn: () => Promise<unknown>): Promise<unknown> }) {
  let found: ConvexGlobal | undefined;
  const prototype = AsyncLocalStorage.prototype as unknown as {
    run(this: unknown, store: unknown, ...rest: unknown[]): unknown;
  };
  const run = prototype.run;
  prototype.run = function (this: unknown, store: unknown, ...rest: unknown[]) {
    if (found === undefined && isConvexGlobal(store)) found = store;
    return run.call(this, store, ...rest);
  };
  try {
    await backend.run(async () => null);
  } finally {
    prototype.run = run;
  }
  if (found === undefined)
    throw new Error("devbackend: convex-test's database was not found (has convex-test changed?)");
  return Object.values(found.components).map((component) => component.db);
}

const isSystemTable = (table: string) => table.startsWith("_");
/** convex-test ids are digits followed by the table name. */
export const tableOfId = (id: string) => id.replace(/^[0-9]+/, "");

/** Hold every write of `db` to Convex's document limits (once per database). */
export function enforceDocumentLimits(db: DatabaseFake): void {
  if (db[LIMITED]) return;
  db[LIMITED] = true;
  const { insert, patch, replace } = db;

  db.insert = (table, value) => {
    if (!isSystemTable(table)) {
      parsed("db.insert", () => measure(value));
      // The id convex-test will give it (its own format, Convex's typical length) and a creation time.
      const next = typeof db._nextDocId === "number" ? String(db._nextDocId) : "";
      const _id = next.padStart(32 - table.length, "0") + table;
      checkDocument({ ...value, _id, _creationTime: Date.now() });
    }
    return insert.call(db, table, value);
  };

  db.patch = (table, id, value) => {
    const current = existing(db, table, id);
    if (current !== null && typeof value === "object" && value !== null) {
      const merged: Document = { ...current };
      for (const [field, json] of Object.entries(value)) {
        if (field === "_id" || field === "_creationTime") continue; // must match; convex-test checks
        if (isUndefinedMarker(json)) {
          delete merged[field];
          continue;
        }
        const decoded = decode(json);
        if (decoded === undefined) return patch.call(db, table, id, value); // convex-test's own error
        parsed("db.patch", () => measure(decoded));
        merged[field] = decoded;
      }
      checkDocument(merged);
    }
    return patch.call(db, table, id, value);
  };

  db.replace = (table, id, value) => {
    const current = existing(db, table, id);
    if (current !== null && typeof value === "object" && value !== null) {
      const decoded = decode(value);
      if (decoded !== undefined && typeof decoded === "object" && decoded !== null) {
        parsed("db.replace", () => measure(decoded));
        checkDocument({ ...(decoded as Document), _id: current._id, _creationTime: current._creationTime });
      }
    }
    return replace.call(db, table, id, value);
  };
}

/** The document a patch or replace starts from, or null for a system table or when convex-test will refuse it. */
function existing(db: DatabaseFake, table: string | undefined, id: string): Document | null {
  if (typeof id !== "string" || isSystemTable(table ?? tableOfId(id))) return null;
  try {
    return db.get(table ?? tableOfId(id), id);
  } catch {
    return null;
  }
}

function isUndefinedMarker(json: unknown): boolean {
  return typeof json === "object" && json !== null && !Array.isArray(json) && "$undefined" in json;
}

function decode(json: unknown): Value | undefined {
  try {
    return jsonToConvex(json as JSONValue);
  } catch {
    return undefined;
  }
}

/** Parsing the value a function passed: a limit it passes is an invalid argument of that call. */
function parsed(call: string, check: () => Measure): void {
  try {
    check();
  } catch (error) {
    if (error instanceof LimitError) throw new Error(`Invalid argument \`value\` for \`${call}\`: ${error.message}`);
    throw error;
  }
}

/** The document as it would be stored, system fields included: its field count, nesting and size. */
function checkDocument(document: Document): void {
  let measured: Measure;
  try {
    measured = measure(document); // an object's own limits (fields, size) included
  } catch (error) {
    if (error instanceof LimitError) throw new Error(error.message);
    throw error;
  }
  const { size, nesting } = measured;
  if (nesting > MAX_DOCUMENT_NESTING) {
    throw new Error(
      `${displayDocument(document)} isn't a valid document: Document is too nested ` +
        `(nested ${nesting} levels deep > maximum nesting ${MAX_DOCUMENT_NESTING})`,
    );
  }
  if (size > MAX_DOCUMENT_SIZE) {
    throw new Error(`Value is too large (${formatSize(size)} > maximum size ${formatSize(MAX_DOCUMENT_SIZE)})`);
  }
}

/** A document as Convex's Rust code displays one in messages (`Document(value: {...})`, fields sorted). */
function displayDocument(document: Document): string {
  return `Document(value: ${display(document)})`;
}

function display(value: Value | undefined): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "bigint") return String(value);
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
    return String(value).replace("e+", "e");
  }
  if (typeof value === "boolean") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof ArrayBuffer) return `b${JSON.stringify(Buffer.from(value).toString("base64"))}`;
  if (Array.isArray(value)) return `[${value.map(display).join(", ")}]`;
  if (typeof value === "object" && !(value instanceof ArrayBuffer)) {
    const entries = Object.entries(value as Record<string, Value | undefined>)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${key}: ${display(field)}`).join(", ")}}`;
  }
  return String(value);
}
