// @vitest-environment node
// GET /_embedded/writes: the documents each committed mutation wrote (not Convex).
import { makeFunctionReference } from "convex/server";
import { beforeEach, describe, expect, test } from "vitest";
import { type TransactionWrites, WriteLog } from "../src/writes.js";
import { ADMIN_KEY, startFixtureServer } from "./embedded.setup.js";

const ADMIN = { Authorization: `Convex ${ADMIN_KEY}` };

const embedded = await startFixtureServer();
beforeEach(async () => {
  expect((await fetch(`${embedded.url}/_embedded/writes`, { method: "DELETE", headers: ADMIN })).status).toBe(204);
});

async function call(kind: "query" | "mutation", path: string, args: Record<string, unknown>) {
  const response = await fetch(`${embedded.url}/api/${kind}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...ADMIN },
    body: JSON.stringify({ path, args }),
  });
  return (await response.json()) as { status: string };
}

async function writes(): Promise<{ transactions: TransactionWrites[]; dropped: number }> {
  const response = await fetch(`${embedded.url}/_embedded/writes`, { headers: ADMIN });
  expect(response.status).toBe(200);
  return response.json();
}

describe("the write log", () => {
  test("lists each committed mutation with the documents it inserted, patched or deleted", async () => {
    await call("mutation", "notes:add", { text: "first" });
    const [added] = (await writes()).transactions;
    expect(added).toMatchObject({ path: "notes:add", writeCount: 1, documents: [{ table: "notes" }] });
    const id = added.documents[0].id;
    await call("mutation", "notes:bump", { id });
    await call("mutation", "notes:remove", { id });
    const { transactions, dropped } = await writes();
    expect(transactions.map((t) => [t.path, t.documents])).toEqual([
      ["notes:add", [{ table: "notes", id }]],
      ["notes:bump", [{ table: "notes", id }]],
      ["notes:remove", [{ table: "notes", id }]],
    ]);
    expect(transactions.map((t) => t.seq)).toEqual([...transactions.map((t) => t.seq)].sort((a, b) => a - b));
    expect(dropped).toBe(0);
  });

  test("a mutation that failed, and a query, are not listed", async () => {
    expect((await call("mutation", "notes:addThenFail", { text: "rolled back" })).status).toBe("error");
    await call("query", "notes:list", {});
    expect((await writes()).transactions).toEqual([]);
  });

  test("a function a mutation scheduled is not filed under that mutation", async () => {
    await call("mutation", "notes:addLater", { text: "later" });
    const scheduling = (await writes()).transactions;
    let ran = false;
    for (let i = 0; i < 100 && !ran; i++) {
      const listed = (await call("query", "notes:list", {})) as unknown as { value: { text: string }[] };
      ran = listed.value.some((n) => n.text === "later");
      if (!ran) await new Promise((r) => setTimeout(r, 10));
    }
    expect(ran).toBe(true);
    // The scheduled run's note is in neither list; the scheduler's own entry is no database write.
    expect(scheduling).toHaveLength(1);
    expect(scheduling[0]).toMatchObject({ path: "notes:addLater", writeCount: 1 });
    expect((await writes()).transactions).toEqual(scheduling);
  });

  test("mutations the backend runs itself (seeding) are listed too", async () => {
    // HTTP, the sync socket and seeding share one runner.
    await embedded.run("mutation", "notes:add", { text: "seeded" });
    expect((await writes()).transactions.map((t) => t.path)).toEqual(["notes:add"]);
  });

  test("DELETE empties the log", async () => {
    await call("mutation", "notes:add", { text: "gone" });
    await fetch(`${embedded.url}/_embedded/writes`, { method: "DELETE", headers: ADMIN });
    expect((await writes()).transactions).toEqual([]);
  });

  test("needs the admin key", async () => {
    expect((await fetch(`${embedded.url}/_embedded/writes`)).status).toBe(401);
    expect((await fetch(`${embedded.url}/_embedded/writes`, { method: "DELETE" })).status).toBe(401);
    const wrong = await fetch(`${embedded.url}/_embedded/writes`, { headers: { Authorization: "Convex wrong" } });
    expect(wrong.status).toBe(401);
  });

  test("holds a bounded number of transactions, the oldest evicted first and counted", async () => {
    const log = new WriteLog(2);
    const add = makeFunctionReference<"mutation">("notes:add");
    for (const text of ["a", "b", "c"]) await log.record("notes:add", () => embedded.backend.mutation(add, { text }));
    const { transactions, dropped } = log.list();
    expect(transactions).toHaveLength(2);
    expect(dropped).toBe(1);
    expect(transactions[0].seq).toBe(2);
  });
});
