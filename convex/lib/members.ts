// Helpers about the member an action concerns.
import type { OrderedQuery } from "convex/server";
import type { Doc, Id } from "../_generated/dataModel";
import type { Action } from "./capabilities";
import { type EqRange, type Info, mustGet, type OrderField } from "./db";
import { fail } from "./errors";
import { type ClientQueryCtx, requireOwnerOrStaff } from "./functions";
import { viewOf } from "./views";

/** The acting member's own profile; an actor with none (staff, keys) cannot act "as itself". */
export async function ownProfile(ctx: ClientQueryCtx): Promise<Doc<"memberProfiles">> {
  if (ctx.actor.memberId === undefined) {
    fail("validation", "This action is for members: your account has no member profile in this client", {
      field: "memberId",
    });
  }
  return await mustGet(ctx, ctx.actor.memberId);
}

/**
 * The acting member's own registrations or tickets, newest first by `field`, through the index
 * `by_memberId_<field>`.
 */
export async function ownNewestFirst<
  T extends "eventRegistrations" | "supportTickets",
  F extends OrderField<T, ["memberId"]>,
>(ctx: ClientQueryCtx, table: T, field: F): Promise<OrderedQuery<Info<T>>> {
  const member = await ownProfile(ctx);
  const range = (q: EqRange) => q.eq("memberId", member._id);
  // The type holds `field` to the indexes named here, which no one table's types state.
  return ctx.db
    .query(table)
    .withIndex(`by_memberId_${field}` as never, range as never)
    .order("desc");
}

/**
 * A registration, enrollment or ticket of the actor's client, for the member it belongs to or an
 * actor holding `staff`; to anyone else it reads exactly like a missing one.
 */
export async function getForOwnerOrStaff<T extends "courseEnrollments" | "eventRegistrations" | "supportTickets">(
  ctx: ClientQueryCtx,
  table: T,
  id: string,
  staff: Action,
): Promise<Doc<T>> {
  const doc = await ctx.getOwned(table, id);
  requireOwnerOrStaff(ctx, { memberId: doc.memberId }, staff, table);
  return doc;
}

/** Who a registration or an enrollment is for, as staff lists show it. */
export const memberSummary = viewOf("memberProfiles", { pick: ["firstName", "lastName", "email"] });

/**
 * Each of `docs` in its view with its member's summary. A document whose member is gone is
 * left out: deleting a member deletes its ended registrations and enrollments, the first batch
 * with the member and any rest just after (convex/members.ts), so only those can be met here.
 */
export async function withMembers<D extends { memberId: Id<"memberProfiles"> }, V extends object>(
  ctx: ClientQueryCtx,
  docs: D[],
  view: (doc: D) => V,
) {
  const members = await Promise.all(docs.map((doc) => ctx.db.get(doc.memberId)));
  return docs.flatMap((doc, i) => {
    const member = members[i];
    return member === null ? [] : [{ ...view(doc), member: memberSummary.of(member) }];
  });
}
