// Data cost: documents one list request reads in Convex as another client's data grows 100x
// (docs/architecture.md, decision 6: no request reads in proportion to another client's data).
// Measured with convex-test's per-transaction documentsRead limit: the smallest limit under
// which the page still loads is the number of documents the query read.
// Run by `make bench` (npx vitest run --config bench/convex/vitest.config.ts).
import { convexTest } from "convex-test";
import { expect, test } from "vitest";
import { internal } from "../../convex/_generated/api";
import schema from "../../convex/schema";
import { makeMembers } from "../../convex/tests/content.setup";
import { modules, seedWorld } from "../../convex/tests/world.setup";

const PAGE = 30;
const NEIGHBOUR_SIZES = [50, 500, 5000];

async function loads(limit: number, neighbourRows: number): Promise<boolean> {
  const t = convexTest({ schema, modules, transactionLimits: { documentsRead: limit } });
  const world = await seedWorld(t);
  await makeMembers(t, world.acme, 2 * PAGE);
  for (let made = 0; made < neighbourRows; made += 1000) await makeMembers(t, world.globex, Math.min(1000, neighbourRows - made));
  try {
    const page = await t.query(internal.members.list, { actor: world.acme.actors.client_user, page: { cursor: null, numItems: PAGE } });
    return page.page.length === PAGE;
  } catch {
    return false;
  }
}

async function documentsRead(neighbourRows: number): Promise<number> {
  let low = 1;
  let high = 256; // binary search for the smallest limit that lets the page load
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (await loads(middle, neighbourRows)) high = middle;
    else low = middle + 1;
  }
  return low;
}

test("documents read by one page of members stay flat as another client's data grows 100x", async () => {
  const read: number[] = [];
  for (const size of NEIGHBOUR_SIZES) read.push(await documentsRead(size));
  const rows = NEIGHBOUR_SIZES.map((size, i) => `  other client's members ${String(size).padStart(5)}: ${read[i]} documents read for a page of ${PAGE}`);
  console.log(["DATA COST", ...rows].join("\n"));
  expect(new Set(read).size).toBe(1);
}, 300_000);
