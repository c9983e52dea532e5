// The capped join tables (convex/schema.ts BOUNDED_LINKS): each links a parent to children of
// the same client, a pair at most once and a parent to at most its cap of children. Every path
// that adds a link checks the cap, so reading the cap's worth of a parent's links reads them all.
import type { Doc, Id } from "../_generated/dataModel";
import { BOUNDED_LINKS, MAX_COURSE_CATEGORIES, MAX_EVENT_SPONSORS } from "../schema";
import type { EqRange } from "./db";
import { fail } from "./errors";
import type { AuditAction, ClientMutationCtx, ClientOwnedTable, ClientQueryCtx } from "./functions";

type LinkTable = "courseCategories" | "eventSponsors" | "memberInterests";

/** One end of a link: its table, the link's field holding its id, and its name in refusals. */
type End<T extends ClientOwnedTable> = { table: T; field: string; entity: string };

/** A capped join table and its index on (parent field, child field). */
type Links<L extends LinkTable, P extends ClientOwnedTable, C extends ClientOwnedTable> = {
  table: L;
  index: string;
  parent: End<P>;
  child: End<C>;
};

/** A join table whose links are added and removed one at a time, as its refusals and audit records word it. */
type EditedLinks<L extends LinkTable, P extends ClientOwnedTable, C extends ClientOwnedTable> = Links<L, P, C> & {
  /** The link's name in a not_found refusal. */
  entity: string;
  refusals: { linked: string; full: string; unlinked: string };
  /** The audit actions, recorded on the parent. */
  actions: { add: AuditAction; remove: AuditAction };
  /** Whether a link records when it was made (`createdAt`). */
  dated: boolean;
};

export const COURSE_CATEGORIES: EditedLinks<"courseCategories", "courses", "categories"> = {
  table: "courseCategories",
  index: "by_courseId_categoryId",
  parent: { table: "courses", field: "courseId", entity: "course" },
  child: { table: "categories", field: "categoryId", entity: "category" },
  entity: "courseCategory",
  refusals: {
    linked: "The course already has this category",
    full: `A course has at most ${MAX_COURSE_CATEGORIES} categories`,
    unlinked: "The course does not have this category",
  },
  actions: { add: "course.addCategory", remove: "course.removeCategory" },
  dated: false,
};

export const EVENT_SPONSORS: EditedLinks<"eventSponsors", "events", "sponsors"> = {
  table: "eventSponsors",
  index: "by_eventId_sponsorId",
  parent: { table: "events", field: "eventId", entity: "event" },
  child: { table: "sponsors", field: "sponsorId", entity: "sponsor" },
  entity: "eventSponsor",
  refusals: {
    linked: "The sponsor already backs this event",
    full: `An event has at most ${MAX_EVENT_SPONSORS} sponsors`,
    unlinked: "The sponsor does not back this event",
  },
  actions: { add: "event.attachSponsor", remove: "event.detachSponsor" },
  dated: true,
};

/** Set as a whole by members.setInterests, so never added or removed one at a time. */
export const MEMBER_INTERESTS: Links<"memberInterests", "memberProfiles", "interestCategories"> = {
  table: "memberInterests",
  index: "by_memberId_interestCategoryId",
  parent: { table: "memberProfiles", field: "memberId", entity: "member" },
  child: { table: "interestCategories", field: "interestCategoryId", entity: "interest category" },
};

type LinkDoc = { _id: Id<LinkTable> };

/**
 * `ctx.db` (the same object) as this module uses it. A spec names its index and fields as
 * strings, which the generated types cannot check for any one table; the specs above name them
 * as the schema declares them, and the tests of each table's mutations read them back.
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
export async function linksOf<L extends LinkTable, P extends ClientOwnedTable>(
  ctx: ClientQueryCtx,
  links: Links<L, P, ClientOwnedTable>,
  parentId: Id<P>,
): Promise<Doc<L>[]> {
  const found = await linkDb(ctx)
    .query(links.table)
    .withIndex(links.index, (q) => q.eq(links.parent.field, parentId))
    .take(BOUNDED_LINKS[links.table].max);
  return found as Doc<L>[];
}

/** Delete a parent and every link it has (at most the cap), audited as its deletion with `before`. */
export async function deleteWithLinks<L extends LinkTable, P extends ClientOwnedTable>(
  ctx: ClientMutationCtx,
  links: Links<L, P, ClientOwnedTable>,
  parent: Doc<P>,
  before: Record<string, unknown>,
): Promise<void> {
  for (const link of await linksOf(ctx, links, parent._id)) await ctx.db.delete(link._id);
  await ctx.db.delete(parent._id);
  await ctx.audit(`${links.parent.entity}.delete`, parent._id, { before });
}

/** The parent, the child (both of the actor's client) and the link between them, if any. */
async function findLink<L extends LinkTable, P extends ClientOwnedTable, C extends ClientOwnedTable>(
  ctx: ClientQueryCtx,
  links: Links<L, P, C>,
  parentId: string,
  childId: string,
) {
  const parent = await ctx.getOwned(links.parent.table, parentId, links.parent.entity);
  const child = await ctx.getOwned(links.child.table, childId, links.child.entity);
  const link = await linkDb(ctx)
    .query(links.table)
    .withIndex(links.index, (q) => q.eq(links.parent.field, parent._id).eq(links.child.field, child._id))
    .unique();
  return { parent, child, link };
}

/** Link the two unless they are linked or the parent is at its cap; audited on the parent. */
export async function addLink<L extends LinkTable, P extends ClientOwnedTable, C extends ClientOwnedTable>(
  ctx: ClientMutationCtx,
  links: EditedLinks<L, P, C>,
  parentId: string,
  childId: string,
): Promise<null> {
  const { parent, child, link } = await findLink(ctx, links, parentId, childId);
  if (link !== null) fail("conflict", links.refusals.linked);
  if ((await linksOf(ctx, links, parent._id)).length >= BOUNDED_LINKS[links.table].max) {
    fail("conflict", links.refusals.full, { field: links.child.field });
  }
  await linkDb(ctx).insert(links.table, {
    clientId: ctx.actor.clientId,
    [links.parent.field]: parent._id,
    [links.child.field]: child._id,
    ...(links.dated && { createdAt: Date.now() }),
  });
  await ctx.audit(links.actions.add, parent._id, { after: { [links.child.field]: child._id } });
  return null;
}

/** Unlink the two, which must be linked; audited on the parent. */
export async function removeLink<L extends LinkTable, P extends ClientOwnedTable, C extends ClientOwnedTable>(
  ctx: ClientMutationCtx,
  links: EditedLinks<L, P, C>,
  parentId: string,
  childId: string,
): Promise<null> {
  const { parent, child, link } = await findLink(ctx, links, parentId, childId);
  if (link === null) fail("not_found", links.refusals.unlinked, { entity: links.entity });
  await ctx.db.delete(link._id);
  await ctx.audit(links.actions.remove, parent._id, { before: { [links.child.field]: child._id } });
  return null;
}
