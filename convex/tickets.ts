// Support tickets and their conversation (supportTicketMessages).
// A member opens tickets, reads and replies to its own, and may close them; staff
// read all, reply, write internal notes, assign and move tickets through their
// states. Internal notes are never shown to members. Tickets are never deleted.
import { v } from "convex/values";
import type { Doc } from "./_generated/dataModel";
import { inClient, mustGet } from "./lib/db";
import { fail } from "./lib/errors";
import { type ClientMutationCtx, type ClientQueryCtx, clientMutation, clientQuery } from "./lib/functions";
import { LIMITS, TEXT_MAX } from "./lib/limits";
import { getForOwnerOrStaff, ownNewestFirst, ownProfile } from "./lib/members";
import { pageArgs, paged, pageOf } from "./lib/pagination";
import { getQuery, pageQuery } from "./lib/reads";
import { changeStatus, requireTransition } from "./lib/transitions";
import { text } from "./lib/validate";
import { viewOf } from "./lib/views";
import { ticketPriority, ticketStatus } from "./schema";

const ticketView = viewOf("supportTickets", { omit: ["clientId"] });

const messageView = viewOf("supportTicketMessages", { omit: ["clientId"] });

const isStaff = (ctx: ClientQueryCtx) => ctx.can("tickets.readAll");

/** A ticket the actor may see: staff any of the client's; a member its own; others read as missing. */
const visibleTicket = (ctx: ClientQueryCtx, ticketId: string) =>
  getForOwnerOrStaff(ctx, "supportTickets", ticketId, "tickets.readAll");

async function addMessage(ctx: ClientMutationCtx, ticket: Doc<"supportTickets">, body: string, internal: boolean) {
  const now = Date.now();
  const id = await ctx.db.insert("supportTicketMessages", {
    clientId: ctx.actor.clientId,
    ticketId: ticket._id,
    authorUserId: ctx.actor.userId,
    authorApiKeyId: ctx.actor.apiKeyId,
    body: text("body", body, TEXT_MAX.message),
    internal,
    createdAt: now,
  });
  return id;
}

const ticketArgs = { subject: v.string(), body: v.string(), priority: v.optional(ticketPriority) };

/** A member opens a ticket for itself. */
export const open = clientMutation({
  capability: "tickets.open",
  emits: "ticket.created",
  args: ticketArgs,
  returns: ticketView.validator,
  handler: async (ctx, args) => openFor(ctx, await ownProfile(ctx), args),
});

/** Staff open a ticket on a member's behalf (the BFF picks this function when `memberId` is given). */
export const openForMember = clientMutation({
  capability: "tickets.openForMember",
  emits: "ticket.created",
  args: { ...ticketArgs, memberId: v.string() },
  returns: ticketView.validator,
  handler: async (ctx, { memberId, ...args }) => openFor(ctx, await ctx.getOwned("memberProfiles", memberId), args),
});

async function openFor(
  ctx: ClientMutationCtx,
  member: Doc<"memberProfiles">,
  { subject, body, priority }: { subject: string; body: string; priority?: Doc<"supportTickets">["priority"] },
) {
  const now = Date.now();
  const id = await ctx.db.insert("supportTickets", {
    clientId: ctx.actor.clientId,
    memberId: member._id,
    subject: text("subject", subject, TEXT_MAX.title),
    status: "open",
    priority: priority ?? "normal",
    createdAt: now,
    updatedAt: now,
  });
  const ticket = await mustGet(ctx, id);
  await addMessage(ctx, ticket, body, false);
  await ctx.audit("ticket.open", id, { after: { subject, memberId: member._id } });
  return ticketView.of(ticket);
}

export const list = clientQuery({
  capability: "tickets.readAll",
  args: { page: pageArgs, status: v.optional(ticketStatus), assigneeUserId: v.optional(v.string()) },
  returns: pageOf(ticketView.validator),
  handler: async (ctx, { page, status, assigneeUserId }) => {
    const clientId = ctx.actor.clientId;
    if (assigneeUserId !== undefined) {
      const assignee = ctx.db.normalizeId("users", assigneeUserId);
      if (assignee === null) return { page: [], isDone: true, continueCursor: "" };
      const assigned = ctx.db
        .query("supportTickets")
        .withIndex("by_clientId_assigneeUserId_updatedAt", (q) =>
          q.eq("clientId", clientId).eq("assigneeUserId", assignee),
        );
      return paged(assigned.order("desc"), page, ticketView.of);
    }
    return paged(inClient(ctx, "supportTickets", "updatedAt", { status }).order("desc"), page, ticketView.of);
  },
});

export const listMine = pageQuery("tickets.readOwn", ticketView, (ctx) =>
  ownNewestFirst(ctx, "supportTickets", "updatedAt"),
);

export const get = getQuery(["tickets.readAll", "tickets.readOwn"], ticketView, "ticketId", visibleTicket);

/**
 * The messages of a ticket the actor may see, oldest first, from `since` on when given: staff
 * the whole thread, anyone else its public messages only, as an index range (`internal` =
 * false), so internal notes are never read for them rather than filtered out. `messages` and
 * `messagesSince` both read through it.
 */
function visibleMessages(ctx: ClientQueryCtx, ticket: Doc<"supportTickets">, since?: number) {
  const query = ctx.db.query("supportTicketMessages");
  if (isStaff(ctx))
    return query.withIndex("by_ticketId_createdAt", (q) => {
      const thread = q.eq("ticketId", ticket._id);
      return since === undefined ? thread : thread.gte("createdAt", since);
    });
  return query.withIndex("by_ticketId_internal_createdAt", (q) => {
    const publicThread = q.eq("ticketId", ticket._id).eq("internal", false);
    return since === undefined ? publicThread : publicThread.gte("createdAt", since);
  });
}

/** The thread, oldest first, paged. Members get the public messages only (`visibleMessages`). */
export const messages = clientQuery({
  capability: ["tickets.readAll", "tickets.readOwn"],
  args: { ticketId: v.string(), page: pageArgs },
  returns: pageOf(messageView.validator),
  handler: async (ctx, { ticketId, page }) => {
    const ticket = await visibleTicket(ctx, ticketId);
    return paged(visibleMessages(ctx, ticket), page, messageView.of);
  },
});

/**
 * The most a live thread sends in one update (convex/limits.json, which the BFF reads too); the
 * BFF asks again from the last one it sent.
 */
export const MAX_LIVE_MESSAGES = LIMITS.messagesPerLiveUpdate;

/**
 * The thread from a point in time on, oldest first, for live streams (the BFF subscribes to
 * it): the same visibility as `messages` (`visibleMessages`), bounded.
 */
export const messagesSince = clientQuery({
  capability: ["tickets.readAll", "tickets.readOwn"],
  args: { ticketId: v.string(), since: v.number() },
  returns: v.array(messageView.validator),
  handler: async (ctx, { ticketId, since }) => {
    const ticket = await visibleTicket(ctx, ticketId);
    return (await visibleMessages(ctx, ticket, since).take(MAX_LIVE_MESSAGES)).map(messageView.of);
  },
});

/**
 * Reply on a ticket: a member on its own (a reply reopens a pending or resolved
 * ticket), staff on any. A closed ticket takes no replies.
 */
export const reply = clientMutation({
  capability: ["tickets.reply", "tickets.replyOwn"],
  // A public reply only: addInternalNote declares no event, so an internal note is never delivered.
  emits: "ticket.message.created",
  args: { ticketId: v.string(), body: v.string() },
  returns: messageView.validator,
  handler: async (ctx, { ticketId, body }) => {
    const ticket = await visibleTicket(ctx, ticketId);
    if (ticket.status === "closed")
      fail("invalid_transition", "A closed ticket takes no replies", { from: "closed", to: "closed" });
    const id = await addMessage(ctx, ticket, body, false);
    const reopen = !isStaff(ctx) && ticket.status !== "open";
    if (reopen) requireTransition("supportTickets", ticket.status, "open");
    await ctx.db.patch(ticket._id, { updatedAt: Date.now(), ...(reopen && { status: "open" as const }) });
    await ctx.audit("ticket.reply", ticket._id, { after: { messageId: id, ...(reopen && { status: "open" }) } });
    return messageView.of(await mustGet(ctx, id));
  },
});

export const addInternalNote = clientMutation({
  capability: "tickets.internalNote",
  args: { ticketId: v.string(), body: v.string() },
  returns: messageView.validator,
  handler: async (ctx, { ticketId, body }) => {
    const ticket = await ctx.getOwned("supportTickets", ticketId);
    const id = await addMessage(ctx, ticket, body, true);
    await ctx.db.patch(ticket._id, { updatedAt: Date.now() });
    await ctx.audit("ticket.internalNote", ticket._id, { after: { messageId: id } });
    return messageView.of(await mustGet(ctx, id));
  },
});

export const assign = clientMutation({
  capability: "tickets.assign",
  args: { ticketId: v.string(), assigneeUserId: v.union(v.string(), v.null()) },
  returns: ticketView.validator,
  handler: async (ctx, { ticketId, assigneeUserId }) => {
    const ticket = await ctx.getOwned("supportTickets", ticketId);
    let assignee: Doc<"users">["_id"] | undefined;
    if (assigneeUserId !== null) {
      const userId = ctx.db.normalizeId("users", assigneeUserId);
      const membership =
        userId === null
          ? null
          : await ctx.db
              .query("clientMemberships")
              .withIndex("by_clientId_userId", (q) => q.eq("clientId", ctx.actor.clientId).eq("userId", userId))
              .unique();
      // Only the client's staff take tickets; anyone else reads as a missing user.
      if (
        userId === null ||
        membership === null ||
        (membership.role !== "client_admin" && membership.role !== "client_user")
      ) {
        fail("not_found", "user not found", { entity: "user" });
      }
      assignee = userId;
    }
    await ctx.db.patch(ticket._id, { assigneeUserId: assignee, updatedAt: Date.now() });
    await ctx.audit("ticket.assign", ticket._id, {
      before: { assigneeUserId: ticket.assigneeUserId ?? null },
      after: { assigneeUserId: assignee ?? null },
    });
    return ticketView.of(await mustGet(ctx, ticket._id));
  },
});

/** Move a ticket through open -> pending -> resolved -> closed (reopen allowed until closed). */
export const setStatus = clientMutation({
  capability: ["tickets.changeStatus", "tickets.closeOwn"],
  args: { ticketId: v.string(), status: ticketStatus },
  returns: ticketView.validator,
  handler: async (ctx, { ticketId, status }) => {
    const ticket = await visibleTicket(ctx, ticketId);
    if (!ctx.can("tickets.changeStatus") && status !== "closed") {
      fail("forbidden", "A member may only close its own ticket", { capability: "tickets.changeStatus" });
    }
    const [action, stamp] =
      status === "closed" ? (["ticket.close", "closedAt"] as const) : (["ticket.setStatus"] as const);
    return ticketView.of(await changeStatus(ctx, "supportTickets", ticket, status, action, { stamp }));
  },
});
