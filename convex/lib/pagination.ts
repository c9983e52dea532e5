import type { PaginationResult } from "convex/server";
import { type Validator, v } from "convex/values";
import { fail } from "./errors";
import { LIMITS } from "./limits";

export const DEFAULT_PAGE_SIZE = LIMITS.page.default;
export const MAX_PAGE_SIZE = LIMITS.page.max;

/** Page options as the BFF sends them; a page beyond MAX_PAGE_SIZE is refused, as the BFF refuses it. */
export const pageArgs = v.object({
  numItems: v.optional(v.number()),
  cursor: v.union(v.string(), v.null()),
});

export function pageOptions(page: { numItems?: number; cursor: string | null }) {
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

/** Keep only the fields the `returns` validator allows, mapping each item. */
export function toPage<D, T>(result: PaginationResult<D>, map: (doc: D) => T) {
  return {
    page: result.page.map(map),
    isDone: result.isDone,
    continueCursor: result.continueCursor,
  };
}
