// Idempotency-Key records and shared rate-limit windows (docs/security.md).
import { afterEach, beforeEach, describe, expect, vi } from "vitest";
import { internal } from "../_generated/api";
import {
  CLIENT_SHARDS,
  MAX_SHARDS_READ,
  MIN_SHARD_LIMIT,
  SHARD_LOW_WATER,
  SHARD_PROBES,
  shardCount,
  shardLimit,
} from "../rateLimits";
import { codeOf } from "./content.setup";
import { type Backend, test, type UserActor } from "./world.setup";

const HOUR = 3_600_000;
const response = { status: 201, contentType: "application/json", body: '{"id":"r1"}', location: "/v1/x/r1" };

test.scoped({ fakeTimers: true });

describe("idempotency keys", () => {
  const begin = (t: Backend, actor: UserActor, key: string, requestHash = "h1", receipt = `rcpt-${key}`) =>
    t.mutation(internal.idempotency.begin, { actor, key, requestHash, ttlMs: 24 * HOUR, requestReceipt: receipt });
  const started = (receipt: string, resumed = false) => ({ outcome: "started", receipt, resumed });

  test("a new key starts with the receipt key its request's mutations take theirs from", async ({ t, world }) => {
    expect(await begin(t, world.acme.actors.member, "k-1", "h1", "first")).toEqual(started("first"));
  });

  test("a key still in flight resumes with its first receipt (its BFF may have died): no lock to wait out", async ({
    t,
    world,
  }) => {
    const member = world.acme.actors.member;
    await begin(t, member, "k-1", "h1", "first");
    expect(await begin(t, member, "k-1", "h1", "second")).toEqual(started("first", true));
  });

  test("a completed key replays the stored response for the same request", async ({ t, world }) => {
    const member = world.acme.actors.member;
    await begin(t, member, "k-1");
    expect(
      await t.mutation(internal.idempotency.complete, { actor: member, key: "k-1", requestHash: "h1", response }),
    ).toBe(true);
    expect(await begin(t, member, "k-1")).toEqual({ outcome: "replay", response });
  });

  test("the same key with another request is a mismatch", async ({ t, world }) => {
    const member = world.acme.actors.member;
    await begin(t, member, "k-1");
    expect(await begin(t, member, "k-1", "other-body")).toEqual({ outcome: "mismatch" });
  });

  test("keys are per principal and per client", async ({ t, world }) => {
    await begin(t, world.acme.actors.member, "shared");
    expect(await begin(t, world.acme.actors.member2, "shared")).toEqual(started("rcpt-shared"));
    expect(await begin(t, world.globex.actors.member, "shared")).toEqual(started("rcpt-shared"));
  });

  test("a released key can be used again", async ({ t, world }) => {
    const member = world.acme.actors.member;
    await begin(t, member, "k-1");
    expect(await t.mutation(internal.idempotency.release, { actor: member, key: "k-1", requestHash: "h1" })).toBe(true);
    expect(await begin(t, member, "k-1", "h2")).toEqual(started("rcpt-k-1"));
  });

  test("a key in doubt resumes with its first receipt, then completes or is released like any other", async ({
    t,
    world,
  }) => {
    const member = world.acme.actors.member;
    await begin(t, member, "k-1", "h1", "first");
    const settle = { actor: member, key: "k-1", requestHash: "h1" };
    expect(await t.mutation(internal.idempotency.markInDoubt, settle)).toBe(true);
    expect(await begin(t, member, "k-1", "h1", "second")).toEqual(started("first", true));
    expect(await t.mutation(internal.idempotency.complete, { ...settle, response })).toBe(true);
    expect(await begin(t, member, "k-1")).toEqual({ outcome: "replay", response });
    expect(await begin(t, member, "k-1", "other-body")).toEqual({ outcome: "mismatch" });
  });

  test("an in-doubt key expires with its time to live and is swept like any other", async ({ t, world }) => {
    const member = world.acme.actors.member;
    await begin(t, member, "k-1");
    await t.mutation(internal.idempotency.markInDoubt, { actor: member, key: "k-1", requestHash: "h1" });
    vi.advanceTimersByTime(25 * HOUR);
    expect(await t.mutation(internal.idempotency.sweep, {})).toBe(1);
    expect(await begin(t, member, "k-1")).toEqual(started("rcpt-k-1"));
  });

  test("an expired record no longer replays and is swept", async ({ t, world }) => {
    const member = world.acme.actors.member;
    await begin(t, member, "k-1");
    await t.mutation(internal.idempotency.complete, { actor: member, key: "k-1", requestHash: "h1", response });
    vi.advanceTimersByTime(25 * HOUR);
    expect(await t.mutation(internal.idempotency.sweep, {})).toBe(1);
    expect(await begin(t, member, "k-1", "h2")).toEqual(started("rcpt-k-1"));
  });

  test("a forged actor cannot claim keys", async ({ t, world }) => {
    const forged = { ...world.acme.actors.member, clientId: world.globex.clientId };
    expect(await codeOf(begin(t, forged, "k-1"))).toBe("invalid_actor");
  });

  test("a malformed key is refused", async ({ t, world }) => {
    expect(await codeOf(begin(t, world.acme.actors.member, "has space"))).toBe("validation");
  });
});

describe("rate limit windows", () => {
  type Bucket = { name: string; limit: number };
  const consume = (t: Backend, principal: Bucket, client: Bucket) =>
    t.mutation(internal.rateLimits.consume, { principal, client, windowMs: 60_000 });
  // Window documents are named "<bucket>/<window length>[#shard]"; the tests read the bucket's part.
  const windows = async (t: Backend) =>
    (await t.run((ctx) => ctx.db.query("rateLimitWindows").collect())).map((w) => ({
      ...w,
      bucket: w.bucket.replace(/\/\d+/, ""),
    }));

  test("the hourly sweep deletes ended windows of idle principals and keeps current ones", async ({ t }) => {
    await consume(t, { name: "principal:idle", limit: 5 }, { name: "client:acme", limit: 10 });
    vi.advanceTimersByTime(2 * HOUR);
    await consume(t, { name: "principal:busy", limit: 5 }, { name: "client:acme", limit: 10 });
    // The client's old window went when its new one opened; only the idle principal's was left.
    expect(await t.mutation(internal.rateLimits.sweep, {})).toBe(1);
    expect((await windows(t)).map((w) => w.bucket).sort()).toEqual(["client:acme", "principal:busy"]);
    expect(await t.mutation(internal.rateLimits.sweep, {})).toBe(0);
  });

  test("counts each request in both buckets and reports what remains", async ({ t }) => {
    const principal = { name: "principal:a", limit: 3 };
    const client = { name: "client:acme", limit: 10 };
    await consume(t, principal, client);
    const second = await consume(t, principal, client);
    expect(second.allowed).toBe(true);
    expect(second.buckets.map((b) => b.remaining)).toEqual([1, 8]);
  });

  test("refuses once a bucket is spent, without counting the refused request anywhere", async ({ t }) => {
    const principal = { name: "principal:a", limit: 2 };
    const client = { name: "client:acme", limit: 10 };
    await consume(t, principal, client);
    await consume(t, principal, client);
    const refused = await consume(t, principal, client);
    expect(refused.allowed).toBe(false);
    expect(refused.resetMs).toBeGreaterThan(0);
    expect(refused.resetMs).toBeLessThanOrEqual(60_000);
    const other = await consume(t, { name: "principal:b", limit: 5 }, client);
    expect(other.buckets[1].remaining).toBe(7);
  });

  test("a lease counts several requests at once, granted in part when less is left", async ({ t }) => {
    const principal = { name: "principal:a", limit: 5 };
    const client = { name: "client:acme", limit: 60 }; // one shard: its remaining is exact
    const lease = (units: number) =>
      t.mutation(internal.rateLimits.consume, { principal, client, windowMs: 60_000, units });
    const first = await lease(3);
    expect([first.granted, first.buckets[0].remaining]).toEqual([3, 2]);
    const second = await lease(3);
    expect([second.allowed, second.granted, second.buckets[0].remaining]).toEqual([true, 2, 0]);
    const third = await lease(3);
    expect([third.allowed, third.granted]).toEqual([false, 0]);
    expect(third.buckets[1].remaining).toBe(55);
  });

  test("windows of different lengths that start at the same instant keep their own counts", async ({ t }) => {
    vi.setSystemTime(new Date("2026-11-26T09:00:10Z")); // an hour's window and a minute's both began at 09:00
    const principal = { name: "principal:a", limit: 3 };
    const client = { name: "client:acme", limit: 10 };
    for (let i = 0; i < 3; i++) await t.mutation(internal.rateLimits.consume, { principal, client, windowMs: 60_000 });
    const hourly = await t.mutation(internal.rateLimits.consume, { principal, client, windowMs: HOUR });
    expect([hourly.allowed, hourly.buckets[0].remaining]).toEqual([true, 2]);
  });

  test("a lease of no requests, or of a fraction, is refused as invalid", async ({ t }) => {
    for (const units of [0, 1.5, -2]) {
      const call = t.mutation(internal.rateLimits.consume, {
        principal: { name: "principal:a", limit: 5 },
        client: { name: "client:acme", limit: 10 },
        windowMs: 60_000,
        units,
      });
      expect(await codeOf(call)).toBe("validation");
    }
  });

  test("a client's bucket is spent by all of its principals together", async ({ t }) => {
    const acme = { name: "client:acme", limit: 2 };
    await consume(t, { name: "principal:a", limit: 5 }, acme);
    await consume(t, { name: "principal:b", limit: 5 }, acme);
    expect((await consume(t, { name: "principal:c", limit: 5 }, acme)).allowed).toBe(false);
    expect((await consume(t, { name: "principal:d", limit: 5 }, { name: "client:globex", limit: 2 })).allowed).toBe(
      true,
    );
  });

  test("a new window starts afresh and drops the old one", async ({ t }) => {
    const principal = { name: "principal:a", limit: 1 };
    const client = { name: "client:acme", limit: 10 };
    await consume(t, principal, client);
    expect((await consume(t, principal, client)).allowed).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect((await consume(t, principal, client)).allowed).toBe(true);
    expect((await windows(t)).map((w) => w.bucket).sort()).toEqual(["client:acme", "principal:a"]);
  });

  describe("a client's bucket in shards (no document written by all of its principals)", () => {
    const CLIENT = { name: "client:acme", limit: 6000 };
    const principal = (i: number) => ({ name: `principal:p${i}`, limit: 600 });
    const shardOf = (bucket: string) => Number(bucket.split("#")[1]);

    // Seeded, so the shards picked (Math.random, as on Convex) are the same on every run.
    beforeEach(() => {
      let seed = 20261125;
      vi.spyOn(Math, "random").mockImplementation(() => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      });
    });
    afterEach(() => vi.restoreAllMocks());

    test("a limit is split into at most CLIENT_SHARDS shares that add up to it; small limits stay whole", () => {
      expect([1, 99, 100, 799, 800, 6000, 100_000].map(shardCount)).toEqual([1, 1, 2, 15, 16, 16, 16]);
      for (const limit of [100, 801, 6000, 6007, 100_000]) {
        const shares = Array.from({ length: shardCount(limit) }, (_, i) => shardLimit(limit, shardCount(limit), i));
        expect(shares.reduce((a, b) => a + b)).toBe(limit);
        expect(Math.min(...shares)).toBeGreaterThanOrEqual(MIN_SHARD_LIMIT);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }
      expect(CLIENT_SHARDS).toBe(16);
    });

    test("a principal keeps to one shard for the whole window, remembered in its own window", async ({ t }) => {
      for (let i = 0; i < 5; i++) await consume(t, principal(0), CLIENT);
      const all = await windows(t);
      const shards = all.filter((w) => w.bucket.startsWith("client:acme#"));
      expect(shards).toHaveLength(1);
      expect(shards[0].count).toBe(5);
      expect(all.find((w) => w.bucket === "principal:p0")?.clientShard).toBe(shardOf(shards[0].bucket));
    });

    test("principals spread over the shards: none holds more than three of sixteen principals", async ({ t }) => {
      for (let i = 0; i < 16; i++) for (let r = 0; r < 3; r++) await consume(t, principal(i), CLIENT);
      const perShard = new Map<number, number>();
      for (const w of await windows(t)) {
        if (w.clientShard !== undefined) perShard.set(w.clientShard, (perShard.get(w.clientShard) ?? 0) + 1);
      }
      expect(Math.max(...perShard.values())).toBeLessThanOrEqual(3);
      expect(perShard.size).toBeGreaterThanOrEqual(10);
    });

    test("the remaining count of a sharded bucket is an estimate: the shard's share left, scaled", async ({ t }) => {
      const first = await consume(t, principal(0), CLIENT);
      expect(first.buckets[0].remaining).toBe(599);
      // 375 a shard: 374 left of it, scaled by 16.
      expect(first.buckets[1].remaining).toBe(5984);
    });

    // The index ranges one consume reads (each window it looks up is one): it runs nested in a
    // transaction of its own that then asks convex-test what it used.
    const consumeCounted = (t: Backend, p: Bucket, client: Bucket) =>
      t.run(async (ctx) => {
        const result = await ctx.runMutation(internal.rateLimits.consume, { principal: p, client, windowMs: 60_000 });
        return { ...result, indexRanges: (await ctx.meta.getTransactionMetrics()).databaseQueries.used };
      });

    test("the client is never let past its limit, and refused early only in the last few requests", async ({ t }) => {
      const client = { name: "client:acme", limit: 800 }; // 16 shards of 50
      let admitted = 0;
      let firstRefusal: number | null = null;
      for (let round = 0; round < 21; round++) {
        for (let i = 0; i < 40; i++) {
          const { allowed } = await consume(t, principal(i), client);
          if (allowed) admitted += 1;
          else firstRefusal ??= admitted;
        }
      }
      // A request whose shards are all spent is refused though others may have room, but the
      // shards are drained level: the first refusal comes within the last 3% of the limit, and
      // the requests after it still spend the rest.
      expect(admitted).toBe(800);
      expect(firstRefusal).toBeGreaterThanOrEqual(0.97 * client.limit);
      const counted = (await windows(t))
        .filter((w) => w.bucket.startsWith("client:acme#"))
        .reduce((n, w) => n + w.count, 0);
      expect(counted).toBe(admitted);
    });

    test("a request reads a few of the client's shards, never all: near the limit too", async ({ t }) => {
      const client = { name: "client:acme", limit: 800 };
      // The principal's window, at most MAX_SHARDS_READ shards, and the earlier windows of the
      // (at most two) windows a request opens: 7 index ranges, where reading every shard is 17.
      const bound = 1 + MAX_SHARDS_READ + 2;
      expect(bound).toBeLessThan(1 + CLIENT_SHARDS);
      const refusals: number[] = [];
      let most = 0;
      for (let round = 0; round < 21; round++) {
        for (let i = 0; i < 40; i++) {
          const { allowed, indexRanges } = await consumeCounted(t, principal(i), client);
          most = Math.max(most, indexRanges);
          if (!allowed) refusals.push(indexRanges);
        }
      }
      expect(most).toBeLessThanOrEqual(bound);
      // A refusal (its principal's shard spent, the client at its limit) read the principal's
      // window, its shard and SHARD_PROBES others, and opened nothing.
      expect(refusals.length).toBeGreaterThan(0);
      expect(new Set(refusals)).toEqual(new Set([1 + 1 + SHARD_PROBES]));
    });

    test("a principal whose shard runs low moves to others with room", async ({ t }) => {
      const client = { name: "client:acme", limit: 800 };
      const answers = [];
      for (let r = 0; r < 60; r++) answers.push((await consume(t, principal(0), client)).allowed);
      expect(answers.every(Boolean)).toBe(true);
      const counts = (await windows(t)).filter((w) => w.bucket.startsWith("client:acme#")).map((w) => w.count);
      expect(counts.reduce((a, b) => a + b)).toBe(60);
      // It kept to its first shard until that was down to its last eighth, then moved on.
      expect(Math.max(...counts)).toBeGreaterThanOrEqual(50 - Math.floor(50 * SHARD_LOW_WATER));
      expect(Math.max(...counts)).toBeLessThanOrEqual(50);
      expect(counts.length).toBeGreaterThan(1);
    });

    test("old windows are dropped: documents stay bounded by principals and shards", async ({ t }) => {
      for (let window = 0; window < 5; window++) {
        for (let i = 0; i < 8; i++) for (let r = 0; r < 2; r++) await consume(t, principal(i), CLIENT);
        vi.advanceTimersByTime(60_000);
      }
      expect((await windows(t)).length).toBeLessThanOrEqual(8 + CLIENT_SHARDS);
    });
  });
});
