// Status state machines (DOMAIN.md, business rules). Anything not listed is a conflict.
import { fail } from "./errors";

export type Transitions<S extends string> = Readonly<Record<S, readonly S[]>>;

export function requireTransition<S extends string>(
  machine: Transitions<S>,
  entity: string,
  from: S,
  to: S,
): void {
  if (!machine[from].includes(to)) {
    fail("invalid_transition", `A ${entity} cannot go from ${from} to ${to}`, { from, to });
  }
}

export const PUBLICATION: Transitions<"draft" | "published" | "archived"> = {
  draft: ["published"],
  published: ["archived"],
  archived: [],
};

export const EVENT: Transitions<"draft" | "published" | "cancelled" | "archived"> = {
  draft: ["published", "cancelled"],
  published: ["cancelled", "archived"],
  cancelled: [],
  archived: [],
};

export const TICKET: Transitions<"open" | "pending" | "resolved" | "closed"> = {
  open: ["pending", "resolved", "closed"],
  pending: ["open", "resolved", "closed"],
  resolved: ["open", "closed"],
  closed: [],
};
