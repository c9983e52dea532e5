// The two reads every domain has, built one way: one document by the id the BFF sends, and a
// page of a list; each shown as its view. A domain module names only what differs: the
// capability, the argument, how the document is found or which documents are listed.
import type { PaginationResult, RegisteredQuery } from "convex/server";
import { type Validator, type VString, v } from "convex/values";
import type { Action } from "./capabilities";
import { type ActorArg, type ClientQueryCtx, clientQuery } from "./functions";
import { type PageArgs, type Pageable, pageArgs, paged, pageOf } from "./pagination";

/** A page of a list, as `paged` answers it. */
type Page<R> = Pick<PaginationResult<R>, "page" | "isDone" | "continueCursor">;

/** A view (convex/lib/views.ts), showing a document `D` as an `R`. */
export type ViewOf<D, R> = { validator: Validator<R, "required", string>; of: (doc: D) => R };

/**
 * A `returns` validator as a generic builder takes it: the builder cannot match a result of a
 * type still to be chosen against its validator, so the factories below declare their result.
 */
export const loosened = (validator: Validator<unknown, "required", string>) => validator;

/**
 * The query of one document by the id string the BFF sends as `idArg`, found by `find` (in the
 * actor's client, refusing what the actor may not see as not_found) and shown as `view`.
 */
export function getQuery<D, R, K extends string>(
  capability: Action | readonly Action[],
  view: ViewOf<D, R>,
  idArg: K,
  find: (ctx: ClientQueryCtx, id: string) => Promise<D>,
  // Spelled out, not aliased: the generated API reads the arguments and result off this type.
): RegisteredQuery<"internal", Record<K, string> & { actor: ActorArg }, Promise<R>> {
  return clientQuery({
    capability,
    args: { [idArg]: v.string() } as Record<K, VString>,
    returns: loosened(view.validator),
    handler: async (ctx, args) => view.of(await find(ctx, args[idArg])),
  });
}

/** The query of a page of `list` (which takes no argument but the page), each document shown as `view`. */
export function pageQuery<D, R>(
  capability: Action | readonly Action[],
  view: ViewOf<D, R>,
  list: (ctx: ClientQueryCtx) => Pageable<D> | Promise<Pageable<D>>,
  // Spelled out, as above.
): RegisteredQuery<"internal", { page: PageArgs; actor: ActorArg }, Promise<Page<R>>> {
  return clientQuery({
    capability,
    args: { page: pageArgs },
    returns: loosened(pageOf(view.validator)),
    handler: async (ctx, { page }) => paged(await list(ctx), page, view.of),
  });
}
