// Sponsors and the events they back (eventSponsors join table).
// Everyone reads sponsors; client_admin manages them; a sponsor_admin edits its own.
import { v } from "convex/values";
import type { Doc } from "./_generated/dataModel";
import { sponsorLinks, visibleEvent } from "./events";
import { mustGet } from "./lib/db";
import { fail } from "./lib/errors";
import { type ClientQueryCtx, clientMutation, clientQuery, requireOwnerOrStaff } from "./lib/functions";
import { TEXT_MAX } from "./lib/limits";
import { pageArgs, pageOf, pageOptions, toPage } from "./lib/pagination";
import { optionalText, required, text } from "./lib/validate";
import { viewOf } from "./lib/views";
import { MAX_EVENT_SPONSORS, sponsorTier as tier } from "./schema";

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
  handler: async (ctx, { page }) =>
    toPage(
      await ctx.db
        .query("sponsors")
        .withIndex("by_clientId_name", (q) => q.eq("clientId", ctx.actor.clientId))
        .paginate(pageOptions(page)),
      sponsorView.of,
    ),
});

export const get = clientQuery({
  capability: "sponsors.read",
  args: { sponsorId: v.string() },
  returns: sponsorView.validator,
  handler: async (ctx, { sponsorId }) => sponsorView.of(await ctx.getOwned("sponsors", sponsorId, "sponsor")),
});

export const create = clientMutation({
  capability: "sponsors.manage",
  args: {
    name: v.string(),
    website: v.optional(v.string()),
    description: v.optional(v.string()),
    tier: v.optional(tier),
  },
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
    await ctx.audit({
      action: "sponsor.create",
      entityType: "sponsor",
      entityId: id,
      after: { ...fields, tier: args.tier },
    });
    return sponsorView.of(await mustGet(ctx, id));
  },
});

const updateArgs = {
  sponsorId: v.string(),
  name: v.optional(v.string()),
  website: v.optional(v.string()),
  description: v.optional(v.string()),
};

/**
 * Edit a sponsor's profile: client_admin any sponsor; a sponsor_admin only its own
 * (another sponsor reads as missing). The tier is the client's to set, not the sponsor's.
 */
export const update = clientMutation({
  capability: ["sponsors.manage", "sponsors.updateOwn"],
  args: { ...updateArgs, tier: v.optional(tier) },
  returns: sponsorView.validator,
  handler: async (ctx, { sponsorId, tier: newTier, ...changes }) => {
    const sponsor = await ctx.getOwned("sponsors", sponsorId, "sponsor");
    requireOwnerOrStaff(ctx, { sponsorId: sponsor._id }, "sponsors.manage", "sponsor");
    if (!ctx.can("sponsors.manage") && newTier !== undefined)
      fail("forbidden", "Only the client's admins set a sponsor's tier", { capability: "sponsors.manage" });
    const fields = { ...checked(changes), ...(newTier !== undefined && { tier: newTier }) };
    await ctx.db.patch(sponsor._id, { ...fields, updatedAt: Date.now() });
    const before = Object.fromEntries(Object.keys(fields).map((k) => [k, sponsor[k as keyof Doc<"sponsors">]]));
    await ctx.audit({ action: "sponsor.update", entityType: "sponsor", entityId: sponsor._id, before, after: fields });
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
    await ctx.audit({
      action: "sponsor.delete",
      entityType: "sponsor",
      entityId: sponsor._id,
      before: { name: sponsor.name },
    });
    return null;
  },
});

/** The event, the sponsor (both of the actor's client) and the link between them, if any. */
async function eventSponsorLink(ctx: ClientQueryCtx, eventId: string, sponsorId: string) {
  const event = await ctx.getOwned("events", eventId, "event");
  const sponsor = await ctx.getOwned("sponsors", sponsorId, "sponsor");
  const link = await ctx.db
    .query("eventSponsors")
    .withIndex("by_eventId_sponsorId", (q) => q.eq("eventId", event._id).eq("sponsorId", sponsor._id))
    .unique();
  return { event, sponsor, link };
}

export const attachToEvent = clientMutation({
  capability: "sponsors.manage",
  args: { eventId: v.string(), sponsorId: v.string() },
  returns: v.null(),
  handler: async (ctx, { eventId, sponsorId }) => {
    const { event, sponsor, link } = await eventSponsorLink(ctx, eventId, sponsorId);
    if (link !== null) fail("conflict", "The sponsor already backs this event");
    if ((await sponsorLinks(ctx, event._id)).length >= MAX_EVENT_SPONSORS) {
      fail("conflict", `An event has at most ${MAX_EVENT_SPONSORS} sponsors`, { field: "sponsorId" });
    }
    await ctx.db.insert("eventSponsors", {
      clientId: ctx.actor.clientId,
      eventId: event._id,
      sponsorId: sponsor._id,
      createdAt: Date.now(),
    });
    await ctx.audit({
      action: "event.attachSponsor",
      entityType: "event",
      entityId: event._id,
      after: { sponsorId: sponsor._id },
    });
    return null;
  },
});

export const detachFromEvent = clientMutation({
  capability: "sponsors.manage",
  args: { eventId: v.string(), sponsorId: v.string() },
  returns: v.null(),
  handler: async (ctx, { eventId, sponsorId }) => {
    const { event, sponsor, link } = await eventSponsorLink(ctx, eventId, sponsorId);
    if (link === null) fail("not_found", "The sponsor does not back this event", { entity: "eventSponsor" });
    await ctx.db.delete(link._id);
    await ctx.audit({
      action: "event.detachSponsor",
      entityType: "event",
      entityId: event._id,
      before: { sponsorId: sponsor._id },
    });
    return null;
  },
});

/** All sponsors of an event the actor can see: at most MAX_EVENT_SPONSORS, so one unpaged list. */
export const listForEvent = clientQuery({
  capability: "sponsors.read",
  args: { eventId: v.string() },
  returns: v.array(sponsorView.validator),
  handler: async (ctx, { eventId }) => {
    const links = await sponsorLinks(ctx, (await visibleEvent(ctx, eventId))._id);
    const sponsors = await Promise.all(links.map((l) => ctx.db.get(l.sponsorId)));
    return sponsors.flatMap((s) => (s === null ? [] : [sponsorView.of(s)]));
  },
});
