// Courses, categories on courses, and course enrollments.
import { beforeEach, describe, expect, test } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { MAX_COURSE_CATEGORIES } from "../schema";
import { errorOf, makeCourse, makeMembers } from "./content.setup";
import { type Backend, newBackend, seedWorld, type World } from "./world.setup";

let t: Backend;
let world: World;
beforeEach(async () => {
  t = newBackend();
  world = await seedWorld(t);
});

const page = { cursor: null };

describe("courses", () => {
  test("staff create a draft course with a category of their client", async () => {
    const category = await t.mutation(internal.categories.create, {
      actor: world.acme.actors.client_admin,
      name: "Safety",
      slug: "safety",
    });
    const course = await t.mutation(internal.courses.create, {
      actor: world.acme.actors.client_user,
      title: "First Aid",
      cpdPoints: 4,
      categoryIds: [category.id],
    });
    expect(course.status).toBe("draft");
    const categories = await t.query(internal.courses.listCategories, {
      actor: world.acme.actors.client_user,
      courseId: course.id,
    });
    expect(categories.map((c) => c.slug)).toEqual(["safety"]);
  });

  test("a category of another client cannot be put on a course", async () => {
    const foreign = await t.mutation(internal.categories.create, {
      actor: world.globex.actors.client_admin,
      name: "Theirs",
      slug: "theirs",
    });
    const err = await errorOf(
      t.mutation(internal.courses.create, {
        actor: world.acme.actors.client_user,
        title: "First Aid",
        categoryIds: [foreign.id],
      }),
    );
    expect(err).toMatchObject({ code: "not_found", entity: "category" });
  });

  test("members may not create courses", async () => {
    expect(
      (await errorOf(t.mutation(internal.courses.create, { actor: world.acme.actors.member, title: "Mine" }))).code,
    ).toBe("forbidden");
  });

  test("members see published courses only; drafts read as missing", async () => {
    const published = await makeCourse(t, world.acme, { title: "Open" });
    const drafted = await makeCourse(t, world.acme, { status: "draft", title: "Hidden" });
    const list = await t.query(internal.courses.list, { actor: world.acme.actors.member, page });
    expect(list.page.map((c) => c.id)).toEqual([published]);
    expect(
      (await errorOf(t.query(internal.courses.get, { actor: world.acme.actors.member, courseId: drafted }))).code,
    ).toBe("not_found");
  });

  test("staff see drafts", async () => {
    const drafted = await makeCourse(t, world.acme, { status: "draft" });
    expect(
      (await t.query(internal.courses.get, { actor: world.acme.actors.client_user, courseId: drafted })).status,
    ).toBe("draft");
  });

  test("client_admin publishes then archives; archived cannot go back", async () => {
    const courseId = await makeCourse(t, world.acme, { status: "draft" });
    await t.mutation(internal.courses.setStatus, {
      actor: world.acme.actors.client_admin,
      courseId,
      status: "published",
    });
    await t.mutation(internal.courses.setStatus, {
      actor: world.acme.actors.client_admin,
      courseId,
      status: "archived",
    });
    expect(
      (
        await errorOf(
          t.mutation(internal.courses.setStatus, {
            actor: world.acme.actors.client_admin,
            courseId,
            status: "published",
          }),
        )
      ).code,
    ).toBe("invalid_transition");
  });

  test("client_user may not publish", async () => {
    const courseId = await makeCourse(t, world.acme, { status: "draft" });
    expect(
      (
        await errorOf(
          t.mutation(internal.courses.setStatus, {
            actor: world.acme.actors.client_user,
            courseId,
            status: "published",
          }),
        )
      ).code,
    ).toBe("forbidden");
  });

  test("a course with enrollments cannot be deleted", async () => {
    const courseId = await makeCourse(t, world.acme);
    await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    expect(
      (await errorOf(t.mutation(internal.courses.remove, { actor: world.acme.actors.client_admin, courseId }))).code,
    ).toBe("conflict");
  });
});

describe(`at most ${MAX_COURSE_CATEGORIES} categories per course, on every path that adds one`, () => {
  const CAP = MAX_COURSE_CATEGORIES;
  /** `count` categories of acme (direct inserts). */
  async function makeCategories(count: number): Promise<Id<"categories">[]> {
    return t.run(async (ctx) => {
      const ids: Id<"categories">[] = [];
      for (let i = 0; i < count; i++)
        ids.push(
          await ctx.db.insert("categories", {
            clientId: world.acme.clientId,
            name: `Topic ${i}`,
            slug: `topic-${i}`,
            createdAt: i,
          }),
        );
      return ids;
    });
  }
  const admin = () => world.acme.actors.client_admin;
  const linksOf = (courseId: string) =>
    t.run((ctx) =>
      ctx.db
        .query("courseCategories")
        .withIndex("by_courseId_categoryId", (q) => q.eq("courseId", courseId as Id<"courses">))
        .collect(),
    );

  test("create takes the cap and refuses one more", async () => {
    const ids = await makeCategories(CAP + 1);
    const err = await errorOf(
      t.mutation(internal.courses.create, { actor: admin(), title: "Too wide", categoryIds: ids }),
    );
    expect(err).toMatchObject({ code: "validation", field: "categoryIds" });
    const course = await t.mutation(internal.courses.create, {
      actor: admin(),
      title: "Wide",
      categoryIds: ids.slice(0, CAP),
    });
    expect(await linksOf(course.id)).toHaveLength(CAP);
  });

  test("addCategory refuses a link beyond the cap, and takes one again once a link is gone", async () => {
    const ids = await makeCategories(CAP + 1);
    const course = await t.mutation(internal.courses.create, {
      actor: admin(),
      title: "Wide",
      categoryIds: ids.slice(0, CAP - 1),
    });
    expect(
      await t.mutation(internal.courses.addCategory, { actor: admin(), courseId: course.id, categoryId: ids[CAP - 1] }),
    ).toBeNull();
    const err = await errorOf(
      t.mutation(internal.courses.addCategory, { actor: admin(), courseId: course.id, categoryId: ids[CAP] }),
    );
    expect(err).toMatchObject({ code: "conflict", field: "categoryId" });
    expect(await linksOf(course.id)).toHaveLength(CAP);
    await t.mutation(internal.courses.removeCategory, { actor: admin(), courseId: course.id, categoryId: ids[0] });
    await t.mutation(internal.courses.addCategory, { actor: admin(), courseId: course.id, categoryId: ids[CAP] });
    expect(await linksOf(course.id)).toHaveLength(CAP);
  });

  test("listCategories lists every category of a full course, none cut off", async () => {
    const ids = await makeCategories(CAP);
    const course = await t.mutation(internal.courses.create, { actor: admin(), title: "Wide", categoryIds: ids });
    const listed = await t.query(internal.courses.listCategories, {
      actor: world.acme.actors.client_user,
      courseId: course.id,
    });
    expect(listed.map((c) => c.id).sort()).toEqual([...ids].sort());
  });

  test("remove deletes every category link of a full course", async () => {
    const course = await t.mutation(internal.courses.create, {
      actor: admin(),
      title: "Wide",
      categoryIds: await makeCategories(CAP),
    });
    await t.mutation(internal.courses.remove, { actor: admin(), courseId: course.id });
    expect(await linksOf(course.id)).toEqual([]);
  });
});

describe("enrollments", () => {
  test("a member enrols itself in a published course", async () => {
    const courseId = await makeCourse(t, world.acme);
    const enrollment = await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    expect(enrollment).toMatchObject({ status: "active", memberId: world.acme.memberIds.member });
  });

  test("not in a draft course", async () => {
    const courseId = await makeCourse(t, world.acme, { status: "draft" });
    expect(
      (await errorOf(t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId }))).code,
    ).toBe("not_found");
  });

  test("not twice while the first enrollment is active", async () => {
    const courseId = await makeCourse(t, world.acme);
    await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    expect(
      (await errorOf(t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId }))).code,
    ).toBe("already_enrolled");
  });

  test("a member withdraws its own enrollment but not another's", async () => {
    const courseId = await makeCourse(t, world.acme);
    const mine = await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    const theirs = await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member2, courseId });
    expect(
      (await t.mutation(internal.enrollments.withdraw, { actor: world.acme.actors.member, enrollmentId: mine.id }))
        .status,
    ).toBe("withdrawn");
    expect(
      (
        await errorOf(
          t.mutation(internal.enrollments.withdraw, { actor: world.acme.actors.member, enrollmentId: theirs.id }),
        )
      ).code,
    ).toBe("not_found");
  });

  test("staff enrol a member; client_admin removes any enrollment; client_user may not", async () => {
    const courseId = await makeCourse(t, world.acme);
    const enrollment = await t.mutation(internal.enrollments.enrolMember, {
      actor: world.acme.actors.client_user,
      courseId,
      memberId: world.acme.memberIds.member2,
    });
    expect(
      (
        await errorOf(
          t.mutation(internal.enrollments.withdraw, {
            actor: world.acme.actors.client_user,
            enrollmentId: enrollment.id,
          }),
        )
      ).code,
    ).toBe("forbidden");
    expect(
      (
        await t.mutation(internal.enrollments.withdraw, {
          actor: world.acme.actors.client_admin,
          enrollmentId: enrollment.id,
        })
      ).status,
    ).toBe("removed");
  });

  test("completion is idempotent and awards the course's CPD points exactly once", async () => {
    const courseId = await makeCourse(t, world.acme, { cpdPoints: 7 });
    const enrollment = await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    await t.mutation(internal.enrollments.complete, {
      actor: world.acme.actors.client_user,
      enrollmentId: enrollment.id,
    });
    const again = await t.mutation(internal.enrollments.complete, {
      actor: world.acme.actors.client_user,
      enrollmentId: enrollment.id,
    });
    expect(again).toMatchObject({ status: "completed", cpdPointsAwarded: 7 });
    const profile = await t.query(internal.members.getMine, { actor: world.acme.actors.member });
    expect(profile.cpdPoints).toBe(7);
  });

  test("a member cannot mark its own completion", async () => {
    const courseId = await makeCourse(t, world.acme);
    const enrollment = await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    expect(
      (
        await errorOf(
          t.mutation(internal.enrollments.complete, { actor: world.acme.actors.member, enrollmentId: enrollment.id }),
        )
      ).code,
    ).toBe("forbidden");
  });

  test("an enrollment of a deleted member leaves the course's list: no crash, and no enrollment of a member that does not exist", async () => {
    const courseId = await makeCourse(t, world.acme);
    const [leaver] = await makeMembers(t, world.acme, 1);
    const admin = world.acme.actors.client_admin;
    const gone = await t.mutation(internal.enrollments.enrolMember, { actor: admin, courseId, memberId: leaver });
    await t.mutation(internal.enrollments.withdraw, { actor: admin, enrollmentId: gone.id });
    await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    await t.mutation(internal.members.remove, { actor: admin, memberId: leaver });
    const list = await t.query(internal.enrollments.listForCourse, {
      actor: world.acme.actors.client_user,
      courseId,
      page,
    });
    expect(list.page.map((e) => e.member.email)).toEqual(["member@acme.test"]);
    expect((await errorOf(t.query(internal.enrollments.get, { actor: admin, enrollmentId: gone.id }))).code).toBe(
      "not_found",
    );
  });

  test("an enrollment whose member is missing is left out of the list rather than failing it", async () => {
    const courseId = await makeCourse(t, world.acme);
    const [orphan] = await makeMembers(t, world.acme, 1);
    await t.mutation(internal.enrollments.enrolMember, {
      actor: world.acme.actors.client_admin,
      courseId,
      memberId: orphan,
    });
    await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    await t.run((ctx) => ctx.db.delete(orphan));
    const list = await t.query(internal.enrollments.listForCourse, {
      actor: world.acme.actors.client_user,
      courseId,
      page,
    });
    expect(list.page.map((e) => e.member.email)).toEqual(["member@acme.test"]);
  });

  test("staff list a course's enrollments; members list their own", async () => {
    const courseId = await makeCourse(t, world.acme);
    await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member2, courseId });
    expect(
      (await t.query(internal.enrollments.listForCourse, { actor: world.acme.actors.client_user, courseId, page }))
        .page,
    ).toHaveLength(2);
    expect((await t.query(internal.enrollments.listMine, { actor: world.acme.actors.member, page })).page).toHaveLength(
      1,
    );
    expect(
      (await errorOf(t.query(internal.enrollments.listForCourse, { actor: world.acme.actors.member, courseId, page })))
        .code,
    ).toBe("forbidden");
  });
});
