// Sponsors and the events they back (eventSponsors join table).
// Everyone reads sponsors; client_admin manages them; a sponsor_admin edits its own.
import { v } from "convex/values";
import { partial } from "convex-helpers/validators";
import type { Doc } from "./_generated/dataModel";
import { visibleEvent } from "./events";
import { inClient, mustGet } from "./lib/db";
import { fail } from "./lib/errors";
import { clientMutation, requireOwnerOrStaff } from "./lib/functions";
import { TEXT_MAX } from "./lib/limits";
import { childrenQuery, deleteMutation, EVENT_SPONSORS, linkMutation } from "./lib/links";
import { getQuery, pageQuery } from "./lib/reads";
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

export const list = pageQuery("sponsors.read", sponsorView, (ctx) => inClient(ctx, "sponsors", "name"));

export const get = getQuery("sponsors.read", sponsorView, "sponsorId", (ctx, id) => ctx.getOwned("sponsors", id));

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
    const fields = { ...checked(args), tier: args.tier };
    const now = Date.now();
    const id = await ctx.db.insert("sponsors", {
      clientId: ctx.actor.clientId,
      ...fields,
      name: required("name", fields.name),
      createdAt: now,
      updatedAt: now,
    });
    await ctx.audit("sponsor.create", id, { after: fields });
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
    const sponsor = await ctx.getOwned("sponsors", sponsorId);
    requireOwnerOrStaff(ctx, { sponsorId: sponsor._id }, "sponsors.manage", "sponsors");
    if (!ctx.can("sponsors.manage") && newTier !== undefined)
      fail("forbidden", "Only the client's admins set a sponsor's tier", { capability: "sponsors.manage" });
    const fields = { ...checked(changes), ...(newTier !== undefined && { tier: newTier }) };
    await ctx.db.patch(sponsor._id, { ...fields, updatedAt: Date.now() });
    const before = Object.fromEntries(Object.keys(fields).map((k) => [k, sponsor[k as keyof Doc<"sponsors">]]));
    await ctx.audit("sponsor.update", sponsor._id, { before, after: fields });
    return sponsorView.of(await mustGet(ctx, sponsor._id));
  },
});

export const remove = deleteMutation("sponsors.manage", "sponsors", "sponsorId", (ctx, sponsor) => ({
  usedBy: ctx.db.query("eventSponsors").withIndex("by_sponsorId_eventId", (q) => q.eq("sponsorId", sponsor._id)),
  refusal: "A sponsor that backs events cannot be deleted; detach it first",
  before: { name: sponsor.name },
}));

export const attachToEvent = linkMutation("add", EVENT_SPONSORS, "sponsors.manage");

export const detachFromEvent = linkMutation("remove", EVENT_SPONSORS, "sponsors.manage");

/** All sponsors of an event the actor can see: at most MAX_EVENT_SPONSORS, so one unpaged list. */
export const listForEvent = childrenQuery("sponsors.read", EVENT_SPONSORS, sponsorView, visibleEvent);
