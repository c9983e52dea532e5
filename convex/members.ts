// Member profiles (the record a client keeps; not the auth user) and their interests
// (memberInterests join table with interestCategories).
// A member reads and edits its own profile (not status or CPD points) and interests;
// client_user views and exports members; client_admin creates, edits and deletes them.
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import type { MutationCtx } from "./_generated/server";
import { byParent, inClient, mustGet, takeByStatus } from "./lib/db";
import { fail } from "./lib/errors";
import {
  type ActorArg,
  actorArg,
  type ClientMutationCtx,
  type ClientQueryCtx,
  clientMutation,
  clientQuery,
  requireOwnerOrStaff,
  writeAudit,
} from "./lib/functions";
import { LIMITS, PATTERNS, TEXT_MAX } from "./lib/limits";
import { childrenOf, linksOf, MEMBER_INTERESTS } from "./lib/links";
import { ownProfile } from "./lib/members";
import { pageArgs, paged, pageOf } from "./lib/pagination";
import { getQuery, pageQuery } from "./lib/reads";
import { internalMutation } from "./lib/receipts";
import { ACTIVE_REGISTRATION, ENDED_ENROLLMENT, ENDED_REGISTRATION } from "./lib/transitions";
import { email as checkEmail, optionalText, required, text, wholeNumber } from "./lib/validate";
import { viewOf } from "./lib/views";
import { MAX_MEMBER_INTERESTS, memberStatus } from "./schema";

const memberView = viewOf("memberProfiles", { omit: ["clientId", "searchName"] });

/** A member the actor may read: staff any; a member itself; others read as missing. */
async function readableMember(ctx: ClientQueryCtx, memberId: string) {
  const member = await ctx.getOwned("memberProfiles", memberId);
  requireOwnerOrStaff(ctx, { memberId: member._id }, "members.read", "memberProfiles");
  return member;
}

/**
 * List members in name order; filters are index ranges: `status`, a name
 * prefix (`search`, on the lower-cased full name) or an exact `email`.
 */
export const list = clientQuery({
  capability: "members.read",
  args: {
    page: pageArgs,
    status: v.optional(memberStatus),
    search: v.optional(v.string()),
    email: v.optional(v.string()),
  },
  returns: pageOf(memberView.validator),
  handler: async (ctx, { page, status, search, email }) => {
    const clientId = ctx.actor.clientId;
    if (email !== undefined) {
      const byEmail = ctx.db
        .query("memberProfiles")
        .withIndex("by_clientId_email", (q) => q.eq("clientId", clientId).eq("email", email.trim().toLowerCase()));
      return paged(byEmail, page, memberView.of);
    }
    const prefix = search?.trim().toLowerCase();
    const names = prefix ? { from: prefix, to: `${prefix}\uffff` } : {};
    return paged(inClient(ctx, "memberProfiles", "searchName", { status, ...names }), page, memberView.of);
  },
});

/** One page of the CSV export (the BFF streams page after page): the member export capability,
 *  not the read one, so a role can be allowed to read profiles without bulk-exporting them. */
export const exportPage = clientQuery({
  capability: "members.export",
  args: { page: pageArgs, status: v.optional(memberStatus) },
  returns: pageOf(memberView.validator),
  handler: (ctx, { page, status }) =>
    paged(inClient(ctx, "memberProfiles", "searchName", { status }), page, memberView.of),
});

/** Who exported members' personal data, and with which filter: in the audit log before the
 *  first row leaves the BFF. */
export const recordExport = clientMutation({
  capability: "members.export",
  args: { status: v.optional(memberStatus) },
  returns: v.null(),
  handler: async (ctx, { status }) => {
    await ctx.audit("member.export", "*", { after: { status: status ?? "all" } });
    return null;
  },
});

export const get = getQuery(["members.read", "members.readOwn"], memberView, "memberId", readableMember);

export const getMine = clientQuery({
  capability: "members.readOwn",
  args: {},
  returns: memberView.validator,
  handler: async (ctx) => memberView.of(await ownProfile(ctx)),
});

async function requireUniqueEmail(ctx: ClientQueryCtx, email: string, except?: Id<"memberProfiles">) {
  const clash = await ctx.db
    .query("memberProfiles")
    .withIndex("by_clientId_email", (q) => q.eq("clientId", ctx.actor.clientId).eq("email", email))
    .first();
  if (clash !== null && clash._id !== except)
    fail("conflict", `A member with email ${email} exists`, { field: "email" });
}

const nameFields = {
  firstName: v.optional(v.string()),
  lastName: v.optional(v.string()),
  phone: v.optional(v.string()),
};

function checkedNames(args: { firstName?: string; lastName?: string; phone?: string }) {
  if (args.phone !== undefined && !PATTERNS.phone.test(args.phone))
    fail("validation", "phone may hold digits, spaces, + ( ) -", { field: "phone" });
  return {
    ...(args.firstName !== undefined && { firstName: text("firstName", args.firstName, TEXT_MAX.name) }),
    ...(args.lastName !== undefined && { lastName: text("lastName", args.lastName, TEXT_MAX.name) }),
    ...(args.phone !== undefined && { phone: optionalText("phone", args.phone, 30) }),
  };
}

async function applyUpdate(
  ctx: ClientMutationCtx,
  member: Doc<"memberProfiles">,
  fields: Partial<Doc<"memberProfiles">>,
  action: "member.update" | "member.updateOwn",
) {
  const firstName = fields.firstName ?? member.firstName;
  const lastName = fields.lastName ?? member.lastName;
  await ctx.db.patch(member._id, {
    ...fields,
    searchName: `${firstName} ${lastName}`.toLowerCase(),
    updatedAt: Date.now(),
  });
  const before = Object.fromEntries(Object.keys(fields).map((k) => [k, member[k as keyof Doc<"memberProfiles">]]));
  await ctx.audit(action, member._id, { before, after: fields });
  return memberView.of(await mustGet(ctx, member._id));
}

export const create = clientMutation({
  capability: "members.create",
  args: {
    firstName: v.string(),
    lastName: v.string(),
    email: v.string(),
    phone: v.optional(v.string()),
    status: v.optional(memberStatus),
    cpdPoints: v.optional(v.number()),
  },
  returns: memberView.validator,
  handler: async (ctx, args) => {
    const names = checkedNames(args);
    const firstName = required("firstName", names.firstName);
    const lastName = required("lastName", names.lastName);
    const email = checkEmail("email", args.email);
    await requireUniqueEmail(ctx, email);
    const now = Date.now();
    const id = await ctx.db.insert("memberProfiles", {
      clientId: ctx.actor.clientId,
      firstName,
      lastName,
      email,
      phone: names.phone,
      status: args.status ?? "active",
      cpdPoints:
        args.cpdPoints === undefined
          ? 0
          : wholeNumber("cpdPoints", args.cpdPoints, LIMITS.memberCpdPoints.min, LIMITS.memberCpdPoints.max),
      searchName: `${firstName} ${lastName}`.toLowerCase(),
      createdAt: now,
      updatedAt: now,
    });
    await ctx.audit("member.create", id, { after: { ...names, email, status: args.status ?? "active" } });
    return memberView.of(await mustGet(ctx, id));
  },
});

export const update = clientMutation({
  capability: "members.update",
  args: {
    memberId: v.string(),
    ...nameFields,
    email: v.optional(v.string()),
    status: v.optional(memberStatus),
    cpdPoints: v.optional(v.number()),
  },
  returns: memberView.validator,
  handler: async (ctx, { memberId, email, status, cpdPoints, ...names }) => {
    const member = await ctx.getOwned("memberProfiles", memberId);
    const fields: Partial<Doc<"memberProfiles">> = { ...checkedNames(names) };
    if (email !== undefined) {
      fields.email = checkEmail("email", email);
      await requireUniqueEmail(ctx, fields.email, member._id);
    }
    if (status !== undefined) fields.status = status;
    if (cpdPoints !== undefined)
      fields.cpdPoints = wholeNumber("cpdPoints", cpdPoints, LIMITS.memberCpdPoints.min, LIMITS.memberCpdPoints.max);
    return applyUpdate(ctx, member, fields, "member.update");
  },
});

/** A member edits its own names and phone; status and CPD points are not its to change. */
export const updateMine = clientMutation({
  capability: "members.updateOwn",
  args: nameFields,
  returns: memberView.validator,
  handler: async (ctx, names) => applyUpdate(ctx, await ownProfile(ctx), checkedNames(names), "member.updateOwn"),
});

/**
 * Ended registrations and enrollments (ENDED_REGISTRATION, ENDED_ENROLLMENT) one transaction
 * deletes when their member is deleted. A member's history has no bound (one row per
 * registration or enrollment, ever), so the first batch goes with the member and the rest
 * follow in transactions of the same size (`deleteHistoryBatch`, scheduled while any remain),
 * within Convex's per-transaction limits (https://docs.convex.dev/production/state/limits).
 * The first transaction writes at most HISTORY_BATCH + MAX_MEMBER_INTERESTS + 2 documents
 * (the history, the interests, the member, one audit record); convex/tests/limits.test.ts
 * holds it to that budget.
 */
export const HISTORY_BATCH = 200;

type HistoryBatch = { registrations: number; enrollments: number; more: boolean };

/** Whether the member holds a place anywhere: an active enrollment or an active registration. */
async function activeCommitment(ctx: ClientQueryCtx, memberId: Id<"memberProfiles">): Promise<string | null> {
  const enrollment = await byParent(ctx, "courseEnrollments", "memberId", memberId, "active").first();
  if (enrollment !== null) return "A member with an active enrollment cannot be deleted";
  for (const status of ACTIVE_REGISTRATION) {
    const registration = await byParent(ctx, "eventRegistrations", "memberId", memberId, status).first();
    if (registration !== null) return "A member with an active registration cannot be deleted";
  }
  return null;
}

/**
 * Delete the next HISTORY_BATCH ended registrations and enrollments of a deleted member, and
 * schedule the next batch while any remain. Only ended ones are read (index ranges by status),
 * so an active one could never be deleted here; none exists, as `remove` refuses a member with
 * one and nothing registers or enrols a member that no longer exists.
 */
async function deleteNextHistoryBatch(
  ctx: MutationCtx,
  memberId: Id<"memberProfiles">,
  actor: ActorArg,
): Promise<HistoryBatch> {
  // One more than a batch: whether any remain after this one.
  const registrations = await takeByStatus(ENDED_REGISTRATION, HISTORY_BATCH + 1, (status, n) =>
    byParent(ctx, "eventRegistrations", "memberId", memberId, status).take(n),
  );
  const enrollments = await takeByStatus(ENDED_ENROLLMENT, HISTORY_BATCH + 1 - registrations.length, (status, n) =>
    byParent(ctx, "courseEnrollments", "memberId", memberId, status).take(n),
  );
  const batch = [...registrations, ...enrollments].slice(0, HISTORY_BATCH);
  if (batch.some((doc) => doc.clientId !== actor.clientId)) return { registrations: 0, enrollments: 0, more: false };
  for (const doc of batch) await ctx.db.delete(doc._id);
  const more = registrations.length + enrollments.length > HISTORY_BATCH;
  if (more) {
    const { clientId, role, userId, apiKeyId } = actor;
    await ctx.scheduler.runAfter(0, internal.members.deleteHistoryBatch, {
      memberId,
      actor: { clientId, role, userId, apiKeyId },
    });
  }
  const deletedRegistrations = Math.min(registrations.length, HISTORY_BATCH);
  return { registrations: deletedRegistrations, enrollments: batch.length - deletedRegistrations, more };
}

const historyAudit = (batch: HistoryBatch) => ({
  deletedRegistrations: batch.registrations,
  deletedEnrollments: batch.enrollments,
  ...(batch.more && { moreToDelete: true }),
});

/**
 * Delete a member with nothing active: its profile, its interests, and its ended registrations
 * and enrollments (a first batch here, any rest just after), so no registration or enrollment
 * is left pointing at a member that does not exist. Its tickets stay (tickets are never deleted).
 */
export const remove = clientMutation({
  capability: "members.delete",
  args: { memberId: v.string() },
  returns: v.null(),
  handler: async (ctx, { memberId }) => {
    const member = await ctx.getOwned("memberProfiles", memberId);
    const blocker = await activeCommitment(ctx, member._id);
    if (blocker !== null) fail("conflict", blocker);
    for (const interest of await linksOf(ctx, MEMBER_INTERESTS, member._id)) await ctx.db.delete(interest._id);
    const history = await deleteNextHistoryBatch(ctx, member._id, ctx.actor);
    await ctx.db.delete(member._id);
    await ctx.audit("member.delete", member._id, {
      before: { email: member.email, firstName: member.firstName, lastName: member.lastName },
      after: historyAudit(history),
    });
    return null;
  },
});

/**
 * The continuation of a member's deletion: the next batch of its ended registrations and
 * enrollments, audited in the name of the actor who deleted the member. Only `remove` (and
 * itself) schedule it. It does nothing while the member exists, and a run that finds nothing
 * changes nothing, so running it twice is harmless.
 */
export const deleteHistoryBatch = internalMutation({
  args: { memberId: v.id("memberProfiles"), actor: actorArg },
  returns: v.object({ registrations: v.number(), enrollments: v.number(), more: v.boolean() }),
  handler: async (ctx, { memberId, actor }): Promise<HistoryBatch> => {
    if ((await ctx.db.get(memberId)) !== null) return { registrations: 0, enrollments: 0, more: false };
    const batch = await deleteNextHistoryBatch(ctx, memberId, actor);
    if (batch.registrations + batch.enrollments > 0) {
      await writeAudit(ctx, actor, "member.deleteHistory", memberId, { after: historyAudit(batch) });
    }
    return batch;
  },
});

// ---- interests ------------------------------------------------------------

const interestView = viewOf("interestCategories", { pick: ["name"] });

export const listInterestCategories = pageQuery("categories.read", interestView, (ctx) =>
  inClient(ctx, "interestCategories", "name"),
);

export const createInterestCategory = clientMutation({
  capability: "categories.manage",
  args: { name: v.string() },
  returns: interestView.validator,
  handler: async (ctx, args) => {
    const name = text("name", args.name, TEXT_MAX.name);
    const clash = await ctx.db
      .query("interestCategories")
      .withIndex("by_clientId_name", (q) => q.eq("clientId", ctx.actor.clientId).eq("name", name))
      .first();
    if (clash !== null) fail("conflict", `An interest category named ${name} exists`, { field: "name" });
    const id = await ctx.db.insert("interestCategories", { clientId: ctx.actor.clientId, name, createdAt: Date.now() });
    await ctx.audit("interestCategory.create", id, { after: { name } });
    return interestView.of(await mustGet(ctx, id));
  },
});

async function interestsOf(ctx: ClientQueryCtx, memberId: Id<"memberProfiles">) {
  return (await childrenOf(ctx, MEMBER_INTERESTS, memberId)).map(interestView.of);
}

export const listInterests = clientQuery({
  capability: ["members.read", "members.readOwn"],
  args: { memberId: v.string() },
  returns: v.array(interestView.validator),
  handler: async (ctx, { memberId }) => interestsOf(ctx, (await readableMember(ctx, memberId))._id),
});

/** Replace a member's interests: its own (members.updateOwn) or anyone's (members.update). */
export const setInterests = clientMutation({
  capability: ["members.update", "members.updateOwn"],
  args: { memberId: v.string(), interestCategoryIds: v.array(v.string()) },
  returns: v.array(interestView.validator),
  handler: async (ctx, { memberId, interestCategoryIds }) => {
    const member = await ctx.getOwned("memberProfiles", memberId);
    requireOwnerOrStaff(ctx, { memberId: member._id }, "members.update", "memberProfiles");
    if (interestCategoryIds.length > MAX_MEMBER_INTERESTS) {
      fail("validation", `At most ${MAX_MEMBER_INTERESTS} interests`, { field: "interestCategoryIds" });
    }
    const wanted = await Promise.all(
      [...new Set(interestCategoryIds)].map(async (id) => (await ctx.getOwned("interestCategories", id))._id),
    );
    const current = await linksOf(ctx, MEMBER_INTERESTS, member._id);
    for (const link of current) if (!wanted.includes(link.interestCategoryId)) await ctx.db.delete(link._id);
    const kept = new Set(current.map((l) => l.interestCategoryId));
    for (const id of wanted) {
      if (!kept.has(id))
        await ctx.db.insert("memberInterests", {
          clientId: ctx.actor.clientId,
          memberId: member._id,
          interestCategoryId: id,
          createdAt: Date.now(),
        });
    }
    await ctx.audit("member.setInterests", member._id, {
      before: { interestCategoryIds: current.map((l) => l.interestCategoryId) },
      after: { interestCategoryIds: wanted },
    });
    return interestsOf(ctx, member._id);
  },
});
