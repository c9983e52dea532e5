// Courses and their categories (courseCategories join table).
// Everyone in the client reads published courses; drafts and archived ones only staff.
import { v } from "convex/values";
import { partial } from "convex-helpers/validators";
import type { Doc, Id } from "./_generated/dataModel";
import { byParent, inClient, mustGet } from "./lib/db";
import { fail } from "./lib/errors";
import { type ClientQueryCtx, clientMutation, clientQuery, notFound } from "./lib/functions";
import { LIMITS, TEXT_MAX } from "./lib/limits";
import { COURSE_CATEGORIES, childrenQuery, deleteMutation, linkMutation } from "./lib/links";
import { pageArgs, paged, pageOf } from "./lib/pagination";
import { getQuery } from "./lib/reads";
import { changeStatus } from "./lib/transitions";
import { optionalText, required, text, wholeNumber } from "./lib/validate";
import { viewOf } from "./lib/views";
import { MAX_COURSE_CATEGORIES, publicationStatus } from "./schema";

const courseView = viewOf("courses", { omit: ["clientId"] });
/** A category as a course lists it. */
const courseCategoryView = viewOf("categories", { pick: ["name", "slug"] });

/** A course the actor may see: unpublished ones read as missing to non-staff. */
export async function visibleCourse(ctx: ClientQueryCtx, courseId: string): Promise<Doc<"courses">> {
  const course = await ctx.getOwned("courses", courseId);
  if (course.status !== "published" && !ctx.can("courses.readUnpublished")) notFound("courses");
  return course;
}

export const list = clientQuery({
  capability: "courses.read",
  args: { page: pageArgs, status: v.optional(publicationStatus) },
  returns: pageOf(courseView.validator),
  handler: async (ctx, { page, status }) => {
    const wanted = status ?? (ctx.can("courses.readUnpublished") ? undefined : "published");
    if (wanted !== undefined && wanted !== "published" && !ctx.can("courses.readUnpublished")) {
      fail("forbidden", "Only staff see unpublished courses", { capability: "courses.readUnpublished" });
    }
    return paged(inClient(ctx, "courses", "createdAt", { status: wanted }).order("desc"), page, courseView.of);
  },
});

export const get = getQuery("courses.read", courseView, "courseId", visibleCourse);

/** A course's own fields, as create takes them; update takes any of them. */
const courseFields = {
  title: v.string(),
  description: v.optional(v.string()),
  cpdPoints: v.optional(v.number()),
  startAt: v.optional(v.number()),
};

function checkedFields(args: { title?: string; description?: string; cpdPoints?: number; startAt?: number }) {
  return {
    ...(args.title !== undefined && { title: text("title", args.title, TEXT_MAX.title) }),
    ...(args.description !== undefined && {
      description: optionalText("description", args.description, TEXT_MAX.description),
    }),
    ...(args.cpdPoints !== undefined && {
      cpdPoints: wholeNumber("cpdPoints", args.cpdPoints, LIMITS.courseCpdPoints.min, LIMITS.courseCpdPoints.max),
    }),
    ...(args.startAt !== undefined && { startAt: wholeNumber("startAt", args.startAt, 0, LIMITS.maxEpochMs) }),
  };
}

export const create = clientMutation({
  capability: "courses.create",
  args: { ...courseFields, categoryIds: v.optional(v.array(v.string())) },
  returns: courseView.validator,
  handler: async (ctx, args) => {
    const now = Date.now();
    const fields = checkedFields(args);
    const categoryIds = await ownedCategories(ctx, args.categoryIds ?? []);
    const id = await ctx.db.insert("courses", {
      clientId: ctx.actor.clientId,
      title: required("title", fields.title),
      description: fields.description,
      cpdPoints: fields.cpdPoints ?? 0,
      startAt: fields.startAt,
      status: "draft",
      createdAt: now,
      updatedAt: now,
    });
    for (const categoryId of categoryIds) {
      await ctx.db.insert("courseCategories", { clientId: ctx.actor.clientId, courseId: id, categoryId });
    }
    await ctx.audit("course.create", id, { after: { ...fields, categoryIds } });
    return courseView.of(await mustGet(ctx, id));
  },
});

export const update = clientMutation({
  capability: "courses.update",
  args: { courseId: v.string(), ...partial(courseFields) },
  returns: courseView.validator,
  handler: async (ctx, { courseId, ...changes }) => {
    const course = await ctx.getOwned("courses", courseId);
    const fields = checkedFields(changes);
    const before = Object.fromEntries(Object.keys(fields).map((k) => [k, course[k as keyof typeof course]]));
    await ctx.db.patch(course._id, { ...fields, updatedAt: Date.now() });
    await ctx.audit("course.update", course._id, { before, after: fields });
    return courseView.of(await mustGet(ctx, course._id));
  },
});

export const setStatus = clientMutation({
  capability: "courses.publish",
  emits: ({ status }: { status: string }) => (status === "published" ? "course.published" : undefined),
  args: { courseId: v.string(), status: publicationStatus },
  returns: courseView.validator,
  handler: async (ctx, { courseId, status }) => {
    const course = await ctx.getOwned("courses", courseId);
    const action = `course.${status === "published" ? "publish" : "archive"}` as const;
    return courseView.of(await changeStatus(ctx, "courses", course, status, action));
  },
});

export const remove = deleteMutation("courses.delete", "courses", "courseId", (ctx, course) => ({
  usedBy: byParent(ctx, "courseEnrollments", "courseId", course._id),
  refusal: "A course with enrollments cannot be deleted; archive it instead",
  before: { title: course.title, status: course.status },
  links: COURSE_CATEGORIES,
}));

/** All categories of a course: at most MAX_COURSE_CATEGORIES, so one unpaged list. */
export const listCategories = childrenQuery("courses.read", COURSE_CATEGORIES, courseCategoryView, visibleCourse);

export const addCategory = linkMutation("add", COURSE_CATEGORIES, "courses.update");

export const removeCategory = linkMutation("remove", COURSE_CATEGORIES, "courses.update");

async function ownedCategories(ctx: ClientQueryCtx, ids: string[]): Promise<Id<"categories">[]> {
  if (ids.length > MAX_COURSE_CATEGORIES) fail("validation", COURSE_CATEGORIES.full, { field: "categoryIds" });
  const unique = [...new Set(ids)];
  return Promise.all(unique.map(async (id) => (await ctx.getOwned("categories", id))._id));
}
