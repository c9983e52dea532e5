// Course enrollments (a first-class table). A member enrols itself in a published
// course and withdraws; staff enrol members and mark completion (awarding CPD points
// exactly once); client_admin may remove any enrollment.
import { v } from "convex/values";
import type { Doc } from "./_generated/dataModel";
import { visibleCourse } from "./courses";
import { fail } from "./lib/errors";
import { clientMutation, clientQuery, type ClientMutationCtx, type ClientQueryCtx } from "./lib/functions";
import { memberSummary, ownProfile } from "./lib/members";
import { pageArgs, pageOf, pageOptions, toPage } from "./lib/pagination";
import { enrollmentStatus } from "./schema";

const enrollmentView = v.object({
  id: v.string(),
  courseId: v.string(),
  memberId: v.string(),
  status: enrollmentStatus,
  enrolledAt: v.number(),
  completedAt: v.optional(v.number()),
  cpdPointsAwarded: v.optional(v.number()),
});

function toView(doc: Doc<"courseEnrollments">) {
  return {
    id: doc._id,
    courseId: doc.courseId,
    memberId: doc.memberId,
    status: doc.status,
    enrolledAt: doc.enrolledAt,
    completedAt: doc.completedAt,
    cpdPointsAwarded: doc.cpdPointsAwarded,
  };
}

async function enrol(ctx: ClientMutationCtx, course: Doc<"courses">, member: Doc<"memberProfiles">) {
  if (course.status !== "published") fail("conflict", "Only a published course takes enrollments");
  if (member.status !== "active") fail("conflict", "Only an active member can be enrolled");
  const current = await ctx.db
    .query("courseEnrollments")
    .withIndex("by_courseId_memberId", (q) => q.eq("courseId", course._id).eq("memberId", member._id))
    .collect();
  if (current.some((e) => e.status === "active")) fail("already_enrolled", "The member is already enrolled in this course");
  const now = Date.now();
  const id = await ctx.db.insert("courseEnrollments", {
    clientId: ctx.actor.clientId,
    courseId: course._id,
    memberId: member._id,
    status: "active",
    enrolledAt: now,
    updatedAt: now,
  });
  await ctx.audit({ action: "enrollment.create", entityType: "enrollment", entityId: id, after: { courseId: course._id, memberId: member._id } });
  return toView((await ctx.db.get(id))!);
}

export const enrolSelf = clientMutation({
  capability: "enrollments.enrolSelf",
  args: { courseId: v.string() },
  returns: enrollmentView,
  handler: async (ctx, { courseId }) => enrol(ctx, await visibleCourse(ctx, courseId), await ownProfile(ctx)),
});

export const enrolMember = clientMutation({
  capability: "enrollments.enrolMember",
  args: { courseId: v.string(), memberId: v.string() },
  returns: enrollmentView,
  handler: async (ctx, { courseId, memberId }) =>
    enrol(ctx, await ctx.getOwned("courses", courseId, "course"), await ctx.getOwned("memberProfiles", memberId, "member")),
});

/** An enrollment the actor may see: staff any; a member only its own (others read as missing). */
async function visibleEnrollment(ctx: ClientQueryCtx, enrollmentId: string) {
  const enrollment = await ctx.getOwned("courseEnrollments", enrollmentId, "enrollment");
  if (!ctx.can("enrollments.list") && enrollment.memberId !== ctx.actor.memberId) {
    fail("not_found", "enrollment not found", { entity: "enrollment" });
  }
  return enrollment;
}

export const get = clientQuery({
  capability: ["enrollments.list", "enrollments.readOwn"],
  args: { enrollmentId: v.string() },
  returns: enrollmentView,
  handler: async (ctx, { enrollmentId }) => toView(await visibleEnrollment(ctx, enrollmentId)),
});

/** Withdraw: the member its own enrollment; client_admin any (recorded as removed). */
export const withdraw = clientMutation({
  capability: ["enrollments.withdrawOwn", "enrollments.remove"],
  args: { enrollmentId: v.string() },
  returns: enrollmentView,
  handler: async (ctx, { enrollmentId }) => {
    const enrollment = await ctx.getOwned("courseEnrollments", enrollmentId, "enrollment");
    const own = enrollment.memberId === ctx.actor.memberId;
    if (!own && !ctx.can("enrollments.remove")) fail("not_found", "enrollment not found", { entity: "enrollment" });
    if (enrollment.status !== "active") fail("invalid_transition", `An enrollment cannot go from ${enrollment.status} to withdrawn`, { from: enrollment.status, to: "withdrawn" });
    const status = own ? ("withdrawn" as const) : ("removed" as const);
    await ctx.db.patch(enrollment._id, { status, updatedAt: Date.now() });
    await ctx.audit({ action: `enrollment.${own ? "withdraw" : "remove"}`, entityType: "enrollment", entityId: enrollment._id, before: { status: enrollment.status }, after: { status } });
    return toView((await ctx.db.get(enrollment._id))!);
  },
});

/** Mark completed; idempotent: the course's CPD points are awarded exactly once. */
export const complete = clientMutation({
  capability: "enrollments.complete",
  args: { enrollmentId: v.string() },
  returns: enrollmentView,
  handler: async (ctx, { enrollmentId }) => {
    const enrollment = await ctx.getOwned("courseEnrollments", enrollmentId, "enrollment");
    if (enrollment.status === "completed") return toView(enrollment);
    if (enrollment.status !== "active") fail("invalid_transition", `An enrollment cannot go from ${enrollment.status} to completed`, { from: enrollment.status, to: "completed" });
    const course = (await ctx.db.get(enrollment.courseId))!;
    const member = (await ctx.db.get(enrollment.memberId))!;
    const now = Date.now();
    await ctx.db.patch(enrollment._id, { status: "completed", completedAt: now, cpdPointsAwarded: course.cpdPoints, updatedAt: now });
    await ctx.db.patch(member._id, { cpdPoints: member.cpdPoints + course.cpdPoints, updatedAt: now });
    await ctx.audit({ action: "enrollment.complete", entityType: "enrollment", entityId: enrollment._id, before: { status: "active", memberCpdPoints: member.cpdPoints }, after: { status: "completed", cpdPointsAwarded: course.cpdPoints } });
    return toView((await ctx.db.get(enrollment._id))!);
  },
});

export const listForCourse = clientQuery({
  capability: "enrollments.list",
  args: { courseId: v.string(), page: pageArgs, status: v.optional(enrollmentStatus) },
  returns: pageOf(v.object({ ...enrollmentView.fields, member: v.object({ id: v.string(), firstName: v.string(), lastName: v.string(), email: v.string() }) })),
  handler: async (ctx, { courseId, page, status }) => {
    const course = await ctx.getOwned("courses", courseId, "course");
    const result = await ctx.db
      .query("courseEnrollments")
      .withIndex("by_courseId_status", (q) => (status === undefined ? q.eq("courseId", course._id) : q.eq("courseId", course._id).eq("status", status)))
      .paginate(pageOptions(page));
    const members = await Promise.all(result.page.map((e) => ctx.db.get(e.memberId)));
    return { ...toPage(result, toView), page: result.page.map((e, i) => ({ ...toView(e), member: memberSummary(members[i]!) })) };
  },
});

export const listMine = clientQuery({
  capability: "enrollments.readOwn",
  args: { page: pageArgs, status: v.optional(enrollmentStatus) },
  returns: pageOf(enrollmentView),
  handler: async (ctx, { page, status }) => {
    const member = await ownProfile(ctx);
    const result = await ctx.db
      .query("courseEnrollments")
      .withIndex("by_memberId_status", (q) => (status === undefined ? q.eq("memberId", member._id) : q.eq("memberId", member._id).eq("status", status)))
      .paginate(pageOptions(page));
    return toPage(result, toView);
  },
});
