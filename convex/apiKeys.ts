// API keys for integrators: scoped to one client and a role (never above
// client_admin). Only a SHA-256 hash is stored; the secret is returned once.
import { v } from "convex/values";
import { inClient, mustGet } from "./lib/db";
import { fail } from "./lib/errors";
import { clientMutation } from "./lib/functions";
import { LIMITS, TEXT_MAX } from "./lib/limits";
import { pageQuery } from "./lib/reads";
import { text } from "./lib/validate";
import { viewOf } from "./lib/views";
import { clientRole } from "./schema";

const SECRET_PREFIX = LIMITS.apiKeyPrefix;

// Picked, not omitted: a field added to the table stays out of the view until named here,
// so nothing about a key's secret can reach a caller by default.
const keyView = viewOf("apiKeys", { pick: ["name", "prefix", "role", "sponsorId", "createdAt", "revokedAt"] });

export async function sha256Hex(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return SECRET_PREFIX + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export const create = clientMutation({
  capability: "apiKeys.manage",
  args: { name: v.string(), role: clientRole, sponsorId: v.optional(v.string()) },
  returns: v.object({ key: keyView.validator, secret: v.string() }),
  handler: async (ctx, args) => {
    const name = text("name", args.name, TEXT_MAX.name);
    const sponsorRole = args.role === "sponsor_admin" || args.role === "sponsor_user";
    if (sponsorRole !== (args.sponsorId !== undefined)) {
      fail("validation", "A sponsor role needs a sponsorId, and only a sponsor role takes one", { field: "sponsorId" });
    }
    const sponsor = args.sponsorId === undefined ? undefined : await ctx.getOwned("sponsors", args.sponsorId);
    const secret = newSecret();
    const id = await ctx.db.insert("apiKeys", {
      clientId: ctx.actor.clientId,
      name,
      hash: await sha256Hex(secret),
      prefix: secret.slice(0, SECRET_PREFIX.length + 6),
      role: args.role,
      sponsorId: sponsor?._id,
      createdByUserId: ctx.actor.userId,
      createdAt: Date.now(),
    });
    await ctx.audit("apiKey.create", id, { after: { name, role: args.role, sponsorId: sponsor?._id } });
    return { key: keyView.of(await mustGet(ctx, id)), secret };
  },
});

export const list = pageQuery("apiKeys.manage", keyView, (ctx) => inClient(ctx, "apiKeys", "createdAt").order("desc"));

/** Revoke a key; revoking a revoked key is a conflict (the first revocation stands). */
export const revoke = clientMutation({
  capability: "apiKeys.manage",
  args: { apiKeyId: v.string() },
  returns: keyView.validator,
  handler: async (ctx, { apiKeyId }) => {
    const key = await ctx.getOwned("apiKeys", apiKeyId);
    if (key.revokedAt !== undefined) fail("conflict", "The key is already revoked");
    await ctx.db.patch(key._id, { revokedAt: Date.now() });
    await ctx.audit("apiKey.revoke", key._id, { before: { revokedAt: null }, after: { revoked: true } });
    return keyView.of(await mustGet(ctx, key._id));
  },
});
