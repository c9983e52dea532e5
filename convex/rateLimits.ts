// Rate limits shared by every BFF process (DESIGN.md decision 8): fixed windows
// counted here, one transaction per request for all of its buckets, so a request
// is either counted in every bucket or refused without counting.
import { v } from "convex/values";
import { internalMutation } from "./_generated/server";

const bucketArg = v.object({
  // "principal:<id>" or "client:<id>", built by the BFF from the resolved actor.
  name: v.string(),
  limit: v.number(),
});

const bucketState = v.object({ name: v.string(), limit: v.number(), remaining: v.number() });

export const consume = internalMutation({
  args: { buckets: v.array(bucketArg), windowMs: v.number() },
  returns: v.object({
    allowed: v.boolean(),
    // Milliseconds until the current window ends (Retry-After when refused).
    resetMs: v.number(),
    buckets: v.array(bucketState),
  }),
  handler: async (ctx, { buckets, windowMs }) => {
    const now = Date.now();
    const windowStart = now - (now % windowMs);
    const resetMs = windowStart + windowMs - now;
    const windows = await Promise.all(
      buckets.map(async (bucket) => {
        const current = await ctx.db
          .query("rateLimitWindows")
          .withIndex("by_bucket_windowStart", (q) => q.eq("bucket", bucket.name).eq("windowStart", windowStart))
          .unique();
        return { bucket, current, count: current?.count ?? 0 };
      }),
    );
    const allowed = windows.every(({ bucket, count }) => count < bucket.limit);
    if (allowed) {
      for (const { bucket, current, count } of windows) {
        if (current !== null) {
          await ctx.db.patch(current._id, { count: count + 1 });
          continue;
        }
        await ctx.db.insert("rateLimitWindows", { bucket: bucket.name, windowStart, count: 1 });
        // A new window: drop this bucket's earlier ones (at most a couple exist).
        const stale = await ctx.db
          .query("rateLimitWindows")
          .withIndex("by_bucket_windowStart", (q) => q.eq("bucket", bucket.name).lt("windowStart", windowStart))
          .take(10);
        for (const old of stale) await ctx.db.delete(old._id);
      }
    }
    return {
      allowed,
      resetMs,
      buckets: windows.map(({ bucket, count }) => ({
        name: bucket.name,
        limit: bucket.limit,
        remaining: Math.max(0, bucket.limit - count - (allowed ? 1 : 0)),
      })),
    };
  },
});
