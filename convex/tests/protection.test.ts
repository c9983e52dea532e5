// Idempotency-Key records and shared rate-limit windows (docs/security.md).
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../_generated/api";
import { errorOf } from "./content.setup";
import { type Backend, newBackend, seedWorld, type World } from "./world.setup";

const HOUR = 3_600_000;
const response = { status: 201, contentType: "application/json", body: '{"id":"r1"}', location: "/v1/x/r1" };

let t: Backend;
let world: World;

beforeEach(async () => {
  vi.useFakeTimers();
  t = newBackend();
  world = await seedWorld(t);
});
afterEach(() => vi.useRealTimers());

describe("idempotency keys", () => {
  const begin = (actor: World["acme"]["actors"]["member"], key: string, requestHash = "h1") =>
    t.mutation(internal.idempotency.begin, { actor, key, requestHash, ttlMs: 24 * HOUR, lockMs: 60_000 });

  test("a new key starts, and is in flight until its response is stored", async () => {
    const member = world.acme.actors.member;
    expect(await begin(member, "k-1")).toEqual({ outcome: "started" });
    expect(await begin(member, "k-1")).toEqual({ outcome: "in_flight" });
  });

  test("a completed key replays the stored response for the same request", async () => {
    const member = world.acme.actors.member;
    await begin(member, "k-1");
    expect(await t.mutation(internal.idempotency.complete, { actor: member, key: "k-1", requestHash: "h1", response })).toBe(true);
    expect(await begin(member, "k-1")).toEqual({ outcome: "replay", response });
  });

  test("the same key with another request is a mismatch", async () => {
    const member = world.acme.actors.member;
    await begin(member, "k-1");
    expect(await begin(member, "k-1", "other-body")).toEqual({ outcome: "mismatch" });
  });

  test("keys are per principal and per client", async () => {
    await begin(world.acme.actors.member, "shared");
    expect(await begin(world.acme.actors.member2, "shared")).toEqual({ outcome: "started" });
    expect(await begin(world.globex.actors.member, "shared")).toEqual({ outcome: "started" });
  });

  test("a released key can be used again", async () => {
    const member = world.acme.actors.member;
    await begin(member, "k-1");
    expect(await t.mutation(internal.idempotency.release, { actor: member, key: "k-1", requestHash: "h1" })).toBe(true);
    expect(await begin(member, "k-1", "h2")).toEqual({ outcome: "started" });
  });

  test("a lapsed lock (the BFF crashed mid-request) lets the key start again", async () => {
    const member = world.acme.actors.member;
    await begin(member, "k-1");
    vi.advanceTimersByTime(61_000);
    expect(await begin(member, "k-1")).toEqual({ outcome: "started" });
  });

  test("an expired record no longer replays and is swept", async () => {
    const member = world.acme.actors.member;
    await begin(member, "k-1");
    await t.mutation(internal.idempotency.complete, { actor: member, key: "k-1", requestHash: "h1", response });
    vi.advanceTimersByTime(25 * HOUR);
    expect(await t.mutation(internal.idempotency.sweep, {})).toBe(1);
    expect(await begin(member, "k-1", "h2")).toEqual({ outcome: "started" });
  });

  test("a forged actor cannot claim keys", async () => {
    const forged = { ...world.acme.actors.member, clientId: world.globex.clientId };
    expect((await errorOf(begin(forged, "k-1"))).code).toBe("invalid_actor");
  });

  test("a malformed key is refused", async () => {
    expect((await errorOf(begin(world.acme.actors.member, "has space"))).code).toBe("validation");
  });
});

describe("rate limit windows", () => {
  const consume = (buckets: { name: string; limit: number }[]) =>
    t.mutation(internal.rateLimits.consume, { buckets, windowMs: 60_000 });

  test("counts each request in every bucket and reports what remains", async () => {
    const buckets = [{ name: "principal:a", limit: 3 }, { name: "client:acme", limit: 10 }];
    await consume(buckets);
    const second = await consume(buckets);
    expect(second.allowed).toBe(true);
    expect(second.buckets.map((b) => b.remaining)).toEqual([1, 8]);
  });

  test("refuses once a bucket is spent, without counting the refused request anywhere", async () => {
    const buckets = [{ name: "principal:a", limit: 2 }, { name: "client:acme", limit: 10 }];
    await consume(buckets);
    await consume(buckets);
    const refused = await consume(buckets);
    expect(refused.allowed).toBe(false);
    expect(refused.resetMs).toBeGreaterThan(0);
    expect(refused.resetMs).toBeLessThanOrEqual(60_000);
    const client = await consume([{ name: "client:acme", limit: 10 }]);
    expect(client.buckets[0].remaining).toBe(7);
  });

  test("a client's bucket is spent by all of its principals together", async () => {
    await consume([{ name: "principal:a", limit: 5 }, { name: "client:acme", limit: 2 }]);
    await consume([{ name: "principal:b", limit: 5 }, { name: "client:acme", limit: 2 }]);
    expect((await consume([{ name: "principal:c", limit: 5 }, { name: "client:acme", limit: 2 }])).allowed).toBe(false);
    expect((await consume([{ name: "principal:d", limit: 5 }, { name: "client:globex", limit: 2 }])).allowed).toBe(true);
  });

  test("a new window starts afresh and drops the old one", async () => {
    const buckets = [{ name: "principal:a", limit: 1 }];
    await consume(buckets);
    expect((await consume(buckets)).allowed).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect((await consume(buckets)).allowed).toBe(true);
    const windows = await t.run((ctx) => ctx.db.query("rateLimitWindows").collect());
    expect(windows).toHaveLength(1);
  });
});
