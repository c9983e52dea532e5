// Member profiles and interests.
import { beforeEach, describe, expect, test } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { MAX_MEMBER_INTERESTS } from "../schema";
import { errorOf, makeCourse, makeEvent, makeMembers } from "./content.setup";
import { type Backend, newBackend, seedWorld, type World } from "./world.setup";

let t: Backend;
let world: World;
beforeEach(async () => {
  t = newBackend();
  world = await seedWorld(t);
});

const page = { cursor: null };

describe("a member and its own profile", () => {
  test("reads and edits its names and phone", async () => {
    const updated = await t.mutation(internal.members.updateMine, {
      actor: world.acme.actors.member,
      firstName: "Mira",
      phone: "+44 1234",
    });
    expect(updated).toMatchObject({ firstName: "Mira", phone: "+44 1234", status: "active" });
  });

  test("cannot change its status or CPD points (no such arguments)", async () => {
    await expect(
      t.mutation(internal.members.updateMine, { actor: world.acme.actors.member, cpdPoints: 500 } as never),
    ).rejects.toThrow(/cpdPoints/);
  });

  test("cannot read another member's profile", async () => {
    expect(
      (
        await errorOf(
          t.query(internal.members.get, { actor: world.acme.actors.member, memberId: world.acme.memberIds.member2 }),
        )
      ).code,
    ).toBe("not_found");
  });

  test("sets its interests from its client's interest categories only", async () => {
    const mine = await t.mutation(internal.members.createInterestCategory, {
      actor: world.acme.actors.client_admin,
      name: "Leadership",
    });
    const foreign = await t.mutation(internal.members.createInterestCategory, {
      actor: world.globex.actors.client_admin,
      name: "Theirs",
    });
    const set = await t.mutation(internal.members.setInterests, {
      actor: world.acme.actors.member,
      memberId: world.acme.memberIds.member,
      interestCategoryIds: [mine.id],
    });
    expect(set.map((i) => i.name)).toEqual(["Leadership"]);
    const err = await errorOf(
      t.mutation(internal.members.setInterests, {
        actor: world.acme.actors.member,
        memberId: world.acme.memberIds.member,
        interestCategoryIds: [foreign.id],
      }),
    );
    expect(err.code).toBe("not_found");
  });

  test("cannot set another member's interests", async () => {
    expect(
      (
        await errorOf(
          t.mutation(internal.members.setInterests, {
            actor: world.acme.actors.member,
            memberId: world.acme.memberIds.member2,
            interestCategoryIds: [],
          }),
        )
      ).code,
    ).toBe("not_found");
  });
});

describe("staff and members", () => {
  test("client_user lists and searches members by name prefix and status", async () => {
    await makeMembers(t, world.acme, 3);
    const byName = await t.query(internal.members.list, { actor: world.acme.actors.client_user, page, search: "Mia" });
    expect(byName.page.map((m) => m.email)).toEqual(["member@acme.test"]);
    const active = await t.query(internal.members.list, {
      actor: world.acme.actors.client_user,
      page,
      status: "active",
    });
    expect(active.page).toHaveLength(5);
  });

  test("client_user may not create, edit or delete members", async () => {
    expect(
      (
        await errorOf(
          t.mutation(internal.members.create, {
            actor: world.acme.actors.client_user,
            firstName: "A",
            lastName: "B",
            email: "a@b.test",
          }),
        )
      ).code,
    ).toBe("forbidden");
    expect(
      (
        await errorOf(
          t.mutation(internal.members.remove, {
            actor: world.acme.actors.client_user,
            memberId: world.acme.memberIds.member2,
          }),
        )
      ).code,
    ).toBe("forbidden");
  });

  test("sponsor roles may not read members", async () => {
    expect((await errorOf(t.query(internal.members.list, { actor: world.acme.actors.sponsor_admin, page }))).code).toBe(
      "forbidden",
    );
  });

  test("client_admin creates a member; the email is unique within the client", async () => {
    await t.mutation(internal.members.create, {
      actor: world.acme.actors.client_admin,
      firstName: "New",
      lastName: "Person",
      email: "New@Acme.test",
    });
    const clash = await errorOf(
      t.mutation(internal.members.create, {
        actor: world.acme.actors.client_admin,
        firstName: "Other",
        lastName: "Person",
        email: "new@acme.test",
      }),
    );
    expect(clash).toMatchObject({ code: "conflict", field: "email" });
  });

  test("the same email may exist in another client", async () => {
    const created = await t.mutation(internal.members.create, {
      actor: world.globex.actors.client_admin,
      firstName: "Mia",
      lastName: "Member",
      email: "member@acme.test",
    });
    expect(created.email).toBe("member@acme.test");
  });

  test("an invalid email is a validation error naming the field", async () => {
    const err = await errorOf(
      t.mutation(internal.members.create, {
        actor: world.acme.actors.client_admin,
        firstName: "A",
        lastName: "B",
        email: "not-an-email",
      }),
    );
    expect(err).toMatchObject({ code: "validation", field: "email" });
  });

  test("client_admin edits status and CPD points", async () => {
    const updated = await t.mutation(internal.members.update, {
      actor: world.acme.actors.client_admin,
      memberId: world.acme.memberIds.member2,
      status: "suspended",
      cpdPoints: 12,
    });
    expect(updated).toMatchObject({ status: "suspended", cpdPoints: 12 });
  });

  test("a member with an active enrollment cannot be deleted", async () => {
    const courseId = await makeCourse(t, world.acme);
    await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    expect(
      (
        await errorOf(
          t.mutation(internal.members.remove, {
            actor: world.acme.actors.client_admin,
            memberId: world.acme.memberIds.member,
          }),
        )
      ).code,
    ).toBe("conflict");
  });

  test("a member with an active registration cannot be deleted", async () => {
    const eventId = await makeEvent(t, world.acme);
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member2, eventId });
    expect(
      (
        await errorOf(
          t.mutation(internal.members.remove, {
            actor: world.acme.actors.client_admin,
            memberId: world.acme.memberIds.member2,
          }),
        )
      ).code,
    ).toBe("conflict");
  });

  test("a member with nothing active is deleted by client_admin", async () => {
    const [memberId] = await makeMembers(t, world.acme, 1);
    expect(await t.mutation(internal.members.remove, { actor: world.acme.actors.client_admin, memberId })).toBeNull();
    expect(
      (await errorOf(t.query(internal.members.get, { actor: world.acme.actors.client_admin, memberId }))).code,
    ).toBe("not_found");
  });
});

describe("deleting a member", () => {
  const admin = () => world.acme.actors.client_admin;
  const remove = (memberId: Id<"memberProfiles">) => t.mutation(internal.members.remove, { actor: admin(), memberId });

  /** Registrations of `memberId` for one event, inserted directly with the given statuses, oldest first. */
  async function registrations(
    memberId: Id<"memberProfiles">,
    statuses: readonly ("pending" | "confirmed" | "paid" | "checked_in" | "cancelled" | "refunded")[],
  ) {
    const eventId = await makeEvent(t, world.acme);
    await t.run(async (ctx) => {
      for (const [i, status] of statuses.entries()) {
        await ctx.db.insert("eventRegistrations", {
          clientId: world.acme.clientId,
          eventId,
          memberId,
          status,
          registeredAt: i,
          updatedAt: i,
        });
      }
    });
    return eventId;
  }

  test.each(["pending", "confirmed", "paid", "checked_in"] as const)("a %s registration blocks it", async (status) => {
    const [memberId] = await makeMembers(t, world.acme, 1);
    await registrations(memberId, ["cancelled", status, "refunded"]);
    expect((await errorOf(remove(memberId))).code).toBe("conflict");
  });

  test("an active registration blocks it however many ended ones are newer (all of them are checked, by index)", async () => {
    const [memberId] = await makeMembers(t, world.acme, 1);
    await registrations(memberId, ["confirmed", ...Array<"cancelled">(1001).fill("cancelled")]);
    expect(await errorOf(remove(memberId))).toMatchObject({
      code: "conflict",
      message: "A member with an active registration cannot be deleted",
    });
  });

  test("deletes its interests, ended registrations and ended enrollments, keeps its tickets, and audits what went", async () => {
    const [memberId] = await makeMembers(t, world.acme, 1);
    await registrations(memberId, ["cancelled", "refunded"]);
    const courseId = await makeCourse(t, world.acme);
    const enrollment = await t.mutation(internal.enrollments.enrolMember, { actor: admin(), courseId, memberId });
    await t.mutation(internal.enrollments.complete, { actor: admin(), enrollmentId: enrollment.id });
    const interest = await t.mutation(internal.members.createInterestCategory, { actor: admin(), name: "Leadership" });
    await t.mutation(internal.members.setInterests, { actor: admin(), memberId, interestCategoryIds: [interest.id] });
    await t.mutation(internal.tickets.openForMember, {
      actor: world.acme.actors.client_user,
      memberId,
      subject: "Address",
      body: "Moved house",
    });

    expect(await remove(memberId)).toBeNull();
    const left = await t.run(async (ctx) => ({
      registrations: await ctx.db
        .query("eventRegistrations")
        .withIndex("by_memberId_status", (q) => q.eq("memberId", memberId))
        .collect(),
      enrollments: await ctx.db
        .query("courseEnrollments")
        .withIndex("by_memberId_status", (q) => q.eq("memberId", memberId))
        .collect(),
      interests: await ctx.db
        .query("memberInterests")
        .withIndex("by_memberId_interestCategoryId", (q) => q.eq("memberId", memberId))
        .collect(),
      tickets: await ctx.db
        .query("supportTickets")
        .withIndex("by_memberId_updatedAt", (q) => q.eq("memberId", memberId))
        .collect(),
    }));
    expect({ ...left, tickets: left.tickets.length }).toEqual({
      registrations: [],
      enrollments: [],
      interests: [],
      tickets: 1,
    });
    const audit = await t.query(internal.audit.list, { actor: admin(), page, action: "member.delete" });
    expect(audit.page[0].after).toEqual({ deletedRegistrations: 2, deletedEnrollments: 1 });
  });

  test("the continuation does nothing while the member exists", async () => {
    const [memberId] = await makeMembers(t, world.acme, 1);
    await registrations(memberId, ["cancelled"]);
    expect(await t.mutation(internal.members.deleteHistoryBatch, { memberId, actor: admin() })).toEqual({
      registrations: 0,
      enrollments: 0,
      more: false,
    });
  });
});

describe(`at most ${MAX_MEMBER_INTERESTS} interests per member`, () => {
  const CAP = MAX_MEMBER_INTERESTS;
  const admin = () => world.acme.actors.client_admin;
  async function interestCategories(count: number): Promise<Id<"interestCategories">[]> {
    return t.run(async (ctx) => {
      const ids: Id<"interestCategories">[] = [];
      for (let i = 0; i < count; i++)
        ids.push(
          await ctx.db.insert("interestCategories", {
            clientId: world.acme.clientId,
            name: `Interest ${i}`,
            createdAt: 0,
          }),
        );
      return ids;
    });
  }
  const linksOf = (memberId: Id<"memberProfiles">) =>
    t.run((ctx) =>
      ctx.db
        .query("memberInterests")
        .withIndex("by_memberId_interestCategoryId", (q) => q.eq("memberId", memberId))
        .collect(),
    );

  test("setInterests (the only path that adds one) takes the cap and refuses one more", async () => {
    const ids = await interestCategories(CAP + 1);
    const memberId = world.acme.memberIds.member;
    const err = await errorOf(
      t.mutation(internal.members.setInterests, {
        actor: world.acme.actors.member,
        memberId,
        interestCategoryIds: ids,
      }),
    );
    expect(err).toMatchObject({ code: "validation", field: "interestCategoryIds" });
    expect(
      await t.mutation(internal.members.setInterests, {
        actor: world.acme.actors.member,
        memberId,
        interestCategoryIds: ids.slice(0, CAP),
      }),
    ).toHaveLength(CAP);
  });

  test("listInterests lists all of a full set, and a new set replaces every old link", async () => {
    const ids = await interestCategories(CAP);
    const memberId = world.acme.memberIds.member;
    await t.mutation(internal.members.setInterests, { actor: admin(), memberId, interestCategoryIds: ids });
    expect(await t.query(internal.members.listInterests, { actor: world.acme.actors.member, memberId })).toHaveLength(
      CAP,
    );
    await t.mutation(internal.members.setInterests, { actor: admin(), memberId, interestCategoryIds: [ids[0]] });
    expect((await linksOf(memberId)).map((l) => l.interestCategoryId)).toEqual([ids[0]]);
  });

  test("deleting a member deletes every one of a full set of interests", async () => {
    const [memberId] = await makeMembers(t, world.acme, 1);
    await t.mutation(internal.members.setInterests, {
      actor: admin(),
      memberId,
      interestCategoryIds: await interestCategories(CAP),
    });
    await t.mutation(internal.members.remove, { actor: admin(), memberId });
    expect(await linksOf(memberId)).toEqual([]);
  });
});

describe("the member export", () => {
  test("client_user pages through every member of its own client only", async () => {
    await makeMembers(t, world.acme, 3);
    const first = await t.query(internal.members.exportPage, {
      actor: world.acme.actors.client_user,
      page: { cursor: null, numItems: 3 },
    });
    const rest = await t.query(internal.members.exportPage, {
      actor: world.acme.actors.client_user,
      page: { cursor: first.continueCursor, numItems: 100 },
    });
    const emails = [...first.page, ...rest.page].map((m) => m.email);
    expect(emails).toHaveLength(5);
    expect(emails.every((e) => !e.endsWith("@globex.test"))).toBe(true);
  });

  test("members and sponsors may not export", async () => {
    for (const role of ["member", "sponsor_user"] as const) {
      expect((await errorOf(t.query(internal.members.exportPage, { actor: world.acme.actors[role], page }))).code).toBe(
        "forbidden",
      );
    }
  });

  test("an export is recorded in the audit log with its filter", async () => {
    await t.mutation(internal.members.recordExport, { actor: world.acme.actors.client_user, status: "active" });
    const entries = await t.run((ctx) => ctx.db.query("auditLogs").collect());
    expect(entries.filter((e) => e.action === "member.export").map((e) => e.after)).toEqual([{ status: "active" }]);
  });
});
