// The demo documents Swagger UI's examples name, found in the demo data by what identifies them
// (convex/demo.ts, `exampleIds`; app/openapi/demo_ids.json holds what it finds).
import { beforeAll, describe, expect, test } from "vitest";
import { internal } from "../_generated/api";
import type { Id, TableNames } from "../_generated/dataModel";
import { type Backend, newBackend } from "./world.setup";

const found = (ids: Record<string, string | null>) =>
  Object.entries(ids).filter((entry): entry is [string, string] => entry[1] !== null);

describe("the demo documents the examples name", () => {
  // The demo data as `make run` seeds it (thousands of members): seeded once, read by each test.
  let t: Backend;
  let ids: Record<string, string | null>;
  let clients: { acme: Id<"clients">; globex: Id<"clients"> };

  beforeAll(async () => {
    t = newBackend();
    await t.mutation(internal.demo.seed, {});
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
    await fresh.mutation(internal.demo.seed, { acmeMembers: 20, globexMembers: 20 });
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
