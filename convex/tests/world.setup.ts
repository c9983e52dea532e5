// Test world: realistic data for two clients, built with convex-test.
// (Files with several dots are not deployed by Convex, so this stays test-only.)
import { convexTest } from "convex-test";
import { test as base, vi } from "vitest";
import type { Id } from "../_generated/dataModel";
import { addPerson } from "../demo";
import type { ActorArg } from "../lib/functions";
import schema from "../schema";

export const modules = import.meta.glob("../**/!(*.*.*)*.*s");

export type Backend = ReturnType<typeof newBackend>;

/**
 * A fresh backend with Convex's own per-transaction limits (convex-test's defaults, which
 * match https://docs.convex.dev/production/state/limits, "Transactions": 16 MiB read and
 * written, 32,000 documents scanned, 4,096 index ranges, 16,000 documents written, 1,000
 * functions scheduled), so a function that would fail on Convex fails here too. `extraModules`
 * registers test-only functions (files with several dots, which Convex does not deploy).
 */
export function newBackend(extraModules: typeof modules = {}) {
  return convexTest({ schema, modules: { ...modules, ...extraModules }, transactionLimits: true });
}

export const CLIENT_ROLES = ["client_admin", "client_user", "member", "sponsor_admin", "sponsor_user"] as const;
export type ClientRole = (typeof CLIENT_ROLES)[number];

/** Every actor of the world is a user (tests of API keys make their own). */
export type UserActor = ActorArg & { userId: Id<"users"> };

/** One client of the world: its id, a sponsor, and an actor per role. */
export type ClientWorld = {
  clientId: Id<"clients">;
  slug: string;
  sponsorId: Id<"sponsors">;
  /** Actors by role; `member2` is a second member (another person). */
  actors: Record<ClientRole | "member2" | "platform_admin", UserActor>;
  /** Member profiles of `member` and `member2`. */
  memberIds: { member: Id<"memberProfiles">; member2: Id<"memberProfiles"> };
};

export type World = { acme: ClientWorld; globex: ClientWorld };

/**
 * Two clients, `acme` and `globex`; in each one user per role (emails as in the
 * demo data), member profiles for the two members, one sponsor that the sponsor
 * users act for, and the platform admin support@platform.test.
 */
export async function seedWorld(t: Backend): Promise<World> {
  return await t.run(async (ctx) => {
    const now = Date.now();
    const platformAdmin = await ctx.db.insert("users", {
      email: "support@platform.test",
      name: "Platform Support",
      authSubject: "user|support@platform.test",
      isPlatformAdmin: true,
      createdAt: now,
    });
    const build = async (slug: string, name: string): Promise<ClientWorld> => {
      const clientId = await ctx.db.insert("clients", { slug, name, status: "active", createdAt: now });
      const sponsorId = await ctx.db.insert("sponsors", {
        clientId,
        name: `${name} Sponsor`,
        createdAt: now,
        updatedAt: now,
      });
      const people: Array<[string, ClientRole, string]> = [
        ["admin", "client_admin", "Ada Admin"],
        ["staff", "client_user", "Sam Staff"],
        ["member", "member", "Mia Member"],
        ["member2", "member", "Max Member"],
        ["sponsor", "sponsor_admin", "Sol Sponsor"],
        ["sponsor-staff", "sponsor_user", "Sid Sponsor"],
      ];
      const actors = {} as ClientWorld["actors"];
      const memberIds = {} as ClientWorld["memberIds"];
      for (const [local, role, name] of people) {
        const { userId, memberId } = await addPerson(ctx, { clientId, slug, local, name, role, sponsorId, now });
        const key = local === "member2" ? "member2" : role;
        actors[key] = { clientId, role, userId };
        if (memberId !== null) memberIds[key as "member" | "member2"] = memberId;
      }
      actors.platform_admin = { clientId, role: "platform_admin", userId: platformAdmin };
      return { clientId, slug, sponsorId, actors, memberIds };
    };
    return { acme: await build("acme", "Acme"), globex: await build("globex", "Globex") };
  });
}

/**
 * `test` with a fresh backend `t` and its seeded `world` for each test. The world is seeded for
 * every test, named or not (some find its users by email). A suite may set, with `test.scoped`,
 * `fakeTimers: true` (fake timers from before the backend is made until the test's hooks are
 * done) or `extraModules` (as `newBackend` takes them).
 */
export const test = base.extend<{ fakeTimers: boolean; extraModules: typeof modules; t: Backend; world: World }>({
  fakeTimers: false,
  extraModules: {},
  t: async ({ fakeTimers, extraModules }, use) => {
    if (fakeTimers) vi.useFakeTimers();
    await use(newBackend(extraModules));
    if (fakeTimers) vi.useRealTimers();
  },
  world: [async ({ t }, use) => use(await seedWorld(t)), { auto: true }],
});
