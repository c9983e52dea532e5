// Mutation receipts (convex/lib/receipts.ts): looked up by the BFF when it must learn whether a
// mutation whose answer it lost has committed, and swept once no retry can ask for them.
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalQuery } from "./_generated/server";
import { RECEIPT_RETENTION_MS } from "./lib/receipts";
import { type Sweep, sweepMutation } from "./lib/sweep";

/**
 * Receipts one sweep transaction deletes. A receipt is at most about 65 KiB (a result of at most
 * MAX_KEPT_RESULT_CHARS, convex/lib/receipts.ts, plus its key and owner) and a deletion reads it
 * twice (its index range, then the delete), so one batch reads at most 100 * 2 * 65 KiB, about
 * 13 MiB, of the 16 MiB a transaction may read, and writes 100 documents of 16,000.
 */
export const SWEEP_BATCH = 100;

/** Whether the mutation sent with `key` has committed, and what it answered then. */
export const get = internalQuery({
  args: { key: v.string() },
  returns: v.union(v.null(), v.object({ result: v.any(), at: v.number() })),
  handler: async (ctx, { key }) => {
    const recorded = await ctx.db
      .query("mutationReceipts")
      .withIndex("by_key", (q) => q.eq("key", key))
      .unique();
    return recorded === null ? null : { result: recorded.result, at: recorded.at };
  },
});

/**
 * Delete receipts older than the retention, one bounded batch per transaction (convex/crons.ts
 * starts it); a full batch schedules the next. `batchSize` may only lower the batch.
 */
export const sweep: Sweep = sweepMutation(
  SWEEP_BATCH,
  (ctx, size) =>
    ctx.db
      .query("mutationReceipts")
      .withIndex("by_at", (q) => q.lt("at", Date.now() - RECEIPT_RETENTION_MS))
      .take(size),
  () => internal.receipts.sweep,
);
