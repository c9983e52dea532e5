// No request reads documents in proportion to another client's data (one tenant
// cannot slow another down). convex-test enforces a documentsRead limit per transaction;
// with another client's 5,000 rows in the table, listing one page must stay
// within page size + a small constant (the actor's own documents).

import { convexTest } from "convex-test";
import { describe, expect, test } from "vitest";
import { internal } from "../_generated/api";
import schema from "../schema";
import { makeMembers } from "./content.setup";
import { modules, seedWorld } from "./world.setup";

const PAGE = 30;
/** Documents an actor check reads: client, user, membership, member profile; plus slack. */
const CONSTANT = 8;

async function worldWithCrowdedNeighbour(limit: number) {
  const t = convexTest({ schema, modules, transactionLimits: { documentsRead: limit } });
  const world = await seedWorld(t);
  await makeMembers(t, world.acme, 2 * PAGE);
  for (let i = 0; i < 5; i++) await makeMembers(t, world.globex, 1000);
  return { t, world };
}

describe("cost of a list is flat in other clients' data", () => {
  test(`a page of ${PAGE} members reads at most ${PAGE + CONSTANT} documents beside 5,000 of another client's`, async () => {
    const { t, world } = await worldWithCrowdedNeighbour(PAGE + CONSTANT);
    const page = await t.query(internal.members.list, {
      actor: world.acme.actors.client_user,
      page: { cursor: null, numItems: PAGE },
    });
    expect(page.page).toHaveLength(PAGE);
    const next = await t.query(internal.members.list, {
      actor: world.acme.actors.client_user,
      page: { cursor: page.continueCursor, numItems: PAGE },
    });
    expect(next.page).toHaveLength(PAGE);
  });

  test("the limit bites: reading the neighbour's table whole is refused", async () => {
    const { t } = await worldWithCrowdedNeighbour(PAGE + CONSTANT);
    await expect(t.run((ctx) => ctx.db.query("memberProfiles").collect())).rejects.toThrow(/read|limit/i);
  });
});
