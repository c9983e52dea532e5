// Courses, categories on courses, and course enrollments.
import { describe, expect } from "vitest";
import { internal } from "../_generated/api";
import { MAX_COURSE_CATEGORIES } from "../schema";
import { allLinksOf, codeOf, errorOf, insertMany, makeCourse } from "./content.setup";
import { type Backend, type ClientWorld, test, type UserActor, type World } from "./world.setup";

const page = { cursor: null };

describe("courses", () => {
  test("staff create a draft course with a category of their client", async ({ t, world }) => {
    const { client_admin: admin, client_user: staff } = world.acme.actors;
    const category = await t.mutation(internal.categories.create, { actor: admin, name: "Safety", slug: "safety" });
    const course = await t.mutation(internal.courses.create, {
      actor: staff,
      title: "First Aid",
      cpdPoints: 4,
      categoryIds: [category.id],
    });
    expect(course.status).toBe("draft");
    const categories = await t.query(internal.courses.listCategories, { actor: staff, courseId: course.id });
    expect(categories.map((c) => c.slug)).toEqual(["safety"]);
  });

  test("a category of another client cannot be put on a course", async ({ t, world }) => {
    const actor = world.globex.actors.client_admin;
    const foreign = await t.mutation(internal.categories.create, { actor, name: "Theirs", slug: "theirs" });
    const staff = world.acme.actors.client_user;
    const create = t.mutation(internal.courses.create, { actor: staff, title: "First Aid", categoryIds: [foreign.id] });
    expect(await errorOf(create)).toMatchObject({ code: "not_found", entity: "category" });
  });

  test("members may not create courses", async ({ t, world }) => {
    const actor = world.acme.actors.member;
    expect(await codeOf(t.mutation(internal.courses.create, { actor, title: "Mine" }))).toBe("forbidden");
  });

  test("members see published courses only; drafts read as missing", async ({ t, world }) => {
    const actor = world.acme.actors.member;
    const published = await makeCourse(t, world.acme, { title: "Open" });
    const drafted = await makeCourse(t, world.acme, { status: "draft", title: "Hidden" });
    const list = await t.query(internal.courses.list, { actor, page });
    expect(list.page.map((c) => c.id)).toEqual([published]);
    expect(await codeOf(t.query(internal.courses.get, { actor, courseId: drafted }))).toBe("not_found");
  });

  test("staff see drafts", async ({ t, world }) => {
    const actor = world.acme.actors.client_user;
    const drafted = await makeCourse(t, world.acme, { status: "draft" });
    expect((await t.query(internal.courses.get, { actor, courseId: drafted })).status).toBe("draft");
  });

  /** A draft course of acme, and its status changes by one actor or another. */
  async function draftCourse(t: Backend, acme: ClientWorld) {
    const courseId = await makeCourse(t, acme, { status: "draft" });
    return (actor: UserActor, status: "published" | "archived") =>
      t.mutation(internal.courses.setStatus, { actor, courseId, status });
  }

  test("client_admin publishes then archives; archived cannot go back", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    const setStatus = await draftCourse(t, world.acme);
    await setStatus(admin, "published");
    await setStatus(admin, "archived");
    expect(await codeOf(setStatus(admin, "published"))).toBe("invalid_transition");
  });

  test("client_user may not publish", async ({ t, world }) => {
    const setStatus = await draftCourse(t, world.acme);
    expect(await codeOf(setStatus(world.acme.actors.client_user, "published"))).toBe("forbidden");
  });

  test("a course with enrollments cannot be deleted", async ({ t, world }) => {
    const { client_admin: admin, member } = world.acme.actors;
    const courseId = await makeCourse(t, world.acme);
    await t.mutation(internal.enrollments.enrolSelf, { actor: member, courseId });
    expect(await codeOf(t.mutation(internal.courses.remove, { actor: admin, courseId }))).toBe("conflict");
  });
});

describe(`at most ${MAX_COURSE_CATEGORIES} categories per course, on every path that adds one`, () => {
  const CAP = MAX_COURSE_CATEGORIES;
  /** `count` categories of acme (direct inserts). */
  const makeCategories = (t: Backend, world: World, count: number) =>
    insertMany(t, "categories", count, (i) => ({
      clientId: world.acme.clientId,
      name: `Topic ${i}`,
      slug: `topic-${i}`,
      createdAt: i,
    }));

  test("create takes the cap and refuses one more", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    const ids = await makeCategories(t, world, CAP + 1);
    const err = await errorOf(
      t.mutation(internal.courses.create, { actor: admin, title: "Too wide", categoryIds: ids }),
    );
    expect(err).toMatchObject({ code: "validation", field: "categoryIds" });
    const course = await t.mutation(internal.courses.create, {
      actor: admin,
      title: "Wide",
      categoryIds: ids.slice(0, CAP),
    });
    expect(await allLinksOf(t, "courseCategories", course.id)).toHaveLength(CAP);
  });

  test("addCategory refuses a link beyond the cap, and takes one again once a link is gone", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    const ids = await makeCategories(t, world, CAP + 1);
    const course = await t.mutation(internal.courses.create, {
      actor: admin,
      title: "Wide",
      categoryIds: ids.slice(0, CAP - 1),
    });
    expect(
      await t.mutation(internal.courses.addCategory, { actor: admin, courseId: course.id, categoryId: ids[CAP - 1] }),
    ).toBeNull();
    const err = await errorOf(
      t.mutation(internal.courses.addCategory, { actor: admin, courseId: course.id, categoryId: ids[CAP] }),
    );
    expect(err).toMatchObject({ code: "conflict", field: "categoryId" });
    expect(await allLinksOf(t, "courseCategories", course.id)).toHaveLength(CAP);
    await t.mutation(internal.courses.removeCategory, { actor: admin, courseId: course.id, categoryId: ids[0] });
    await t.mutation(internal.courses.addCategory, { actor: admin, courseId: course.id, categoryId: ids[CAP] });
    expect(await allLinksOf(t, "courseCategories", course.id)).toHaveLength(CAP);
  });

  test("listCategories lists every category of a full course, none cut off", async ({ t, world }) => {
    const ids = await makeCategories(t, world, CAP);
    const course = await t.mutation(internal.courses.create, {
      actor: world.acme.actors.client_admin,
      title: "Wide",
      categoryIds: ids,
    });
    const listed = await t.query(internal.courses.listCategories, {
      actor: world.acme.actors.client_user,
      courseId: course.id,
    });
    expect(listed.map((c) => c.id).sort()).toEqual([...ids].sort());
  });

  test("remove deletes every category link of a full course", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    const course = await t.mutation(internal.courses.create, {
      actor: admin,
      title: "Wide",
      categoryIds: await makeCategories(t, world, CAP),
    });
    await t.mutation(internal.courses.remove, { actor: admin, courseId: course.id });
    expect(await allLinksOf(t, "courseCategories", course.id)).toEqual([]);
  });
});

describe("enrollments", () => {
  /** A published course of acme and a member's own enrollment in it. */
  async function enrolled(t: Backend, acme: ClientWorld, course: { cpdPoints?: number } = {}) {
    const courseId = await makeCourse(t, acme, course);
    return t.mutation(internal.enrollments.enrolSelf, { actor: acme.actors.member, courseId });
  }

  test("a member enrols itself in a published course", async ({ t, world }) => {
    expect(await enrolled(t, world.acme)).toMatchObject({ status: "active", memberId: world.acme.memberIds.member });
  });

  test("not in a draft course", async ({ t, world }) => {
    const courseId = await makeCourse(t, world.acme, { status: "draft" });
    const actor = world.acme.actors.member;
    expect(await codeOf(t.mutation(internal.enrollments.enrolSelf, { actor, courseId }))).toBe("not_found");
  });

  test("not twice while the first enrollment is active", async ({ t, world }) => {
    const { courseId } = await enrolled(t, world.acme);
    const actor = world.acme.actors.member;
    expect(await codeOf(t.mutation(internal.enrollments.enrolSelf, { actor, courseId }))).toBe("already_enrolled");
  });

  test("a member withdraws its own enrollment but not another's", async ({ t, world }) => {
    const { member, member2 } = world.acme.actors;
    const mine = await enrolled(t, world.acme);
    const theirs = await t.mutation(internal.enrollments.enrolSelf, { actor: member2, courseId: mine.courseId });
    const withdraw = (enrollmentId: string) =>
      t.mutation(internal.enrollments.withdraw, { actor: member, enrollmentId });
    expect((await withdraw(mine.id)).status).toBe("withdrawn");
    expect(await codeOf(withdraw(theirs.id))).toBe("not_found");
  });

  test("staff enrol a member; client_admin removes any enrollment; client_user may not", async ({ t, world }) => {
    const { client_admin: admin, client_user: staff } = world.acme.actors;
    const courseId = await makeCourse(t, world.acme);
    const memberId = world.acme.memberIds.member2;
    const enrollment = await t.mutation(internal.enrollments.enrolMember, { actor: staff, courseId, memberId });
    const withdraw = (actor: UserActor) =>
      t.mutation(internal.enrollments.withdraw, { actor, enrollmentId: enrollment.id });
    expect(await codeOf(withdraw(staff))).toBe("forbidden");
    expect((await withdraw(admin)).status).toBe("removed");
  });

  test("completion is idempotent and awards the course's CPD points exactly once", async ({ t, world }) => {
    const { client_user: staff, member } = world.acme.actors;
    const enrollment = await enrolled(t, world.acme, { cpdPoints: 7 });
    const complete = () => t.mutation(internal.enrollments.complete, { actor: staff, enrollmentId: enrollment.id });
    await complete();
    expect(await complete()).toMatchObject({ status: "completed", cpdPointsAwarded: 7 });
    expect((await t.query(internal.members.getMine, { actor: member })).cpdPoints).toBe(7);
  });

  test("a refresher earns no points again: CPD points once per member and course, ever", async ({ t, world }) => {
    const { client_user: staff, member } = world.acme.actors;
    const first = await enrolled(t, world.acme, { cpdPoints: 7 });
    await t.mutation(internal.enrollments.complete, { actor: staff, enrollmentId: first.id });
    const again = await t.mutation(internal.enrollments.enrolSelf, { actor: member, courseId: first.courseId });
    const completed = await t.mutation(internal.enrollments.complete, { actor: staff, enrollmentId: again.id });
    expect(completed).toMatchObject({ status: "completed", cpdPointsAwarded: 0 });
    expect((await t.query(internal.members.getMine, { actor: member })).cpdPoints).toBe(7);
  });

  test("a member cannot mark its own completion", async ({ t, world }) => {
    const enrollment = await enrolled(t, world.acme);
    const actor = world.acme.actors.member;
    const complete = t.mutation(internal.enrollments.complete, { actor, enrollmentId: enrollment.id });
    expect(await codeOf(complete)).toBe("forbidden");
  });

  test("staff list a course's enrollments; members list their own", async ({ t, world }) => {
    const { client_user: staff, member, member2 } = world.acme.actors;
    const { courseId } = await enrolled(t, world.acme);
    await t.mutation(internal.enrollments.enrolSelf, { actor: member2, courseId });
    const listForCourse = (actor: UserActor) => t.query(internal.enrollments.listForCourse, { actor, courseId, page });
    expect((await listForCourse(staff)).page).toHaveLength(2);
    expect((await t.query(internal.enrollments.listMine, { actor: member, page })).page).toHaveLength(1);
    expect(await codeOf(listForCourse(member))).toBe("forbidden");
  });
});
