// Every change leaves a record; client_admin reads its client's audit log.
import { describe, expect } from "vitest";
import { internal } from "../_generated/api";
import { errorOf } from "./content.setup";
import { test } from "./world.setup";

const page = { cursor: null };

describe("the audit log", () => {
  test("one entity's history, newest first, and nothing of another entity or client", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    const member = await t.mutation(internal.members.create, {
      actor: admin,
      firstName: "Ada",
      lastName: "Audit",
      email: "ada@audit.example",
    });
    await t.mutation(internal.members.update, { actor: admin, memberId: member.id, firstName: "Adah" });
    await t.mutation(internal.members.create, {
      actor: admin,
      firstName: "Other",
      lastName: "One",
      email: "other@audit.example",
    });
    const history = await t.query(internal.audit.list, {
      actor: admin,
      page,
      entityType: "member",
      entityId: member.id,
    });
    expect(history.page.map((e) => e.action)).toEqual(["member.update", "member.create"]);
    const fromGlobex = await t.query(internal.audit.list, {
      actor: world.globex.actors.client_admin,
      page,
      entityType: "member",
      entityId: member.id,
    });
    expect(fromGlobex.page).toEqual([]);
  });

  test("an entity id without its type is refused, naming the argument", async ({ t, world }) => {
    const err = await errorOf(
      t.query(internal.audit.list, { actor: world.acme.actors.client_admin, page, entityId: "x" }),
    );
    expect(err).toMatchObject({ code: "validation", field: "entityId" });
  });
});
