// Actor resolution, forged actors, API keys and the audit log.
import { describe, expect } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { sha256Hex } from "../apiKeys";
import { codeOf, errorOf } from "./content.setup";
import { type Backend, test, type World } from "./world.setup";

const page = { cursor: null };

describe("resolving the actor", () => {
  test("a user resolves to its role in a client it belongs to", async ({ t, world }) => {
    const actor = await t.query(internal.identity.resolveActor, {
      clientSlug: "acme",
      authSubject: "user|member@acme.test",
    });
    expect(actor).toMatchObject({ clientSlug: "acme", role: "member", memberId: world.acme.memberIds.member });
  });

  test("a user resolves to nothing in a client it does not belong to", async ({ t }) => {
    expect(
      await t.query(internal.identity.resolveActor, { clientSlug: "globex", authSubject: "user|member@acme.test" }),
    ).toBeNull();
  });

  test("the platform admin acts as platform_admin in any client", async ({ t }) => {
    for (const slug of ["acme", "globex"]) {
      expect(
        (await t.query(internal.identity.resolveActor, { clientSlug: slug, authSubject: "user|support@platform.test" }))
          ?.role,
      ).toBe("platform_admin");
    }
  });

  test("an unknown client or subject resolves to nothing", async ({ t }) => {
    expect(
      await t.query(internal.identity.resolveActor, { clientSlug: "nowhere", authSubject: "user|member@acme.test" }),
    ).toBeNull();
    expect(
      await t.query(internal.identity.resolveActor, { clientSlug: "acme", authSubject: "user|nobody" }),
    ).toBeNull();
  });
});

describe("forged or stale actors are refused", () => {
  test("a role the user does not hold", async ({ t, world }) => {
    const forged = { ...world.acme.actors.member, role: "client_admin" as const };
    expect(await codeOf(t.query(internal.audit.list, { actor: forged, page }))).toBe("invalid_actor");
  });

  test("a client the user has no membership in", async ({ t, world }) => {
    const forged = { ...world.acme.actors.client_admin, clientId: world.globex.clientId };
    expect(await codeOf(t.query(internal.audit.list, { actor: forged, page }))).toBe("invalid_actor");
  });

  test("platform_admin claimed by someone who is not one", async ({ t, world }) => {
    const forged = { ...world.acme.actors.client_admin, role: "platform_admin" as const };
    expect(await codeOf(t.query(internal.audit.list, { actor: forged, page }))).toBe("invalid_actor");
  });

  test("a revoked API key, and a key used in another client", async ({ t, world }) => {
    const { key } = await t.mutation(internal.apiKeys.create, {
      actor: world.acme.actors.client_admin,
      name: "CRM sync",
      role: "client_user",
    });
    const keyActor = { clientId: world.acme.clientId, role: "client_user" as const, apiKeyId: key.id as never };
    expect((await t.query(internal.courses.list, { actor: keyActor, page })).page).toEqual([]);
    expect(
      await codeOf(t.query(internal.courses.list, { actor: { ...keyActor, clientId: world.globex.clientId }, page })),
    ).toBe("invalid_actor");
    await t.mutation(internal.apiKeys.revoke, { actor: world.acme.actors.client_admin, apiKeyId: key.id });
    expect(await codeOf(t.query(internal.courses.list, { actor: keyActor, page }))).toBe("invalid_actor");
  });
});

describe("forged or stale actors are refused: who the actor names", () => {
  /** A client_user API key of acme; the key's id. */
  const makeKey = async (t: Backend, world: World) =>
    (
      await t.mutation(internal.apiKeys.create, {
        actor: world.acme.actors.client_admin,
        name: "CRM sync",
        role: "client_user",
      })
    ).key.id as Id<"apiKeys">;

  test("an actor naming neither a user nor an API key, or both", async ({ t, world }) => {
    const apiKeyId = await makeKey(t, world);
    const neither = { clientId: world.acme.clientId, role: "client_admin" as const };
    const both = { ...world.acme.actors.client_admin, apiKeyId };
    expect(await codeOf(t.query(internal.audit.list, { actor: neither, page }))).toBe("invalid_actor");
    expect(await codeOf(t.query(internal.audit.list, { actor: both, page }))).toBe("invalid_actor");
  });

  test("a client that does not exist (any more), even for the platform admin", async ({ t, world }) => {
    const gone = await t.run(async (ctx) => {
      const clientId = await ctx.db.insert("clients", { slug: "gone", name: "Gone", status: "active", createdAt: 0 });
      await ctx.db.delete(clientId);
      return clientId;
    });
    const actor = { ...world.acme.actors.platform_admin, clientId: gone };
    expect(await codeOf(t.query(internal.audit.list, { actor, page }))).toBe("invalid_actor");
  });

  test("a user that does not exist any more, though its membership is left", async ({ t, world }) => {
    const actor = world.acme.actors.client_admin;
    await t.run((ctx) => ctx.db.delete(actor.userId));
    expect(await codeOf(t.query(internal.audit.list, { actor, page }))).toBe("invalid_actor");
  });

  test("an API key that does not exist any more", async ({ t, world }) => {
    const apiKeyId = await makeKey(t, world);
    await t.run((ctx) => ctx.db.delete(apiKeyId));
    const actor = { clientId: world.acme.clientId, role: "client_user" as const, apiKeyId };
    expect(await codeOf(t.query(internal.courses.list, { actor, page }))).toBe("invalid_actor");
  });

  test("an API key claimed with a role it does not have", async ({ t, world }) => {
    const apiKeyId = await makeKey(t, world);
    const actor = { clientId: world.acme.clientId, role: "client_admin" as const, apiKeyId };
    expect(await codeOf(t.query(internal.audit.list, { actor, page }))).toBe("invalid_actor");
  });
});

describe("capabilities", () => {
  test("a refusal names the capability the role lacks", async ({ t, world }) => {
    const refused = t.query(internal.audit.list, { actor: world.acme.actors.client_user, page });
    expect(await errorOf(refused)).toMatchObject({ code: "forbidden", capability: "audit.read" });
  });

  test("a refusal of a function any of several capabilities allow names each of them", async ({ t, world }) => {
    const refused = t.query(internal.tickets.messages, {
      actor: world.acme.actors.sponsor_user,
      ticketId: "any",
      page,
    });
    expect(await errorOf(refused)).toMatchObject({
      code: "forbidden",
      capability: "tickets.readAll or tickets.readOwn",
    });
  });
});

describe("API keys", () => {
  test("the secret is returned once and only its hash is stored", async ({ t, world }) => {
    const { key, secret } = await t.mutation(internal.apiKeys.create, {
      actor: world.acme.actors.client_admin,
      name: "Zapier",
      role: "client_user",
    });
    expect(secret).toMatch(/^mp_[0-9a-f]{48}$/);
    const stored = await t.run((ctx) => ctx.db.get(key.id as never));
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect((stored as { hash: string }).hash).toBe(await sha256Hex(secret));
    const listed = await t.query(internal.apiKeys.list, { actor: world.acme.actors.client_admin, page });
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  test("a key resolves to its client and role by hash; revoked keys resolve to nothing", async ({ t, world }) => {
    const { key, secret } = await t.mutation(internal.apiKeys.create, {
      actor: world.acme.actors.client_admin,
      name: "Zapier",
      role: "client_user",
    });
    const apiKeyHash = await sha256Hex(secret);
    expect(await t.query(internal.identity.resolveActor, { clientSlug: "acme", apiKeyHash })).toMatchObject({
      role: "client_user",
      apiKeyId: key.id,
    });
    expect(await t.query(internal.identity.resolveActor, { clientSlug: "globex", apiKeyHash })).toBeNull();
    await t.mutation(internal.apiKeys.revoke, { actor: world.acme.actors.client_admin, apiKeyId: key.id });
    expect(await t.query(internal.identity.resolveActor, { clientSlug: "acme", apiKeyHash })).toBeNull();
  });

  test("a key never acts above client_admin", async ({ t, world }) => {
    await expect(
      t.mutation(internal.apiKeys.create, {
        actor: world.acme.actors.client_admin,
        name: "God mode",
        role: "platform_admin" as never,
      }),
    ).rejects.toThrow(/Validator error/);
  });

  test("a sponsor-role key needs a sponsor of the client", async ({ t, world }) => {
    const sponsorKey = (sponsorId?: string) =>
      t.mutation(internal.apiKeys.create, {
        actor: world.acme.actors.client_admin,
        name: "S",
        role: "sponsor_user",
        sponsorId,
      });
    expect(await codeOf(sponsorKey())).toBe("validation");
    expect(await codeOf(sponsorKey(world.globex.sponsorId))).toBe("not_found");
  });

  test("only client_admin manages keys", async ({ t, world }) => {
    const actor = world.acme.actors.client_user;
    expect(await codeOf(t.mutation(internal.apiKeys.create, { actor, name: "X", role: "member" }))).toBe("forbidden");
  });
});

describe("the audit log", () => {
  test("every write leaves a record with who, what and when", async ({ t, world }) => {
    const before = Date.now();
    const category = await t.mutation(internal.categories.create, {
      actor: world.acme.actors.client_admin,
      name: "Safety",
      slug: "safety",
    });
    const log = await t.query(internal.audit.list, { actor: world.acme.actors.client_admin, page });
    expect(log.page[0]).toMatchObject({
      action: "category.create",
      entityType: "category",
      entityId: category.id,
      actorUserId: world.acme.actors.client_admin.userId,
      actorRole: "client_admin",
    });
    expect(log.page[0].at).toBeGreaterThanOrEqual(before);
  });

  test("platform admins' actions are logged in the client they act in", async ({ t, world }) => {
    await t.mutation(internal.categories.create, {
      actor: world.globex.actors.platform_admin,
      name: "Ops",
      slug: "ops",
    });
    const log = await t.query(internal.audit.list, {
      actor: world.globex.actors.client_admin,
      page,
      entityType: "category",
    });
    expect(log.page[0].actorRole).toBe("platform_admin");
  });

  test("a client's log holds none of another client's records", async ({ t, world }) => {
    await t.mutation(internal.categories.create, { actor: world.globex.actors.client_admin, name: "Ops", slug: "ops" });
    expect((await t.query(internal.audit.list, { actor: world.acme.actors.client_admin, page })).page).toEqual([]);
  });

  test("only client_admin reads the log", async ({ t, world }) => {
    expect(await codeOf(t.query(internal.audit.list, { actor: world.acme.actors.client_user, page }))).toBe(
      "forbidden",
    );
  });

  test("a failed write leaves no record and no change", async ({ t, world }) => {
    await errorOf(
      t.mutation(internal.categories.create, {
        actor: world.acme.actors.client_admin,
        name: "Bad",
        slug: "Not A Slug",
      }),
    );
    const rows = await t.run(async (ctx) => ({
      logs: await ctx.db.query("auditLogs").collect(),
      categories: await ctx.db.query("categories").collect(),
    }));
    expect(rows).toEqual({ logs: [], categories: [] });
  });
});
