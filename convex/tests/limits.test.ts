// Convex's per-transaction limits (https://docs.convex.dev/production/state/limits,
// "Transactions"), which convex-test enforces: functions that loop over an unbounded set of
// children do it in bounded batches, one transaction each, continued by the scheduler. Each
// is run here at its limit: under a budget of exactly what one batch needs.
import { convexTest } from "convex-test";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { CANCEL_BATCH } from "../events";
import { SWEEP_BATCH } from "../idempotency";
import { mustGet } from "../lib/db";
import { HISTORY_BATCH } from "../members";
import schema, { MAX_MEMBER_INTERESTS } from "../schema";
import { codeOf, errorOf, makeCourse, makeEvent, makeMembers, memberDocsLeft } from "./content.setup";
import { type Backend, type ClientWorld, modules, newBackend, seedWorld } from "./world.setup";

// Scheduled batches wait on timers; the tests run them with t.finishAllScheduledFunctions.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const OPEN = ["pending", "confirmed", "paid"] as const;
/** Open registrations of the big event: three full batches and one more. */
const MANY = 3 * CANCEL_BATCH + 1;

/**
 * `count` members of `client`, each with a registration for `eventId` (statuses taking turns
 * through `statuses`), written `chunk` at a time so a tight write budget holds for the set-up too.
 */
async function registerMany(
  t: Backend,
  client: ClientWorld,
  eventId: Id<"events">,
  count: number,
  statuses: readonly ("pending" | "confirmed" | "paid" | "checked_in")[] = OPEN,
  chunk = 50,
) {
  for (let start = 0; start < count; start += chunk) {
    await t.run(async (ctx) => {
      const now = Date.now();
      for (let i = start; i < Math.min(start + chunk, count); i++) {
        const memberId = await ctx.db.insert("memberProfiles", {
          clientId: client.clientId,
          firstName: `First${i}`,
          lastName: `Last${i}`,
          email: `attendee${i}-${eventId}@${client.slug}.example`,
          status: "active",
          cpdPoints: 0,
          searchName: `first${i} last${i}`,
          createdAt: now,
          updatedAt: now,
        });
        const status = statuses[i % statuses.length];
        await ctx.db.insert("eventRegistrations", {
          clientId: client.clientId,
          eventId,
          memberId,
          status,
          registeredAt: now,
          checkedInAt: status === "checked_in" ? now : undefined,
          updatedAt: now,
        });
      }
    });
  }
  await t.run(async (ctx) => {
    const event = await mustGet(ctx, eventId);
    await ctx.db.patch(eventId, { registeredCount: event.registeredCount + count });
  });
}

/** Whether any registration of the event is still pending, confirmed or paid (reads at most three). */
async function anyOpen(t: Backend, eventId: Id<"events">) {
  return t.run(async (ctx) => {
    for (const status of OPEN) {
      const reg = await ctx.db
        .query("eventRegistrations")
        .withIndex("by_eventId_status", (q) => q.eq("eventId", eventId).eq("status", status))
        .first();
      if (reg !== null) return true;
    }
    return false;
  });
}

async function scheduledJobs(t: Backend) {
  return t.run(async (ctx) =>
    (await ctx.db.system.query("_scheduled_functions").collect()).map((job) => ({
      name: job.name,
      state: job.state.kind,
    })),
  );
}

describe("cancelling an event with more open registrations than one batch", () => {
  let t: Backend;
  let acme: ClientWorld;
  let globex: ClientWorld;
  let eventId: Id<"events">;
  beforeEach(async () => {
    t = newBackend();
    ({ acme, globex } = await seedWorld(t));
    eventId = await makeEvent(t, acme);
    await registerMany(t, acme, eventId, MANY);
    await registerMany(t, acme, eventId, 1, ["checked_in"]);
  });

  test(`cancels all ${MANY} open registrations, ${CANCEL_BATCH} per transaction, keeps the checked-in one, and audits each batch`, async () => {
    const admin = acme.actors.client_admin;
    const event = await t.mutation(internal.events.setStatus, { actor: admin, eventId, status: "cancelled" });
    expect(event).toMatchObject({ status: "cancelled", registeredCount: MANY + 1 - CANCEL_BATCH });

    await t.finishAllScheduledFunctions(vi.runAllTimers);

    const regs = await t.run((ctx) =>
      ctx.db
        .query("eventRegistrations")
        .withIndex("by_eventId_status", (q) => q.eq("eventId", eventId))
        .collect(),
    );
    expect(regs.filter((r) => r.status === "cancelled" && r.cancelledAt !== undefined)).toHaveLength(MANY);
    expect(regs.filter((r) => r.status === "checked_in")).toHaveLength(1);
    expect((await t.query(internal.registrations.count, { actor: admin, eventId })).registered).toBe(1);
    // The first batch ran in setStatus; three continuations followed, the last one not full.
    expect(await scheduledJobs(t)).toEqual(
      Array(3).fill({ name: "events:cancelRegistrationsBatch", state: "success" }),
    );
    const history = await t.query(internal.audit.list, {
      actor: admin,
      page: { cursor: null },
      entityType: "event",
      entityId: eventId,
    });
    expect(history.page.map((e) => [e.action, e.after.cancelledRegistrations, e.actorUserId])).toEqual([
      ["event.cancelRegistrations", 1, admin.userId],
      ["event.cancelRegistrations", CANCEL_BATCH, admin.userId],
      ["event.cancelRegistrations", CANCEL_BATCH, admin.userId],
      ["event.cancel", CANCEL_BATCH, admin.userId],
    ]);
  });

  test("the event is cancelled at once: while batches are pending, nobody registers and no registration is checked in", async () => {
    await t.mutation(internal.events.setStatus, { actor: acme.actors.client_admin, eventId, status: "cancelled" });
    const err = await errorOf(
      t.mutation(internal.registrations.registerMember, {
        actor: acme.actors.client_admin,
        eventId,
        memberId: acme.memberIds.member,
      }),
    );
    expect(err.code).toBe("registration_closed");
    const waiting = await t.run(async (ctx) => {
      const paid = await ctx.db
        .query("eventRegistrations")
        .withIndex("by_eventId_status", (q) => q.eq("eventId", eventId).eq("status", "paid"))
        .first();
      if (paid === null) throw new Error("a paid registration should still be waiting for its batch");
      return paid;
    });
    expect(
      await codeOf(
        t.mutation(internal.registrations.checkIn, { actor: acme.actors.client_user, registrationId: waiting._id }),
      ),
    ).toBe("conflict");
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await anyOpen(t, eventId)).toBe(false);
  });

  test("a batch run twice (a duplicated job) cancels nothing twice and the count stays right", async () => {
    const admin = acme.actors.client_admin;
    await t.mutation(internal.events.setStatus, { actor: admin, eventId, status: "cancelled" });
    // A second chain beside the scheduled one: the two share out the registrations.
    expect(await t.mutation(internal.events.cancelRegistrationsBatch, { eventId, actor: admin })).toEqual({
      cancelled: CANCEL_BATCH,
      more: true,
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.mutation(internal.events.cancelRegistrationsBatch, { eventId, actor: admin })).toEqual({
      cancelled: 0,
      more: false,
    });
    expect(await anyOpen(t, eventId)).toBe(false);
    expect((await t.query(internal.registrations.count, { actor: admin, eventId })).registered).toBe(1);
    const history = await t.query(internal.audit.list, {
      actor: admin,
      page: { cursor: null },
      action: "event.cancelRegistrations",
    });
    expect(history.page.reduce((sum, e) => sum + e.after.cancelledRegistrations, CANCEL_BATCH)).toBe(MANY);
  });

  test("a batch for an event that is not cancelled, or in another client's name, does nothing", async () => {
    const admin = acme.actors.client_admin;
    expect(await t.mutation(internal.events.cancelRegistrationsBatch, { eventId, actor: admin })).toEqual({
      cancelled: 0,
      more: false,
    });
    expect(await anyOpen(t, eventId)).toBe(true);
    await t.mutation(internal.events.setStatus, { actor: admin, eventId, status: "cancelled" });
    expect(
      await t.mutation(internal.events.cancelRegistrationsBatch, { eventId, actor: globex.actors.client_admin }),
    ).toEqual({ cancelled: 0, more: false });
  });
});

describe(`one cancellation transaction fits a budget of one batch (${CANCEL_BATCH} registrations)`, () => {
  // Writes: the batch's registrations, the event, one audit record. Reads: each registration
  // twice (its index range, its patch), one more to know whether any remain, the actor's
  // documents (client, user, membership, member profile), the event read, patched and returned.
  // The registrations, the event and its audit record (this client has no webhook endpoints).
  const budget = { documentsWritten: CANCEL_BATCH + 2, documentsRead: 2 * CANCEL_BATCH + 8, functionsScheduled: 1 };

  test(`cancelling ${MANY} open registrations stays within ${budget.documentsWritten} documents written and ${budget.documentsRead} read per transaction`, async () => {
    const t = convexTest({ schema, modules, transactionLimits: budget });
    const { acme } = await seedWorld(t);
    const eventId = await makeEvent(t, acme);
    await registerMany(t, acme, eventId, MANY);
    await t.mutation(internal.events.setStatus, { actor: acme.actors.client_admin, eventId, status: "cancelled" });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await anyOpen(t, eventId)).toBe(false);
    expect((await scheduledJobs(t)).map((job) => job.state)).toEqual(["success", "success", "success"]);
    expect((await t.query(internal.registrations.count, { actor: acme.actors.client_admin, eventId })).registered).toBe(
      0,
    );
  });

  test("the budget bites: cancelling one batch and one more registration in one transaction is refused", async () => {
    const t = convexTest({ schema, modules, transactionLimits: budget });
    const { acme } = await seedWorld(t);
    const eventId = await makeEvent(t, acme);
    await registerMany(t, acme, eventId, CANCEL_BATCH + 3, ["confirmed"]);
    const cancelAll = t.run(async (ctx) => {
      const regs = await ctx.db
        .query("eventRegistrations")
        .withIndex("by_eventId_status", (q) => q.eq("eventId", eventId).eq("status", "confirmed"))
        .take(CANCEL_BATCH + 3);
      for (const reg of regs) await ctx.db.patch(reg._id, { status: "cancelled" });
    });
    await expect(cancelAll).rejects.toThrow(/too many documents/i);
  });
});

/**
 * A member of `client` with a full set of interests, `registrations` ended registrations and
 * `enrollments` ended enrollments (statuses taking turns), written `chunk` at a time.
 */
async function memberWithHistory(
  t: Backend,
  client: ClientWorld,
  registrations: number,
  enrollments: number,
  chunk = 50,
) {
  const [memberId] = await makeMembers(t, client, 1);
  const eventId = await makeEvent(t, client);
  const courseId = await makeCourse(t, client);
  await t.run(async (ctx) => {
    for (let i = 0; i < MAX_MEMBER_INTERESTS; i++) {
      const interestCategoryId = await ctx.db.insert("interestCategories", {
        clientId: client.clientId,
        name: `Interest ${i}`,
        createdAt: 0,
      });
      await ctx.db.insert("memberInterests", { clientId: client.clientId, memberId, interestCategoryId, createdAt: 0 });
    }
  });
  for (let start = 0; start < Math.max(registrations, enrollments); start += chunk) {
    await t.run(async (ctx) => {
      for (let i = start; i < start + chunk; i++) {
        if (i < registrations) {
          const status = (["cancelled", "refunded"] as const)[i % 2];
          await ctx.db.insert("eventRegistrations", {
            clientId: client.clientId,
            eventId,
            memberId,
            status,
            registeredAt: i,
            updatedAt: i,
          });
        }
        if (i < enrollments) {
          const status = (["completed", "withdrawn", "removed"] as const)[i % 3];
          await ctx.db.insert("courseEnrollments", {
            clientId: client.clientId,
            courseId,
            memberId,
            status,
            enrolledAt: i,
            updatedAt: i,
          });
        }
      }
    });
  }
  return memberId;
}

const historyLeft = (t: Backend, memberId: Id<"memberProfiles">) =>
  memberDocsLeft(t, memberId, ["eventRegistrations", "courseEnrollments"]);

describe(`deleting a member with more ended registrations and enrollments than one batch (${HISTORY_BATCH})`, () => {
  test(`deletes all of them, ${HISTORY_BATCH} per transaction, and audits each batch`, async () => {
    const t = newBackend();
    const { acme } = await seedWorld(t);
    const admin = acme.actors.client_admin;
    const memberId = await memberWithHistory(t, acme, HISTORY_BATCH + 1, HISTORY_BATCH);
    await t.mutation(internal.members.remove, { actor: admin, memberId });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await historyLeft(t, memberId)).toEqual({ eventRegistrations: 0, courseEnrollments: 0 });
    expect(await scheduledJobs(t)).toEqual(Array(2).fill({ name: "members:deleteHistoryBatch", state: "success" }));
    const history = await t.query(internal.audit.list, {
      actor: admin,
      page: { cursor: null },
      entityType: "member",
      entityId: memberId,
    });
    expect(history.page.map((e) => [e.action, e.after])).toEqual([
      ["member.deleteHistory", { deletedRegistrations: 0, deletedEnrollments: 1 }],
      ["member.deleteHistory", { deletedRegistrations: 1, deletedEnrollments: HISTORY_BATCH - 1, moreToDelete: true }],
      ["member.delete", { deletedRegistrations: HISTORY_BATCH, deletedEnrollments: 0, moreToDelete: true }],
    ]);
  });

  // Writes: the batch, a full set of interests, the member, one audit record. Reads: each of
  // those read twice (index range or get, then the delete), one more to know whether any
  // history remains, the actor's documents.
  const budget = {
    documentsWritten: HISTORY_BATCH + MAX_MEMBER_INTERESTS + 2,
    documentsRead: 2 * (HISTORY_BATCH + MAX_MEMBER_INTERESTS + 1) + 8,
    functionsScheduled: 1,
  };

  test(`each transaction stays within ${budget.documentsWritten} documents written and ${budget.documentsRead} read`, async () => {
    const t = convexTest({ schema, modules, transactionLimits: budget });
    const { acme } = await seedWorld(t);
    const memberId = await memberWithHistory(t, acme, HISTORY_BATCH + 1, HISTORY_BATCH);
    await t.mutation(internal.members.remove, { actor: acme.actors.client_admin, memberId });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await historyLeft(t, memberId)).toEqual({ eventRegistrations: 0, courseEnrollments: 0 });
  });

  test("the budget bites: deleting one batch and one more in one transaction is refused", async () => {
    const t = convexTest({ schema, modules, transactionLimits: budget });
    const { acme } = await seedWorld(t);
    const memberId = await memberWithHistory(t, acme, HISTORY_BATCH + MAX_MEMBER_INTERESTS + 3, 0);
    const deleteAll = t.run(async (ctx) => {
      const regs = await ctx.db
        .query("eventRegistrations")
        .withIndex("by_memberId_status", (q) => q.eq("memberId", memberId))
        .take(HISTORY_BATCH + MAX_MEMBER_INTERESTS + 3);
      for (const reg of regs) await ctx.db.delete(reg._id);
    });
    await expect(deleteAll).rejects.toThrow(/too many documents/i);
  });
});

describe(`sweeping expired idempotency keys, ${SWEEP_BATCH} per transaction`, () => {
  // The largest record the BFF stores: a 64 KiB body (MAX_STORED_BODY) under a 255-character key.
  const BODY = "x".repeat(64 * 1024);
  // One batch: each record read twice (index range, delete) at under 66 KiB, deleted once.
  const budget = {
    documentsWritten: SWEEP_BATCH,
    documentsRead: 2 * SWEEP_BATCH,
    bytesRead: SWEEP_BATCH * 2 * 66 * 1024,
    functionsScheduled: 1,
  };
  const EXPIRED = 3 * SWEEP_BATCH + 1;

  async function storeKeys(t: Backend, client: ClientWorld, count: number, expiresAt: number, prefix: string) {
    for (let start = 0; start < count; start += SWEEP_BATCH) {
      await t.run(async (ctx) => {
        for (let i = start; i < Math.min(start + SWEEP_BATCH, count); i++) {
          await ctx.db.insert("idempotencyKeys", {
            clientId: client.clientId,
            principal: `user:${client.actors.member.userId}`,
            key: `${prefix}-${i}-`.padEnd(255, "k"),
            requestHash: "h".repeat(64),
            state: "done",
            lockedUntil: 0,
            response: {
              status: 201,
              contentType: "application/json",
              body: BODY,
              location: `/v1/clients/${client.slug}/things/${i}`,
            },
            createdAt: 0,
            expiresAt,
          });
        }
      });
    }
  }

  test(`deletes all ${EXPIRED} expired records of the largest size within a budget of one batch, and keeps live ones`, async () => {
    const t = convexTest({ schema, modules, transactionLimits: budget });
    const { acme } = await seedWorld(t);
    await storeKeys(t, acme, EXPIRED, Date.now() - 1, "old");
    await storeKeys(t, acme, 3, Date.now() + 60_000, "live");
    expect(await t.mutation(internal.idempotency.sweep, {})).toBe(SWEEP_BATCH);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    // Full batches scheduled the next; the fourth, not full, stopped.
    expect(await scheduledJobs(t)).toEqual(Array(3).fill({ name: "idempotency:sweep", state: "success" }));
    const left = await t.run(async (ctx) =>
      (await ctx.db.query("idempotencyKeys").take(10)).map((r) => r.key.split("-")[0]),
    );
    expect(left).toEqual(["live", "live", "live"]);
  });

  test("the budget bites: deleting one batch and one more expired record in one transaction is refused", async () => {
    const t = convexTest({ schema, modules, transactionLimits: budget });
    const { acme } = await seedWorld(t);
    await storeKeys(t, acme, SWEEP_BATCH + 1, Date.now() - 1, "old");
    const deleteAll = t.run(async (ctx) => {
      const expired = await ctx.db
        .query("idempotencyKeys")
        .withIndex("by_expiresAt", (q) => q.lt("expiresAt", Date.now()))
        .take(SWEEP_BATCH + 1);
      for (const record of expired) await ctx.db.delete(record._id);
    });
    await expect(deleteAll).rejects.toThrow(/limit/i);
  });

  test("a smaller batch may be asked for, never a larger one", async () => {
    const t = newBackend();
    const { acme } = await seedWorld(t);
    await storeKeys(t, acme, SWEEP_BATCH + 5, Date.now() - 1, "old");
    expect(await t.mutation(internal.idempotency.sweep, { batchSize: 10 * SWEEP_BATCH })).toBe(SWEEP_BATCH);
    expect(await t.mutation(internal.idempotency.sweep, { batchSize: 2 })).toBe(2);
    expect(await t.mutation(internal.idempotency.sweep, { batchSize: 0 })).toBe(3);
  });
});
