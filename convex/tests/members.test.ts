// Member profiles and interests.
import { describe, expect } from "vitest";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { MAX_MEMBER_INTERESTS } from "../schema";
import {
  allLinksOf,
  codeOf,
  errorOf,
  insertMany,
  makeCourse,
  makeEvent,
  makeMembers,
  memberDocsLeft,
} from "./content.setup";
import { type Backend, type ClientWorld, test, type UserActor } from "./world.setup";

const page = { cursor: null };

/** acme's client_admin deletes the member. */
const removeMember = (t: Backend, acme: ClientWorld, memberId: Id<"memberProfiles">) =>
  t.mutation(internal.members.remove, { actor: acme.actors.client_admin, memberId });

describe("a member and its own profile", () => {
  test("reads and edits its names and phone", async ({ t, world }) => {
    const actor = world.acme.actors.member;
    const updated = await t.mutation(internal.members.updateMine, { actor, firstName: "Mira", phone: "+44 1234" });
    expect(updated).toMatchObject({ firstName: "Mira", phone: "+44 1234", status: "active" });
  });

  test("cannot change its status or CPD points (no such arguments)", async ({ t, world }) => {
    const actor = world.acme.actors.member;
    await expect(t.mutation(internal.members.updateMine, { actor, cpdPoints: 500 } as never)).rejects.toThrow(
      /cpdPoints/,
    );
  });

  test("cannot read another member's profile", async ({ t, world }) => {
    const { actors, memberIds } = world.acme;
    const theirs = t.query(internal.members.get, { actor: actors.member, memberId: memberIds.member2 });
    expect(await codeOf(theirs)).toBe("not_found");
  });

  test("sets its interests from its client's interest categories only", async ({ t, world }) => {
    const { actors, memberIds } = world.acme;
    const create = (actor: UserActor, name: string) =>
      t.mutation(internal.members.createInterestCategory, { actor, name });
    const mine = await create(actors.client_admin, "Leadership");
    const foreign = await create(world.globex.actors.client_admin, "Theirs");
    const set = (id: string) =>
      t.mutation(internal.members.setInterests, {
        actor: actors.member,
        memberId: memberIds.member,
        interestCategoryIds: [id],
      });
    expect((await set(mine.id)).map((i) => i.name)).toEqual(["Leadership"]);
    expect(await codeOf(set(foreign.id))).toBe("not_found");
  });

  test("cannot set another member's interests", async ({ t, world }) => {
    const { actors, memberIds } = world.acme;
    const args = { actor: actors.member, memberId: memberIds.member2, interestCategoryIds: [] };
    expect(await codeOf(t.mutation(internal.members.setInterests, args))).toBe("not_found");
  });
});

describe("staff and members", () => {
  /** `actor` creates a member of its client. */
  const create = (t: Backend, actor: UserActor, firstName: string, lastName: string, email: string) =>
    t.mutation(internal.members.create, { actor, firstName, lastName, email });

  test("client_user lists and searches members by name prefix and status", async ({ t, world }) => {
    const actor = world.acme.actors.client_user;
    await makeMembers(t, world.acme, 3);
    const byName = await t.query(internal.members.list, { actor, page, search: "Mia" });
    expect(byName.page.map((m) => m.email)).toEqual(["member@acme.test"]);
    expect((await t.query(internal.members.list, { actor, page, status: "active" })).page).toHaveLength(5);
  });

  test("client_user may not create, edit or delete members", async ({ t, world }) => {
    const actor = world.acme.actors.client_user;
    expect(await codeOf(create(t, actor, "A", "B", "a@b.test"))).toBe("forbidden");
    const remove = t.mutation(internal.members.remove, { actor, memberId: world.acme.memberIds.member2 });
    expect(await codeOf(remove)).toBe("forbidden");
  });

  test("sponsor roles may not read members", async ({ t, world }) => {
    const actor = world.acme.actors.sponsor_admin;
    expect(await codeOf(t.query(internal.members.list, { actor, page }))).toBe("forbidden");
  });

  test("client_admin creates a member; the email is unique within the client", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    await create(t, admin, "New", "Person", "New@Acme.test");
    const clash = await errorOf(create(t, admin, "Other", "Person", "new@acme.test"));
    expect(clash).toMatchObject({ code: "conflict", field: "email" });
  });

  test("the same email may exist in another client", async ({ t, world }) => {
    const created = await create(t, world.globex.actors.client_admin, "Mia", "Member", "member@acme.test");
    expect(created.email).toBe("member@acme.test");
  });

  test("an invalid email is a validation error naming the field", async ({ t, world }) => {
    const err = await errorOf(create(t, world.acme.actors.client_admin, "A", "B", "not-an-email"));
    expect(err).toMatchObject({ code: "validation", field: "email" });
  });

  test("client_admin edits status and CPD points", async ({ t, world }) => {
    const { actors, memberIds } = world.acme;
    const updated = await t.mutation(internal.members.update, {
      actor: actors.client_admin,
      memberId: memberIds.member2,
      status: "suspended",
      cpdPoints: 12,
    });
    expect(updated).toMatchObject({ status: "suspended", cpdPoints: 12 });
  });

  test("a member with an active enrollment cannot be deleted", async ({ t, world }) => {
    const courseId = await makeCourse(t, world.acme);
    await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    expect(await codeOf(removeMember(t, world.acme, world.acme.memberIds.member))).toBe("conflict");
  });

  test("a member with an active registration cannot be deleted", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme);
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member2, eventId });
    expect(await codeOf(removeMember(t, world.acme, world.acme.memberIds.member2))).toBe("conflict");
  });

  test("a member with nothing active is deleted by client_admin", async ({ t, world }) => {
    const [memberId] = await makeMembers(t, world.acme, 1);
    expect(await removeMember(t, world.acme, memberId)).toBeNull();
    const actor = world.acme.actors.client_admin;
    expect(await codeOf(t.query(internal.members.get, { actor, memberId }))).toBe("not_found");
  });
});

describe("deleting a member", () => {
  /** Registrations of `memberId` for one event, inserted directly with the given statuses, oldest first. */
  async function registrations(
    t: Backend,
    acme: ClientWorld,
    memberId: Id<"memberProfiles">,
    statuses: readonly Doc<"eventRegistrations">["status"][],
  ) {
    const eventId = await makeEvent(t, acme);
    await insertMany(t, "eventRegistrations", statuses.length, (i) => ({
      clientId: acme.clientId,
      eventId,
      memberId,
      status: statuses[i],
      registeredAt: i,
      updatedAt: i,
    }));
  }

  test.for(["pending", "confirmed", "paid", "checked_in"] as const)(
    "a %s registration blocks it",
    async (status, { t, world }) => {
      const [memberId] = await makeMembers(t, world.acme, 1);
      await registrations(t, world.acme, memberId, ["cancelled", status, "refunded"]);
      expect(await codeOf(removeMember(t, world.acme, memberId))).toBe("conflict");
    },
  );

  test("an active registration blocks it however many ended ones are newer (all of them are checked, by index)", async ({
    t,
    world,
  }) => {
    const [memberId] = await makeMembers(t, world.acme, 1);
    await registrations(t, world.acme, memberId, ["confirmed", ...Array<"cancelled">(1001).fill("cancelled")]);
    expect(await errorOf(removeMember(t, world.acme, memberId))).toMatchObject({
      code: "conflict",
      message: "A member with an active registration cannot be deleted",
    });
  });

  test("deletes its interests, ended registrations and ended enrollments, keeps its tickets, and audits what went", async ({
    t,
    world,
  }) => {
    const admin = world.acme.actors.client_admin;
    const [memberId] = await makeMembers(t, world.acme, 1);
    await registrations(t, world.acme, memberId, ["cancelled", "refunded"]);
    const courseId = await makeCourse(t, world.acme);
    const enrollment = await t.mutation(internal.enrollments.enrolMember, { actor: admin, courseId, memberId });
    await t.mutation(internal.enrollments.complete, { actor: admin, enrollmentId: enrollment.id });
    const interest = await t.mutation(internal.members.createInterestCategory, { actor: admin, name: "Leadership" });
    await t.mutation(internal.members.setInterests, { actor: admin, memberId, interestCategoryIds: [interest.id] });
    await t.mutation(internal.tickets.openForMember, {
      actor: world.acme.actors.client_user,
      memberId,
      subject: "Address",
      body: "Moved house",
    });

    expect(await removeMember(t, world.acme, memberId)).toBeNull();
    const left = memberDocsLeft(t, memberId, [
      "eventRegistrations",
      "courseEnrollments",
      "memberInterests",
      "supportTickets",
    ]);
    expect(await left).toEqual({ eventRegistrations: 0, courseEnrollments: 0, memberInterests: 0, supportTickets: 1 });
    const audit = await t.query(internal.audit.list, { actor: admin, page, action: "member.delete" });
    expect(audit.page[0].after).toEqual({ deletedRegistrations: 2, deletedEnrollments: 1 });
  });

  test("the continuation does nothing while the member exists", async ({ t, world }) => {
    const [memberId] = await makeMembers(t, world.acme, 1);
    await registrations(t, world.acme, memberId, ["cancelled"]);
    const actor = world.acme.actors.client_admin;
    expect(await t.mutation(internal.members.deleteHistoryBatch, { memberId, actor })).toEqual({
      registrations: 0,
      enrollments: 0,
      more: false,
    });
  });
});

describe(`at most ${MAX_MEMBER_INTERESTS} interests per member`, () => {
  const CAP = MAX_MEMBER_INTERESTS;
  /** `count` interest categories of acme (direct inserts). */
  const interestCategories = (t: Backend, acme: ClientWorld, count: number) =>
    insertMany(t, "interestCategories", count, (i) => ({
      clientId: acme.clientId,
      name: `Interest ${i}`,
      createdAt: 0,
    }));

  test("setInterests (the only path that adds one) takes the cap and refuses one more", async ({ t, world }) => {
    const ids = await interestCategories(t, world.acme, CAP + 1);
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

  test("listInterests lists all of a full set, and a new set replaces every old link", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    const ids = await interestCategories(t, world.acme, CAP);
    const memberId = world.acme.memberIds.member;
    await t.mutation(internal.members.setInterests, { actor: admin, memberId, interestCategoryIds: ids });
    expect(await t.query(internal.members.listInterests, { actor: world.acme.actors.member, memberId })).toHaveLength(
      CAP,
    );
    await t.mutation(internal.members.setInterests, { actor: admin, memberId, interestCategoryIds: [ids[0]] });
    expect((await allLinksOf(t, "memberInterests", memberId)).map((l) => l.interestCategoryId)).toEqual([ids[0]]);
  });

  test("deleting a member deletes every one of a full set of interests", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    const [memberId] = await makeMembers(t, world.acme, 1);
    await t.mutation(internal.members.setInterests, {
      actor: admin,
      memberId,
      interestCategoryIds: await interestCategories(t, world.acme, CAP),
    });
    await t.mutation(internal.members.remove, { actor: admin, memberId });
    expect(await allLinksOf(t, "memberInterests", memberId)).toEqual([]);
  });
});

describe("the member export", () => {
  test("client_user pages through every member of its own client only", async ({ t, world }) => {
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

  test("members and sponsors may not export", async ({ t, world }) => {
    for (const role of ["member", "sponsor_user"] as const) {
      expect(await codeOf(t.query(internal.members.exportPage, { actor: world.acme.actors[role], page }))).toBe(
        "forbidden",
      );
    }
  });

  test("an export is recorded in the audit log with its filter", async ({ t, world }) => {
    await t.mutation(internal.members.recordExport, { actor: world.acme.actors.client_user, status: "active" });
    const entries = await t.run((ctx) => ctx.db.query("auditLogs").collect());
    expect(entries.filter((e) => e.action === "member.export").map((e) => e.after)).toEqual([{ status: "active" }]);
  });
});
