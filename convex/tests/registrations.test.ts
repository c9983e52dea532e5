// Event registrations and the event rules they depend on.
import { describe, expect } from "vitest";
import { internal } from "../_generated/api";
import { codeOf, errorOf, makeEvent, makeMembers } from "./content.setup";
import { type Backend, type ClientWorld, test, type UserActor } from "./world.setup";

const page = { cursor: null };

/** `actor`, a member, registers itself for the event. */
const registerSelf = (t: Backend, actor: UserActor, eventId: string) =>
  t.mutation(internal.registrations.registerSelf, { actor, eventId });

/** `actor`, staff, registers the member for the event. */
const registerMember = (t: Backend, actor: UserActor, eventId: string, memberId: string) =>
  t.mutation(internal.registrations.registerMember, { actor, eventId, memberId });

/** A published event of acme, and `who`'s own registration for it. */
async function registration(t: Backend, acme: ClientWorld, who: "member" | "member2" = "member") {
  return registerSelf(t, acme.actors[who], await makeEvent(t, acme));
}

describe("a member registers itself", () => {
  test("for a published event inside its window", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme, { opensInDays: -1, closesInDays: 5 });
    const reg = await registerSelf(t, world.acme.actors.member, eventId);
    expect(reg.status).toBe("confirmed");
    expect(reg.memberId).toBe(world.acme.memberIds.member);
  });

  test("not for a draft event (which it cannot even see)", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme, { status: "draft" });
    expect(await codeOf(registerSelf(t, world.acme.actors.member, eventId))).toBe("not_found");
  });

  test("not before the window opens", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme, { opensInDays: 2, closesInDays: 5 });
    expect(await codeOf(registerSelf(t, world.acme.actors.member, eventId))).toBe("registration_closed");
  });

  test("not after the window closes", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme, { opensInDays: -5, closesInDays: -1 });
    expect(await codeOf(registerSelf(t, world.acme.actors.member, eventId))).toBe("registration_closed");
  });

  test("not twice for the same event", async ({ t, world }) => {
    const { eventId } = await registration(t, world.acme);
    expect(await codeOf(registerSelf(t, world.acme.actors.member, eventId))).toBe("already_registered");
  });

  test("again after cancelling its registration", async ({ t, world }) => {
    const member = world.acme.actors.member;
    const first = await registration(t, world.acme);
    await t.mutation(internal.registrations.cancel, { actor: member, registrationId: first.id });
    expect((await registerSelf(t, member, first.eventId)).status).toBe("confirmed");
  });

  test("staff cannot register themselves (registerSelf is a member capability)", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme);
    expect(await codeOf(registerSelf(t, world.acme.actors.client_user, eventId))).toBe("forbidden");
  });
});

describe("capacity", () => {
  test("is never exceeded: the registration after the last place gets capacity_full", async ({ t, world }) => {
    const staff = world.acme.actors.client_user;
    const eventId = await makeEvent(t, world.acme, { capacity: 3 });
    const members = await makeMembers(t, world.acme, 4);
    for (const memberId of members.slice(0, 3)) await registerMember(t, staff, eventId, memberId);
    expect(await codeOf(registerMember(t, staff, eventId, members[3]))).toBe("capacity_full");
    const count = await t.query(internal.registrations.count, { actor: world.acme.actors.member, eventId });
    expect(count).toEqual({ eventId, registered: 3, capacity: 3, placesLeft: 0 });
  });

  test("holds under concurrent registrations", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme, { capacity: 5 });
    const members = await makeMembers(t, world.acme, 12);
    const results = await Promise.allSettled(
      members.map((memberId) => registerMember(t, world.acme.actors.client_user, eventId, memberId)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    const active = await t.run((ctx) =>
      ctx.db
        .query("eventRegistrations")
        .withIndex("by_eventId_status", (q) => q.eq("eventId", eventId).eq("status", "confirmed"))
        .collect(),
    );
    expect(active).toHaveLength(5);
  });

  test("a cancellation frees a place", async ({ t, world }) => {
    const { member, member2 } = world.acme.actors;
    const eventId = await makeEvent(t, world.acme, { capacity: 1 });
    const reg = await registerSelf(t, member, eventId);
    await t.mutation(internal.registrations.cancel, { actor: member, registrationId: reg.id });
    expect((await registerSelf(t, member2, eventId)).status).toBe("confirmed");
  });
});

describe("staff", () => {
  test("register a member on its behalf", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme);
    const reg = await registerMember(t, world.acme.actors.client_user, eventId, world.acme.memberIds.member2);
    expect(reg.memberId).toBe(world.acme.memberIds.member2);
  });

  test("cannot register a member of another client (reads as missing)", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme);
    const foreign = registerMember(t, world.acme.actors.client_user, eventId, world.globex.memberIds.member);
    expect(await errorOf(foreign)).toMatchObject({ code: "not_found", entity: "member" });
  });

  test("list an event's registrations with registrants", async ({ t, world }) => {
    const { eventId } = await registration(t, world.acme);
    const list = await t.query(internal.registrations.listForEvent, {
      actor: world.acme.actors.client_user,
      eventId,
      page,
    });
    expect(list.page[0].member.email).toBe("member@acme.test");
  });

  test("check in a confirmed registration, once", async ({ t, world }) => {
    const reg = await registration(t, world.acme);
    const checkIn = () =>
      t.mutation(internal.registrations.checkIn, { actor: world.acme.actors.client_user, registrationId: reg.id });
    expect((await checkIn()).status).toBe("checked_in");
    expect(await codeOf(checkIn())).toBe("invalid_transition");
  });

  test("cannot check in a cancelled registration", async ({ t, world }) => {
    const { member, client_user: staff } = world.acme.actors;
    const reg = await registration(t, world.acme);
    await t.mutation(internal.registrations.cancel, { actor: member, registrationId: reg.id });
    const checkIn = t.mutation(internal.registrations.checkIn, { actor: staff, registrationId: reg.id });
    expect(await codeOf(checkIn)).toBe("invalid_transition");
  });

  test("a client_user may not cancel another member's registration", async ({ t, world }) => {
    const reg = await registration(t, world.acme);
    const actor = world.acme.actors.client_user;
    expect(await codeOf(t.mutation(internal.registrations.cancel, { actor, registrationId: reg.id }))).toBe(
      "forbidden",
    );
  });

  test("a client_admin cancels any registration", async ({ t, world }) => {
    const reg = await registration(t, world.acme);
    const actor = world.acme.actors.client_admin;
    expect((await t.mutation(internal.registrations.cancel, { actor, registrationId: reg.id })).status).toBe(
      "cancelled",
    );
  });

  test("a client_admin refunds a paid registration and the record says who", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    const reg = await registration(t, world.acme);
    await t.run((ctx) => ctx.db.patch(reg.id as never, { status: "paid" }));
    const refunded = await t.mutation(internal.registrations.refund, { actor: admin, registrationId: reg.id });
    expect(refunded.status).toBe("refunded");
    expect(refunded.refundedBy).toBe(`user:${admin.userId}`);
    const audit = await t.run((ctx) =>
      ctx.db
        .query("auditLogs")
        .withIndex("by_clientId_action_at", (q) =>
          q.eq("clientId", world.acme.clientId).eq("action", "registration.refund"),
        )
        .collect(),
    );
    expect(audit[0].actorUserId).toBe(admin.userId);
  });

  test("a client_user may not refund", async ({ t, world }) => {
    const reg = await registration(t, world.acme);
    const actor = world.acme.actors.client_user;
    expect(await codeOf(t.mutation(internal.registrations.refund, { actor, registrationId: reg.id }))).toBe(
      "forbidden",
    );
  });
});

describe("members and sponsors see only what is theirs", () => {
  test("a member cannot read another member's registration", async ({ t, world }) => {
    const reg = await registration(t, world.acme, "member2");
    const actor = world.acme.actors.member;
    expect(await codeOf(t.query(internal.registrations.get, { actor, registrationId: reg.id }))).toBe("not_found");
  });

  test("a member cannot cancel another member's registration", async ({ t, world }) => {
    const reg = await registration(t, world.acme, "member2");
    const actor = world.acme.actors.member;
    expect(await codeOf(t.mutation(internal.registrations.cancel, { actor, registrationId: reg.id }))).toBe(
      "not_found",
    );
  });

  test("a member lists its own registrations", async ({ t, world }) => {
    const { member, member2 } = world.acme.actors;
    const { eventId } = await registration(t, world.acme);
    await registerSelf(t, member2, eventId);
    const mine = await t.query(internal.registrations.listMine, { actor: member, page });
    expect(mine.page.map((r) => r.memberId)).toEqual([world.acme.memberIds.member]);
  });

  test("sponsor roles see a backed event's count but never its registrants", async ({ t, world }) => {
    const { sponsor_admin, sponsor_user } = world.acme.actors;
    const { eventId } = await registration(t, world.acme);
    expect((await t.query(internal.registrations.count, { actor: sponsor_user, eventId })).registered).toBe(1);
    for (const actor of [sponsor_admin, sponsor_user]) {
      expect(await codeOf(t.query(internal.registrations.listForEvent, { actor, eventId, page }))).toBe("forbidden");
    }
  });
});

describe("cancelling an event", () => {
  test("cancels its open registrations and frees their places", async ({ t, world }) => {
    const { member, member2, client_admin: admin } = world.acme.actors;
    const eventId = await makeEvent(t, world.acme, { capacity: 10 });
    await registerSelf(t, member, eventId);
    await registerSelf(t, member2, eventId);
    const event = await t.mutation(internal.events.setStatus, { actor: admin, eventId, status: "cancelled" });
    expect(event.registeredCount).toBe(0);
    const regs = await t.run((ctx) =>
      ctx.db
        .query("eventRegistrations")
        .withIndex("by_eventId_status", (q) => q.eq("eventId", eventId))
        .collect(),
    );
    expect(regs.map((r) => r.status)).toEqual(["cancelled", "cancelled"]);
  });
});
