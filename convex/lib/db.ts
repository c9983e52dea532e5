// Database helpers: reading a document the code knows to exist, typing a range on an index.
import type { IndexRange, IndexRangeBuilder } from "convex/server";
import type { Doc, Id, TableNames } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";

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
