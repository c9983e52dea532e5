// @vitest-environment node
// The embedded backend answers Convex's HTTP API as Convex does.
import { describe, expect, test } from "vitest";
import { ADMIN_KEY, startFixtureServer } from "./embedded.setup.js";

const embedded = await startFixtureServer();

async function call(kind: string, body: unknown, auth: string | null = `Convex ${ADMIN_KEY}`) {
  const response = await fetch(`${embedded.url}/api/${kind}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(auth ? { Authorization: auth } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, json: JSON.parse(text) };
}

describe("successful calls", () => {
  test("values travel in Convex's encoded JSON both ways", async () => {
    const n = { $integer: Buffer.from(new BigInt64Array([7n]).buffer).toString("base64") };
    const blob = { $bytes: Buffer.from("hi").toString("base64") };
    const { status, json } = await call("query", {
      path: "notes:echo",
      args: { n, blob, f: 1.5 },
      format: "convex_encoded_json",
    });
    expect(status).toBe(200);
    expect(json).toEqual({ status: "success", value: { n, blob, f: 1.5, whole: 42 }, logLines: [] });
  });

  test("a whole float64 is written with a fraction, as Convex's serializer does", async () => {
    const n = { $integer: Buffer.from(new BigInt64Array([1n]).buffer).toString("base64") };
    const { text } = await call("query", { path: "notes:echo", args: { n, blob: { $bytes: "" }, f: 3 } });
    expect(text).toContain('"f":3.0');
    expect(text).toContain('"whole":42.0');
  });

  test("the json format flattens int64 to a number", async () => {
    const n = { $integer: Buffer.from(new BigInt64Array([5n]).buffer).toString("base64") };
    const { json } = await call("query", {
      path: "notes:echo",
      args: { n, blob: { $bytes: "" }, f: 1 },
      format: "json",
    });
    expect(json.value.n).toBe(5);
  });

  test("a mutation's writes are seen by the next query", async () => {
    expect((await call("mutation", { path: "notes:add", args: { text: "hello" } })).status).toBe(200);
    const { json } = await call("query", { path: "notes:list", args: {} });
    expect(json.value.map((n: { text: string }) => n.text)).toContain("hello");
  });

  test("a public function needs no admin key", async () => {
    expect((await call("mutation", { path: "notes:publicAdd", args: { text: "anon" } }, null)).status).toBe(200);
  });

  test("a module path may carry Convex's .js suffix", async () => {
    expect((await call("query", { path: "notes.js:list", args: {} })).status).toBe(200);
  });
});

describe("function failures answer 200 with status error, as the open-source backend does", () => {
  test("a ConvexError carries its data", async () => {
    const { status, json } = await call("query", { path: "notes:missing", args: {} });
    expect(status).toBe(200);
    expect(json.status).toBe("error");
    expect(json.errorData).toEqual({ code: "not_found", message: "note not found" });
    expect(json.errorMessage).toContain("ConvexError");
  });

  test("any other error has a message and no errorData", async () => {
    const { status, json } = await call("query", { path: "notes:broken", args: {} });
    expect(status).toBe(200);
    expect(json).not.toHaveProperty("errorData");
    expect(json.errorMessage).toContain("something internal broke");
  });

  test("an internal function without the admin key reads as a missing one", async () => {
    const internal = await call("query", { path: "notes:list", args: {} }, null);
    const missing = await call("query", { path: "notes:nothing", args: {} }, null);
    expect(internal.status).toBe(200);
    expect(internal.json.errorMessage).toBe("Could not find public function for 'notes:list'.");
    expect(missing.json.errorMessage).toBe("Could not find public function for 'notes:nothing'.");
  });

  test("calling a query as a mutation is refused", async () => {
    const { status, json } = await call("mutation", { path: "notes:list", args: {} });
    expect(status).toBe(200);
    expect(json.errorMessage).toMatch(/defined as Query/);
  });

  test("arguments that break the validator are refused before the handler runs", async () => {
    const { status, json } = await call("mutation", { path: "notes:add", args: { text: 5 } });
    expect(status).toBe(200);
    expect(json.errorMessage).toMatch(/^ArgumentValidationError: /);
    const extra = await call("mutation", { path: "notes:add", args: { text: "x", clientId: "y" } });
    expect(extra.json.errorMessage).toMatch(/extra field `clientId`/);
  });
});

describe("request errors answer {code, message}", () => {
  test("a wrong admin key is 401 BadAdminKey", async () => {
    const { status, json } = await call("query", { path: "notes:list", args: {} }, "Convex wrong");
    expect(status).toBe(401);
    expect(json.code).toBe("BadAdminKey");
  });

  test("a body that is not JSON is 400 BadJsonBody", async () => {
    const { status, json } = await call("query", "{nope");
    expect(status).toBe(400);
    expect(json.code).toBe("BadJsonBody");
  });

  test("an unknown format is 400 BadFormat", async () => {
    const { status, json } = await call("query", { path: "notes:list", args: {}, format: "xml" });
    expect(status).toBe(400);
    expect(json.code).toBe("BadFormat");
  });

  test("GET /version answers", async () => {
    const response = await fetch(`${embedded.url}/version`);
    expect(response.status).toBe(200);
  });
});

describe("snapshot (embedded only)", () => {
  test("lists every table's documents for the admin key and nothing without it", async () => {
    await call("mutation", { path: "notes:add", args: { text: "in the snapshot" } });
    const refused = await fetch(`${embedded.url}/_embedded/snapshot`);
    expect(refused.status).toBe(401);
    const response = await fetch(`${embedded.url}/_embedded/snapshot`, {
      headers: { Authorization: `Convex ${ADMIN_KEY}` },
    });
    const snapshot = await response.json();
    expect(Object.keys(snapshot)).toEqual(["notes", "ranked", "wide"]);
    expect(snapshot.notes.map((n: { text: string }) => n.text)).toContain("in the snapshot");
  });
});
