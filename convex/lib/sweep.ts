// Housekeeping in bounded transactions: one batch of documents found through an index, deleted,
// and the next batch scheduled when this one was full, so any backlog is cleared without a
// transaction growing past Convex's limits.
import type { FunctionReference } from "convex/server";
import { v } from "convex/values";
import type { Id, TableNames } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";

export const sweepArgs = { batchSize: v.optional(v.number()) };

/** The batch a sweep takes: `requested` may only lower `max`. */
export function batchOf(requested: number | undefined, max: number): number {
  return requested !== undefined && requested >= 1 ? Math.min(Math.floor(requested), max) : max;
}

/** Delete `found` (one batch of `size`); a full batch schedules `next` with the same size. */
export async function deleteBatch<T extends TableNames>(
  ctx: MutationCtx,
  found: { _id: Id<T> }[],
  size: number,
  next: FunctionReference<"mutation", "internal", { batchSize?: number }>,
): Promise<number> {
  for (const doc of found) await ctx.db.delete(doc._id);
  if (found.length === size) await ctx.scheduler.runAfter(0, next, { batchSize: size });
  return found.length;
}
