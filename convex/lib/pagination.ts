import type { PaginationOptions, PaginationResult } from "convex/server";
import { type Infer, type Validator, v } from "convex/values";
import { fail } from "./errors";
import { LIMITS } from "./limits";

export const DEFAULT_PAGE_SIZE = LIMITS.page.default;
export const MAX_PAGE_SIZE = LIMITS.page.max;

/** Page options as the BFF sends them; a page beyond MAX_PAGE_SIZE is refused, as the BFF refuses it. */
export const pageArgs = v.object({
  numItems: v.optional(v.number()),
  cursor: v.union(v.string(), v.null()),
});

export type PageArgs = Infer<typeof pageArgs>;

export function pageOptions(page: PageArgs) {
  const numItems = page.numItems ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(numItems) || numItems < 1 || numItems > MAX_PAGE_SIZE) {
    fail("validation", `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`, { field: "limit" });
  }
  return { numItems, cursor: page.cursor };
}

/** The `returns` validator of a paginated list of `item`. */
export function pageOf<T extends Validator<unknown, "required", string>>(item: T) {
  return v.object({
    page: v.array(item),
    isDone: v.boolean(),
    continueCursor: v.string(),
  });
}

/** A query that can be paged: a `ctx.db` query, ordered or not. */
export type Pageable<D> = { paginate(options: PaginationOptions): Promise<PaginationResult<D>> };

/**
 * The page of `query` the BFF asked for, with the documents of the page mapped by `map` as a
 * whole (which may leave some out), and only the fields the `returns` validator of `pageOf` allows.
 */
export async function pagedWith<D, T>(query: Pageable<D>, page: PageArgs, map: (docs: D[]) => Promise<T[]>) {
  const result = await query.paginate(pageOptions(page));
  return { page: await map(result.page), isDone: result.isDone, continueCursor: result.continueCursor };
}

/** The page of `query` the BFF asked for, each document in its view. */
export function paged<D, T>(query: Pageable<D>, page: PageArgs, view: (doc: D) => T) {
  return pagedWith(query, page, async (docs) => docs.map(view));
}
