// Every status state machine, and the one way to change a status: `requireTransition`, which
// `changeStatus` applies before it writes. A change a machine does not list is refused with
// invalid_transition, naming both states. docs/data-model.md ("State machines") describes each
// machine and who makes which change.
import type { Doc } from "../_generated/dataModel";
import { mustGet } from "./db";
import { fail } from "./errors";
import { type AuditAction, type ClientMutationCtx, ENTITY } from "./functions";

export type Transitions<S extends string> = Readonly<Record<S, readonly S[]>>;

/** Courses. */
export const PUBLICATION: Transitions<"draft" | "published" | "archived"> = {
  draft: ["published"],
  published: ["archived"],
  archived: [],
};

/** Events; cancelling one cancels its open registrations (convex/events.ts). */
export const EVENT: Transitions<"draft" | "published" | "cancelled" | "archived"> = {
  draft: ["published", "cancelled"],
  published: ["cancelled", "archived"],
  cancelled: [],
  archived: [],
};

/**
 * Event registrations. A registration is created `confirmed` (`pending` is kept for an approval
 * step, `paid` for payments; nothing sets either yet). Checked in, cancelled and refunded are final.
 */
export const REGISTRATION: Transitions<"pending" | "confirmed" | "paid" | "checked_in" | "cancelled" | "refunded"> = {
  pending: ["cancelled"],
  confirmed: ["checked_in", "cancelled"],
  paid: ["checked_in", "cancelled", "refunded"],
  checked_in: [],
  cancelled: [],
  refunded: [],
};

/** Registrations that hold a place: counted in `events.registeredCount`; their member cannot be deleted. */
export const ACTIVE_REGISTRATION = ["pending", "confirmed", "paid", "checked_in"] as const;
/** Registrations that can still be cancelled: what cancelling their event cancels. */
export const OPEN_REGISTRATION = ["pending", "confirmed", "paid"] as const;
/** Registrations that are over and hold no place: deleted with their member. */
export const ENDED_REGISTRATION = ["cancelled", "refunded"] as const;

/**
 * Course enrollments: completed by staff (CPD points awarded once), withdrawn by the member
 * itself, removed by a client_admin. Every state but active is final.
 */
export const ENROLLMENT: Transitions<"active" | "completed" | "withdrawn" | "removed"> = {
  active: ["completed", "withdrawn", "removed"],
  completed: [],
  withdrawn: [],
  removed: [],
};

/** Enrollments that are over: deleted with their member (an active one blocks the deletion). */
export const ENDED_ENROLLMENT = ["completed", "withdrawn", "removed"] as const;

/** Support tickets: back to open from pending or resolved until closed; closed is final. */
export const TICKET: Transitions<"open" | "pending" | "resolved" | "closed"> = {
  open: ["pending", "resolved", "closed"],
  pending: ["open", "resolved", "closed"],
  resolved: ["open", "closed"],
  closed: [],
};

/** The machine of each table with a status. */
export const MACHINES = {
  courses: PUBLICATION,
  events: EVENT,
  eventRegistrations: REGISTRATION,
  courseEnrollments: ENROLLMENT,
  supportTickets: TICKET,
} as const satisfies {
  [T in keyof typeof ENTITY]?: Transitions<Doc<T> extends { status: infer S extends string } ? S : never>;
};

type WithMachine = keyof typeof MACHINES;
type Status<T extends WithMachine> = Doc<T>["status"];

/** Refuse, as invalid_transition, a change of a `table` document's status its machine does not list. */
export function requireTransition<T extends WithMachine>(table: T, from: Status<T>, to: Status<T>): void {
  if (!(MACHINES[table] as Transitions<Status<T>>)[from].includes(to)) {
    fail("invalid_transition", `A ${ENTITY[table]} cannot go from ${from} to ${to}`, { from, to });
  }
}

/**
 * Move `doc` to the status `to`, which its machine must allow: the status and `updatedAt` patched,
 * with `stamp` (the field recording when it reached `to`) at the same time and any other `fields`;
 * audited as `action` with the status before and after (and `after`'s extra). Answers the document
 * as it now is.
 */
export async function changeStatus<T extends WithMachine>(
  ctx: ClientMutationCtx,
  table: T,
  doc: Doc<T>,
  to: Status<T>,
  action: AuditAction,
  { stamp, fields, after }: { stamp?: keyof Doc<T>; fields?: Partial<Doc<T>>; after?: Record<string, unknown> } = {},
): Promise<Doc<T>> {
  requireTransition(table, doc.status, to);
  const now = Date.now();
  const patch = { ...fields, status: to, updatedAt: now, ...(stamp !== undefined && { [stamp]: now }) };
  await ctx.db.patch(doc._id, patch as Partial<Doc<T>>);
  await ctx.audit(action, doc._id, { before: { status: doc.status }, after: { status: to, ...after } });
  return mustGet(ctx, doc._id);
}
