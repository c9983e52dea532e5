// Helpers about the member an action concerns.
import type { Doc } from "../_generated/dataModel";
import { fail } from "./errors";
import type { ClientQueryCtx } from "./functions";

/** The acting member's own profile; an actor with none (staff, keys) cannot act "as itself". */
export async function ownProfile(ctx: ClientQueryCtx): Promise<Doc<"memberProfiles">> {
  if (ctx.actor.memberId === undefined) {
    fail("validation", "This action is for members: your account has no member profile in this client", { field: "memberId" });
  }
  return (await ctx.db.get(ctx.actor.memberId))!;
}

export function memberSummary(member: Doc<"memberProfiles">) {
  return { id: member._id, firstName: member.firstName, lastName: member.lastName, email: member.email };
}
