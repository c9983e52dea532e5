// Database helpers: reading a document the code knows to exist, typing a range on an index,
// reading one client's documents through an index that leads with clientId.
import type { IndexNames, IndexRange, IndexRangeBuilder, NamedIndex, NamedTableInfo, Query } from "convex/server";
import type { DataModel, Doc, Id, TableNames } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import type { ClientOwnedTable, ClientQueryCtx } from "./functions";

/**
 * The document `id`, which must exist: one the same transaction has just written or checked,
 * or one another document refers to and that cannot be deleted while referred to (a course
 * with enrollments, an event with registrations, a member with an active registration or
 * enrollment, the member profile of a verified actor). Its absence is a bug, not the caller's
 * mistake, so it is a plain Error (an internal error), never a problem code from `fail`.
 */
export async function mustGet<T extends TableNames>(ctx: Pick<QueryCtx, "db">, id: Id<T>): Promise<Doc<T>> {
  const doc = await ctx.db.get(id);
  if (doc === null) throw new Error(`Document ${id} must exist in this transaction but is missing`);
  return doc;
}

/**
 * An index range builder of `table` standing at `field` (the index's equalities before it are
 * given), as a helper that adds a range on that field takes it: one helper then serves every
 * index in which `field` comes at that point, whatever its equalities.
 */
export type RangeAt<T extends TableNames, F extends string> = IndexRange &
  Pick<IndexRangeBuilder<Doc<T>, [F]>, "gt" | "gte" | "lt" | "lte">;

type Info<T extends TableNames> = NamedTableInfo<DataModel, T>;

/** The indexes of `T` whose fields begin with `Lead`. */
type IndexLedBy<T extends TableNames, Lead extends string[]> = {
  [I in IndexNames<Info<T>>]: NamedIndex<Info<T>, I> extends [...Lead, ...string[]] ? I : never;
}[IndexNames<Info<T>>];

/** Equalities on an index's leading fields, as a helper over any table states them. */
export type EqRange = { eq(field: string, value: unknown): EqRange };

/** The client-owned tables with a `status` field. */
type WithStatus = { [T in ClientOwnedTable]: Doc<T> extends { status: unknown } ? T : never }[ClientOwnedTable];

/**
 * The actor's client's documents of `table`, in the order of `index` (an index that leads with
 * clientId); given a `status`, only the documents with it, through an index that leads with
 * clientId and status.
 */
export function inClient<T extends ClientOwnedTable>(
  ctx: ClientQueryCtx,
  table: T,
  index: IndexLedBy<T, ["clientId"]>,
): Query<Info<T>>;
export function inClient<T extends WithStatus>(
  ctx: ClientQueryCtx,
  table: T,
  index: IndexLedBy<T, ["clientId", "status"]>,
  status: Doc<T>["status"],
): Query<Info<T>>;
export function inClient(ctx: ClientQueryCtx, table: ClientOwnedTable, index: PropertyKey, status?: unknown) {
  const clientId = ctx.actor.clientId;
  // The overloads hold `index` to the fields ranged here, which no one table's types state.
  const range = (q: EqRange) =>
    status === undefined ? q.eq("clientId", clientId) : q.eq("clientId", clientId).eq("status", status);
  return ctx.db.query(table).withIndex(index as never, range as never);
}

/**
 * Up to `limit` documents of an index range per status, read status after status (`take` reads
 * up to n of one status) until `limit` are read: a bounded batch of documents in any of
 * `statuses`, each status an index range rather than a filter.
 */
export async function takeByStatus<S, D>(
  statuses: readonly S[],
  limit: number,
  take: (status: S, n: number) => Promise<D[]>,
): Promise<D[]> {
  const found: D[] = [];
  for (const status of statuses) {
    const room = limit - found.length;
    if (room === 0) break;
    found.push(...(await take(status, room)));
  }
  return found;
}
