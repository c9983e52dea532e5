// Browser sessions at the BFF and the sign-ins under way (docs/data-model.md, "Sessions").
// Not client-scoped: a session is a user's, whatever clients the user acts in. The BFF calls
// these internal functions with the admin key (app/sessions/store.py), as it calls
// convex/identity.ts. Every time here is Convex's clock (Date.now()); the BFF sends lengths of
// time only, so BFF processes with drifting clocks still agree on when a session ends.
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import { internalQuery, type MutationCtx, type QueryCtx } from "./_generated/server";
import { fail } from "./lib/errors";
import { internalMutation } from "./lib/receipts";
import { viewOf } from "./lib/views";
import { sessionEndReason } from "./schema";

/**
 * Sessions one user may hold that are not revoked. A sign-in beyond it revokes the oldest
 * ("superseded"), so every read of one user's (or one provider session's) sessions that are
 * not revoked takes at most this many and is complete.
 */
export const MAX_SESSIONS_PER_SUBJECT = 50;
/** How often at most a session's idle expiry slides (one write), however busy the session. */
export const TOUCH_EVERY_MS = 60_000;
/** Documents one purge transaction deletes from each range (sessions are a few KiB each). */
export const PURGE_BATCH = 100;

/** What the BFF sees of a session: everything but the cookie's hash and the lease. */
const session = viewOf("sessions", {
  pick: [
    "authSubject",
    "issuer",
    "providerSid",
    "tokens",
    "accessExpiresAt",
    "createdAt",
    "lastSeenAt",
    "idleExpiresAt",
    "absoluteExpiresAt",
    "userAgent",
  ],
});
const pendingLogin = viewOf("pendingLogins", {
  pick: ["bindingHash", "nonce", "verifier", "returnTo", "expiresAt"],
});

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A hash, never the secret it hashes: a BFF bug sending the raw value fails here, unstored. */
function requireHash(field: string, value: string): void {
  if (!SHA256_HEX.test(value)) fail("validation", `${field} must be SHA-256 hex`, { field });
}

function requireDuration(field: string, ms: number): void {
  if (!Number.isFinite(ms) || ms <= 0) fail("validation", `${field} must be a positive number of ms`, { field });
}

function isLive(doc: Doc<"sessions">, now: number): boolean {
  return doc.revokedAt === undefined && now < doc.idleExpiresAt && now < doc.absoluteExpiresAt;
}

/** Whether a use now should slide the idle expiry: not more than once a TOUCH_EVERY_MS (sooner
 * for an idle timeout under two of those), and never when it already sits at the absolute one. */
function slideDue(doc: Doc<"sessions">, now: number, idleTimeoutMs: number): boolean {
  const every = Math.min(TOUCH_EVERY_MS, idleTimeoutMs / 2);
  return doc.idleExpiresAt < doc.absoluteExpiresAt && now - doc.lastSeenAt >= every;
}

async function byHandleHash(ctx: QueryCtx, handleHash: string): Promise<Doc<"sessions"> | null> {
  return await ctx.db
    .query("sessions")
    .withIndex("by_handleHash", (q) => q.eq("handleHash", handleHash))
    .unique();
}

/** A session by an id from outside (a URL, a stream's state); null for a malformed id. */
async function byId(ctx: QueryCtx, sessionId: string): Promise<Doc<"sessions"> | null> {
  const id = ctx.db.normalizeId("sessions", sessionId);
  return id === null ? null : await ctx.db.get(id);
}

/** The user's sessions that are not revoked, newest first: all of them (the cap). */
async function openSessionsOf(ctx: QueryCtx, authSubject: string): Promise<Doc<"sessions">[]> {
  return await ctx.db
    .query("sessions")
    .withIndex("by_authSubject_revokedAt_createdAt", (q) => q.eq("authSubject", authSubject).eq("revokedAt", undefined))
    .order("desc")
    .take(MAX_SESSIONS_PER_SUBJECT);
}

async function end(ctx: MutationCtx, id: Id<"sessions">, reason: typeof sessionEndReason.type, now: number) {
  await ctx.db.patch(id, {
    revokedAt: now,
    revokedReason: reason,
    refreshHolder: undefined,
    refreshLeaseUntil: undefined,
  });
}

/** A new session for a user who has just signed in; its lifetimes start now. */
export const create = internalMutation({
  args: {
    handleHash: v.string(),
    authSubject: v.string(),
    issuer: v.string(),
    providerSid: v.optional(v.string()),
    tokens: v.string(),
    accessExpiresAt: v.number(),
    userAgent: v.optional(v.string()),
    idleTimeoutMs: v.number(),
    absoluteTimeoutMs: v.number(),
  },
  returns: session.validator,
  handler: async (ctx, { idleTimeoutMs, absoluteTimeoutMs, ...fields }) => {
    requireHash("handleHash", fields.handleHash);
    requireDuration("idleTimeoutMs", idleTimeoutMs);
    requireDuration("absoluteTimeoutMs", absoluteTimeoutMs);
    if ((await byHandleHash(ctx, fields.handleHash)) !== null) fail("conflict", "this session handle is taken");
    const now = Date.now();
    const open = await openSessionsOf(ctx, fields.authSubject);
    // At the cap, the oldest makes room: the user's newest sign-in always works.
    if (open.length >= MAX_SESSIONS_PER_SUBJECT) {
      for (const old of open.slice(MAX_SESSIONS_PER_SUBJECT - 1)) await end(ctx, old._id, "superseded", now);
    }
    const user = await ctx.db
      .query("users")
      .withIndex("by_authSubject", (q) => q.eq("authSubject", fields.authSubject))
      .unique();
    const absoluteExpiresAt = now + absoluteTimeoutMs;
    const id = await ctx.db.insert("sessions", {
      ...fields,
      userId: user?._id,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: Math.min(now + idleTimeoutMs, absoluteExpiresAt),
      absoluteExpiresAt,
    });
    const created = await ctx.db.get(id);
    if (created === null) throw new Error("the session just inserted is missing");
    return session.of(created);
  },
});

/**
 * The live session behind a cookie's hash, and whether this use should slide its idle expiry
 * (then the BFF calls `touch`); null when unknown, revoked or expired.
 */
export const resolve = internalQuery({
  args: { handleHash: v.string(), idleTimeoutMs: v.number() },
  returns: v.union(v.object({ session: session.validator, slideDue: v.boolean() }), v.null()),
  handler: async (ctx, { handleHash, idleTimeoutMs }) => {
    const found = await byHandleHash(ctx, handleHash);
    const now = Date.now();
    if (found === null || !isLive(found, now)) return null;
    return { session: session.of(found), slideDue: slideDue(found, now, idleTimeoutMs) };
  },
});

/**
 * Slide a live session's idle expiry to now + idleTimeoutMs, never past its absolute expiry;
 * a no-op when it slid less than a TOUCH_EVERY_MS ago (another BFF process got there first).
 * The session as it now is, or null when it is no longer live.
 */
export const touch = internalMutation({
  args: { handleHash: v.string(), idleTimeoutMs: v.number() },
  returns: v.union(session.validator, v.null()),
  handler: async (ctx, { handleHash, idleTimeoutMs }) => {
    requireDuration("idleTimeoutMs", idleTimeoutMs);
    const found = await byHandleHash(ctx, handleHash);
    const now = Date.now();
    if (found === null || !isLive(found, now)) return null;
    if (!slideDue(found, now, idleTimeoutMs)) return session.of(found);
    const slid = { lastSeenAt: now, idleExpiresAt: Math.min(now + idleTimeoutMs, found.absoluteExpiresAt) };
    await ctx.db.patch(found._id, slid);
    return session.of({ ...found, ...slid });
  },
});

/** End the session behind a cookie's hash (sign-out); false when there was none live. */
export const revoke = internalMutation({
  args: { handleHash: v.string(), reason: sessionEndReason },
  returns: v.boolean(),
  handler: async (ctx, { handleHash, reason }) => {
    const found = await byHandleHash(ctx, handleHash);
    const now = Date.now();
    if (found === null || !isLive(found, now)) return false;
    await end(ctx, found._id, reason, now);
    return true;
  },
});

/**
 * End a session by its id: a user's own (`authSubject` given: another user's session reads
 * exactly like a missing one) or any (a platform admin). False when there is no such live one.
 */
export const revokeById = internalMutation({
  args: { sessionId: v.string(), authSubject: v.optional(v.string()), reason: sessionEndReason },
  returns: v.boolean(),
  handler: async (ctx, { sessionId, authSubject, reason }) => {
    const found = await byId(ctx, sessionId);
    const now = Date.now();
    if (found === null || !isLive(found, now)) return false;
    if (authSubject !== undefined && found.authSubject !== authSubject) return false;
    await end(ctx, found._id, reason, now);
    return true;
  },
});

/**
 * Back-channel logout (OpenID Connect Back-Channel Logout 1.0, section 2.4): `sid` ends that
 * provider session's sessions (only `sub`'s, when both are given); `sub` alone ends every
 * session of that user from that issuer. The ids of the live sessions it ended.
 */
export const revokeForProvider = internalMutation({
  args: { issuer: v.string(), sid: v.optional(v.string()), sub: v.optional(v.string()) },
  returns: v.array(v.id("sessions")),
  handler: async (ctx, { issuer, sid, sub }) => {
    let matched: Doc<"sessions">[];
    if (sid !== undefined) {
      // A provider session is one user's, so the cap bounds this range too.
      const ofSid = await ctx.db
        .query("sessions")
        .withIndex("by_issuer_providerSid_revokedAt", (q) =>
          q.eq("issuer", issuer).eq("providerSid", sid).eq("revokedAt", undefined),
        )
        .take(MAX_SESSIONS_PER_SUBJECT);
      matched = sub === undefined ? ofSid : ofSid.filter((s) => s.authSubject === sub);
    } else if (sub !== undefined) {
      matched = (await openSessionsOf(ctx, sub)).filter((s) => s.issuer === issuer);
    } else {
      return fail("validation", "a logout names a provider session (sid), a user (sub) or both", { field: "sid" });
    }
    const now = Date.now();
    const ended: Id<"sessions">[] = [];
    for (const found of matched) {
      if (isLive(found, now)) ended.push(found._id);
      await end(ctx, found._id, "backchannel", now);
    }
    return ended;
  },
});

/** A user's live sessions, newest first (at most MAX_SESSIONS_PER_SUBJECT). */
export const listForSubject = internalQuery({
  args: { authSubject: v.string() },
  returns: v.array(session.validator),
  handler: async (ctx, { authSubject }) => {
    const now = Date.now();
    return (await openSessionsOf(ctx, authSubject)).filter((s) => isLive(s, now)).map(session.of);
  },
});

/** The live sessions of the user with this email (platform admins); none for an unknown one. */
export const listForEmail = internalQuery({
  args: { email: v.string() },
  returns: v.array(session.validator),
  handler: async (ctx, { email }) => {
    const user = await ctx.db
      .query("users")
      .withIndex("by_email", (q) => q.eq("email", email.trim().toLowerCase()))
      .first();
    if (user === null) return [];
    const now = Date.now();
    return (await openSessionsOf(ctx, user.authSubject)).filter((s) => isLive(s, now)).map(session.of);
  },
});

/** Whether a session is still live (a live stream's periodic check). */
export const isActive = internalQuery({
  args: { sessionId: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { sessionId }) => {
    const found = await byId(ctx, sessionId);
    return found !== null && isLive(found, Date.now());
  },
});

/**
 * Take the lease to refresh a live session's tokens for `leaseMs`: the session, or null when
 * another holder's lease is still running (or the session is no longer live). The same holder
 * may take it again (and so extend it).
 */
export const beginRefresh = internalMutation({
  args: { sessionId: v.string(), holder: v.string(), leaseMs: v.number() },
  returns: v.union(session.validator, v.null()),
  handler: async (ctx, { sessionId, holder, leaseMs }) => {
    requireDuration("leaseMs", leaseMs);
    const found = await byId(ctx, sessionId);
    const now = Date.now();
    if (found === null || !isLive(found, now)) return null;
    const heldByAnother =
      found.refreshHolder !== undefined &&
      found.refreshHolder !== holder &&
      found.refreshLeaseUntil !== undefined &&
      found.refreshLeaseUntil > now;
    if (heldByAnother) return null;
    await ctx.db.patch(found._id, { refreshHolder: holder, refreshLeaseUntil: now + leaseMs });
    return session.of(found);
  },
});

/**
 * Store the refreshed tokens and release the lease. Only the lease's holder may: a holder whose
 * lease ran out and was taken by another gets `conflict`; a session no longer live, `not_found`.
 * A holder whose lease ran out but was not taken still finishes (its tokens are the newest).
 */
export const finishRefresh = internalMutation({
  args: { sessionId: v.string(), holder: v.string(), tokens: v.string(), accessExpiresAt: v.number() },
  returns: session.validator,
  handler: async (ctx, { sessionId, holder, tokens, accessExpiresAt }) => {
    const found = await byId(ctx, sessionId);
    if (found === null || !isLive(found, Date.now())) return fail("not_found", "no such live session");
    if (found.refreshHolder !== holder) return fail("conflict", "the refresh lease is not this holder's");
    const refreshed = { tokens, accessExpiresAt, refreshHolder: undefined, refreshLeaseUntil: undefined };
    await ctx.db.patch(found._id, refreshed);
    return session.of({ ...found, ...refreshed });
  },
});

/** Remember a sign-in under way for `ttlMs`, under the hash of its `state`. */
export const startLogin = internalMutation({
  args: {
    stateHash: v.string(),
    bindingHash: v.string(),
    nonce: v.string(),
    verifier: v.string(),
    returnTo: v.string(),
    ttlMs: v.number(),
  },
  returns: v.null(),
  handler: async (ctx, { ttlMs, ...login }) => {
    requireHash("stateHash", login.stateHash);
    requireHash("bindingHash", login.bindingHash);
    requireDuration("ttlMs", ttlMs);
    const taken = await ctx.db
      .query("pendingLogins")
      .withIndex("by_stateHash", (q) => q.eq("stateHash", login.stateHash))
      .unique();
    if (taken !== null) fail("conflict", "this state is taken");
    await ctx.db.insert("pendingLogins", { ...login, expiresAt: Date.now() + ttlMs });
    return null;
  },
});

/** The sign-in under way for a `state`'s hash, deleted as it is read: a state works once. Null
 * when unknown, already used or expired. */
export const consumeLogin = internalMutation({
  args: { stateHash: v.string() },
  returns: v.union(pendingLogin.validator, v.null()),
  handler: async (ctx, { stateHash }) => {
    const found = await ctx.db
      .query("pendingLogins")
      .withIndex("by_stateHash", (q) => q.eq("stateHash", stateHash))
      .unique();
    if (found === null) return null;
    await ctx.db.delete(found._id);
    return found.expiresAt > Date.now() ? pendingLogin.of(found) : null;
  },
});

/**
 * Delete expired and revoked sessions and expired sign-ins, at most PURGE_BATCH of each per
 * transaction (convex/crons.ts starts it); a full batch schedules the next, so any backlog is
 * cleared without a transaction growing. The number deleted.
 */
export const purge = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx): Promise<number> => {
    const now = Date.now();
    const expired = await ctx.db
      .query("sessions")
      .withIndex("by_idleExpiresAt", (q) => q.lte("idleExpiresAt", now))
      .take(PURGE_BATCH);
    // Revoked: revokedAt set (a missing one sorts before every number).
    const revoked = await ctx.db
      .query("sessions")
      .withIndex("by_revokedAt", (q) => q.gte("revokedAt", 0).lte("revokedAt", now))
      .take(PURGE_BATCH);
    const logins = await ctx.db
      .query("pendingLogins")
      .withIndex("by_expiresAt", (q) => q.lte("expiresAt", now))
      .take(PURGE_BATCH);
    // A session both expired and revoked is in both ranges: delete it once.
    const sessionIds = new Set([...expired, ...revoked].map((s) => s._id));
    for (const id of sessionIds) await ctx.db.delete(id);
    for (const login of logins) await ctx.db.delete(login._id);
    if ([expired, revoked, logins].some((batch) => batch.length === PURGE_BATCH)) {
      await ctx.scheduler.runAfter(0, internal.sessions.purge, {});
    }
    return sessionIds.size + logins.length;
  },
});
