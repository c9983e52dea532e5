// Housekeeping in bounded transactions: one batch of documents found through an index, deleted,
// and the next batch scheduled when this one was full, so any backlog is cleared without a
// transaction growing past Convex's limits.
import type { FunctionReference, RegisteredMutation } from "convex/server";
import { v } from "convex/values";
import type { Id, TableNames } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internalMutation } from "./receipts";

type SweepArgs = { batchSize?: number };

/**
 * A sweep, as its module declares it (`export const sweep: Sweep = sweepMutation(...)`): the
 * generated API reads the sweep's type, which `next` refers back to, so it is stated, not inferred.
 */
export type Sweep = RegisteredMutation<"internal", SweepArgs, Promise<number>>;

/** The batch a sweep takes: `requested` may only lower `max`. */
function batchOf(requested: number | undefined, max: number): number {
  return requested !== undefined && requested >= 1 ? Math.min(Math.floor(requested), max) : max;
}

/**
 * The sweep that deletes one batch of what `find` finds (`max` documents, or the `batchSize` it
 * is asked for if that is lower) and returns how many it deleted; a full batch schedules `next`,
 * the sweep itself, with the same size.
 */
export function sweepMutation<T extends TableNames>(
  max: number,
  find: (ctx: MutationCtx, size: number) => Promise<{ _id: Id<T> }[]>,
  // A function: the sweep's own reference is only defined once the module that exports it is.
  next: () => FunctionReference<"mutation", "internal", SweepArgs>,
): Sweep {
  return internalMutation({
    args: { batchSize: v.optional(v.number()) },
    returns: v.number(),
    handler: async (ctx, { batchSize }): Promise<number> => {
      const size = batchOf(batchSize, max);
      const found = await find(ctx, size);
      for (const doc of found) await ctx.db.delete(doc._id);
      if (found.length === size) await ctx.scheduler.runAfter(0, next(), { batchSize: size });
      return found.length;
    },
  });
}
