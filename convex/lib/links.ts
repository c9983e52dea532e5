// The capped join tables (convex/schema.ts BOUNDED_LINKS): each links a parent to children of
// the same client, a pair at most once and a parent to at most its cap of children. Every path
// that adds a link checks the cap, so reading the cap's worth of a parent's links reads them all.
import type { RegisteredMutation, RegisteredQuery } from "convex/server";
import { type GenericValidator, type VId, type VString, v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import schema, { BOUNDED_LINKS, MAX_COURSE_CATEGORIES, MAX_EVENT_SPONSORS } from "../schema";
import type { Action } from "./capabilities";
import type { EqRange } from "./db";
import { fail } from "./errors";
import {
  type ActorArg,
  type AuditAction,
  type ClientMutationCtx,
  type ClientQueryCtx,
  clientMutation,
  clientQuery,
  ENTITY,
  type NamedTable,
} from "./functions";
import { loosened, type ViewOf } from "./reads";

type LinkTable = "courseCategories" | "eventSponsors" | "memberInterests";

/** One end of a link: its table, and the link's field holding its id. */
type End<T extends NamedTable, F extends string> = { table: T; field: F };

/** A capped join table, the ends it links, and its index on (parent field, child field). */
type Links<
  L extends LinkTable,
  P extends NamedTable,
  C extends NamedTable,
  PF extends string = string,
  CF extends string = string,
> = {
  table: L;
  index: string;
  parent: End<P, PF>;
  child: End<C, CF>;
};

/** How refusals and audit records word a join table's links, added and removed one at a time. */
type Wording = {
  linked: string;
  full: string;
  unlinked: string;
  /** The audit actions, recorded on the parent. */
  actions: { add: AuditAction; remove: AuditAction };
};

/** The table whose ids the field `F` of a link holds. */
type EndTable<L extends LinkTable, F extends keyof Doc<L>> =
  Doc<L>[F] extends Id<infer T extends NamedTable> ? T : never;

/**
 * The join table `table`, linking the documents its `parentField` holds to those its `childField`
 * holds: each end's table is the one the schema declares for its field, and the index on the two
 * fields is named after them, as every index is (convex/tests/schema.test.ts). A table whose links
 * are added and removed one at a time comes with its `wording`.
 */
function linksOver<
  L extends LinkTable,
  PF extends keyof Doc<L> & string,
  CF extends keyof Doc<L> & string,
  // Wording named in the bound keeps the audit actions literal (AuditAction), not widened to string.
  W extends Wording | object = object,
>(
  table: L,
  parentField: PF,
  childField: CF,
  wording = {} as W,
): Links<L, EndTable<L, PF>, EndTable<L, CF>, PF, CF> & W {
  const fields: Record<string, GenericValidator> = schema.tables[table].validator.fields;
  const end = <T extends NamedTable, F extends string>(field: F): End<T, F> => ({
    table: (fields[field] as VId<Id<T>>).tableName,
    field,
  });
  return {
    table,
    index: `by_${parentField}_${childField}`,
    parent: end(parentField),
    child: end(childField),
    ...wording,
  };
}

export const COURSE_CATEGORIES = linksOver("courseCategories", "courseId", "categoryId", {
  linked: "The course already has this category",
  full: `A course has at most ${MAX_COURSE_CATEGORIES} categories`,
  unlinked: "The course does not have this category",
  actions: { add: "course.addCategory", remove: "course.removeCategory" },
});

export const EVENT_SPONSORS = linksOver("eventSponsors", "eventId", "sponsorId", {
  linked: "The sponsor already backs this event",
  full: `An event has at most ${MAX_EVENT_SPONSORS} sponsors`,
  unlinked: "The sponsor does not back this event",
  actions: { add: "event.attachSponsor", remove: "event.detachSponsor" },
});

/** Set as a whole by members.setInterests, so never added or removed one at a time. */
export const MEMBER_INTERESTS = linksOver("memberInterests", "memberId", "interestCategoryId");

type LinkDoc = { _id: Id<LinkTable> };

/**
 * `ctx.db` (the same object) as this module uses it. A spec names its index and fields as
 * strings, which the generated types cannot check for any one table; `linksOver` takes them
 * from the schema, and the tests of each table's mutations read them back.
 */
type LinkDb = {
  query(table: LinkTable): {
    withIndex(
      index: string,
      range: (q: EqRange) => EqRange,
    ): { take(n: number): Promise<LinkDoc[]>; unique(): Promise<LinkDoc | null> };
  };
  insert(table: LinkTable, doc: Record<string, unknown>): Promise<Id<LinkTable>>;
};
const linkDb = (ctx: ClientQueryCtx) => ctx.db as unknown as LinkDb;

/** A parent's links: at most the cap (every path that adds one checks), so all of them. */
export async function linksOf<L extends LinkTable, P extends NamedTable>(
  ctx: ClientQueryCtx,
  links: Links<L, P, NamedTable>,
  parentId: Id<P>,
): Promise<Doc<L>[]> {
  const found = await linkDb(ctx)
    .query(links.table)
    .withIndex(links.index, (q) => q.eq(links.parent.field, parentId))
    .take(BOUNDED_LINKS[links.table].max);
  return found as Doc<L>[];
}

/** A parent's children (all of them: at most the cap), in the order of their links. */
export async function childrenOf<L extends LinkTable, P extends NamedTable, C extends NamedTable>(
  ctx: ClientQueryCtx,
  links: Links<L, P, C>,
  parentId: Id<P>,
): Promise<Doc<C>[]> {
  const found = await linksOf(ctx, links, parentId);
  const ids = found.map((link) => (link as Record<string, unknown>)[links.child.field] as Id<C>);
  // A child is not deleted while linked; a missing one is left out rather than failing the list.
  return (await Promise.all(ids.map((id) => ctx.db.get(id)))).filter((child) => child !== null);
}

/**
 * The query of all of a parent's children (at most the cap, so one unpaged list), each shown as
 * `view`. The parent is named by the id string in the argument its link field names (`courseId`,
 * ...) and found by `find` (in the actor's client, refusing what the actor may not see as not_found).
 */
export function childrenQuery<L extends LinkTable, P extends NamedTable, C extends NamedTable, PF extends string, R>(
  capability: Action,
  links: Links<L, P, C, PF>,
  view: ViewOf<Doc<C>, R>,
  find: (ctx: ClientQueryCtx, id: string) => Promise<Doc<P>>,
  // Spelled out, not aliased: the generated API reads the arguments and result off this type.
): RegisteredQuery<"internal", Record<PF, string> & { actor: ActorArg }, Promise<R[]>> {
  return clientQuery({
    capability,
    args: { [links.parent.field]: v.string() } as Record<PF, VString>,
    returns: loosened(v.array(view.validator)),
    handler: async (ctx, args) => {
      const parent = await find(ctx, args[links.parent.field]);
      return (await childrenOf(ctx, links, parent._id)).map(view.of);
    },
  });
}

/** What keeps a document of `T` from being deleted, and what its deletion records and takes along. */
type DeleteRule<T extends NamedTable> = {
  usedBy: { first(): Promise<unknown> };
  refusal: string;
  before: Record<string, unknown>;
  links?: Links<LinkTable, T, NamedTable>;
};

/**
 * The mutation that deletes the document of `table` named by the id string the BFF sends as
 * `idArg`, unless the `usedBy` of its `rule` (a query of the documents that refer to it) finds one:
 * then a conflict saying `refusal`. Given `links` (the join table it is the parent of), its links
 * go with it. Audited as its deletion, with `before`.
 */
export function deleteMutation<T extends NamedTable, K extends string>(
  capability: Action,
  table: T,
  idArg: K,
  rule: (ctx: ClientMutationCtx, doc: Doc<T>) => DeleteRule<T>,
  // Spelled out, as above.
): RegisteredMutation<"internal", Record<K, string> & { actor: ActorArg }, Promise<null>> {
  return clientMutation({
    capability,
    args: { [idArg]: v.string() } as Record<K, VString>,
    returns: v.null(),
    handler: async (ctx, args) => {
      const doc = await ctx.getOwned(table, args[idArg]);
      const { usedBy, refusal, before, links } = rule(ctx, doc);
      if ((await usedBy.first()) !== null) fail("conflict", refusal);
      if (links !== undefined) {
        for (const link of await linksOf(ctx, links, doc._id)) await ctx.db.delete(link._id);
      }
      await ctx.db.delete(doc._id);
      await ctx.audit(`${ENTITY[table]}.delete`, doc._id, { before });
      return null;
    },
  });
}

/** A join table whose links are added and removed one at a time. */
type WordedLinks = Links<LinkTable & NamedTable, NamedTable, NamedTable> & Wording;

/** The parent, the child (both of the actor's client) and the link between them, if any. */
type FoundLink = { parent: { _id: Id<NamedTable> }; child: { _id: Id<NamedTable> }; link: LinkDoc | null };

async function findLink(
  ctx: ClientQueryCtx,
  links: WordedLinks,
  parentId: string,
  childId: string,
): Promise<FoundLink> {
  const parent = await ctx.getOwned(links.parent.table, parentId);
  const child = await ctx.getOwned(links.child.table, childId);
  const link = await linkDb(ctx)
    .query(links.table)
    .withIndex(links.index, (q) => q.eq(links.parent.field, parent._id).eq(links.child.field, child._id))
    .unique();
  return { parent, child, link };
}

/** Link the two unless they are linked or the parent is at its cap; audited on the parent. */
async function addLink(ctx: ClientMutationCtx, links: WordedLinks, { parent, child, link }: FoundLink): Promise<null> {
  if (link !== null) fail("conflict", links.linked);
  if ((await linksOf(ctx, links, parent._id)).length >= BOUNDED_LINKS[links.table].max) {
    fail("conflict", links.full, { field: links.child.field });
  }
  await linkDb(ctx).insert(links.table, {
    clientId: ctx.actor.clientId,
    [links.parent.field]: parent._id,
    [links.child.field]: child._id,
    // A link records when it was made where its table declares `createdAt`.
    ...("createdAt" in schema.tables[links.table].validator.fields && { createdAt: Date.now() }),
  });
  await ctx.audit(links.actions.add, parent._id, { after: { [links.child.field]: child._id } });
  return null;
}

/** Unlink the two, which must be linked; audited on the parent. */
async function removeLink(
  ctx: ClientMutationCtx,
  links: WordedLinks,
  { parent, child, link }: FoundLink,
): Promise<null> {
  if (link === null) fail("not_found", links.unlinked, { entity: ENTITY[links.table] });
  await ctx.db.delete(link._id);
  await ctx.audit(links.actions.remove, parent._id, { before: { [links.child.field]: child._id } });
  return null;
}

/**
 * The mutation that links (`add`) or unlinks (`remove`) a parent and a child, named by the ids in
 * the arguments its link fields name (`courseId` and `categoryId`, ...), for an actor holding `capability`.
 */
export function linkMutation<
  L extends LinkTable & NamedTable,
  P extends NamedTable,
  C extends NamedTable,
  PF extends string,
  CF extends string,
>(
  change: "add" | "remove",
  links: Links<L, P, C, PF, CF> & Wording,
  capability: Action,
  // Spelled out, not aliased: the generated API reads the arguments and result off this type.
): RegisteredMutation<"internal", Record<PF | CF, string> & { actor: ActorArg }, Promise<null>> {
  const edit = change === "add" ? addLink : removeLink;
  return clientMutation({
    capability,
    args: { [links.parent.field]: v.string(), [links.child.field]: v.string() } as Record<PF | CF, VString>,
    returns: v.null(),
    handler: async (ctx, args) =>
      edit(ctx, links, await findLink(ctx, links, args[links.parent.field], args[links.child.field])),
  });
}
