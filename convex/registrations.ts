// Event registrations (a first-class table).
//
// Capacity is never exceeded, even under concurrent registrations: the check
// (`registeredCount < capacity`) and the insert happen in one mutation, and Convex
// mutations are serializable transactions (optimistic concurrency control: a
// mutation whose reads changed before it committed is retried), so two mutations
// can never both take the last place.
import { v } from "convex/values";
import type { Doc } from "./_generated/dataModel";
import { visibleEvent } from "./events";
import { byParent, mustGet } from "./lib/db";
import { fail } from "./lib/errors";
import { type ClientMutationCtx, clientMutation, clientQuery, principalOf } from "./lib/functions";
import { getForOwnerOrStaff, memberSummary, ownNewestFirst, ownProfile, withMembers } from "./lib/members";
import { pageArgs, pagedWith, pageOf } from "./lib/pagination";
import { getQuery, pageQuery } from "./lib/reads";
import { ACTIVE_REGISTRATION, changeStatus, requireTransition } from "./lib/transitions";
import { viewOf } from "./lib/views";
import { registrationStatus } from "./schema";

const isActive = (status: Doc<"eventRegistrations">["status"]) =>
  (ACTIVE_REGISTRATION as readonly string[]).includes(status);

const registrationView = viewOf("eventRegistrations", { omit: ["clientId", "updatedAt"] });

async function register(ctx: ClientMutationCtx, event: Doc<"events">, member: Doc<"memberProfiles">) {
  const now = Date.now();
  if (event.status !== "published") fail("registration_closed", "Registration is only open for published events");
  if (event.registrationOpensAt !== undefined && now < event.registrationOpensAt)
    fail("registration_closed", "Registration has not opened yet");
  const closesAt = event.registrationClosesAt ?? event.startAt;
  if (now > closesAt) fail("registration_closed", "Registration has closed");
  if (member.status !== "active") fail("conflict", "Only an active member can register");
  const previous = await ctx.db
    .query("eventRegistrations")
    .withIndex("by_eventId_memberId", (q) => q.eq("eventId", event._id).eq("memberId", member._id))
    .collect();
  if (previous.some((r) => isActive(r.status)))
    fail("already_registered", "The member is already registered for this event");
  if (event.capacity !== undefined && event.registeredCount >= event.capacity) {
    fail("capacity_full", "The event is full", { capacity: event.capacity });
  }
  const id = await ctx.db.insert("eventRegistrations", {
    clientId: ctx.actor.clientId,
    eventId: event._id,
    memberId: member._id,
    status: "confirmed",
    registeredAt: now,
    updatedAt: now,
  });
  await ctx.db.patch(event._id, { registeredCount: event.registeredCount + 1 });
  await ctx.audit("registration.create", id, {
    after: { eventId: event._id, memberId: member._id, status: "confirmed" },
  });
  return registrationView.of(await mustGet(ctx, id));
}

export const registerSelf = clientMutation({
  capability: "registrations.registerSelf",
  emits: "registration.created",
  args: { eventId: v.string() },
  returns: registrationView.validator,
  handler: async (ctx, { eventId }) => register(ctx, await visibleEvent(ctx, eventId), await ownProfile(ctx)),
});

export const registerMember = clientMutation({
  capability: "registrations.registerMember",
  emits: "registration.created",
  args: { eventId: v.string(), memberId: v.string() },
  returns: registrationView.validator,
  handler: async (ctx, { eventId, memberId }) =>
    register(ctx, await ctx.getOwned("events", eventId), await ctx.getOwned("memberProfiles", memberId)),
});

export const get = getQuery(
  ["registrations.list", "registrations.readOwn"],
  registrationView,
  "registrationId",
  (ctx, id) => getForOwnerOrStaff(ctx, "eventRegistrations", id, "registrations.list"),
);

async function release(ctx: ClientMutationCtx, registration: Doc<"eventRegistrations">) {
  const event = await mustGet(ctx, registration.eventId);
  await ctx.db.patch(event._id, { registeredCount: Math.max(0, event.registeredCount - 1) });
}

/** Cancel: a member its own registration; client_admin any. */
export const cancel = clientMutation({
  capability: ["registrations.cancelOwn", "registrations.cancelAny"],
  emits: "registration.cancelled",
  args: { registrationId: v.string() },
  returns: registrationView.validator,
  handler: async (ctx, { registrationId }) => {
    const registration = await getForOwnerOrStaff(ctx, "eventRegistrations", registrationId, "registrations.cancelAny");
    const cancelled = await changeStatus(ctx, "eventRegistrations", registration, "cancelled", "registration.cancel", {
      stamp: "cancelledAt",
    });
    await release(ctx, registration);
    return registrationView.of(cancelled);
  },
});

export const checkIn = clientMutation({
  capability: "registrations.checkIn",
  args: { registrationId: v.string() },
  returns: registrationView.validator,
  handler: async (ctx, { registrationId }) => {
    const registration = await ctx.getOwned("eventRegistrations", registrationId);
    // Checked before the event (changeStatus checks it again), so a registration that can never be
    // checked in says so first.
    requireTransition("eventRegistrations", registration.status, "checked_in");
    // A cancelled event's registrations may still be waiting for their batch (events.ts, CANCEL_BATCH).
    const event = await mustGet(ctx, registration.eventId);
    if (event.status === "cancelled")
      fail("conflict", "The event is cancelled: its registrations cannot be checked in");
    return registrationView.of(
      await changeStatus(ctx, "eventRegistrations", registration, "checked_in", "registration.checkIn", {
        stamp: "checkedInAt",
      }),
    );
  },
});

/** Refund a paid registration; records who refunded. */
export const refund = clientMutation({
  capability: "registrations.refund",
  args: { registrationId: v.string() },
  returns: registrationView.validator,
  handler: async (ctx, { registrationId }) => {
    const registration = await ctx.getOwned("eventRegistrations", registrationId);
    const refundedBy = principalOf(ctx.actor);
    const refunded = await changeStatus(ctx, "eventRegistrations", registration, "refunded", "registration.refund", {
      stamp: "refundedAt",
      fields: { refundedBy },
      after: { refundedBy },
    });
    await release(ctx, registration);
    return registrationView.of(refunded);
  },
});

/** An event's registration count: no personal data, for anyone who can see the event. */
export const count = clientQuery({
  capability: "registrations.count",
  args: { eventId: v.string() },
  returns: v.object({
    eventId: v.string(),
    registered: v.number(),
    capacity: v.optional(v.number()),
    placesLeft: v.optional(v.number()),
  }),
  handler: async (ctx, { eventId }) => {
    const event = await visibleEvent(ctx, eventId);
    return {
      eventId: event._id,
      registered: event.registeredCount,
      capacity: event.capacity,
      placesLeft: event.capacity === undefined ? undefined : Math.max(0, event.capacity - event.registeredCount),
    };
  },
});

/** An event's registrations with their registrants (staff). */
export const listForEvent = clientQuery({
  capability: "registrations.list",
  args: { eventId: v.string(), page: pageArgs, status: v.optional(registrationStatus) },
  returns: pageOf(registrationView.validator.extend({ member: memberSummary.validator })),
  handler: async (ctx, { eventId, page, status }) => {
    const event = await ctx.getOwned("events", eventId);
    const query = byParent(ctx, "eventRegistrations", "eventId", event._id, status);
    return pagedWith(query, page, (registrations) => withMembers(ctx, registrations, registrationView.of));
  },
});

export const listMine = pageQuery("registrations.readOwn", registrationView, (ctx) =>
  ownNewestFirst(ctx, "eventRegistrations", "registeredAt"),
);
