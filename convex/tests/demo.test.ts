// The demo data (convex/demo.ts): seeded in bounded transactions, and the demo documents
// Swagger UI's examples name, found in it by what identifies them (`exampleIds`;
// app/openapi/demo_ids.json holds what it finds).
import { afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { internal } from "../_generated/api";
import type { Id, TableNames } from "../_generated/dataModel";
import { SEED_BATCH } from "../demo";
import schema from "../schema";
import { codeOf } from "./content.setup";
import { type Backend, newBackend } from "./world.setup";

const found = (ids: Record<string, string | null>) =>
  Object.entries(ids).filter((entry): entry is [string, string] => entry[1] !== null);

type Used = Record<string, number>;
type SeedArgs = { acmeMembers?: number; globexMembers?: number };

/**
 * Seeds as the embedded backend does (devbackend/src/main.ts): demo:seed, then demo:seedBatch
 * with each cursor answered until none is. Each runs nested in a transaction of its own that
 * then asks convex-test what it used: one entry of `used` per seeding transaction.
 */
async function seedInBatches(t: Backend, args: SeedArgs = {}) {
  const used: Used[] = [];
  const usage = (metrics: Record<string, { used: number }>) =>
    Object.fromEntries(Object.entries(metrics).map(([name, { used }]) => [name, used]));
  const first = await t.run(async (ctx) => {
    const answer = await ctx.runMutation(internal.demo.seed, { ...args, batches: "returned" });
    used.push(usage(await ctx.meta.getTransactionMetrics()));
    return answer;
  });
  let next = first.next;
  while (next !== null) {
    const cursor = next;
    next = await t.run(async (ctx) => {
      const answer = await ctx.runMutation(internal.demo.seedBatch, { cursor, batches: "returned" });
      used.push(usage(await ctx.meta.getTransactionMetrics()));
      return answer.next;
    });
  }
  return { first, used };
}

/** Documents of each table, and member profiles of each client by its slug. */
async function totals(t: Backend) {
  return await t.run(async (ctx) => {
    const tables: Record<string, number> = {};
    for (const table of Object.keys(schema.tables) as TableNames[]) {
      const count = (await ctx.db.query(table).collect()).length;
      if (count > 0) tables[table] = count;
    }
    const members: Record<string, number> = {};
    for (const client of await ctx.db.query("clients").collect()) {
      members[client.slug] = (
        await ctx.db
          .query("memberProfiles")
          .withIndex("by_clientId_email", (q) => q.eq("clientId", client._id))
          .collect()
      ).length;
    }
    return { tables, members };
  });
}

// What the seed made when it was one transaction (3,110 documents), counted then.
const SEEDED = {
  tables: {
    categories: 6,
    clientMemberships: 12,
    clients: 2,
    courseCategories: 10,
    courseEnrollments: 4,
    courses: 10,
    eventRegistrations: 20,
    eventSponsors: 6,
    events: 6,
    interestCategories: 6,
    memberInterests: 4,
    memberProfiles: 3044,
    sponsors: 4,
    supportTicketMessages: 6,
    supportTickets: 4,
    users: 13,
  },
  members: { acme: 3002, globex: 42 },
};

/**
 * What one seeding transaction may use, at most: SEED_BATCH bulk members and under 70 other
 * documents, all small. Convex's own limits (https://docs.convex.dev/production/state/limits,
 * "Transactions", as convex-test enforces them) are 16,000 documents and 16 MiB written,
 * 32,000 documents and 16 MiB read, 4,096 index ranges: this is a tenth of them or less.
 */
const MiB = 1 << 20;
const SEEDING_BOUND = {
  documentsWritten: SEED_BATCH + 70,
  bytesWritten: 1 * MiB,
  documentsRead: 100,
  bytesRead: 1 * MiB,
  databaseQueries: 100,
  functionsScheduled: 0,
};
const CONVEX_LIMITS = {
  documentsWritten: 16_000,
  bytesWritten: 16 * MiB,
  documentsRead: 32_000,
  bytesRead: 16 * MiB,
  databaseQueries: 4_096,
  functionsScheduled: 1_000,
};

describe("seeding the demo data", () => {
  let t: Backend;
  let used: Used[];

  beforeAll(async () => {
    t = newBackend();
    ({ used } = await seedInBatches(t));
  }, 120_000);

  test("every seeding transaction stays under a bound a tenth of Convex's limits or less", () => {
    for (const [metric, bound] of Object.entries(SEEDING_BOUND)) {
      expect(bound).toBeLessThanOrEqual(CONVEX_LIMITS[metric as keyof typeof CONVEX_LIMITS] / 10);
    }
    // demo:seed, then ceil(3,000 / SEED_BATCH) batches of acme's members and one of globex's 40.
    expect(used).toHaveLength(1 + Math.ceil(3000 / SEED_BATCH) + 1);
    for (const [i, transaction] of used.entries()) {
      const over = Object.entries(SEEDING_BOUND).filter(([metric, bound]) => transaction[metric] > bound);
      expect([i, over]).toEqual([i, []]);
    }
  });

  test("the demo data is what one transaction seeded: the same documents of each table", async () => {
    expect(await totals(t)).toEqual(SEEDED);
  });

  test("however many members are asked for, no transaction grows", async () => {
    const many = newBackend();
    const { used: batches } = await seedInBatches(many, { acmeMembers: 4 * SEED_BATCH + 1, globexMembers: 0 });
    expect(batches).toHaveLength(1 + 5 + 1);
    expect(Math.max(...batches.map((b) => b.documentsWritten))).toBeLessThanOrEqual(SEEDING_BOUND.documentsWritten);
    expect((await totals(many)).members).toEqual({ acme: 4 * SEED_BATCH + 3, globex: 2 });
  }, 60_000);

  test("a second demo:seed changes nothing", async () => {
    const again = await t.mutation(internal.demo.seed, { batches: "returned" });
    expect(again).toEqual({ seeded: false, clients: ["acme", "globex"], members: 0, next: null });
    expect(await totals(t)).toEqual(SEEDED);
  });
});

describe("seeding in steps", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  test("a batch that already ran (a caller retrying) writes nothing and answers the same", async () => {
    const t = newBackend();
    const { next } = await t.mutation(internal.demo.seed, { acmeMembers: 20, globexMembers: 20, batches: "returned" });
    if (next === null) throw new Error("demo:seed left no batch");
    const once = await t.mutation(internal.demo.seedBatch, { cursor: next, batches: "returned" });
    const before = await totals(t);
    expect(await t.mutation(internal.demo.seedBatch, { cursor: next, batches: "returned" })).toEqual(once);
    expect(await totals(t)).toEqual(before);
  });

  test("on a deployment (`npx convex run demo:seed`), each transaction schedules the next", async () => {
    vi.useFakeTimers();
    const args = { acmeMembers: 2 * SEED_BATCH + 20, globexMembers: 20 };
    const scheduled = newBackend();
    const answer = await scheduled.mutation(internal.demo.seed, args);
    expect(answer).toMatchObject({ seeded: true, next: null });
    await scheduled.finishAllScheduledFunctions(vi.runAllTimers);
    const jobs = await scheduled.run(async (ctx) => await ctx.db.system.query("_scheduled_functions").collect());
    expect(jobs.map((job) => [job.name, job.state.kind])).toEqual(
      Array.from({ length: 4 }, () => ["demo:seedBatch", "success"]),
    );
    const driven = newBackend();
    await seedInBatches(driven, args);
    expect(await totals(scheduled)).toEqual(await totals(driven));
  });

  test("a number of members that is not a whole number, at least 0, is refused", async () => {
    const t = newBackend();
    for (const acmeMembers of [-1, 1.5]) {
      expect(await codeOf(t.mutation(internal.demo.seed, { acmeMembers }))).toBe("validation");
    }
    expect(await totals(t)).toEqual({ tables: {}, members: {} });
  });
});

describe("the demo documents the examples name", () => {
  // The demo data as `make run` seeds it (thousands of members): seeded once, read by each test.
  let t: Backend;
  let ids: Record<string, string | null>;
  let clients: { acme: Id<"clients">; globex: Id<"clients"> };

  beforeAll(async () => {
    t = newBackend();
    await seedInBatches(t);
    ids = await t.query(internal.demo.exampleIds, {});
    clients = await t.run(async (ctx) => {
      const bySlug = async (slug: string) => {
        const client = await ctx.db
          .query("clients")
          .withIndex("by_slug", (q) => q.eq("slug", slug))
          .unique();
        if (client === null) throw new Error(`the demo data has no client ${slug}`);
        return client._id;
      };
      return { acme: await bySlug("acme"), globex: await bySlug("globex") };
    });
  }, 120_000);

  test("each is found, and each is another document", () => {
    const missing = Object.keys(ids).filter((name) => ids[name] === null);
    expect(missing).toEqual([]);
    expect(Object.keys(ids).length).toBeGreaterThan(0);
    expect(new Set(Object.values(ids)).size).toBe(Object.keys(ids).length);
  });

  test("each is acme's, never globex's (whose demo data has the same titles)", async () => {
    const owners = await t.run(async (ctx) => {
      const owner: Record<string, string> = {};
      for (const [name, id] of found(ids)) {
        const doc = await ctx.db.get(id as Id<TableNames>);
        if (doc === null) owner[name] = "missing";
        else if ("clientId" in doc) owner[name] = doc.clientId;
        else {
          // A user: a member of acme only.
          const memberships = await ctx.db
            .query("clientMemberships")
            .withIndex("by_userId", (q) => q.eq("userId", id as Id<"users">))
            .collect();
          owner[name] = memberships.map((m) => m.clientId).join(",");
        }
      }
      return owner;
    });
    for (const [name, owner] of Object.entries(owners)) expect([name, owner]).toEqual([name, clients.acme]);
  });

  test("without acme's documents, none is found: globex's are not taken instead", async () => {
    const fresh = newBackend();
    await seedInBatches(fresh, { acmeMembers: 20, globexMembers: 20 });
    const before = await fresh.query(internal.demo.exampleIds, {});
    expect(found(before)).toHaveLength(Object.keys(before).length);
    await fresh.run(async (ctx) => {
      for (const [, id] of found(before)) {
        const doc = await ctx.db.get(id as Id<TableNames>);
        if (doc === null) continue;
        if ("clientId" in doc) await ctx.db.delete(doc._id);
        else {
          // A user stays; its membership of acme goes (it has none of globex).
          const memberships = await ctx.db
            .query("clientMemberships")
            .withIndex("by_userId", (q) => q.eq("userId", id as Id<"users">))
            .collect();
          for (const m of memberships) await ctx.db.delete(m._id);
        }
      }
    });
    const after = await fresh.query(internal.demo.exampleIds, {});
    expect(found(after)).toEqual([]);
    expect(Object.keys(after)).toEqual(Object.keys(before));
  });
});
