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

export type Info<T extends TableNames> = NamedTableInfo<DataModel, T>;

/** The name every index has: `by_` and its fields, joined by `_` (convex/tests/schema.test.ts checks). */
type IndexNamed<Fields extends string[]> = `by_${Join<Fields>}`;
type Join<F extends string[]> = F extends [infer A extends string, ...infer R extends string[]]
  ? R extends []
    ? A
    : `${A}_${Join<R>}`
  : never;

/** The fields `F` of `T` that the index `by_<Lead>_<F>`, on `Lead` then `F`, orders by. */
export type OrderField<T extends TableNames, Lead extends string[]> = {
  [I in IndexNames<Info<T>>]: NamedIndex<Info<T>, I> extends [...Lead, infer F extends string, ...string[]]
    ? I extends IndexNamed<[...Lead, F]>
      ? F
      : never
    : never;
}[IndexNames<Info<T>>];

/** Equalities and bounds on an index's fields, as a helper over any table states them. */
export type EqRange = {
  eq(field: string, value: unknown): EqRange;
  gte(field: string, value: unknown): EqRange;
  lt(field: string, value: unknown): EqRange;
};

/** The client-owned tables with a `status` field. */
type WithStatus = { [T in ClientOwnedTable]: Doc<T> extends { status: unknown } ? T : never }[ClientOwnedTable];

/** A range of values of `F`: from `from` (included) to `to` (left out), either end open when absent. */
type Between<T extends TableNames, F extends string> = {
  from?: Doc<T>[F & keyof Doc<T>];
  to?: Doc<T>[F & keyof Doc<T>];
};

/**
 * The actor's client's documents of `table` in the order of `field`, through the index
 * `by_clientId_<field>`; given a `status` (which may be undefined: no filter), only the documents
 * with it, through `by_clientId_status_<field>`; given `from` or `to`, only those in that range
 * of `field`. Every filter is an index range, none a scan.
 */
export function inClient<T extends ClientOwnedTable, F extends OrderField<T, ["clientId"]>>(
  ctx: ClientQueryCtx,
  table: T,
  field: F,
  range?: Between<T, F>,
): Query<Info<T>>;
export function inClient<
  T extends WithStatus,
  F extends OrderField<T, ["clientId"]> & OrderField<T, ["clientId", "status"]>,
>(
  ctx: ClientQueryCtx,
  table: T,
  field: F,
  range: Between<T, F> & { status: Doc<T>["status"] | undefined },
): Query<Info<T>>;
export function inClient(
  ctx: ClientQueryCtx,
  table: ClientOwnedTable,
  field: string,
  { status, from, to }: { status?: unknown; from?: unknown; to?: unknown } = {},
) {
  const index = status === undefined ? `by_clientId_${field}` : `by_clientId_status_${field}`;
  const range = (q: EqRange) => {
    const client = q.eq("clientId", ctx.actor.clientId);
    const lead = status === undefined ? client : client.eq("status", status);
    const lower = from === undefined ? lead : lead.gte(field, from);
    return to === undefined ? lower : lower.lt(field, to);
  };
  // The overloads hold `field` to the indexes named here, which no one table's types state.
  return ctx.db.query(table).withIndex(index as never, range as never);
}

/** The fields `F` of `T` with an index `by_<F>_status` on `F`, then status. */
type ParentField<T extends TableNames> = {
  [I in IndexNames<Info<T>>]: NamedIndex<Info<T>, I> extends [infer F extends string, "status", ...string[]]
    ? I extends IndexNamed<[F, "status"]>
      ? F
      : never
    : never;
}[IndexNames<Info<T>>];

/**
 * The documents of `table` whose `field` holds `parentId` (a document already checked against
 * the actor's client), through the index `by_<field>_status`; given a `status`, only those with it.
 */
export function byParent<T extends WithStatus, F extends ParentField<T>>(
  ctx: Pick<QueryCtx, "db">,
  table: T,
  field: F,
  parentId: Doc<T>[F & keyof Doc<T>],
  status?: Doc<T>["status"],
): Query<Info<T>> {
  const range = (q: EqRange) =>
    status === undefined ? q.eq(field, parentId) : q.eq(field, parentId).eq("status", status);
  // The type holds `field` to the indexes named here, which no one table's types state.
  return ctx.db.query(table).withIndex(`by_${field}_status` as never, range as never);
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
