import { v, type Validator } from "convex/values";
import type { PaginationResult } from "convex/server";

export const DEFAULT_PAGE_SIZE = 30;
export const MAX_PAGE_SIZE = 100;

/** Page options as the BFF sends them; numItems is clamped to MAX_PAGE_SIZE. */
export const pageArgs = v.object({
  numItems: v.optional(v.number()),
  cursor: v.union(v.string(), v.null()),
});

export function pageOptions(page: { numItems?: number; cursor: string | null }) {
  const requested = Math.floor(page.numItems ?? DEFAULT_PAGE_SIZE);
  return {
    numItems: Math.max(1, Math.min(MAX_PAGE_SIZE, requested)),
    cursor: page.cursor,
  };
}

/** The `returns` validator of a paginated list of `item`. */
export function pageOf<T extends Validator<any, "required", any>>(item: T) {
  return v.object({
    page: v.array(item),
    isDone: v.boolean(),
    continueCursor: v.string(),
  });
}

/** Keep only the fields the `returns` validator allows, mapping each item. */
export function toPage<D, T>(result: PaginationResult<D>, map: (doc: D) => T) {
  return {
    page: result.page.map(map),
    isDone: result.isDone,
    continueCursor: result.continueCursor,
  };
}
