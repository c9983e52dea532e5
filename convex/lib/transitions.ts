// Every status state machine, and the one way to change a status: `requireTransition`.
// A change a machine does not list is refused with invalid_transition, naming both states.
// docs/data-model.md ("State machines") describes each machine and who makes which change.
import { fail } from "./errors";

export type Transitions<S extends string> = Readonly<Record<S, readonly S[]>>;

export function requireTransition<S extends string>(machine: Transitions<S>, entity: string, from: S, to: S): void {
  if (!machine[from].includes(to)) {
    fail("invalid_transition", `A ${entity} cannot go from ${from} to ${to}`, { from, to });
  }
}

/** What the audit record of a status change holds: the status before and after. */
export function statusChange<S extends string>(from: S, to: S) {
  return { before: { status: from }, after: { status: to } };
}

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
