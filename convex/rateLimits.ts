// Rate limits shared by every BFF process (kept here, not in a process, so a limit holds
// however many BFF processes serve a client and survives their restarts): fixed windows
// counted here, one transaction per request for both of its buckets, so a request
// is either counted in both or refused without counting.
//
// Convex serialises the writes to one document: mutations that write it, or read it while
// another writes it, conflict and are retried, then refused. A principal's bucket is one
// document only its own requests touch. A client's bucket is spent by all of its principals,
// so it is split into shards (docs/data-model.md, "Contention points"), after the Convex
// team's rate-limiter component: each shard holds a share of the limit, and a request reads
// and writes one shard. The component picks shards at random per request; here a principal
// keeps one shard for the whole window (remembered in its own window document), chosen as
// the emptier of two random shards ("power of two choices"), so a shard is written by a few
// principals instead of a random sample of all of them.
//
// When a principal's shard is spent, or down to its last eighth (SHARD_LOW_WATER), its request
// also reads SHARD_PROBES other shards at random and the principal moves to the one with the
// most room. A request never reads every shard: near the limit that would put all of them in
// the read set of many requests, each then conflicting with every principal of the client. What
// this guarantees:
// - Reads: a request reads at most MAX_SHARDS_READ (4) of a client's shard windows, besides its
//   principal's window (1 + 4 + 2 index ranges at most, with the earlier windows of the two
//   documents a request may open; convex/tests/protection.test.ts counts them).
// - Never over the limit: a shard grants at most its share, and the shares add up to the limit.
// - Refused early, seldom: a request is refused while its client has room only when every
//   shard it looked at (its own and 2 others, or 4 on a principal's first request) is spent.
//   With r of the 15 shards besides its own holding room, that happens to at most
//   C(15 - r, 2) / C(15, 2) of such requests (r = 8: 20%; r = 12: 3%), and the low-water moves
//   drain the shards level, so they run out nearly together: in seeded runs (40 to 200
//   principals, limits of 800 and 3,200) the first refusal came after at least 97% of the limit
//   was admitted (convex/tests/protection.test.ts holds the 800 run to that). Nothing is lost:
//   a refused request counts nowhere and the next one looks at other shards, so later requests
//   still spend what is left (those runs admitted the whole limit).
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import type { MutationCtx } from "./_generated/server";
import { fail } from "./lib/errors";
import { internalMutation } from "./lib/receipts";

/** How many shards a client's bucket is split into, at most. */
export const CLIENT_SHARDS = 16;
/**
 * The smallest share of a limit one shard holds. A principal whose shard runs low looks at
 * other shards to find one with room, so tiny shares would make that the common case; a limit
 * under two shares is not split at all.
 */
export const MIN_SHARD_LIMIT = 50;
/** Other shards, at random, a request looks at when its principal's shard is spent or low. */
export const SHARD_PROBES = 2;
/**
 * Shard windows one request reads, at most: its principal's shard (or, on its first request of
 * the window, two random ones), then SHARD_PROBES others. With the principal's own window and,
 * when a request opens a window, that bucket's earlier windows (one index range for each of
 * the two documents it may open), a request reads at most 1 + MAX_SHARDS_READ + 2 index ranges.
 */
export const MAX_SHARDS_READ = 2 + SHARD_PROBES;
/**
 * The part of a shard's share below which its principals look for a roomier shard (SHARD_PROBES
 * of them, at random), as when it is spent: near the limit the shards are drained level, so
 * they run out together and a request seldom finds every shard it looks at spent while others
 * still have room.
 */
export const SHARD_LOW_WATER = 1 / 8;

const bucketArg = v.object({
  // "principal:<id>" or "client:<id>", built by the BFF from the resolved actor.
  name: v.string(),
  limit: v.number(),
});

const bucketState = v.object({ name: v.string(), limit: v.number(), remaining: v.number() });

type Window = Doc<"rateLimitWindows"> | null;

export function shardCount(limit: number): number {
  return Math.max(1, Math.min(CLIENT_SHARDS, Math.floor(limit / MIN_SHARD_LIMIT)));
}

/** Shard `shard`'s share: the limit split as evenly as whole requests allow, summing to it. */
export function shardLimit(limit: number, shards: number, shard: number): number {
  return Math.floor(limit / shards) + (shard < limit % shards ? 1 : 0);
}

function shardBucket(name: string, shards: number, shard: number): string {
  return shards === 1 ? name : `${name}#${shard}`;
}

async function windowOf(ctx: MutationCtx, bucket: string, windowStart: number): Promise<Window> {
  return ctx.db
    .query("rateLimitWindows")
    .withIndex("by_bucket_windowStart", (q) => q.eq("bucket", bucket).eq("windowStart", windowStart))
    .unique();
}

async function spend(
  ctx: MutationCtx,
  current: Window,
  bucket: string,
  windowStart: number,
  units: number,
  fields: { clientShard?: number } = {},
) {
  if (current !== null) {
    await ctx.db.patch(current._id, { count: current.count + units, ...fields });
    return;
  }
  await ctx.db.insert("rateLimitWindows", { bucket, windowStart, count: units, ...fields });
  // A new window: drop this bucket's earlier ones (at most a couple exist).
  const stale = await ctx.db
    .query("rateLimitWindows")
    .withIndex("by_bucket_windowStart", (q) => q.eq("bucket", bucket).lt("windowStart", windowStart))
    .take(10);
  for (const old of stale) await ctx.db.delete(old._id);
}

type Shard = { shard: number; bucket: string; window: Window; left: number };

export const consume = internalMutation({
  args: {
    principal: bucketArg,
    client: bucketArg,
    windowMs: v.number(),
    // Requests to count at once: a BFF process takes a small lease of its principal's budget
    // and spends it locally, so a busy principal costs one mutation per lease, not per request
    // (app/protection/rate_limit.py). Granted in full or in part, never beyond either limit.
    units: v.optional(v.number()),
  },
  returns: v.object({
    allowed: v.boolean(),
    // How many of the units asked for were counted (0 when refused).
    granted: v.number(),
    // Milliseconds until the current window ends (Retry-After when refused).
    resetMs: v.number(),
    // The principal's bucket, then the client's.
    buckets: v.array(bucketState),
  }),
  handler: async (ctx, { principal, client, windowMs, units = 1 }) => {
    if (!Number.isInteger(units) || units < 1)
      fail("validation", "units must be a whole number, at least 1", { field: "units" });
    const now = Date.now();
    const windowStart = now - (now % windowMs);
    const resetMs = windowStart + windowMs - now;
    const shards = shardCount(client.limit);
    // A window's documents are named for its length too: windows of different lengths that
    // happen to start at the same instant (a minute's and an hour's, on the hour) never share counts.
    const principalBucket = `${principal.name}/${windowMs}`;
    const readShard = async (shard: number): Promise<Shard> => {
      const bucket = shardBucket(`${client.name}/${windowMs}`, shards, shard);
      const window = await windowOf(ctx, bucket, windowStart);
      return { shard, bucket, window, left: shardLimit(client.limit, shards, shard) - (window?.count ?? 0) };
    };
    const otherThan = (shard: number) => (shard + 1 + Math.floor(Math.random() * (shards - 1))) % shards;
    /** A shard not in `seen`, at random. */
    const unread = (seen: ReadonlySet<number>) => {
      let skip = Math.floor(Math.random() * (shards - seen.size));
      for (let shard = 0; ; shard++) if (!seen.has(shard) && skip-- === 0) return shard;
    };

    const own = await windowOf(ctx, principalBucket, windowStart);
    const principalCount = own?.count ?? 0;
    let chosen: Shard;
    const seen = new Set<number>();
    const look = async (shard: number) => {
      seen.add(shard);
      return await readShard(shard);
    };
    if (own?.clientShard !== undefined && own.clientShard < shards) {
      chosen = await look(own.clientShard);
    } else if (shards === 1) {
      chosen = await look(0);
    } else {
      // The principal's first request of the window: the emptier of two random shards.
      const first = await look(Math.floor(Math.random() * shards));
      const second = await look(otherThan(first.shard));
      chosen = second.left > first.left ? second : first;
    }
    const lowWater = Math.floor(shardLimit(client.limit, shards, chosen.shard) * SHARD_LOW_WATER);
    if (shards > 1 && principalCount < principal.limit && (chosen.left <= lowWater || chosen.left < units)) {
      // Its shard is spent or nearly, because the client is near its limit or because that
      // shard drew more busy principals than others: the principal looks at SHARD_PROBES other
      // shards, at random, and moves to the one with the most room. Never at every shard: that
      // would put all of them in the read set of the requests near the limit, which would then
      // conflict with every other principal's request.
      const probes: number[] = [];
      while (probes.length < SHARD_PROBES && seen.size < shards) {
        const shard = unread(seen);
        seen.add(shard);
        probes.push(shard);
      }
      for (const shard of await Promise.all(probes.map(readShard))) {
        if (shard.left > chosen.left) chosen = shard;
      }
    }

    const granted = Math.max(0, Math.min(units, principal.limit - principalCount, chosen.left));
    const allowed = granted > 0;
    if (allowed) {
      await spend(ctx, own, principalBucket, windowStart, granted, { clientShard: chosen.shard });
      await spend(ctx, chosen.window, chosen.bucket, windowStart, granted);
    }
    const chosenLeft = Math.max(0, chosen.left - granted);
    const share = shardLimit(client.limit, shards, chosen.shard);
    return {
      allowed,
      granted,
      resetMs,
      buckets: [
        {
          name: principal.name,
          limit: principal.limit,
          remaining: Math.max(0, principal.limit - principalCount - granted),
        },
        {
          name: client.name,
          limit: client.limit,
          // Exact when the bucket is one document; when sharded, an estimate: what is left in
          // the shard this request read, scaled to the whole limit (reading every shard would
          // put all of them in every request's read set).
          remaining: share === 0 ? 0 : Math.min(client.limit, Math.floor((chosenLeft * client.limit) / share)),
        },
      ],
    };
  },
});

/** Windows one sweep transaction deletes (small documents: far inside a transaction's limits). */
export const WINDOW_SWEEP_BATCH = 500;
/** Windows older than this are over: longer than any window the BFF asks for (RATE_LIMIT_WINDOW_S). */
export const WINDOW_RETENTION_MS = 60 * 60 * 1000;

/**
 * Delete windows that ended: an idle principal, or a shard left over after a limit change,
 * would otherwise keep its last window forever (convex/crons.ts starts it hourly). A full batch
 * schedules the next, so any backlog is cleared without a transaction growing.
 */
export const sweep = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx): Promise<number> => {
    const ended = await ctx.db
      .query("rateLimitWindows")
      .withIndex("by_windowStart", (q) => q.lt("windowStart", Date.now() - WINDOW_RETENTION_MS))
      .take(WINDOW_SWEEP_BATCH);
    for (const window of ended) await ctx.db.delete(window._id);
    if (ended.length === WINDOW_SWEEP_BATCH) await ctx.scheduler.runAfter(0, internal.rateLimits.sweep, {});
    return ended.length;
  },
});
