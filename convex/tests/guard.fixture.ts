// Test-only client mutations that break the builder's rules on purpose. The name has several
// dots, so Convex does not deploy this file; lib.test.ts registers it with convex-test.
import { v } from "convex/values";
import { clientMutation } from "../lib/functions";

const category = (clientId: string) => ({ clientId: clientId as never, name: "Stray", slug: "stray", createdAt: 0 });

/** Writes client data and forgets its audit record. */
export const writesWithoutAudit = clientMutation({
  capability: "categories.manage",
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await ctx.db.insert("categories", category(ctx.actor.clientId));
    return null;
  },
});

/** Inserts a document into another client, and audits it. */
export const insertsForAnotherClient = clientMutation({
  capability: "categories.manage",
  args: { clientId: v.id("clients") },
  returns: v.null(),
  handler: async (ctx, { clientId }) => {
    const id = await ctx.db.insert("categories", category(clientId));
    await ctx.audit("category.create", id);
    return null;
  },
});

/** Moves one of the actor's documents into another client, and audits it. */
export const movesToAnotherClient = clientMutation({
  capability: "categories.manage",
  args: { categoryId: v.string(), clientId: v.id("clients") },
  returns: v.null(),
  handler: async (ctx, { categoryId, clientId }) => {
    const doc = await ctx.getOwned("categories", categoryId);
    await ctx.db.patch(doc._id, { clientId });
    await ctx.audit("category.move", doc._id);
    return null;
  },
});

/** Deletes one of the actor's documents and forgets its audit record. */
export const deletesWithoutAudit = clientMutation({
  capability: "categories.manage",
  args: { categoryId: v.string() },
  returns: v.null(),
  handler: async (ctx, { categoryId }) => {
    const doc = await ctx.getOwned("categories", categoryId);
    await ctx.db.delete(doc._id);
    return null;
  },
});

/** Replaces one of the actor's documents with one of `clientId` (the actor's own or another), and audits it. */
export const replacesWithClient = clientMutation({
  capability: "categories.manage",
  args: { categoryId: v.string(), clientId: v.id("clients") },
  returns: v.null(),
  handler: async (ctx, { categoryId, clientId }) => {
    const doc = await ctx.getOwned("categories", categoryId);
    await ctx.db.replace(doc._id, category(clientId));
    await ctx.audit("category.replace", doc._id);
    return null;
  },
});

/** Reads through `ctx.db.system` (the scheduled functions) and writes nothing. */
export const readsSystemTables = clientMutation({
  capability: "categories.manage",
  args: {},
  returns: v.number(),
  handler: async (ctx) => (await ctx.db.system.query("_scheduled_functions").collect()).length,
});
