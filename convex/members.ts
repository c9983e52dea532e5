// Member profiles (the record a client keeps; not the auth user) and their interests
// (memberInterests join table with interestCategories).
// A member reads and edits its own profile (not status or CPD points) and interests;
// client_user views and exports members; client_admin creates, edits and deletes them.
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { ACTIVE as ACTIVE_REGISTRATION } from "./registrations";
import { fail } from "./lib/errors";
import { clientMutation, clientQuery, type ClientMutationCtx, type ClientQueryCtx } from "./lib/functions";
import { ownProfile } from "./lib/members";
import { pageArgs, pageOf, pageOptions, toPage } from "./lib/pagination";
import { email as checkEmail, optionalText, text, wholeNumber } from "./lib/validate";
import { memberStatus } from "./schema";

const memberView = v.object({
  id: v.string(),
  userId: v.optional(v.string()),
  firstName: v.string(),
  lastName: v.string(),
  email: v.string(),
  phone: v.optional(v.string()),
  status: memberStatus,
  cpdPoints: v.number(),
  createdAt: v.number(),
  updatedAt: v.number(),
});

function toView(doc: Doc<"memberProfiles">) {
  const { _id, _creationTime, clientId, searchName, ...rest } = doc;
  return { id: _id, ...rest };
}

/** A member the actor may read: staff any; a member itself; others read as missing. */
async function readableMember(ctx: ClientQueryCtx, memberId: string) {
  const member = await ctx.getOwned("memberProfiles", memberId, "member");
  if (!ctx.can("members.read") && member._id !== ctx.actor.memberId) fail("not_found", "member not found", { entity: "member" });
  return member;
}

/**
 * List members, newest name order; filters are index ranges: `status`, a name
 * prefix (`search`, on the lower-cased full name) or an exact `email`.
 */
export const list = clientQuery({
  capability: "members.read",
  args: { page: pageArgs, status: v.optional(memberStatus), search: v.optional(v.string()), email: v.optional(v.string()) },
  returns: pageOf(memberView),
  handler: async (ctx, { page, status, search, email }) => {
    const clientId = ctx.actor.clientId;
    if (email !== undefined) {
      const result = await ctx.db
        .query("memberProfiles")
        .withIndex("by_clientId_email", (q) => q.eq("clientId", clientId).eq("email", email.trim().toLowerCase()))
        .paginate(pageOptions(page));
      return toPage(result, toView);
    }
    const prefix = search?.trim().toLowerCase();
    const range = <Q extends { gte: Function; lt: Function }>(q: Q) =>
      prefix ? (q.gte("searchName", prefix) as Q).lt("searchName", prefix + "\uffff") : q;
    const query =
      status === undefined
        ? ctx.db.query("memberProfiles").withIndex("by_clientId_searchName", (q) => range(q.eq("clientId", clientId)))
        : ctx.db.query("memberProfiles").withIndex("by_clientId_status_searchName", (q) => range(q.eq("clientId", clientId).eq("status", status)));
    return toPage(await query.paginate(pageOptions(page)), toView);
  },
});

/** One page of the CSV export (the BFF streams page after page): the member export capability,
 *  not the read one, so a role can be allowed to read profiles without bulk-exporting them. */
export const exportPage = clientQuery({
  capability: "members.export",
  args: { page: pageArgs, status: v.optional(memberStatus) },
  returns: pageOf(memberView),
  handler: async (ctx, { page, status }) => {
    const clientId = ctx.actor.clientId;
    const query =
      status === undefined
        ? ctx.db.query("memberProfiles").withIndex("by_clientId_searchName", (q) => q.eq("clientId", clientId))
        : ctx.db.query("memberProfiles").withIndex("by_clientId_status_searchName", (q) => q.eq("clientId", clientId).eq("status", status));
    return toPage(await query.paginate(pageOptions(page)), toView);
  },
});

/** Who exported members' personal data, and with which filter: in the audit log before the
 *  first row leaves the BFF. */
export const recordExport = clientMutation({
  capability: "members.export",
  args: { status: v.optional(memberStatus) },
  returns: v.null(),
  handler: async (ctx, { status }) => {
    await ctx.audit({ action: "member.export", entityType: "member", entityId: "*", after: { status: status ?? "all" } });
    return null;
  },
});

export const get = clientQuery({
  capability: ["members.read", "members.readOwn"],
  args: { memberId: v.string() },
  returns: memberView,
  handler: async (ctx, { memberId }) => toView(await readableMember(ctx, memberId)),
});

export const getMine = clientQuery({
  capability: "members.readOwn",
  args: {},
  returns: memberView,
  handler: async (ctx) => toView(await ownProfile(ctx)),
});

async function requireUniqueEmail(ctx: ClientQueryCtx, email: string, except?: Id<"memberProfiles">) {
  const clash = await ctx.db
    .query("memberProfiles")
    .withIndex("by_clientId_email", (q) => q.eq("clientId", ctx.actor.clientId).eq("email", email))
    .first();
  if (clash !== null && clash._id !== except) fail("conflict", `A member with email ${email} exists`, { field: "email" });
}

const nameFields = { firstName: v.optional(v.string()), lastName: v.optional(v.string()), phone: v.optional(v.string()) };

function checkedNames(args: { firstName?: string; lastName?: string; phone?: string }) {
  if (args.phone !== undefined && !/^[+0-9 ()-]{0,30}$/.test(args.phone)) fail("validation", "phone may hold digits, spaces, + ( ) -", { field: "phone" });
  return {
    ...(args.firstName !== undefined && { firstName: text("firstName", args.firstName, 100) }),
    ...(args.lastName !== undefined && { lastName: text("lastName", args.lastName, 100) }),
    ...(args.phone !== undefined && { phone: optionalText("phone", args.phone, 30) }),
  };
}

async function applyUpdate(ctx: ClientMutationCtx, member: Doc<"memberProfiles">, fields: Partial<Doc<"memberProfiles">>, action: string) {
  const firstName = fields.firstName ?? member.firstName;
  const lastName = fields.lastName ?? member.lastName;
  await ctx.db.patch(member._id, { ...fields, searchName: `${firstName} ${lastName}`.toLowerCase(), updatedAt: Date.now() });
  const before = Object.fromEntries(Object.keys(fields).map((k) => [k, member[k as keyof Doc<"memberProfiles">]]));
  await ctx.audit({ action, entityType: "member", entityId: member._id, before, after: fields });
  return toView((await ctx.db.get(member._id))!);
}

export const create = clientMutation({
  capability: "members.create",
  args: { firstName: v.string(), lastName: v.string(), email: v.string(), phone: v.optional(v.string()), status: v.optional(memberStatus), cpdPoints: v.optional(v.number()) },
  returns: memberView,
  handler: async (ctx, args) => {
    const names = checkedNames(args);
    const email = checkEmail("email", args.email);
    await requireUniqueEmail(ctx, email);
    const now = Date.now();
    const id = await ctx.db.insert("memberProfiles", {
      clientId: ctx.actor.clientId,
      firstName: names.firstName!,
      lastName: names.lastName!,
      email,
      phone: names.phone,
      status: args.status ?? "active",
      cpdPoints: args.cpdPoints === undefined ? 0 : wholeNumber("cpdPoints", args.cpdPoints, 0, 100_000),
      searchName: `${names.firstName} ${names.lastName}`.toLowerCase(),
      createdAt: now,
      updatedAt: now,
    });
    await ctx.audit({ action: "member.create", entityType: "member", entityId: id, after: { ...names, email, status: args.status ?? "active" } });
    return toView((await ctx.db.get(id))!);
  },
});

export const update = clientMutation({
  capability: "members.update",
  args: { memberId: v.string(), ...nameFields, email: v.optional(v.string()), status: v.optional(memberStatus), cpdPoints: v.optional(v.number()) },
  returns: memberView,
  handler: async (ctx, { memberId, email, status, cpdPoints, ...names }) => {
    const member = await ctx.getOwned("memberProfiles", memberId, "member");
    const fields: Partial<Doc<"memberProfiles">> = { ...checkedNames(names) };
    if (email !== undefined) {
      fields.email = checkEmail("email", email);
      await requireUniqueEmail(ctx, fields.email, member._id);
    }
    if (status !== undefined) fields.status = status;
    if (cpdPoints !== undefined) fields.cpdPoints = wholeNumber("cpdPoints", cpdPoints, 0, 100_000);
    return applyUpdate(ctx, member, fields, "member.update");
  },
});

/** A member edits its own names and phone; status and CPD points are not its to change. */
export const updateMine = clientMutation({
  capability: "members.updateOwn",
  args: nameFields,
  returns: memberView,
  handler: async (ctx, names) => applyUpdate(ctx, await ownProfile(ctx), checkedNames(names), "member.updateOwn"),
});

export const remove = clientMutation({
  capability: "members.delete",
  args: { memberId: v.string() },
  returns: v.null(),
  handler: async (ctx, { memberId }) => {
    const member = await ctx.getOwned("memberProfiles", memberId, "member");
    const enrollment = await ctx.db
      .query("courseEnrollments")
      .withIndex("by_memberId_status", (q) => q.eq("memberId", member._id).eq("status", "active"))
      .first();
    if (enrollment !== null) fail("conflict", "A member with an active enrollment cannot be deleted");
    // Registrations of one member: bounded by the events it attends; read newest first.
    const registrations = await ctx.db
      .query("eventRegistrations")
      .withIndex("by_memberId_registeredAt", (q) => q.eq("memberId", member._id))
      .order("desc")
      .take(1000);
    if (registrations.some((r) => (ACTIVE_REGISTRATION as readonly string[]).includes(r.status))) {
      fail("conflict", "A member with an active registration cannot be deleted");
    }
    const interests = await ctx.db.query("memberInterests").withIndex("by_memberId_interestCategoryId", (q) => q.eq("memberId", member._id)).take(500);
    for (const interest of interests) await ctx.db.delete(interest._id);
    await ctx.db.delete(member._id);
    await ctx.audit({ action: "member.delete", entityType: "member", entityId: member._id, before: { email: member.email, firstName: member.firstName, lastName: member.lastName } });
    return null;
  },
});

// ---- interests ------------------------------------------------------------

const interestView = v.object({ id: v.string(), name: v.string() });

export const listInterestCategories = clientQuery({
  capability: "categories.read",
  args: { page: pageArgs },
  returns: pageOf(interestView),
  handler: async (ctx, { page }) =>
    toPage(
      await ctx.db.query("interestCategories").withIndex("by_clientId_name", (q) => q.eq("clientId", ctx.actor.clientId)).paginate(pageOptions(page)),
      (d) => ({ id: d._id, name: d.name }),
    ),
});

export const createInterestCategory = clientMutation({
  capability: "categories.manage",
  args: { name: v.string() },
  returns: interestView,
  handler: async (ctx, args) => {
    const name = text("name", args.name, 100);
    const clash = await ctx.db.query("interestCategories").withIndex("by_clientId_name", (q) => q.eq("clientId", ctx.actor.clientId).eq("name", name)).first();
    if (clash !== null) fail("conflict", `An interest category named ${name} exists`, { field: "name" });
    const id = await ctx.db.insert("interestCategories", { clientId: ctx.actor.clientId, name, createdAt: Date.now() });
    await ctx.audit({ action: "interestCategory.create", entityType: "interestCategory", entityId: id, after: { name } });
    return { id, name };
  },
});

async function interestsOf(ctx: ClientQueryCtx, memberId: Id<"memberProfiles">) {
  const links = await ctx.db.query("memberInterests").withIndex("by_memberId_interestCategoryId", (q) => q.eq("memberId", memberId)).take(500);
  const categories = await Promise.all(links.map((l) => ctx.db.get(l.interestCategoryId)));
  return categories.flatMap((c) => (c === null ? [] : [{ id: c._id, name: c.name }]));
}

export const listInterests = clientQuery({
  capability: ["members.read", "members.readOwn"],
  args: { memberId: v.string() },
  returns: v.array(interestView),
  handler: async (ctx, { memberId }) => interestsOf(ctx, (await readableMember(ctx, memberId))._id),
});

/** Replace a member's interests: its own (members.updateOwn) or anyone's (members.update). */
export const setInterests = clientMutation({
  capability: ["members.update", "members.updateOwn"],
  args: { memberId: v.string(), interestCategoryIds: v.array(v.string()) },
  returns: v.array(interestView),
  handler: async (ctx, { memberId, interestCategoryIds }) => {
    const member = await ctx.getOwned("memberProfiles", memberId, "member");
    if (!ctx.can("members.update") && member._id !== ctx.actor.memberId) fail("not_found", "member not found", { entity: "member" });
    if (interestCategoryIds.length > 50) fail("validation", "At most 50 interests", { field: "interestCategoryIds" });
    const wanted = await Promise.all(
      [...new Set(interestCategoryIds)].map(async (id) => (await ctx.getOwned("interestCategories", id, "interest category"))._id),
    );
    const current = await ctx.db.query("memberInterests").withIndex("by_memberId_interestCategoryId", (q) => q.eq("memberId", member._id)).take(500);
    for (const link of current) if (!wanted.includes(link.interestCategoryId)) await ctx.db.delete(link._id);
    const kept = new Set(current.map((l) => l.interestCategoryId));
    for (const id of wanted) {
      if (!kept.has(id)) await ctx.db.insert("memberInterests", { clientId: ctx.actor.clientId, memberId: member._id, interestCategoryId: id, createdAt: Date.now() });
    }
    await ctx.audit({ action: "member.setInterests", entityType: "member", entityId: member._id, before: { interestCategoryIds: current.map((l) => l.interestCategoryId) }, after: { interestCategoryIds: wanted } });
    return interestsOf(ctx, member._id);
  },
});
