// DOMAIN.md: member profiles and interests.
import { beforeEach, describe, expect, test } from "vitest";
import { internal } from "../_generated/api";
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
    const updated = await t.mutation(internal.members.updateMine, { actor: world.acme.actors.member, firstName: "Mira", phone: "+44 1234" });
    expect(updated).toMatchObject({ firstName: "Mira", phone: "+44 1234", status: "active" });
  });

  test("cannot change its status or CPD points (no such arguments)", async () => {
    await expect(
      t.mutation(internal.members.updateMine, { actor: world.acme.actors.member, cpdPoints: 500 } as never),
    ).rejects.toThrow(/cpdPoints/);
  });

  test("cannot read another member's profile", async () => {
    expect((await errorOf(t.query(internal.members.get, { actor: world.acme.actors.member, memberId: world.acme.memberIds.member2 }))).code).toBe("not_found");
  });

  test("sets its interests from its client's interest categories only", async () => {
    const mine = await t.mutation(internal.members.createInterestCategory, { actor: world.acme.actors.client_admin, name: "Leadership" });
    const foreign = await t.mutation(internal.members.createInterestCategory, { actor: world.globex.actors.client_admin, name: "Theirs" });
    const set = await t.mutation(internal.members.setInterests, { actor: world.acme.actors.member, memberId: world.acme.memberIds.member, interestCategoryIds: [mine.id] });
    expect(set.map((i) => i.name)).toEqual(["Leadership"]);
    const err = await errorOf(t.mutation(internal.members.setInterests, { actor: world.acme.actors.member, memberId: world.acme.memberIds.member, interestCategoryIds: [foreign.id] }));
    expect(err.code).toBe("not_found");
  });

  test("cannot set another member's interests", async () => {
    expect((await errorOf(t.mutation(internal.members.setInterests, { actor: world.acme.actors.member, memberId: world.acme.memberIds.member2, interestCategoryIds: [] }))).code).toBe("not_found");
  });
});

describe("staff and members", () => {
  test("client_user lists and searches members by name prefix and status", async () => {
    await makeMembers(t, world.acme, 3);
    const byName = await t.query(internal.members.list, { actor: world.acme.actors.client_user, page, search: "Mia" });
    expect(byName.page.map((m) => m.email)).toEqual(["member@acme.test"]);
    const active = await t.query(internal.members.list, { actor: world.acme.actors.client_user, page, status: "active" });
    expect(active.page).toHaveLength(5);
  });

  test("client_user may not create, edit or delete members", async () => {
    expect((await errorOf(t.mutation(internal.members.create, { actor: world.acme.actors.client_user, firstName: "A", lastName: "B", email: "a@b.test" }))).code).toBe("forbidden");
    expect((await errorOf(t.mutation(internal.members.remove, { actor: world.acme.actors.client_user, memberId: world.acme.memberIds.member2 }))).code).toBe("forbidden");
  });

  test("sponsor roles may not read members", async () => {
    expect((await errorOf(t.query(internal.members.list, { actor: world.acme.actors.sponsor_admin, page }))).code).toBe("forbidden");
  });

  test("client_admin creates a member; the email is unique within the client", async () => {
    await t.mutation(internal.members.create, { actor: world.acme.actors.client_admin, firstName: "New", lastName: "Person", email: "New@Acme.test" });
    const clash = await errorOf(t.mutation(internal.members.create, { actor: world.acme.actors.client_admin, firstName: "Other", lastName: "Person", email: "new@acme.test" }));
    expect(clash).toMatchObject({ code: "conflict", field: "email" });
  });

  test("the same email may exist in another client", async () => {
    const created = await t.mutation(internal.members.create, { actor: world.globex.actors.client_admin, firstName: "Mia", lastName: "Member", email: "member@acme.test" });
    expect(created.email).toBe("member@acme.test");
  });

  test("an invalid email is a validation error naming the field", async () => {
    const err = await errorOf(t.mutation(internal.members.create, { actor: world.acme.actors.client_admin, firstName: "A", lastName: "B", email: "not-an-email" }));
    expect(err).toMatchObject({ code: "validation", field: "email" });
  });

  test("client_admin edits status and CPD points", async () => {
    const updated = await t.mutation(internal.members.update, { actor: world.acme.actors.client_admin, memberId: world.acme.memberIds.member2, status: "suspended", cpdPoints: 12 });
    expect(updated).toMatchObject({ status: "suspended", cpdPoints: 12 });
  });

  test("a member with an active enrollment cannot be deleted", async () => {
    const courseId = await makeCourse(t, world.acme);
    await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    expect((await errorOf(t.mutation(internal.members.remove, { actor: world.acme.actors.client_admin, memberId: world.acme.memberIds.member }))).code).toBe("conflict");
  });

  test("a member with an active registration cannot be deleted", async () => {
    const eventId = await makeEvent(t, world.acme);
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member2, eventId });
    expect((await errorOf(t.mutation(internal.members.remove, { actor: world.acme.actors.client_admin, memberId: world.acme.memberIds.member2 }))).code).toBe("conflict");
  });

  test("a member with nothing active is deleted by client_admin", async () => {
    const [memberId] = await makeMembers(t, world.acme, 1);
    expect(await t.mutation(internal.members.remove, { actor: world.acme.actors.client_admin, memberId })).toBeNull();
    expect((await errorOf(t.query(internal.members.get, { actor: world.acme.actors.client_admin, memberId }))).code).toBe("not_found");
  });
});

describe("the member export", () => {
  test("client_user pages through every member of its own client only", async () => {
    await makeMembers(t, world.acme, 3);
    const first = await t.query(internal.members.exportPage, { actor: world.acme.actors.client_user, page: { cursor: null, numItems: 3 } });
    const rest = await t.query(internal.members.exportPage, { actor: world.acme.actors.client_user, page: { cursor: first.continueCursor, numItems: 100 } });
    const emails = [...first.page, ...rest.page].map((m) => m.email);
    expect(emails).toHaveLength(5);
    expect(emails.every((e) => !e.endsWith("@globex.test"))).toBe(true);
  });

  test("members and sponsors may not export", async () => {
    for (const role of ["member", "sponsor_user"] as const) {
      expect((await errorOf(t.query(internal.members.exportPage, { actor: world.acme.actors[role], page }))).code).toBe("forbidden");
    }
  });

  test("an export is recorded in the audit log with its filter", async () => {
    await t.mutation(internal.members.recordExport, { actor: world.acme.actors.client_user, status: "active" });
    const entries = await t.run((ctx) => ctx.db.query("auditLogs").collect());
    expect(entries.filter((e) => e.action === "member.export").map((e) => e.after)).toEqual([{ status: "active" }]);
  });
});
