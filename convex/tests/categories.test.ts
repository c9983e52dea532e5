import { describe, expect } from "vitest";
import { internal } from "../_generated/api";
import { test } from "./world.setup";

describe("categories", () => {
  test("client_admin creates a category, audited in the same transaction", async ({ t, world }) => {
    const { actors } = world.acme;
    const created = await t.mutation(internal.categories.create, {
      actor: actors.client_admin,
      name: "Safety",
      slug: "safety",
    });
    expect(created.slug).toBe("safety");
    const audit = await t.run((ctx) => ctx.db.query("auditLogs").collect());
    expect(audit.map((a) => a.action)).toEqual(["category.create"]);
  });

  test("client_user may not manage categories", async ({ t, world }) => {
    await expect(
      t.mutation(internal.categories.create, { actor: world.acme.actors.client_user, name: "X", slug: "x" }),
    ).rejects.toThrow(/lacks capability categories.manage/);
  });

  test("another client's category reads exactly like a missing one", async ({ t, world }) => {
    const created = await t.mutation(internal.categories.create, {
      actor: world.acme.actors.client_admin,
      name: "Safety",
      slug: "safety",
    });
    const actor = world.globex.actors.client_admin;
    const foreign = await t.query(internal.categories.get, { actor, categoryId: created.id }).catch((e) => e.data);
    const missing = await t.query(internal.categories.get, { actor, categoryId: "nonsense" }).catch((e) => e.data);
    expect(foreign.code).toBe("not_found");
    expect({ ...foreign, id: undefined }).toEqual({ ...missing, id: undefined });
  });

  test("a forged actor (role it does not hold) is refused", async ({ t, world }) => {
    const forged = { ...world.globex.actors.member, role: "client_admin" as const };
    await expect(t.query(internal.categories.list, { actor: forged, page: { cursor: null } })).rejects.toThrow(
      /Actor refused/,
    );
  });
});
