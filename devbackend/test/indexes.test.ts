// @vitest-environment node
// Queries read through their indexes (src/indexes.ts): an index range answers exactly the
// documents in range, in index order, after commits that insert, move and delete documents, and
// within a transaction that has itself written to the table.
import { describe, expect, test } from "vitest";
import { ADMIN_KEY, startFixtureServer } from "./embedded.setup.js";

const embedded = await startFixtureServer();

async function call(kind: "query" | "mutation", path: string, args: Record<string, unknown>) {
  const response = await fetch(`${embedded.url}/api/${kind}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Convex ${ADMIN_KEY}` },
    body: JSON.stringify({ path, args }),
  });
  const body = (await response.json()) as { status: string; value: unknown; errorMessage?: string };
  expect(body.status, body.errorMessage).toBe("success");
  return body.value;
}

const between = (owner: string, above?: number, below?: number) =>
  call("query", "ranked:between", {
    owner,
    ...(above === undefined ? {} : { above }),
    ...(below === undefined ? {} : { below }),
  });
const ranksOf = async (owner: string, above?: number, below?: number) =>
  ((await between(owner, above, below)) as { rank: number }[]).map((d) => d.rank);

describe("an index range", () => {
  test("answers its owner's documents in rank order, within the bounds, whatever order they came in", async () => {
    for (const [owner, rank] of [
      ["ada", 5],
      ["bob", 1],
      ["ada", 2],
      ["ada", 9],
      ["bob", 7],
      ["ada", 7],
    ] as const) {
      await call("mutation", "ranked:add", { owner, rank });
    }
    expect(await ranksOf("ada")).toEqual([2, 5, 7, 9]);
    expect(await ranksOf("ada", 2, 9)).toEqual([5, 7]);
    expect(await ranksOf("ada", 9)).toEqual([]);
    expect(await ranksOf("bob")).toEqual([1, 7]);
    expect(await ranksOf("cy")).toEqual([]);
  });

  test("follows committed moves and deletions", async () => {
    const moved = await call("mutation", "ranked:add", { owner: "dee", rank: 3 });
    const removed = await call("mutation", "ranked:add", { owner: "dee", rank: 4 });
    await call("mutation", "ranked:move", { id: moved, owner: "eve", rank: 10 });
    await call("mutation", "ranked:remove", { id: removed });
    expect(await ranksOf("dee")).toEqual([]);
    expect(await ranksOf("eve")).toEqual([10]);
    await call("mutation", "ranked:move", { id: moved, owner: "eve", rank: 0 });
    expect(await ranksOf("eve")).toEqual([0]);
  });

  test("within a transaction, sees what it inserted and not what it moved away or deleted", async () => {
    const kept = await call("mutation", "ranked:add", { owner: "fay", rank: 1 });
    const moved = await call("mutation", "ranked:add", { owner: "fay", rank: 2 });
    const deleted = await call("mutation", "ranked:add", { owner: "fay", rank: 3 });
    const seen = await call("mutation", "ranked:changeThenRead", {
      owner: "fay",
      insertRank: 4,
      moveId: moved,
      deleteId: deleted,
    });
    expect((seen as { rank: number }[]).map((d) => d.rank)).toEqual([1, 4]);
    expect(await ranksOf("fay")).toEqual([1, 4]);
    expect(await ranksOf("fay-elsewhere")).toEqual([2]);
    expect(kept).toBeTypeOf("string");
  });
});
