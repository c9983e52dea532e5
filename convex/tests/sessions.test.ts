// Browser sessions and sign-ins under way (convex/sessions.ts, docs/data-model.md "Sessions").
import { createHash } from "node:crypto";
import { describe, expect, vi } from "vitest";
import { internal } from "../_generated/api";
import { MAX_SESSIONS_PER_SUBJECT, PURGE_BATCH, TOUCH_EVERY_MS } from "../sessions";
import { codeOf } from "./content.setup";
import { type Backend, test } from "./world.setup";

const MINUTE = 60_000;
const IDLE = 30 * MINUTE;
const ABSOLUTE = 8 * 60 * MINUTE;
const ISSUER = "http://127.0.0.1:8001";
const MEMBER = "user|member@acme.test";
const STAFF = "user|staff@acme.test";

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

test.scoped({ fakeTimers: true });

function create(
  t: Backend,
  handle: string,
  over: { authSubject?: string; issuer?: string; providerSid?: string; idleTimeoutMs?: number } = {},
) {
  return t.mutation(internal.sessions.create, {
    handleHash: sha256(handle),
    authSubject: over.authSubject ?? MEMBER,
    issuer: over.issuer ?? ISSUER,
    providerSid: over.providerSid ?? "sid-1",
    tokens: "ciphertext-1",
    accessExpiresAt: Date.now() + 5 * MINUTE,
    userAgent: "vitest",
    idleTimeoutMs: over.idleTimeoutMs ?? IDLE,
    absoluteTimeoutMs: ABSOLUTE,
  });
}

const resolve = (t: Backend, handle: string) =>
  t.query(internal.sessions.resolve, { handleHash: sha256(handle), idleTimeoutMs: IDLE });
const touch = (t: Backend, handle: string) =>
  t.mutation(internal.sessions.touch, { handleHash: sha256(handle), idleTimeoutMs: IDLE });
const sessionCount = (t: Backend) => t.run(async (ctx) => (await ctx.db.query("sessions").collect()).length);

describe("resolving a session", () => {
  test("a created session resolves by its handle's hash, and never shows the hash", async ({ t }) => {
    const created = await create(t, "cookie-a");
    const found = await resolve(t, "cookie-a");
    expect(found?.session).toEqual(created);
    expect(JSON.stringify(found)).not.toContain(sha256("cookie-a"));
    expect(created).toMatchObject({ authSubject: MEMBER, issuer: ISSUER, providerSid: "sid-1", userAgent: "vitest" });
    expect(created.idleExpiresAt - created.createdAt).toBe(IDLE);
    expect(created.absoluteExpiresAt - created.createdAt).toBe(ABSOLUTE);
  });

  test("a session is linked to the user with its auth subject, when there is one", async ({ t }) => {
    const known = await create(t, "known");
    const unknown = await create(t, "unknown", { authSubject: "user|nobody@nowhere.test" });
    const userIdOf = (id: typeof known.id) => t.run(async (ctx) => (await ctx.db.get(id))?.userId ?? null);
    expect(await userIdOf(known.id)).not.toBeNull();
    expect(await userIdOf(unknown.id)).toBeNull();
  });

  test("an unknown handle does not resolve", async ({ t }) => {
    await create(t, "cookie-a");
    expect(await resolve(t, "cookie-b")).toBeNull();
  });

  test("a hash that is not SHA-256 hex is refused, so a raw cookie value is never stored", async ({ t }) => {
    const raw = t.mutation(internal.sessions.create, {
      handleHash: "the-cookie-value-itself",
      authSubject: MEMBER,
      issuer: ISSUER,
      tokens: "c",
      accessExpiresAt: 0,
      idleTimeoutMs: IDLE,
      absoluteTimeoutMs: ABSOLUTE,
    });
    expect(await codeOf(raw)).toBe("validation");
    expect(await sessionCount(t)).toBe(0);
  });

  test("a revoked session no longer resolves", async ({ t }) => {
    await create(t, "cookie-a");
    expect(await t.mutation(internal.sessions.revoke, { handleHash: sha256("cookie-a"), reason: "logout" })).toBe(true);
    expect(await resolve(t, "cookie-a")).toBeNull();
    expect(await t.mutation(internal.sessions.revoke, { handleHash: sha256("cookie-a"), reason: "logout" })).toBe(
      false,
    );
  });

  test("a session left idle past its idle timeout no longer resolves", async ({ t }) => {
    await create(t, "cookie-a");
    vi.advanceTimersByTime(IDLE - 1);
    expect(await resolve(t, "cookie-a")).not.toBeNull();
    vi.advanceTimersByTime(1);
    expect(await resolve(t, "cookie-a")).toBeNull();
    expect(await touch(t, "cookie-a")).toBeNull();
  });

  test("idle expiry slides with use but never past the absolute expiry", async ({ t }) => {
    const created = await create(t, "cookie-a");
    vi.advanceTimersByTime(20 * MINUTE);
    const slid = await touch(t, "cookie-a");
    expect(slid?.idleExpiresAt).toBe(Date.now() + IDLE);
    // Used every 20 minutes, it lives on to its absolute expiry and not a moment longer.
    while (Date.now() + 20 * MINUTE < created.absoluteExpiresAt) {
      vi.advanceTimersByTime(20 * MINUTE);
      expect((await touch(t, "cookie-a"))?.idleExpiresAt).toBeLessThanOrEqual(created.absoluteExpiresAt);
    }
    const last = await resolve(t, "cookie-a");
    expect(last?.session.idleExpiresAt).toBe(created.absoluteExpiresAt);
    expect(last?.slideDue).toBe(false);
    vi.setSystemTime(created.absoluteExpiresAt);
    expect(await resolve(t, "cookie-a")).toBeNull();
  });

  test("a slide is due at most once a minute, so a busy session is written once a minute", async ({ t }) => {
    const created = await create(t, "cookie-a");
    vi.advanceTimersByTime(TOUCH_EVERY_MS - 1);
    expect((await resolve(t, "cookie-a"))?.slideDue).toBe(false);
    expect(await touch(t, "cookie-a")).toEqual(created);
    vi.advanceTimersByTime(1);
    expect((await resolve(t, "cookie-a"))?.slideDue).toBe(true);
    expect((await touch(t, "cookie-a"))?.lastSeenAt).toBe(Date.now());
    expect((await resolve(t, "cookie-a"))?.slideDue).toBe(false);
  });

  test("a short idle timeout slides at half of it, so a session in use never lapses", async ({ t }) => {
    await create(t, "cookie-a", { idleTimeoutMs: 10_000 });
    vi.advanceTimersByTime(5_000);
    const due = await t.query(internal.sessions.resolve, { handleHash: sha256("cookie-a"), idleTimeoutMs: 10_000 });
    expect(due?.slideDue).toBe(true);
  });

  test("isActive follows revocation and expiry", async ({ t }) => {
    const a = await create(t, "cookie-a");
    const b = await create(t, "cookie-b");
    expect(await t.query(internal.sessions.isActive, { sessionId: a.id })).toBe(true);
    await t.mutation(internal.sessions.revoke, { handleHash: sha256("cookie-a"), reason: "logout" });
    expect(await t.query(internal.sessions.isActive, { sessionId: a.id })).toBe(false);
    vi.advanceTimersByTime(IDLE);
    expect(await t.query(internal.sessions.isActive, { sessionId: b.id })).toBe(false);
    expect(await t.query(internal.sessions.isActive, { sessionId: "not-an-id" })).toBe(false);
  });
});

describe("ending sessions by id and by the provider", () => {
  test("a user cannot revoke another user's session by id", async ({ t }) => {
    const staffs = await create(t, "staff-cookie", { authSubject: STAFF });
    const revoke = (authSubject: string) =>
      t.mutation(internal.sessions.revokeById, { sessionId: staffs.id, authSubject, reason: "user" });
    expect(await revoke(MEMBER)).toBe(false);
    expect(await resolve(t, "staff-cookie")).not.toBeNull();
    expect(await revoke(STAFF)).toBe(true);
    expect(await resolve(t, "staff-cookie")).toBeNull();
  });

  test("without a subject (a platform admin) any session is revoked by id; an unknown id is not found", async ({
    t,
  }) => {
    const staffs = await create(t, "staff-cookie", { authSubject: STAFF });
    expect(await t.mutation(internal.sessions.revokeById, { sessionId: staffs.id, reason: "admin" })).toBe(true);
    expect(await t.mutation(internal.sessions.revokeById, { sessionId: staffs.id, reason: "admin" })).toBe(false);
    expect(await t.mutation(internal.sessions.revokeById, { sessionId: "garbage", reason: "admin" })).toBe(false);
  });

  test("back-channel logout by sid ends only that provider session", async ({ t }) => {
    const one = await create(t, "one", { providerSid: "sid-1" });
    await create(t, "two", { providerSid: "sid-2" });
    await create(t, "elsewhere", { providerSid: "sid-1", issuer: "https://other.example" });
    expect(await t.mutation(internal.sessions.revokeForProvider, { issuer: ISSUER, sid: "sid-1" })).toEqual([one.id]);
    expect(await resolve(t, "one")).toBeNull();
    expect(await resolve(t, "two")).not.toBeNull();
    expect(await resolve(t, "elsewhere")).not.toBeNull();
  });

  test("back-channel logout by sub alone ends all of that user's sessions at that issuer", async ({ t }) => {
    await create(t, "one", { providerSid: "sid-1" });
    await create(t, "two", { providerSid: "sid-2" });
    await create(t, "elsewhere", { issuer: "https://other.example" });
    await create(t, "staff", { authSubject: STAFF });
    const ended = await t.mutation(internal.sessions.revokeForProvider, { issuer: ISSUER, sub: MEMBER });
    expect(ended).toHaveLength(2);
    expect([await resolve(t, "one"), await resolve(t, "two")]).toEqual([null, null]);
    expect(await resolve(t, "elsewhere")).not.toBeNull();
    expect(await resolve(t, "staff")).not.toBeNull();
  });

  test("back-channel logout with sid and sub ends nothing when the sid is another user's", async ({ t }) => {
    await create(t, "one", { providerSid: "sid-1" });
    expect(await t.mutation(internal.sessions.revokeForProvider, { issuer: ISSUER, sid: "sid-1", sub: STAFF })).toEqual(
      [],
    );
    expect(await resolve(t, "one")).not.toBeNull();
  });

  test("a back-channel logout naming neither sid nor sub is refused", async ({ t }) => {
    expect(await codeOf(t.mutation(internal.sessions.revokeForProvider, { issuer: ISSUER }))).toBe("validation");
  });
});

describe("listing a user's sessions", () => {
  test("only live sessions are listed, newest first", async ({ t }) => {
    const first = await create(t, "first");
    vi.advanceTimersByTime(1_000);
    const second = await create(t, "second");
    vi.advanceTimersByTime(1_000);
    await create(t, "third");
    await t.mutation(internal.sessions.revoke, { handleHash: sha256("third"), reason: "logout" });
    await create(t, "staff", { authSubject: STAFF });
    const listed = await t.query(internal.sessions.listForSubject, { authSubject: MEMBER });
    expect(listed.map((s) => s.id)).toEqual([second.id, first.id]);
  });

  test("a platform admin finds a user's sessions by email; an unknown email has none", async ({ t }) => {
    const mine = await create(t, "mine");
    expect(await t.query(internal.sessions.listForEmail, { email: "Member@Acme.test" })).toEqual([mine]);
    expect(await t.query(internal.sessions.listForEmail, { email: "nobody@nowhere.test" })).toEqual([]);
  });

  test("a sign-in beyond the cap supersedes the user's oldest session", async ({ t }) => {
    const oldest = await create(t, "cookie-0");
    for (let i = 1; i < MAX_SESSIONS_PER_SUBJECT; i += 1) {
      vi.advanceTimersByTime(1);
      await create(t, `cookie-${i}`);
    }
    vi.advanceTimersByTime(1);
    const newest = await create(t, "one-too-many");
    const listed = await t.query(internal.sessions.listForSubject, { authSubject: MEMBER });
    expect(listed).toHaveLength(MAX_SESSIONS_PER_SUBJECT);
    expect(listed[0].id).toBe(newest.id);
    expect(listed.map((s) => s.id)).not.toContain(oldest.id);
    expect(await t.run(async (ctx) => (await ctx.db.get(oldest.id))?.revokedReason)).toBe("superseded");
  });
});

describe("refreshing tokens", () => {
  const begin = (t: Backend, sessionId: string, holder: string, leaseMs = 10_000) =>
    t.mutation(internal.sessions.beginRefresh, { sessionId, holder, leaseMs });
  const finish = (t: Backend, sessionId: string, holder: string, tokens = "ciphertext-2") =>
    t.mutation(internal.sessions.finishRefresh, { sessionId, holder, tokens, accessExpiresAt: Date.now() + MINUTE });

  test("a lease is exclusive until it runs out", async ({ t }) => {
    const { id } = await create(t, "cookie-a");
    expect((await begin(t, id, "request-1"))?.id).toBe(id);
    expect(await begin(t, id, "request-2")).toBeNull();
    vi.advanceTimersByTime(9_999);
    expect(await begin(t, id, "request-2")).toBeNull();
    vi.advanceTimersByTime(1);
    expect((await begin(t, id, "request-2"))?.id).toBe(id);
  });

  test("the holder may take its own lease again", async ({ t }) => {
    const { id } = await create(t, "cookie-a");
    await begin(t, id, "request-1");
    expect((await begin(t, id, "request-1"))?.id).toBe(id);
  });

  test("the holder's finish stores the new tokens and frees the lease", async ({ t }) => {
    const { id } = await create(t, "cookie-a");
    await begin(t, id, "request-1");
    const refreshed = await finish(t, id, "request-1");
    expect(refreshed.tokens).toBe("ciphertext-2");
    expect((await resolve(t, "cookie-a"))?.session.tokens).toBe("ciphertext-2");
    expect((await begin(t, id, "request-2"))?.tokens).toBe("ciphertext-2");
  });

  test("only the holder may finish a refresh", async ({ t }) => {
    const { id } = await create(t, "cookie-a");
    await begin(t, id, "request-1");
    expect(await codeOf(finish(t, id, "request-2"))).toBe("conflict");
    // Its lease ran out and another took it: the first holder's finish is refused too.
    vi.advanceTimersByTime(10_000);
    await begin(t, id, "request-2");
    expect(await codeOf(finish(t, id, "request-1", "stale"))).toBe("conflict");
    expect((await finish(t, id, "request-2")).tokens).toBe("ciphertext-2");
  });

  test("a revoked session cannot be refreshed", async ({ t }) => {
    const { id } = await create(t, "cookie-a");
    await begin(t, id, "request-1");
    await t.mutation(internal.sessions.revoke, { handleHash: sha256("cookie-a"), reason: "logout" });
    expect(await codeOf(finish(t, id, "request-1"))).toBe("not_found");
    expect(await begin(t, id, "request-2")).toBeNull();
  });
});

describe("sign-ins under way", () => {
  const start = (t: Backend, state: string, ttlMs = 10 * MINUTE) =>
    t.mutation(internal.sessions.startLogin, {
      stateHash: sha256(state),
      bindingHash: sha256("login-cookie"),
      nonce: "nonce-1",
      verifier: "ciphertext-verifier",
      returnTo: "/events",
      ttlMs,
    });
  const consume = (t: Backend, state: string) =>
    t.mutation(internal.sessions.consumeLogin, { stateHash: sha256(state) });

  test("a started sign-in is consumed with what the callback must check", async ({ t }) => {
    await start(t, "state-1");
    expect(await consume(t, "state-1")).toMatchObject({
      bindingHash: sha256("login-cookie"),
      nonce: "nonce-1",
      verifier: "ciphertext-verifier",
      returnTo: "/events",
      expiresAt: Date.now() + 10 * MINUTE,
    });
  });

  test("a second consumeLogin of the same state gets null", async ({ t }) => {
    await start(t, "state-1");
    expect(await consume(t, "state-1")).not.toBeNull();
    expect(await consume(t, "state-1")).toBeNull();
  });

  test("an expired sign-in gets null, and is gone", async ({ t }) => {
    await start(t, "state-1");
    vi.advanceTimersByTime(10 * MINUTE);
    expect(await consume(t, "state-1")).toBeNull();
    expect(await t.run(async (ctx) => (await ctx.db.query("pendingLogins").collect()).length)).toBe(0);
  });

  test("an unknown state gets null", async ({ t }) => {
    await start(t, "state-1");
    expect(await consume(t, "forged-state")).toBeNull();
  });

  test("a state already under way is refused", async ({ t }) => {
    await start(t, "state-1");
    expect(await codeOf(start(t, "state-1"))).toBe("conflict");
  });
});

describe("purge", () => {
  test("purge deletes expired and revoked sessions and expired sign-ins, and keeps live ones", async ({ t }) => {
    await create(t, "idle");
    await create(t, "revoked");
    await t.mutation(internal.sessions.revoke, { handleHash: sha256("revoked"), reason: "logout" });
    await t.mutation(internal.sessions.startLogin, {
      stateHash: sha256("old-state"),
      bindingHash: sha256("b"),
      nonce: "n",
      verifier: "v",
      returnTo: "/",
      ttlMs: MINUTE,
    });
    vi.advanceTimersByTime(IDLE);
    await create(t, "live");
    expect(await t.mutation(internal.sessions.purge, {})).toBe(3);
    expect(await sessionCount(t)).toBe(1);
    expect(await resolve(t, "live")).not.toBeNull();
  });

  test("a backlog is purged in bounded batches until none is left", async ({ t }) => {
    const backlog = PURGE_BATCH + 20;
    await t.run(async (ctx) => {
      const now = Date.now();
      for (let i = 0; i < backlog; i += 1) {
        await ctx.db.insert("sessions", {
          handleHash: sha256(`old-${i}`),
          authSubject: `user|${i}@old.test`,
          issuer: ISSUER,
          tokens: "c",
          accessExpiresAt: now,
          createdAt: now,
          lastSeenAt: now,
          idleExpiresAt: now + 1,
          absoluteExpiresAt: now + 1,
        });
      }
    });
    vi.advanceTimersByTime(1);
    expect(await t.mutation(internal.sessions.purge, {})).toBe(PURGE_BATCH);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await sessionCount(t)).toBe(0);
  });
});
