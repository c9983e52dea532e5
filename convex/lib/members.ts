// Helpers about the member an action concerns.
import type { Doc, Id } from "../_generated/dataModel";
import type { Action } from "./capabilities";
import { mustGet } from "./db";
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
