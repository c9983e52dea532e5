// Clients, users and memberships: who a principal is, and as whom it acts in a client.
// These functions are not client-scoped (they find the client): the BFF calls them
// with the admin key to resolve the actor it then passes to every scoped function.
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { internalQuery, type QueryCtx } from "./_generated/server";
import { role } from "./schema";

const resolvedActor = v.object({
  clientId: v.id("clients"),
  clientSlug: v.string(),
  role,
  userId: v.optional(v.id("users")),
  apiKeyId: v.optional(v.id("apiKeys")),
  sponsorId: v.optional(v.id("sponsors")),
  memberId: v.optional(v.id("memberProfiles")),
});

async function clientBySlug(ctx: QueryCtx, slug: string): Promise<Doc<"clients"> | null> {
  const client = await ctx.db
    .query("clients")
    .withIndex("by_slug", (q) => q.eq("slug", slug))
    .unique();
  return client !== null && client.status === "active" ? client : null;
}

async function memberIdOf(ctx: QueryCtx, clientId: Id<"clients">, userId: Id<"users">) {
  const profile = await ctx.db
    .query("memberProfiles")
    .withIndex("by_clientId_userId", (q) => q.eq("clientId", clientId).eq("userId", userId))
    .unique();
  return profile?._id;
}

/**
 * From an auth subject (a user's JWT `sub`) or an API-key hash, plus a client
 * slug, to the actor; null when the principal has no standing in that client
 * (unknown, revoked, another client's key, or no membership).
 */
export const resolveActor = internalQuery({
  args: {
    clientSlug: v.string(),
    authSubject: v.optional(v.string()),
    apiKeyHash: v.optional(v.string()),
  },
  returns: v.union(resolvedActor, v.null()),
  handler: async (ctx, { clientSlug, authSubject, apiKeyHash }) => {
    if ((authSubject === undefined) === (apiKeyHash === undefined)) return null;
    const client = await clientBySlug(ctx, clientSlug);
    if (client === null) return null;
    const base = { clientId: client._id, clientSlug: client.slug };

    if (apiKeyHash !== undefined) {
      const key = await ctx.db
        .query("apiKeys")
        .withIndex("by_hash", (q) => q.eq("hash", apiKeyHash))
        .unique();
      if (key === null || key.clientId !== client._id || key.revokedAt !== undefined) return null;
      return { ...base, role: key.role, apiKeyId: key._id, sponsorId: key.sponsorId };
    }

    // Never taken (the first check refused a principal with neither), but it tells the types so.
    if (authSubject === undefined) return null;
    const user = await ctx.db
      .query("users")
      .withIndex("by_authSubject", (q) => q.eq("authSubject", authSubject))
      .unique();
    if (user === null) return null;
    const memberId = await memberIdOf(ctx, client._id, user._id);
    if (user.isPlatformAdmin) {
      return { ...base, role: "platform_admin" as const, userId: user._id, memberId };
    }
    const membership = await ctx.db
      .query("clientMemberships")
      .withIndex("by_clientId_userId", (q) => q.eq("clientId", client._id).eq("userId", user._id))
      .unique();
    if (membership === null) return null;
    return { ...base, role: membership.role, userId: user._id, sponsorId: membership.sponsorId, memberId };
  },
});

/** The user behind an auth subject, with every client it belongs to. */
export const me = internalQuery({
  args: { authSubject: v.string() },
  returns: v.union(
    v.object({
      email: v.string(),
      name: v.string(),
      isPlatformAdmin: v.boolean(),
      memberships: v.array(v.object({ clientSlug: v.string(), clientName: v.string(), role })),
    }),
    v.null(),
  ),
  handler: async (ctx, { authSubject }) => {
    const user = await ctx.db
      .query("users")
      .withIndex("by_authSubject", (q) => q.eq("authSubject", authSubject))
      .unique();
    if (user === null) return null;
    // A user belongs to a handful of clients: bounded by how many memberships one person holds.
    const memberships = await ctx.db
      .query("clientMemberships")
      .withIndex("by_userId", (q) => q.eq("userId", user._id))
      .take(100);
    const clients = await Promise.all(memberships.map((m) => ctx.db.get(m.clientId)));
    return {
      email: user.email,
      name: user.name,
      isPlatformAdmin: user.isPlatformAdmin,
      memberships: memberships.flatMap((m, i) => {
        const client = clients[i];
        return client === null ? [] : [{ clientSlug: client.slug, clientName: client.name, role: m.role }];
      }),
    };
  },
});

/** The client and role an API key acts with (for GET /v1/me), or null. */
export const apiKeyPrincipal = internalQuery({
  args: { apiKeyHash: v.string() },
  returns: v.union(v.object({ client: v.string(), clientName: v.string(), role }), v.null()),
  handler: async (ctx, { apiKeyHash }) => {
    const key = await ctx.db
      .query("apiKeys")
      .withIndex("by_hash", (q) => q.eq("hash", apiKeyHash))
      .unique();
    if (key === null || key.revokedAt !== undefined) return null;
    const client = await ctx.db.get(key.clientId);
    if (client === null) return null;
    return { client: client.slug, clientName: client.name, role: key.role };
  },
});

/** Development only: the identity to mint a dev token for (`make token EMAIL=...`). */
export const userByEmail = internalQuery({
  args: { email: v.string() },
  returns: v.union(v.object({ authSubject: v.string(), email: v.string(), name: v.string() }), v.null()),
  handler: async (ctx, { email }) => {
    const user = await ctx.db
      .query("users")
      .withIndex("by_email", (q) => q.eq("email", email.toLowerCase()))
      .first();
    return user === null ? null : { authSubject: user.authSubject, email: user.email, name: user.name };
  },
});
