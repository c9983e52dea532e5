// Builders for realistic content in the test world (direct inserts: fast, and
// independent of the functions under test).
import type { WithoutSystemFields } from "convex/server";
import type { Doc, Id, TableNames } from "../_generated/dataModel";
import type { EqRange } from "../lib/db";
import { BOUNDED_LINKS } from "../schema";
import type { Backend, ClientWorld } from "./world.setup";

const DAY = 24 * 60 * 60 * 1000;

export async function makeEvent(
  t: Backend,
  client: ClientWorld,
  overrides: Partial<{
    status: "draft" | "published" | "cancelled" | "archived";
    capacity: number;
    inDays: number;
    opensInDays: number;
    closesInDays: number;
    title: string;
  }> = {},
): Promise<Id<"events">> {
  return t.run(async (ctx) => {
    const now = Date.now();
    const startAt = now + (overrides.inDays ?? 10) * DAY;
    return ctx.db.insert("events", {
      clientId: client.clientId,
      title: overrides.title ?? "Spring Summit",
      status: overrides.status ?? "published",
      startAt,
      endAt: startAt + 2 * 60 * 60 * 1000,
      registrationOpensAt: overrides.opensInDays === undefined ? undefined : now + overrides.opensInDays * DAY,
      registrationClosesAt: overrides.closesInDays === undefined ? undefined : now + overrides.closesInDays * DAY,
      capacity: overrides.capacity,
      registeredCount: 0,
      speakers: [{ name: "Dr Rosa Field" }],
      createdAt: now,
      updatedAt: now,
    });
  });
}

export async function makeCourse(
  t: Backend,
  client: ClientWorld,
  overrides: Partial<{ status: "draft" | "published" | "archived"; cpdPoints: number; title: string }> = {},
): Promise<Id<"courses">> {
  return t.run(async (ctx) => {
    const now = Date.now();
    return ctx.db.insert("courses", {
      clientId: client.clientId,
      title: overrides.title ?? "Fire Safety Essentials",
      status: overrides.status ?? "published",
      cpdPoints: overrides.cpdPoints ?? 5,
      createdAt: now,
      updatedAt: now,
    });
  });
}

/** `count` documents of `table`, the i-th being `doc(i)`, inserted in one transaction. */
export function insertMany<T extends TableNames>(
  t: Backend,
  table: T,
  count: number,
  doc: (i: number) => WithoutSystemFields<Doc<T>>,
): Promise<Id<T>[]> {
  return t.run(async (ctx) => {
    const ids: Id<T>[] = [];
    for (let i = 0; i < count; i++) ids.push(await ctx.db.insert(table, doc(i)));
    return ids;
  });
}

export function makeMembers(t: Backend, client: ClientWorld, count: number): Promise<Id<"memberProfiles">[]> {
  const now = Date.now();
  return insertMany(t, "memberProfiles", count, (i) => ({
    clientId: client.clientId,
    firstName: `First${i}`,
    lastName: `Last${i}`,
    email: `person${i}@${client.slug}.example`,
    status: "active",
    cpdPoints: 0,
    searchName: `first${i} last${i}`,
    createdAt: now,
    updatedAt: now,
  }));
}

/** The tables of documents that belong to one member, each with an index that leads with `memberId`. */
const BY_MEMBER = {
  eventRegistrations: "by_memberId_status",
  courseEnrollments: "by_memberId_status",
  memberInterests: "by_memberId_interestCategoryId",
  supportTickets: "by_memberId_updatedAt",
} as const;

/**
 * How many documents of each of `tables` still belong to `memberId`, counted up to 10 (enough to
 * tell none from some, and few reads under a test's transaction budget).
 */
export function memberDocsLeft<T extends keyof typeof BY_MEMBER>(
  t: Backend,
  memberId: Id<"memberProfiles">,
  tables: T[],
): Promise<Record<T, number>> {
  return t.run(async (ctx) => {
    const counts = {} as Record<T, number>;
    for (const table of tables) {
      // One index per table: the union of the tables has no one index type to name it by.
      const byMember = (q: EqRange) => q.eq("memberId", memberId);
      const query = ctx.db.query(table).withIndex(BY_MEMBER[table] as never, byMember as never);
      counts[table] = (await query.take(10)).length;
    }
    return counts;
  });
}

type LinkTable = "courseCategories" | "eventSponsors" | "memberInterests";

/** Every row of a capped join table (BOUNDED_LINKS) that hangs off `parentId`, read directly: none is cut off. */
export function allLinksOf<T extends LinkTable>(t: Backend, table: T, parentId: string): Promise<Doc<T>[]> {
  const { parent } = BOUNDED_LINKS[table];
  return t.run(async (ctx) =>
    (await ctx.db.query(table).collect()).filter((link) => (link as Record<string, unknown>)[parent] === parentId),
  );
}

export async function backEvent(t: Backend, client: ClientWorld, eventId: Id<"events">) {
  await t.run((ctx) =>
    ctx.db.insert("eventSponsors", {
      clientId: client.clientId,
      eventId,
      sponsorId: client.sponsorId,
      createdAt: Date.now(),
    }),
  );
}

/** The ConvexError data a call rejects with (fails the test when it resolves). */
export async function errorOf(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; [k: string]: unknown }> {
  try {
    await promise;
  } catch (error) {
    const data = (error as { data?: unknown }).data;
    if (data === undefined) throw error;
    return (typeof data === "string" ? JSON.parse(data) : data) as { code: string; message: string };
  }
  throw new Error("expected the call to fail");
}

/** The problem code a call rejects with (fails the test when it resolves). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  return (await errorOf(promise)).code;
}

export const DAY_MS = DAY;
