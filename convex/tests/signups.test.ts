// Registrations (for events) and enrollments (in courses) alike: a member's sign-up lists show
// its member, and one whose member is gone is left out, never a failed list.
import { describe, expect } from "vitest";
import { internal } from "../_generated/api";
import { codeOf, makeCourse, makeEvent, makeMembers } from "./content.setup";
import { type Backend, type ClientWorld, test, type UserActor } from "./world.setup";

const page = { cursor: null };
type Member = { email: string };

/** What the tests do to one kind of sign-up, whatever its function and argument names. */
type Signups = {
  kind: string;
  /** A published event or course to sign up for. */
  open: (t: Backend, client: ClientWorld) => Promise<string>;
  /** Staff sign a member up. */
  signUp: (t: Backend, actor: UserActor, parentId: string, memberId: string) => Promise<{ id: string }>;
  signUpSelf: (t: Backend, actor: UserActor, parentId: string) => Promise<unknown>;
  /** End a sign-up as client_admin does (cancelled, removed). */
  end: (t: Backend, actor: UserActor, id: string) => Promise<unknown>;
  /** The list staff read: all sign-ups, or those ended as `end` ends them. */
  list: (t: Backend, actor: UserActor, parentId: string, ended?: boolean) => Promise<{ page: { member: Member }[] }>;
  get: (t: Backend, actor: UserActor, id: string) => Promise<unknown>;
};

const registrations: Signups = {
  kind: "registration",
  open: makeEvent,
  signUp: (t, actor, eventId, memberId) =>
    t.mutation(internal.registrations.registerMember, { actor, eventId, memberId }),
  signUpSelf: (t, actor, eventId) => t.mutation(internal.registrations.registerSelf, { actor, eventId }),
  end: (t, actor, registrationId) => t.mutation(internal.registrations.cancel, { actor, registrationId }),
  list: (t, actor, eventId, ended) =>
    t.query(internal.registrations.listForEvent, { actor, eventId, page, status: ended ? "cancelled" : undefined }),
  get: (t, actor, registrationId) => t.query(internal.registrations.get, { actor, registrationId }),
};

const enrollments: Signups = {
  kind: "enrollment",
  open: makeCourse,
  signUp: (t, actor, courseId, memberId) => t.mutation(internal.enrollments.enrolMember, { actor, courseId, memberId }),
  signUpSelf: (t, actor, courseId) => t.mutation(internal.enrollments.enrolSelf, { actor, courseId }),
  end: (t, actor, enrollmentId) => t.mutation(internal.enrollments.withdraw, { actor, enrollmentId }),
  list: (t, actor, courseId, ended) =>
    t.query(internal.enrollments.listForCourse, { actor, courseId, page, status: ended ? "removed" : undefined }),
  get: (t, actor, enrollmentId) => t.query(internal.enrollments.get, { actor, enrollmentId }),
};

describe.each([registrations, enrollments])("$kind lists", (signups) => {
  test("a sign-up of a deleted member leaves the list: no crash, and none of a member that does not exist", async ({
    t,
    world,
  }) => {
    const { client_admin: admin, client_user: staff, member } = world.acme.actors;
    const parentId = await signups.open(t, world.acme);
    const [leaver] = await makeMembers(t, world.acme, 1);
    const gone = await signups.signUp(t, admin, parentId, leaver);
    await signups.end(t, admin, gone.id);
    await signups.signUpSelf(t, member, parentId);
    await t.mutation(internal.members.remove, { actor: admin, memberId: leaver });
    const emails = async (ended: boolean) =>
      (await signups.list(t, staff, parentId, ended)).page.map((s) => s.member.email);
    expect(await emails(false)).toEqual(["member@acme.test"]);
    expect(await emails(true)).toEqual([]);
    expect(await codeOf(signups.get(t, admin, gone.id))).toBe("not_found");
  });

  test("a sign-up whose member is missing is left out of the list rather than failing it", async ({ t, world }) => {
    const { client_admin: admin, client_user: staff, member } = world.acme.actors;
    const parentId = await signups.open(t, world.acme);
    const [orphan] = await makeMembers(t, world.acme, 1);
    await signups.signUp(t, admin, parentId, orphan);
    await signups.signUpSelf(t, member, parentId);
    await t.run((ctx) => ctx.db.delete(orphan));
    expect((await signups.list(t, staff, parentId)).page.map((s) => s.member.email)).toEqual(["member@acme.test"]);
  });
});
