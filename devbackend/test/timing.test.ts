// @vitest-environment node
// A function whose JavaScript runs longer than Convex allows (1 s for a query or mutation) is
// named on the backend's output with its duration; time spent waiting is not counted.
import { afterEach, beforeEach, describe, expect, type MockInstance, test, vi } from "vitest";
import { setTimingReport, warnIfSlow } from "../src/timing.js";
import { ADMIN_KEY, startFixtureServer } from "./embedded.setup.js";

const embedded = await startFixtureServer();
let warn: MockInstance<typeof console.warn>;

beforeEach(() => {
  warn = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => warn.mockRestore());

async function call(kind: string, path: string, args: unknown) {
  const response = await fetch(`${embedded.url}/api/${kind}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Convex ${ADMIN_KEY}` },
    body: JSON.stringify({ path, args }),
  });
  return response.json();
}

const warnings = () => warn.mock.calls.map((args) => String(args[0]));

describe("functions that run too long", () => {
  test("a mutation whose JavaScript runs past 1 s is named, with its duration, on the output", async () => {
    expect((await call("mutation", "notes:slowMutation", { ms: 1100 })).status).toBe("success");
    const [line, ...others] = warnings();
    expect(others).toEqual([]);
    expect(line).toMatch(
      /^devbackend: WARNING mutation notes:slowMutation ran for 1\.[0-9]{2} s of JavaScript, over Convex's limit of 1 s for a mutation: Convex would stop it and fail it with "Function execution timed out \(maximum duration: 1s\)"$/,
    );
  });

  test("a query past 80% of the limit gets Convex's own warning", async () => {
    await call("query", "notes:slowQuery", { ms: 850 });
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(
      /^devbackend: warning: query notes:slowQuery: Function execution took a long time\. \(maximum duration: 1s, actual duration: (8[5-9]|9[0-9])[0-9]ms\)\.$/,
    );
  });

  test("a quick function is not named, even when it waited behind a slow one", async () => {
    // convex-test runs one transaction at a time: the list waits about a second for the slow
    // mutation, which is not time its own JavaScript ran.
    const started = performance.now();
    const [, listed] = await Promise.all([
      call("mutation", "notes:slowMutation", { ms: 1100 }),
      call("query", "notes:list", {}),
    ]);
    expect(listed.status).toBe("success");
    expect(performance.now() - started).toBeGreaterThan(1000);
    expect(warnings().filter((line) => line.includes("notes:list"))).toEqual([]);
    expect(warnings().filter((line) => line.includes("notes:slowMutation"))).toHaveLength(1);
  });

  test("time spent in database calls is not counted", async () => {
    for (let i = 0; i < 50; i++) await call("mutation", "notes:add", { text: `note ${i}` });
    const reported: number[] = [];
    setTimingReport((_kind, path, userMs) => {
      if (path === "notes:manyReads") reported.push(userMs);
    });
    try {
      const started = performance.now();
      await call("query", "notes:manyReads", { reads: 300 });
      const wallMs = performance.now() - started;
      expect(reported).toHaveLength(1);
      // Most of the query's time is convex-test evaluating its 300 database queries.
      expect(reported[0]).toBeLessThan(wallMs * 0.6);
    } finally {
      setTimingReport(null);
    }
  });
});

describe("the limits", () => {
  test("an action has Convex's action limit, not a query's", () => {
    warnIfSlow("action", "notes:long", 5_000);
    expect(warnings()).toEqual([]);
    warnIfSlow("action", "notes:long", 1_900_000);
    expect(warnings()[0]).toMatch(/^devbackend: WARNING action notes:long ran for 1900\.00 s of JavaScript/);
  });

  test("at most the limit is fine; under 80% of it nothing is said", () => {
    warnIfSlow("query", "notes:ok", 790);
    expect(warnings()).toEqual([]);
    warnIfSlow("mutation", "notes:edge", 1000);
    expect(warnings()[0]).toMatch(/^devbackend: warning: mutation notes:edge: Function execution took a long time/);
  });
});
