// Sponsors and the events they back (eventSponsors join table).
// Everyone reads sponsors; client_admin manages them; a sponsor_admin edits its own.
import { v } from "convex/values";
import { partial } from "convex-helpers/validators";
import type { Doc } from "./_generated/dataModel";
import { visibleEvent } from "./events";
import { inClient, mustGet } from "./lib/db";
import { fail } from "./lib/errors";
import { clientMutation, clientQuery, requireOwnerOrStaff } from "./lib/functions";
import { TEXT_MAX } from "./lib/limits";
import { addLink, EVENT_SPONSORS, linksOf, removeLink } from "./lib/links";
import { pageArgs, paged, pageOf } from "./lib/pagination";
import { optionalText, required, text } from "./lib/validate";
import { viewOf } from "./lib/views";
import { sponsorTier as tier } from "./schema";

const sponsorView = viewOf("sponsors", { omit: ["clientId"] });

function checked(args: { name?: string; website?: string; description?: string }) {
  if (args.website !== undefined && !/^https?:\/\/\S+$/.test(args.website)) {
    fail("validation", "website must be an http(s) URL", { field: "website" });
  }
  return {
    ...(args.name !== undefined && { name: text("name", args.name, TEXT_MAX.title) }),
    ...(args.website !== undefined && { website: args.website }),
    ...(args.description !== undefined && {
      description: optionalText("description", args.description, TEXT_MAX.description),
    }),
  };
}

export const list = clientQuery({
  capability: "sponsors.read",
  args: { page: pageArgs },
  returns: pageOf(sponsorView.validator),
  handler: (ctx, { page }) => paged(inClient(ctx, "sponsors", "by_clientId_name"), page, sponsorView.of),
});

export const get = clientQuery({
  capability: "sponsors.read",
  args: { sponsorId: v.string() },
  returns: sponsorView.validator,
  handler: async (ctx, { sponsorId }) => sponsorView.of(await ctx.getOwned("sponsors", sponsorId, "sponsor")),
});

/** A sponsor's own fields, as create takes them; update takes any of them. */
const sponsorFields = {
  name: v.string(),
  website: v.optional(v.string()),
  description: v.optional(v.string()),
  tier: v.optional(tier),
};

export const create = clientMutation({
  capability: "sponsors.manage",
  args: sponsorFields,
  returns: sponsorView.validator,
  handler: async (ctx, args) => {
    const fields = checked(args);
    const now = Date.now();
    const id = await ctx.db.insert("sponsors", {
      clientId: ctx.actor.clientId,
      name: required("name", fields.name),
      website: fields.website,
      description: fields.description,
      tier: args.tier,
      createdAt: now,
      updatedAt: now,
    });
    await ctx.audit("sponsor.create", id, { after: { ...fields, tier: args.tier } });
    return sponsorView.of(await mustGet(ctx, id));
  },
});

/**
 * Edit a sponsor's profile: client_admin any sponsor; a sponsor_admin only its own
 * (another sponsor reads as missing). The tier is the client's to set, not the sponsor's.
 */
export const update = clientMutation({
  capability: ["sponsors.manage", "sponsors.updateOwn"],
  args: { sponsorId: v.string(), ...partial(sponsorFields) },
  returns: sponsorView.validator,
  handler: async (ctx, { sponsorId, tier: newTier, ...changes }) => {
    const sponsor = await ctx.getOwned("sponsors", sponsorId, "sponsor");
    requireOwnerOrStaff(ctx, { sponsorId: sponsor._id }, "sponsors.manage", "sponsor");
    if (!ctx.can("sponsors.manage") && newTier !== undefined)
      fail("forbidden", "Only the client's admins set a sponsor's tier", { capability: "sponsors.manage" });
    const fields = { ...checked(changes), ...(newTier !== undefined && { tier: newTier }) };
    await ctx.db.patch(sponsor._id, { ...fields, updatedAt: Date.now() });
    const before = Object.fromEntries(Object.keys(fields).map((k) => [k, sponsor[k as keyof Doc<"sponsors">]]));
    await ctx.audit("sponsor.update", sponsor._id, { before, after: fields });
    return sponsorView.of(await mustGet(ctx, sponsor._id));
  },
});

export const remove = clientMutation({
  capability: "sponsors.manage",
  args: { sponsorId: v.string() },
  returns: v.null(),
  handler: async (ctx, { sponsorId }) => {
    const sponsor = await ctx.getOwned("sponsors", sponsorId, "sponsor");
    const backs = await ctx.db
      .query("eventSponsors")
      .withIndex("by_sponsorId_eventId", (q) => q.eq("sponsorId", sponsor._id))
      .first();
    if (backs !== null) fail("conflict", "A sponsor that backs events cannot be deleted; detach it first");
    await ctx.db.delete(sponsor._id);
    await ctx.audit("sponsor.delete", sponsor._id, { before: { name: sponsor.name } });
    return null;
  },
});

export const attachToEvent = clientMutation({
  capability: "sponsors.manage",
  args: { eventId: v.string(), sponsorId: v.string() },
  returns: v.null(),
  handler: (ctx, { eventId, sponsorId }) => addLink(ctx, EVENT_SPONSORS, eventId, sponsorId),
});

export const detachFromEvent = clientMutation({
  capability: "sponsors.manage",
  args: { eventId: v.string(), sponsorId: v.string() },
  returns: v.null(),
  handler: (ctx, { eventId, sponsorId }) => removeLink(ctx, EVENT_SPONSORS, eventId, sponsorId),
});

/** All sponsors of an event the actor can see: at most MAX_EVENT_SPONSORS, so one unpaged list. */
export const listForEvent = clientQuery({
  capability: "sponsors.read",
  args: { eventId: v.string() },
  returns: v.array(sponsorView.validator),
  handler: async (ctx, { eventId }) => {
    const links = await linksOf(ctx, EVENT_SPONSORS, (await visibleEvent(ctx, eventId))._id);
    const sponsors = await Promise.all(links.map((l) => ctx.db.get(l.sponsorId)));
    return sponsors.flatMap((s) => (s === null ? [] : [sponsorView.of(s)]));
  },
});
