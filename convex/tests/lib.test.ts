// The shared idioms of convex/lib: views derived from the schema, the state machines, and the
// rules the client-scoped builders hold every mutation to.

import { makeFunctionReference } from "convex/server";
import type { VLiteral, VUnion } from "convex/values";
import { validate } from "convex-helpers/validators";
import { describe, expect, test } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { type Action, type Role, roleCan } from "../lib/capabilities";
import { type ClientQueryCtx, ENTITY, requireOwnerOrStaff } from "../lib/functions";
import {
  ACTIVE_REGISTRATION,
  ENDED_ENROLLMENT,
  ENDED_REGISTRATION,
  ENROLLMENT,
  MACHINES,
  OPEN_REGISTRATION,
  REGISTRATION,
  type Transitions,
} from "../lib/transitions";
import { viewOf } from "../lib/views";
import schema, { enrollmentStatus, registrationStatus } from "../schema";
import { errorOf } from "./content.setup";
import { type Backend, test as worldTest } from "./world.setup";

const literals = (union: VUnion<string, VLiteral<string>[]>) => union.members.map((m) => m.value).sort();

describe("views come from the schema", () => {
  const doc = {
    _id: "c1" as never,
    _creationTime: 1,
    clientId: "k1" as never,
    title: "Fire Safety",
    status: "draft" as const,
    cpdPoints: 5,
    createdAt: 1,
    updatedAt: 2,
  };

  test("an omit view shows every field of the table but the hidden ones, and `_id` as `id`", () => {
    const course = viewOf("courses", { omit: ["clientId"] });
    const shown = Object.keys(schema.tables.courses.validator.fields).filter((f) => f !== "clientId");
    expect(Object.keys(course.validator.fields).sort()).toEqual(["id", ...shown].sort());
    expect(course.of(doc)).toEqual({
      id: "c1",
      title: "Fire Safety",
      status: "draft",
      cpdPoints: 5,
      createdAt: 1,
      updatedAt: 2,
    });
  });

  test("a view of a document always passes the view's own validator, and a pick view holds only what it names", () => {
    const course = viewOf("courses", { omit: ["clientId"] });
    const summary = viewOf("courses", { pick: ["title"] });
    expect(validate(course.validator, course.of(doc))).toBe(true);
    expect(summary.of(doc)).toEqual({ id: "c1", title: "Fire Safety" });
    expect(validate(summary.validator, summary.of(doc))).toBe(true);
    expect(validate(summary.validator, course.of(doc))).toBe(false);
  });

  worldTest("no view of an API key shows its hash", async ({ t, world }) => {
    const { key } = await t.mutation(internal.apiKeys.create, {
      actor: world.acme.actors.client_admin,
      name: "CRM",
      role: "client_user",
    });
    expect(Object.keys(key).sort()).toEqual(["createdAt", "id", "name", "prefix", "role"]);
  });
});

describe("state machines (convex/lib/transitions.ts)", () => {
  // Each table's machine (the one changeStatus and requireTransition use), with its statuses as the schema declares them.
  const machines = Object.entries(MACHINES).map(([table, machine]) => {
    const { fields } = schema.tables[table as keyof typeof MACHINES].validator;
    return [table, machine as Transitions<string>, fields.status as VUnion<string, VLiteral<string>[]>] as const;
  });

  test.each(machines)(
    "the %s machine has a row for every status of the schema, and goes only to those",
    (_table, machine, status) => {
      expect(Object.keys(machine).sort()).toEqual(literals(status));
      for (const targets of Object.values(machine)) for (const to of targets) expect(literals(status)).toContain(to);
    },
  );

  test("registration groups follow the machine: open = can still be cancelled; active and ended split every status", () => {
    const canCancel = Object.entries(REGISTRATION)
      .filter(([, to]) => to.includes("cancelled"))
      .map(([from]) => from);
    expect([...OPEN_REGISTRATION].sort()).toEqual(canCancel.sort());
    expect([...ACTIVE_REGISTRATION, ...ENDED_REGISTRATION].sort()).toEqual(literals(registrationStatus as never));
    for (const ended of ENDED_REGISTRATION) expect(REGISTRATION[ended]).toEqual([]);
  });

  test("enrollment groups follow the machine: every status but active is ended and final", () => {
    expect(["active", ...ENDED_ENROLLMENT].sort()).toEqual(literals(enrollmentStatus as never));
    for (const ended of ENDED_ENROLLMENT) expect(ENROLLMENT[ended]).toEqual([]);
  });
});

describe("the client mutation builder", () => {
  const fixture = {
    writesWithoutAudit: makeFunctionReference<"mutation">("guardFixture:writesWithoutAudit"),
    insertsForAnotherClient: makeFunctionReference<"mutation">("guardFixture:insertsForAnotherClient"),
    movesToAnotherClient: makeFunctionReference<"mutation">("guardFixture:movesToAnotherClient"),
    deletesWithoutAudit: makeFunctionReference<"mutation">("guardFixture:deletesWithoutAudit"),
    replacesWithClient: makeFunctionReference<"mutation">("guardFixture:replacesWithClient"),
    readsSystemTables: makeFunctionReference<"mutation">("guardFixture:readsSystemTables"),
  };
  worldTest.scoped({ extraModules: { "../guardFixture.ts": () => import("./guard.fixture") } });
  const categories = (t: Backend) => t.run((ctx) => ctx.db.query("categories").collect());

  worldTest(
    "refuses a mutation that changed client data without its audit record, and keeps none of it",
    async ({ t, world }) => {
      await expect(t.mutation(fixture.writesWithoutAudit, { actor: world.acme.actors.client_admin })).rejects.toThrow(
        /without an audit record/,
      );
      expect(await categories(t)).toEqual([]);
    },
  );

  worldTest("refuses to insert a document into another client", async ({ t, world }) => {
    const err = t.mutation(fixture.insertsForAnotherClient, {
      actor: world.acme.actors.client_admin,
      clientId: world.globex.clientId,
    });
    await expect(err).rejects.toThrow(/may not write another client's categories/);
    expect(await categories(t)).toEqual([]);
  });

  worldTest("refuses to move a document into another client", async ({ t, world }) => {
    const mine = await t.mutation(internal.categories.create, {
      actor: world.acme.actors.client_admin,
      name: "Safety",
      slug: "safety",
    });
    const move = t.mutation(fixture.movesToAnotherClient, {
      actor: world.acme.actors.client_admin,
      categoryId: mine.id,
      clientId: world.globex.clientId,
    });
    await expect(move).rejects.toThrow(/another client/);
    expect((await categories(t)).map((c) => c.clientId)).toEqual([world.acme.clientId]);
  });

  worldTest(
    "refuses a mutation that deleted client data without its audit record, and keeps it",
    async ({ t, world }) => {
      const mine = await t.mutation(internal.categories.create, {
        actor: world.acme.actors.client_admin,
        name: "Safety",
        slug: "safety",
      });
      const del = t.mutation(fixture.deletesWithoutAudit, {
        actor: world.acme.actors.client_admin,
        categoryId: mine.id,
      });
      await expect(del).rejects.toThrow(/without an audit record/);
      expect((await categories(t)).map((c) => c._id)).toEqual([mine.id]);
    },
  );

  worldTest("refuses to replace a document with one of another client", async ({ t, world }) => {
    const mine = await t.mutation(internal.categories.create, {
      actor: world.acme.actors.client_admin,
      name: "Safety",
      slug: "safety",
    });
    const replace = t.mutation(fixture.replacesWithClient, {
      actor: world.acme.actors.client_admin,
      categoryId: mine.id,
      clientId: world.globex.clientId,
    });
    await expect(replace).rejects.toThrow(/may not write another client's/);
    expect((await categories(t)).map((c) => [c.clientId, c.name])).toEqual([[world.acme.clientId, "Safety"]]);
  });

  worldTest("lets a write that names the actor's own client through", async ({ t, world }) => {
    const mine = await t.mutation(internal.categories.create, {
      actor: world.acme.actors.client_admin,
      name: "Safety",
      slug: "safety",
    });
    await t.mutation(fixture.replacesWithClient, {
      actor: world.acme.actors.client_admin,
      categoryId: mine.id,
      clientId: world.acme.clientId,
    });
    expect((await categories(t)).map((c) => [c.clientId, c.name])).toEqual([[world.acme.clientId, "Stray"]]);
  });

  worldTest("leaves the database's reads as they are, the system tables' too", async ({ t, world }) => {
    expect(await t.mutation(fixture.readsSystemTables, { actor: world.acme.actors.client_admin })).toBe(0);
  });

  worldTest(
    "the owner-or-staff rule: another member's document reads exactly like a missing one",
    async ({ t, world }) => {
      const ticket = await t.mutation(internal.tickets.open, {
        actor: world.acme.actors.member2,
        subject: "S",
        body: "B",
      });
      const foreign = await errorOf(
        t.query(internal.tickets.get, { actor: world.acme.actors.member, ticketId: ticket.id }),
      );
      const missing = await errorOf(
        t.query(internal.tickets.get, { actor: world.acme.actors.member, ticketId: "nope" }),
      );
      expect(foreign).toEqual(missing);
    },
  );
});

describe("the owner-or-staff rule (requireOwnerOrStaff)", () => {
  const ctxOf = (role: Role, memberId?: string) =>
    ({ actor: { role, memberId }, can: (action: Action) => roleCan(role, action) }) as unknown as ClientQueryCtx;
  const owner = { memberId: "m1" as Id<"memberProfiles"> };

  test("answers owner for the document's member, even one that also holds the staff capability", () => {
    expect(requireOwnerOrStaff(ctxOf("member", "m1"), owner, "tickets.readAll", "supportTickets")).toBe("owner");
    expect(requireOwnerOrStaff(ctxOf("platform_admin", "m1"), owner, "tickets.readAll", "supportTickets")).toBe(
      "owner",
    );
  });

  test("answers staff for anyone else holding the staff capability", () => {
    expect(requireOwnerOrStaff(ctxOf("client_user"), owner, "tickets.readAll", "supportTickets")).toBe("staff");
  });
});

describe("refusals name documents (ENTITY)", () => {
  test("every client-owned table has a name for its not_found, and no other table has one", () => {
    const clientOwned = Object.entries(schema.tables)
      .filter(([, table]) => "clientId" in table.validator.fields)
      .map(([name]) => name);
    expect(Object.keys(ENTITY).sort()).toEqual(clientOwned.sort());
  });
});
