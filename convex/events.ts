// Events, with their speakers embedded (a small bounded list always read with the event).
// Everyone reads published events; staff see drafts, cancelled and archived ones;
// sponsor roles also see the events their sponsor backs.
import { v } from "convex/values";
import { partial } from "convex-helpers/validators";
import { internal } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import type { MutationCtx } from "./_generated/server";
import { byParent, inClient, mustGet, takeByStatus } from "./lib/db";
import { fail } from "./lib/errors";
import {
  type ActorArg,
  actorArg,
  type ClientQueryCtx,
  clientMutation,
  clientQuery,
  notFound,
  writeAudit,
} from "./lib/functions";
import { LIMITS, TEXT_MAX } from "./lib/limits";
import { deleteMutation, EVENT_SPONSORS } from "./lib/links";
import { pageArgs, paged, pagedWith, pageOf } from "./lib/pagination";
import { getQuery } from "./lib/reads";
import { internalMutation } from "./lib/receipts";
import { changeStatus, OPEN_REGISTRATION, requireTransition } from "./lib/transitions";
import { optionalText, required, text, wholeNumber } from "./lib/validate";
import { viewOf } from "./lib/views";
import { eventStatus, MAX_SPEAKERS, speaker } from "./schema";

const eventView = viewOf("events", { omit: ["clientId"] });

/** Whether the actor's sponsor backs this event. */
async function backedBySponsor(ctx: ClientQueryCtx, event: Doc<"events">): Promise<boolean> {
  const sponsorId = ctx.actor.sponsorId;
  if (sponsorId === undefined) return false;
  const link = await ctx.db
    .query("eventSponsors")
    .withIndex("by_eventId_sponsorId", (q) => q.eq("eventId", event._id).eq("sponsorId", sponsorId))
    .unique();
  return link !== null;
}

/** An event the actor may see; any other reads exactly like a missing one. */
export async function visibleEvent(ctx: ClientQueryCtx, eventId: string): Promise<Doc<"events">> {
  const event = await ctx.getOwned("events", eventId);
  if (event.status === "published" || ctx.can("events.readUnpublished") || (await backedBySponsor(ctx, event))) {
    return event;
  }
  notFound("events");
}

export const list = clientQuery({
  capability: "events.read",
  args: {
    page: pageArgs,
    status: v.optional(eventStatus),
    startsAfter: v.optional(v.number()),
    startsBefore: v.optional(v.number()),
  },
  returns: pageOf(eventView.validator),
  handler: async (ctx, { page, status, startsAfter, startsBefore }) => {
    const staff = ctx.can("events.readUnpublished");
    const wanted = status ?? (staff ? undefined : "published");
    if (wanted !== undefined && wanted !== "published" && !staff) {
      fail("forbidden", "Only staff list unpublished events", { capability: "events.readUnpublished" });
    }
    const query = inClient(ctx, "events", "startAt", { status: wanted, from: startsAfter, to: startsBefore });
    return paged(query, page, eventView.of);
  },
});

/** The events the actor's sponsor backs, whatever their status (sponsor roles and staff). */
export const listSponsored = clientQuery({
  capability: "events.read",
  args: { page: pageArgs, sponsorId: v.optional(v.string()) },
  returns: pageOf(eventView.validator),
  handler: async (ctx, { page, sponsorId }) => {
    const sponsor =
      sponsorId !== undefined && ctx.can("events.readUnpublished")
        ? (await ctx.getOwned("sponsors", sponsorId))._id
        : (ctx.actor.sponsorId ??
          fail("validation", "Name a sponsor (staff) or act for one (sponsor roles)", { field: "sponsorId" }));
    const links = ctx.db.query("eventSponsors").withIndex("by_sponsorId_eventId", (q) => q.eq("sponsorId", sponsor));
    return pagedWith(links, page, async (found) => {
      const events = await Promise.all(found.map((link) => ctx.db.get(link.eventId)));
      return events.flatMap((e) => (e === null ? [] : [eventView.of(e)]));
    });
  },
});

export const get = getQuery("events.read", eventView, "eventId", visibleEvent);

type Schedule = {
  startAt: number;
  endAt: number;
  registrationOpensAt?: number;
  registrationClosesAt?: number;
  capacity?: number;
  speakers: Doc<"events">["speakers"];
};

/** The rules every event write holds to: a coherent schedule and a bounded list of named speakers. */
function checkSchedule(s: Schedule) {
  if (!(s.endAt > s.startAt)) fail("validation", "endAt must be after startAt", { field: "endAt" });
  if (s.registrationClosesAt !== undefined && s.registrationClosesAt > s.startAt) {
    fail("validation", "Registration must close no later than the event starts", { field: "registrationClosesAt" });
  }
  if (
    s.registrationOpensAt !== undefined &&
    s.registrationClosesAt !== undefined &&
    s.registrationOpensAt >= s.registrationClosesAt
  ) {
    fail("validation", "Registration must open before it closes", { field: "registrationOpensAt" });
  }
  if (s.capacity !== undefined) wholeNumber("capacity", s.capacity, LIMITS.eventCapacity.min, LIMITS.eventCapacity.max);
  if (s.speakers.length > MAX_SPEAKERS)
    fail("validation", `An event has at most ${MAX_SPEAKERS} speakers`, { field: "speakers" });
  for (const [i, sp] of s.speakers.entries()) text(`speakers[${i}].name`, sp.name, TEXT_MAX.title);
}

/** An event's texts, trimmed and within their lengths: the same rules on create and update. */
function checkedTexts(args: { title?: string; description?: string; location?: string }) {
  return {
    ...(args.title !== undefined && { title: text("title", args.title, TEXT_MAX.title) }),
    ...(args.description !== undefined && {
      description: optionalText("description", args.description, TEXT_MAX.description),
    }),
    ...(args.location !== undefined && { location: optionalText("location", args.location, TEXT_MAX.location) }),
  };
}

/** An event's own fields, as create takes them; update takes any of them. */
const eventFields = {
  title: v.string(),
  description: v.optional(v.string()),
  location: v.optional(v.string()),
  startAt: v.number(),
  endAt: v.number(),
  registrationOpensAt: v.optional(v.number()),
  registrationClosesAt: v.optional(v.number()),
  capacity: v.optional(v.number()),
  speakers: v.optional(v.array(speaker)),
};

export const create = clientMutation({
  capability: "events.create",
  args: eventFields,
  returns: eventView.validator,
  handler: async (ctx, args) => {
    const speakers = args.speakers ?? [];
    checkSchedule({ ...args, speakers });
    const texts = checkedTexts(args);
    const now = Date.now();
    const id = await ctx.db.insert("events", {
      clientId: ctx.actor.clientId,
      title: required("title", texts.title),
      description: texts.description,
      location: texts.location,
      status: "draft",
      startAt: args.startAt,
      endAt: args.endAt,
      registrationOpensAt: args.registrationOpensAt,
      registrationClosesAt: args.registrationClosesAt,
      capacity: args.capacity,
      registeredCount: 0,
      speakers,
      createdAt: now,
      updatedAt: now,
    });
    await ctx.audit("event.create", id, {
      after: { title: args.title, startAt: args.startAt, capacity: args.capacity },
    });
    return eventView.of(await mustGet(ctx, id));
  },
});

export const update = clientMutation({
  capability: "events.update",
  emits: "event.updated",
  args: { eventId: v.string(), ...partial(eventFields) },
  returns: eventView.validator,
  handler: async (ctx, { eventId, ...changes }) => {
    const event = await ctx.getOwned("events", eventId);
    if (event.status === "cancelled" || event.status === "archived")
      fail("conflict", `A ${event.status} event cannot be edited`);
    const next = {
      ...event,
      ...Object.fromEntries(Object.entries(changes).filter(([, val]) => val !== undefined)),
    } as Doc<"events">;
    checkSchedule(next);
    if (next.capacity !== undefined && next.capacity < event.registeredCount) {
      fail("conflict", `Capacity cannot go below the ${event.registeredCount} active registrations`, {
        field: "capacity",
      });
    }
    const patch = { ...changes, ...checkedTexts(changes), updatedAt: Date.now() };
    await ctx.db.patch(event._id, patch);
    const before = Object.fromEntries(Object.keys(changes).map((k) => [k, event[k as keyof Doc<"events">]]));
    await ctx.audit("event.update", event._id, { before, after: changes });
    return eventView.of(await mustGet(ctx, event._id));
  },
});

/**
 * Open registrations one transaction cancels when an event is cancelled. The event's status
 * changes at once, with a first batch; the rest follow in transactions of the same size
 * (`cancelRegistrationsBatch`, scheduled while any remain), so an event with any number of
 * registrations can be cancelled inside Convex's per-transaction limits
 * (https://docs.convex.dev/production/state/limits, "Transactions").
 *
 * One transaction, the first or a continuation, writes at most CANCEL_BATCH + 2 documents
 * (the registrations, the event, one audit record; the first also, when webhook endpoints
 * subscribe to `event.cancelled`, its event and a delivery to each, at most 21 more) and reads at most 2 * CANCEL_BATCH + 8
 * (each registration by its index range and again by its patch; the actor, the event, and
 * one registration more to know whether any remain): about 1% of the 16,000 written and
 * 32,000 read a transaction may use, and small registrations (a few hundred bytes each)
 * keep the bytes far below 16 MiB. 200 cancels an event of the usual size (the demo's
 * largest holds 200) in the one transaction that cancels it, and keeps each transaction
 * short, so it seldom conflicts with members registering or cancelling at the same time.
 * convex/tests/limits.test.ts holds every transaction to that budget.
 */
export const CANCEL_BATCH = 200;

type Batch = { cancelled: number; more: boolean };

/**
 * Cancel the next CANCEL_BATCH open registrations of a cancelled event, and schedule the next
 * batch while any remain. Returns how many it cancelled; the caller takes them off
 * `registeredCount` in the same transaction.
 */
async function cancelNextBatch(ctx: MutationCtx, event: Doc<"events">, actor: ActorArg): Promise<Batch> {
  // One more than a batch: whether any remain after this one.
  const open = await takeByStatus(OPEN_REGISTRATION, CANCEL_BATCH + 1, (status, n) =>
    byParent(ctx, "eventRegistrations", "eventId", event._id, status).take(n),
  );
  const batch = open.slice(0, CANCEL_BATCH);
  const now = Date.now();
  for (const reg of batch) {
    await ctx.db.patch(reg._id, { status: "cancelled", cancelledAt: now, updatedAt: now });
  }
  const more = open.length > CANCEL_BATCH;
  if (more) {
    const { clientId, role, userId, apiKeyId } = actor;
    await ctx.scheduler.runAfter(0, internal.events.cancelRegistrationsBatch, {
      eventId: event._id,
      actor: { clientId, role, userId, apiKeyId },
    });
  }
  return { cancelled: batch.length, more };
}

export const setStatus = clientMutation({
  capability: "events.publish",
  emits: ({ status }: { status: Doc<"events">["status"] }) =>
    status === "published" ? "event.published" : status === "cancelled" ? "event.cancelled" : undefined,
  args: { eventId: v.string(), status: eventStatus },
  returns: eventView.validator,
  handler: async (ctx, { eventId, status }) => {
    const event = await ctx.getOwned("events", eventId);
    // Checked before any registration is cancelled (changeStatus checks it again).
    requireTransition("events", event.status, status);
    // Cancelling an event cancels its open registrations: a first batch here, the rest in
    // scheduled batches. The event is cancelled from this commit on, so no registration can
    // be added meanwhile (registrations.ts accepts only published events).
    const batch: Batch =
      status === "cancelled" ? await cancelNextBatch(ctx, event, ctx.actor) : { cancelled: 0, more: false };
    const action =
      `event.${status === "published" ? "publish" : status === "cancelled" ? "cancel" : "archive"}` as const;
    const changed = await changeStatus(ctx, "events", event, status, action, {
      // registeredCount keeps counting the registrations still active (checked-in ones stay).
      fields: { registeredCount: Math.max(0, event.registeredCount - batch.cancelled) },
      after: { cancelledRegistrations: batch.cancelled, ...(batch.more && { moreToCancel: true }) },
    });
    return eventView.of(changed);
  },
});

/**
 * The continuation of an event's cancellation: the next batch of its open registrations,
 * audited in the name of the actor who cancelled the event. Only `setStatus` (and itself)
 * schedule it. It does nothing unless the event is that client's and cancelled, and a run
 * that finds no open registration changes nothing, so running it twice is harmless.
 */
export const cancelRegistrationsBatch = internalMutation({
  args: { eventId: v.id("events"), actor: actorArg },
  returns: v.object({ cancelled: v.number(), more: v.boolean() }),
  handler: async (ctx, { eventId, actor }): Promise<Batch> => {
    const event = await ctx.db.get(eventId);
    if (event === null || event.clientId !== actor.clientId || event.status !== "cancelled")
      return { cancelled: 0, more: false };
    const batch = await cancelNextBatch(ctx, event, actor);
    if (batch.cancelled > 0) {
      await ctx.db.patch(event._id, { registeredCount: Math.max(0, event.registeredCount - batch.cancelled) });
      await writeAudit(ctx, actor, "event.cancelRegistrations", event._id, {
        after: { cancelledRegistrations: batch.cancelled, ...(batch.more && { moreToCancel: true }) },
      });
    }
    return batch;
  },
});

export const remove = deleteMutation("events.delete", "events", "eventId", (ctx, event) => ({
  usedBy: byParent(ctx, "eventRegistrations", "eventId", event._id),
  refusal: "An event with registrations cannot be deleted; cancel it instead",
  before: { title: event.title, status: event.status },
  links: EVENT_SPONSORS,
}));
