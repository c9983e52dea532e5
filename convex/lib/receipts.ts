// Mutation receipts: every internal mutation is safe to send again.
//
// The BFF sends each mutation with a `receipt` key of its own making, the same key on every
// attempt. The first run that commits records the key with its result in its own transaction
// (as Convex's `_session_requests` does for its WebSocket clients); a later run with that key
// returns the recorded result and changes nothing. So a mutation whose answer was lost (a
// connection closed after the request was written, a proxy's 502, a read timeout) is sent
// again and applies once. A run that fails records nothing: nothing it wrote is kept, so
// sending it again is what a caller would do anyway.
//
// One document per call (no hot document); convex/receipts.ts sweeps them after
// RECEIPT_RETENTION_MS, longer than any retry window the BFF promises.
import { v } from "convex/values";
import { type MutationCtx, internalMutation as plainInternalMutation } from "../_generated/server";
import { fail } from "./errors";
import { principalOf } from "./principal";

export const RECEIPT_RETENTION_MS = 48 * 60 * 60 * 1000;
/** The largest result a receipt keeps, as JSON text: a receipt is then at most about 65 KiB. */
export const MAX_KEPT_RESULT_CHARS = 64 * 1024;

// The BFF is the only caller that sends `receipt`, untyped; a test that sends one casts its arguments.
type Definition = {
  args?: Record<string, unknown>;
  handler: (ctx: never, args: Record<string, unknown>) => unknown;
  [key: string]: unknown;
};

/** Whether a receipt may keep `result`: not a secret (an API key's), not over MAX_KEPT_RESULT_CHARS. */
export function keepable(result: unknown): boolean {
  if (typeof result === "object" && result !== null && "secret" in result) return false;
  return JSON.stringify(result ?? null).length <= MAX_KEPT_RESULT_CHARS;
}

/** Who a receipt's mutation acted for, when it took an actor: a replay must come from the same one. */
function ownerOf(args: Record<string, unknown>): string | undefined {
  const actor = args.actor as { clientId?: string; userId?: string; apiKeyId?: string } | undefined;
  return actor === undefined ? undefined : `${actor.clientId}/${principalOf(actor)}`;
}

/**
 * The mutation's own argument validators, `receipt`, and `requestId`: the BFF request that sent it,
 * which the mutation's context carries (`RequestContext`) so what it records (a webhook event) can
 * name the request that caused it.
 */
function withReceipt(args: Record<string, unknown>) {
  if ("receipt" in args || "requestId" in args)
    throw new Error("`receipt` and `requestId` are every mutation's own arguments: name yours otherwise");
  const added = { receipt: v.optional(v.string()), requestId: v.optional(v.string()) };
  // A builder such as `clientMutation` passes one object validator; a module, the fields.
  const validator = args as { isConvexValidator?: boolean; kind?: string; fields?: Record<string, never> };
  if (validator.isConvexValidator && validator.kind === "object") return v.object({ ...validator.fields, ...added });
  return { ...args, ...added };
}

/** What a mutation's context carries besides Convex's own: the id of the BFF request that sent it, if given. */
export type RequestContext = { requestId?: string };

/**
 * `internalMutation` with receipts: takes an optional `receipt` argument besides its own. Used
 * for every mutation of this deployment (and beneath `clientMutation`); a test holds every
 * module to it.
 */
export const internalMutation = ((definition: Definition) => {
  if (typeof definition === "function" || definition.args === undefined) {
    throw new Error("A mutation declares its args (validators), so that its receipt argument can join them");
  }
  const handler = definition.handler;
  return plainInternalMutation({
    ...definition,
    args: withReceipt(definition.args),
    handler: async (plainCtx: MutationCtx, { receipt, requestId, ...args }: Record<string, unknown>) => {
      const ctx: MutationCtx & RequestContext = typeof requestId === "string" ? { ...plainCtx, requestId } : plainCtx;
      if (typeof receipt !== "string") return await handler(ctx as never, args);
      const owner = ownerOf(args);
      const recorded = await ctx.db
        .query("mutationReceipts")
        .withIndex("by_key", (q) => q.eq("key", receipt))
        .unique();
      if (recorded !== null) {
        if (recorded.owner !== owner) fail("invalid_actor", "Actor refused: the receipt is another actor's");
        if (recorded.withheld)
          fail("conflict", "This change was applied already; its answer (a secret, or too large) is not kept.");
        return recorded.result;
      }
      const result = await handler(ctx as never, args);
      // A secret (an API key's) is shown once and never stored, and a large answer is not kept
      // either (so a sweep's batch stays under Convex's read limit): neither can be replayed.
      const withheld = !keepable(result);
      await ctx.db.insert("mutationReceipts", {
        key: receipt,
        owner,
        result: withheld ? null : (result ?? null),
        withheld: withheld || undefined,
        at: Date.now(),
      });
      return result;
    },
    // biome-ignore lint/suspicious/noExplicitAny: the builder's own generic signature is kept by the cast below.
  } as any);
}) as unknown as typeof plainInternalMutation;
