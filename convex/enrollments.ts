// Course enrollments (a first-class table). A member enrols itself in a published
// course and withdraws; staff enrol members and mark completion (awarding CPD points
// exactly once); client_admin may remove any enrollment.
import { v } from "convex/values";
import type { Doc } from "./_generated/dataModel";
import { visibleCourse } from "./courses";
import { byParent, mustGet } from "./lib/db";
import { fail } from "./lib/errors";
import { type ClientMutationCtx, clientMutation, clientQuery, requireOwnerOrStaff } from "./lib/functions";
import { getForOwnerOrStaff, memberSummary, ownProfile, withMembers } from "./lib/members";
import { pageArgs, paged, pagedWith, pageOf } from "./lib/pagination";
import { getQuery } from "./lib/reads";
import { changeStatus, requireTransition } from "./lib/transitions";
import { viewOf } from "./lib/views";
import { enrollmentStatus } from "./schema";

const enrollmentView = viewOf("courseEnrollments", { omit: ["clientId", "updatedAt"] });

async function enrol(ctx: ClientMutationCtx, course: Doc<"courses">, member: Doc<"memberProfiles">) {
  if (course.status !== "published") fail("conflict", "Only a published course takes enrollments");
  if (member.status !== "active") fail("conflict", "Only an active member can be enrolled");
  const current = await ctx.db
    .query("courseEnrollments")
    .withIndex("by_courseId_memberId", (q) => q.eq("courseId", course._id).eq("memberId", member._id))
    .collect();
  if (current.some((e) => e.status === "active"))
    fail("already_enrolled", "The member is already enrolled in this course");
  const now = Date.now();
  const id = await ctx.db.insert("courseEnrollments", {
    clientId: ctx.actor.clientId,
    courseId: course._id,
    memberId: member._id,
    status: "active",
    enrolledAt: now,
    updatedAt: now,
  });
  await ctx.audit("enrollment.create", id, { after: { courseId: course._id, memberId: member._id } });
  return enrollmentView.of(await mustGet(ctx, id));
}

export const enrolSelf = clientMutation({
  capability: "enrollments.enrolSelf",
  emits: "enrollment.created",
  args: { courseId: v.string() },
  returns: enrollmentView.validator,
  handler: async (ctx, { courseId }) => enrol(ctx, await visibleCourse(ctx, courseId), await ownProfile(ctx)),
});

export const enrolMember = clientMutation({
  capability: "enrollments.enrolMember",
  emits: "enrollment.created",
  args: { courseId: v.string(), memberId: v.string() },
  returns: enrollmentView.validator,
  handler: async (ctx, { courseId, memberId }) =>
    enrol(ctx, await ctx.getOwned("courses", courseId), await ctx.getOwned("memberProfiles", memberId)),
});

export const get = getQuery(["enrollments.list", "enrollments.readOwn"], enrollmentView, "enrollmentId", (ctx, id) =>
  getForOwnerOrStaff(ctx, "courseEnrollments", id, "enrollments.list"),
);

/** Withdraw: the member its own enrollment; client_admin any (recorded as removed). */
export const withdraw = clientMutation({
  capability: ["enrollments.withdrawOwn", "enrollments.remove"],
  args: { enrollmentId: v.string() },
  returns: enrollmentView.validator,
  handler: async (ctx, { enrollmentId }) => {
    const enrollment = await ctx.getOwned("courseEnrollments", enrollmentId);
    const by = requireOwnerOrStaff(ctx, { memberId: enrollment.memberId }, "enrollments.remove", "courseEnrollments");
    const [status, action] =
      by === "owner" ? (["withdrawn", "enrollment.withdraw"] as const) : (["removed", "enrollment.remove"] as const);
    return enrollmentView.of(await changeStatus(ctx, "courseEnrollments", enrollment, status, action));
  },
});

/**
 * Mark completed; idempotent. The course's CPD points are awarded once per member and course,
 * ever: a refresher (enrolling again after completing) completes with 0 points.
 */
export const complete = clientMutation({
  capability: "enrollments.complete",
  // Only when it completes: completing a completed enrollment changes nothing and reports nothing.
  emits: "enrollment.completed",
  args: { enrollmentId: v.string() },
  returns: enrollmentView.validator,
  handler: async (ctx, { enrollmentId }) => {
    const enrollment = await ctx.getOwned("courseEnrollments", enrollmentId);
    if (enrollment.status === "completed") return enrollmentView.of(enrollment);
    requireTransition("courseEnrollments", enrollment.status, "completed");
    const course = await mustGet(ctx, enrollment.courseId);
    const member = await mustGet(ctx, enrollment.memberId);
    // One member's enrollments in one course: a handful, however many refreshers.
    const earlier = await ctx.db
      .query("courseEnrollments")
      .withIndex("by_courseId_memberId", (q) => q.eq("courseId", course._id).eq("memberId", member._id))
      .collect();
    const refresher = earlier.some((e) => e._id !== enrollment._id && e.status === "completed");
    const points = refresher ? 0 : course.cpdPoints;
    const now = Date.now();
    await ctx.db.patch(enrollment._id, {
      status: "completed",
      completedAt: now,
      cpdPointsAwarded: points,
      updatedAt: now,
    });
    if (points > 0) await ctx.db.patch(member._id, { cpdPoints: member.cpdPoints + points, updatedAt: now });
    await ctx.audit("enrollment.complete", enrollment._id, {
      before: { status: "active", memberCpdPoints: member.cpdPoints },
      after: { status: "completed", cpdPointsAwarded: points, ...(refresher && { refresher: true }) },
    });
    return enrollmentView.of(await mustGet(ctx, enrollment._id));
  },
});

export const listForCourse = clientQuery({
  capability: "enrollments.list",
  args: { courseId: v.string(), page: pageArgs, status: v.optional(enrollmentStatus) },
  returns: pageOf(enrollmentView.validator.extend({ member: memberSummary.validator })),
  handler: async (ctx, { courseId, page, status }) => {
    const course = await ctx.getOwned("courses", courseId);
    const query = byParent(ctx, "courseEnrollments", "courseId", course._id, status);
    return pagedWith(query, page, (enrollments) => withMembers(ctx, enrollments, enrollmentView.of));
  },
});

export const listMine = clientQuery({
  capability: "enrollments.readOwn",
  args: { page: pageArgs, status: v.optional(enrollmentStatus) },
  returns: pageOf(enrollmentView.validator),
  handler: async (ctx, { page, status }) => {
    const member = await ownProfile(ctx);
    return paged(byParent(ctx, "courseEnrollments", "memberId", member._id, status), page, enrollmentView.of);
  },
});
