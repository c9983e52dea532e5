// Builders for realistic content in the test world (direct inserts: fast, and
// independent of the functions under test).
import type { Id } from "../_generated/dataModel";
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

export async function makeMembers(t: Backend, client: ClientWorld, count: number): Promise<Id<"memberProfiles">[]> {
  return t.run(async (ctx) => {
    const now = Date.now();
    const ids: Id<"memberProfiles">[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(
        await ctx.db.insert("memberProfiles", {
          clientId: client.clientId,
          firstName: `First${i}`,
          lastName: `Last${i}`,
          email: `person${i}@${client.slug}.example`,
          status: "active",
          cpdPoints: 0,
          searchName: `first${i} last${i}`,
          createdAt: now,
          updatedAt: now,
        }),
      );
    }
    return ids;
  });
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

export const DAY_MS = DAY;
