// Idempotency-Key records for unsafe POSTs (docs/security.md, IETF draft
// "The Idempotency-Key HTTP Header Field"). The BFF claims a key before it runs
// the request and stores the response after; records live here, per client and
// verified principal, so replays survive a BFF restart and span every process.
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import type { MutationCtx } from "./_generated/server";
import { fail } from "./lib/errors";
import { type Actor, type ActorArg, actorArg, principalOf, verifyActor } from "./lib/functions";
import { PATTERNS } from "./lib/limits";
import { internalMutation } from "./lib/receipts";
import { type Sweep, sweepMutation } from "./lib/sweep";
import { storedResponse } from "./schema";

async function recordFor(ctx: MutationCtx, actor: Actor, key: string): Promise<Doc<"idempotencyKeys"> | null> {
  return await ctx.db
    .query("idempotencyKeys")
    .withIndex("by_clientId_principal_key", (q) =>
      q.eq("clientId", actor.clientId).eq("principal", principalOf(actor)).eq("key", key),
    )
    .unique();
}

/**
 * Claim `key` for a request, or answer what became of the request that claimed it first. A key
 * whose request may or may not have applied its change (in doubt: its answer was lost; or still
 * in flight: its BFF may have died) resumes: the request runs again with the receipt key the
 * first run had, so each of its mutations answers its first run's result if that committed,
 * and runs if it did not (convex/lib/receipts.ts). No key is ever left in doubt.
 */
export const begin = internalMutation({
  args: {
    actor: actorArg,
    key: v.string(),
    requestHash: v.string(),
    ttlMs: v.number(),
    // The receipt key this request's mutations take theirs from, if it is the first. (Not
    // `receipt`: that argument is every mutation's own, convex/lib/receipts.ts.)
    requestReceipt: v.string(),
  },
  returns: v.union(
    v.object({ outcome: v.literal("started"), receipt: v.string(), resumed: v.boolean() }),
    v.object({ outcome: v.literal("replay"), response: storedResponse }),
    v.object({ outcome: v.literal("mismatch") }),
  ),
  handler: async (ctx, { actor: claimed, key, requestHash, ttlMs, requestReceipt: receipt }) => {
    const actor = await verifyActor(ctx, claimed);
    if (!PATTERNS.idempotencyKey.test(key))
      fail("validation", "Idempotency-Key must be 1-255 visible ASCII characters", { field: "Idempotency-Key" });
    const now = Date.now();
    const existing = await recordFor(ctx, actor, key);
    if (existing !== null && existing.expiresAt > now) {
      if (existing.requestHash !== requestHash) return { outcome: "mismatch" as const };
      if (existing.state === "done" && existing.response !== undefined) {
        return { outcome: "replay" as const, response: existing.response };
      }
      // Records made before receipts have none: their request runs again with this one's.
      const resumed = existing.receipt ?? receipt;
      await ctx.db.patch(existing._id, { state: "in_flight", receipt: resumed });
      return { outcome: "started" as const, receipt: resumed, resumed: true };
    }
    if (existing !== null) await ctx.db.delete(existing._id);
    await ctx.db.insert("idempotencyKeys", {
      clientId: actor.clientId,
      principal: principalOf(actor),
      key,
      requestHash,
      state: "in_flight",
      receipt,
      createdAt: now,
      expiresAt: now + ttlMs,
    });
    return { outcome: "started" as const, receipt, resumed: false };
  },
});

const settleArgs = { actor: actorArg, key: v.string(), requestHash: v.string() };

/**
 * Settle a key this request began: `apply` changes its record, which must still be in flight
 * with this request's hash. Any other record (done, in doubt, expired and begun again, another
 * request's) is left as it is, and the answer is false.
 */
async function settle(
  ctx: MutationCtx,
  claimed: ActorArg,
  key: string,
  requestHash: string,
  apply: (record: Doc<"idempotencyKeys">) => Promise<void>,
): Promise<boolean> {
  const actor = await verifyActor(ctx, claimed);
  const record = await recordFor(ctx, actor, key);
  if (record === null || record.state !== "in_flight" || record.requestHash !== requestHash) return false;
  await apply(record);
  return true;
}

/** Store the response of a request that began with this key (successes only; see the BFF). */
export const complete = internalMutation({
  args: { ...settleArgs, response: storedResponse },
  returns: v.boolean(),
  handler: (ctx, { actor, key, requestHash, response }) =>
    settle(ctx, actor, key, requestHash, (record) => ctx.db.patch(record._id, { state: "done", response })),
});

/** Let the key go: the request failed, changed nothing, and may be retried with the same key. */
export const release = internalMutation({
  args: settleArgs,
  returns: v.boolean(),
  handler: (ctx, { actor, key, requestHash }) =>
    settle(ctx, actor, key, requestHash, (record) => ctx.db.delete(record._id)),
});

/** The request's change was sent and its outcome is unknown: the key's next request resumes it. */
export const markInDoubt = internalMutation({
  args: settleArgs,
  returns: v.boolean(),
  handler: (ctx, { actor, key, requestHash }) =>
    settle(ctx, actor, key, requestHash, (record) => ctx.db.patch(record._id, { state: "in_doubt" })),
});

/**
 * Expired records one sweep transaction deletes. A record is at most about 66 KiB (the BFF
 * stores response bodies of at most 64 KiB, its MAX_STORED_BODY, plus a key of at most
 * 255 characters) and a deletion reads it twice (its index range, then
 * the delete), so one batch reads at most 100 * 2 * 66 KiB, about 13 MiB, of the 16 MiB a
 * transaction may read, 200 documents of 32,000, and writes 100 of 16,000
 * (https://docs.convex.dev/production/state/limits, "Transactions").
 */
export const SWEEP_BATCH = 100;

/**
 * Delete expired records, one bounded batch per transaction (convex/crons.ts starts it); a
 * full batch schedules the next, so any backlog is cleared without a transaction growing.
 * `batchSize` may only lower the batch.
 */
export const sweep: Sweep = sweepMutation(
  SWEEP_BATCH,
  (ctx, size) =>
    ctx.db
      .query("idempotencyKeys")
      .withIndex("by_expiresAt", (q) => q.lt("expiresAt", Date.now()))
      .take(size),
  () => internal.idempotency.sweep,
);
