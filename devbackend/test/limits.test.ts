// @vitest-environment node
// Convex's value limits, with Convex's own messages: on the arguments a call brings, on the
// documents a function writes, and on request bodies (README.md, "What it imitates of Convex").
import { describe, expect, test } from "vitest";
import { argumentsProblem, canonicalPath, formatSize, MAX_REQUEST_BODY_BYTES, measure } from "../src/limits.js";
import { ADMIN_KEY, startFixtureServer } from "./embedded.setup.js";

const embedded = await startFixtureServer();
const MiB = 1 << 20;

async function post(kind: string, body: string) {
  const response = await fetch(`${embedded.url}/api/${kind}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Convex ${ADMIN_KEY}` },
    body,
  });
  const text = await response.text();
  return { status: response.status, json: JSON.parse(text) };
}

const call = (kind: string, path: string, args: unknown) => post(kind, JSON.stringify({ path, args }));

async function notes(): Promise<{ _id: string; text: string; extra?: unknown }[]> {
  const response = await fetch(`${embedded.url}/_embedded/snapshot`, {
    headers: { Authorization: `Convex ${ADMIN_KEY}` },
  });
  return (await response.json()).notes;
}

/** A value `depth` levels deep: {a: {a: ... 0}}. */
function nested(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** The message of a function failure as Convex words it, after its "[Request ID: ...] Server Error" line. */
function failure(json: { status: string; errorMessage: string }): string {
  expect(json.status).toBe("error");
  const [first, ...rest] = json.errorMessage.split("\n");
  expect(first).toMatch(/^\[Request ID: [0-9a-f]+\] Server Error$/);
  return rest.join("\n");
}

describe("sizes and paths in Convex's words", () => {
  test("sizes are written as the humansize crate's BINARY format writes them", () => {
    expect(formatSize(512)).toBe("512 B");
    expect(formatSize(1024)).toBe("1 KiB");
    expect(formatSize(1536)).toBe("1.50 KiB");
    expect(formatSize(MiB)).toBe("1 MiB");
    expect(formatSize(MiB + 1)).toBe("1.00 MiB");
    expect(formatSize(16 * MiB)).toBe("16 MiB");
    // Exact halves round to even, as Rust formats floats.
    expect(formatSize(1.125 * MiB)).toBe("1.12 MiB");
    expect(formatSize(1.375 * MiB)).toBe("1.38 MiB");
  });

  test("a value's size and nesting are counted as Convex counts them", () => {
    expect(measure(null)).toEqual({ size: 1, nesting: 0 });
    expect(measure(true)).toEqual({ size: 1, nesting: 0 });
    expect(measure(1.5)).toEqual({ size: 9, nesting: 0 });
    expect(measure(1n)).toEqual({ size: 9, nesting: 0 });
    expect(measure("é")).toEqual({ size: 4, nesting: 0 });
    expect(measure(new ArrayBuffer(3))).toEqual({ size: 5, nesting: 0 });
    expect(measure({ a: 1 })).toEqual({ size: 2 + 2 + 9, nesting: 1 });
    expect(measure([[], [null]])).toEqual({ size: 2 + 2 + 3, nesting: 2 });
  });

  test("functions are named as Convex names them", () => {
    expect(canonicalPath("notes:add")).toBe("notes.js:add");
    expect(canonicalPath("dir/notes.js:add")).toBe("dir/notes.js:add");
    expect(canonicalPath("notes")).toBe("notes.js:default");
  });
});

describe("arguments over Convex's value limits are refused before the function runs", () => {
  test.each([
    [
      "an array of 8,193 items",
      { value: new Array(8193).fill(0) },
      "Array length is too long (8193 > maximum length 8192)",
    ],
    [
      "an object of 1,025 fields",
      { value: Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`f${i}`, 0])) },
      "Object has too many fields (1025 > maximum number 1024)",
    ],
    // The arguments travel in a one-element array: the object of arguments may be 63 deep.
    [
      "a value nested 63 deep",
      { value: nested(63) },
      "Value is too nested (nested 65 levels deep > maximum nesting 64)",
    ],
    [
      "a value over 32 MiB",
      { value: new Array(460).fill(new Array(8192).fill(0)) },
      "Value is too large (32.34 MiB > maximum size 32 MiB)",
    ],
  ])("%s", async (_, args, why) => {
    const { status, json } = await call("query", "notes:accept", args);
    expect(status).toBe(200);
    expect(failure(json)).toBe(`Invalid arguments for notes.js:accept: ${why}`);
  });

  test.each([
    ["8,192 items", { value: new Array(8192).fill(0) }],
    ["1,024 fields", { value: Object.fromEntries(Array.from({ length: 1024 }, (_, i) => [`f${i}`, 0])) }],
    ["nesting 62", { value: nested(62) }],
  ])("%s are accepted", async (_, args) => {
    expect((await call("query", "notes:accept", args)).json).toEqual({ status: "success", value: null, logLines: [] });
  });

  test("arguments of more than 16 MiB are too large", async () => {
    const { json } = await call("query", "notes:accept", { value: "x".repeat(16 * MiB) });
    expect(failure(json)).toBe("Arguments for notes.js:accept are too large (actual: 16.00 MiB, limit: 16 MiB)");
  });

  test("the limits come before the validator, and a mutation refused so writes nothing", async () => {
    const before = await notes();
    const { json } = await call("mutation", "notes:add", { text: "x", extra: new Array(8193).fill(0) });
    expect(failure(json)).toMatch(/^Invalid arguments for notes\.js:add: Array length is too long/);
    expect(await notes()).toEqual(before);
  });

  test("the same refusal answers a mutation over the sync protocol (one runner for both)", () => {
    expect(argumentsProblem("notes:add", { value: new Array(9000).fill(0) })).toBe(
      "Invalid arguments for notes.js:add: Array length is too long (9000 > maximum length 8192)",
    );
    expect(argumentsProblem("notes:add", { value: new Array(8192).fill(0) })).toBeNull();
  });
});

describe("documents over Convex's limits are refused where the function writes them", () => {
  // A note's stored size: {_id (32 chars), _creationTime, text: "t", count: int64, extra: "x" * n}.
  const FIXED = 2 + (3 + 1 + 34) + (13 + 1 + 9) + (4 + 1 + 3) + (5 + 1 + 9) + (5 + 1 + 2);

  test("a document of 1 MiB is stored; one byte more is too large, and nothing is written", async () => {
    const fits = await call("mutation", "notes:addWith", { text: "t", extra: "x".repeat(MiB - FIXED) });
    expect(fits.json.status).toBe("success");
    const before = await notes();
    const over = await call("mutation", "notes:addWith", { text: "t", extra: "x".repeat(MiB - FIXED + 1) });
    expect(failure(over.json)).toBe("Uncaught Error: Value is too large (1.00 MiB > maximum size 1 MiB)");
    expect(await notes()).toEqual(before);
  });

  test("the refusal is an error the function may catch, and the refused write is not kept", async () => {
    const before = await notes();
    const { json } = await call("mutation", "notes:addTooBigAndCatch", { text: "caught", bytes: 2 * MiB });
    expect(json).toEqual({
      status: "success",
      value: "Value is too large (2.00 MiB > maximum size 1 MiB)",
      logLines: [],
    });
    expect(await notes()).toEqual(before);
  });

  test("a patch that makes a document too large is refused and leaves it as it was", async () => {
    await call("mutation", "notes:addWith", { text: "to patch", extra: "small" });
    const note = (await notes()).find((n) => n.text === "to patch");
    if (note === undefined) throw new Error("the note was not added");
    const { json } = await call("mutation", "notes:patchExtra", { id: note._id, extra: "x".repeat(MiB) });
    expect(failure(json)).toMatch(/^Uncaught Error: Value is too large \(1\.00 MiB > maximum size 1 MiB\)$/);
    expect((await notes()).find((n) => n._id === note._id)?.extra).toBe("small");
    const replaced = await call("mutation", "notes:replaceWith", { id: note._id, extra: "x".repeat(2 * MiB) });
    expect(failure(replaced.json)).toBe("Uncaught Error: Value is too large (2.00 MiB > maximum size 1 MiB)");
    // A patch that stays under the limit is applied.
    expect((await call("mutation", "notes:patchExtra", { id: note._id, extra: "patched" })).json.status).toBe(
      "success",
    );
  });

  test("a document nested more than 16 deep is not a valid document", async () => {
    expect((await call("mutation", "notes:addWith", { text: "deep", extra: nested(15) })).json.status).toBe("success");
    const { json } = await call("mutation", "notes:addWith", { text: "deeper", extra: nested(16) });
    const message = failure(json);
    expect(message).toMatch(
      /^Uncaught Error: Document\(value: \{_creationTime: [0-9.]+, _id: "[0-9]+notes", count: 1, /,
    );
    expect(message).toMatch(
      / isn't a valid document: Document is too nested \(nested 17 levels deep > maximum nesting 16\)$/,
    );
  });

  test("a value the function builds over a value limit is an invalid argument of its database call", async () => {
    expect((await call("mutation", "notes:addArray", { length: 8192 })).json.status).toBe("success");
    const { json } = await call("mutation", "notes:addArray", { length: 8193 });
    expect(failure(json)).toBe(
      "Uncaught Error: Invalid argument `value` for `db.insert`: Array length is too long (8193 > maximum length 8192)",
    );
  });

  test("a document has at most 1,024 fields, its _id and _creationTime among them", async () => {
    expect((await call("mutation", "notes:addWide", { fields: 1022 })).json.status).toBe("success");
    const { json } = await call("mutation", "notes:addWide", { fields: 1023 });
    expect(failure(json)).toBe("Uncaught Error: Object has too many fields (1025 > maximum number 1024)");
  });
});

describe("request bodies of up to 16 MiB + 2000 bytes, as Convex's public API takes", () => {
  const padded = (size: number) => {
    const body = JSON.stringify({ path: "notes:accept", args: { value: 1 } });
    return body + " ".repeat(size - body.length);
  };

  test("a body of exactly the limit is read", async () => {
    const { status, json } = await post("query", padded(MAX_REQUEST_BODY_BYTES));
    expect(MAX_REQUEST_BODY_BYTES).toBe(16 * MiB + 2000);
    expect(status).toBe(200);
    expect(json.status).toBe("success");
  });

  test("one byte more is refused as Convex's body extractor refuses it", async () => {
    const { status, json } = await post("query", padded(MAX_REQUEST_BODY_BYTES + 1));
    expect(status).toBe(400);
    expect(json).toEqual({ code: "BadJsonBody", message: "Failed to buffer the request body: length limit exceeded" });
  });
});
