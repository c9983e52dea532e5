// Event registrations and the event rules they depend on.
import { beforeEach, describe, expect, test } from "vitest";
import { internal } from "../_generated/api";
import { errorOf, makeEvent, makeMembers } from "./content.setup";
import { type Backend, newBackend, seedWorld, type World } from "./world.setup";

let t: Backend;
let world: World;
beforeEach(async () => {
  t = newBackend();
  world = await seedWorld(t);
});

const page = { cursor: null };

describe("a member registers itself", () => {
  test("for a published event inside its window", async () => {
    const eventId = await makeEvent(t, world.acme, { opensInDays: -1, closesInDays: 5 });
    const reg = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    expect(reg.status).toBe("confirmed");
    expect(reg.memberId).toBe(world.acme.memberIds.member);
  });

  test("not for a draft event (which it cannot even see)", async () => {
    const eventId = await makeEvent(t, world.acme, { status: "draft" });
    expect(
      (await errorOf(t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId })))
        .code,
    ).toBe("not_found");
  });

  test("not before the window opens", async () => {
    const eventId = await makeEvent(t, world.acme, { opensInDays: 2, closesInDays: 5 });
    expect(
      (await errorOf(t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId })))
        .code,
    ).toBe("registration_closed");
  });

  test("not after the window closes", async () => {
    const eventId = await makeEvent(t, world.acme, { opensInDays: -5, closesInDays: -1 });
    expect(
      (await errorOf(t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId })))
        .code,
    ).toBe("registration_closed");
  });

  test("not twice for the same event", async () => {
    const eventId = await makeEvent(t, world.acme);
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    expect(
      (await errorOf(t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId })))
        .code,
    ).toBe("already_registered");
  });

  test("again after cancelling its registration", async () => {
    const eventId = await makeEvent(t, world.acme);
    const first = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    await t.mutation(internal.registrations.cancel, { actor: world.acme.actors.member, registrationId: first.id });
    const again = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    expect(again.status).toBe("confirmed");
  });

  test("staff cannot register themselves (registerSelf is a member capability)", async () => {
    const eventId = await makeEvent(t, world.acme);
    expect(
      (
        await errorOf(
          t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.client_user, eventId }),
        )
      ).code,
    ).toBe("forbidden");
  });
});

describe("capacity", () => {
  test("is never exceeded: the registration after the last place gets capacity_full", async () => {
    const eventId = await makeEvent(t, world.acme, { capacity: 3 });
    const members = await makeMembers(t, world.acme, 4);
    for (const memberId of members.slice(0, 3)) {
      await t.mutation(internal.registrations.registerMember, {
        actor: world.acme.actors.client_user,
        eventId,
        memberId,
      });
    }
    const full = await errorOf(
      t.mutation(internal.registrations.registerMember, {
        actor: world.acme.actors.client_user,
        eventId,
        memberId: members[3],
      }),
    );
    expect(full.code).toBe("capacity_full");
    const count = await t.query(internal.registrations.count, { actor: world.acme.actors.member, eventId });
    expect(count).toEqual({ eventId, registered: 3, capacity: 3, placesLeft: 0 });
  });

  test("holds under concurrent registrations", async () => {
    const eventId = await makeEvent(t, world.acme, { capacity: 5 });
    const members = await makeMembers(t, world.acme, 12);
    const results = await Promise.allSettled(
      members.map((memberId) =>
        t.mutation(internal.registrations.registerMember, { actor: world.acme.actors.client_user, eventId, memberId }),
      ),
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

  test("a cancellation frees a place", async () => {
    const eventId = await makeEvent(t, world.acme, { capacity: 1 });
    const reg = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    await t.mutation(internal.registrations.cancel, { actor: world.acme.actors.member, registrationId: reg.id });
    const next = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member2, eventId });
    expect(next.status).toBe("confirmed");
  });
});

describe("staff", () => {
  test("register a member on its behalf", async () => {
    const eventId = await makeEvent(t, world.acme);
    const reg = await t.mutation(internal.registrations.registerMember, {
      actor: world.acme.actors.client_user,
      eventId,
      memberId: world.acme.memberIds.member2,
    });
    expect(reg.memberId).toBe(world.acme.memberIds.member2);
  });

  test("cannot register a member of another client (reads as missing)", async () => {
    const eventId = await makeEvent(t, world.acme);
    const err = await errorOf(
      t.mutation(internal.registrations.registerMember, {
        actor: world.acme.actors.client_user,
        eventId,
        memberId: world.globex.memberIds.member,
      }),
    );
    expect(err).toMatchObject({ code: "not_found", entity: "member" });
  });

  test("list an event's registrations with registrants", async () => {
    const eventId = await makeEvent(t, world.acme);
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    const list = await t.query(internal.registrations.listForEvent, {
      actor: world.acme.actors.client_user,
      eventId,
      page,
    });
    expect(list.page[0].member.email).toBe("member@acme.test");
  });

  test("a registration of a deleted member leaves the event's list: no crash, and no registration of a member that does not exist", async () => {
    const eventId = await makeEvent(t, world.acme);
    const [leaver] = await makeMembers(t, world.acme, 1);
    const admin = world.acme.actors.client_admin;
    const gone = await t.mutation(internal.registrations.registerMember, { actor: admin, eventId, memberId: leaver });
    await t.mutation(internal.registrations.cancel, { actor: admin, registrationId: gone.id });
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    await t.mutation(internal.members.remove, { actor: admin, memberId: leaver });
    for (const status of [undefined, "cancelled"] as const) {
      const list = await t.query(internal.registrations.listForEvent, {
        actor: world.acme.actors.client_user,
        eventId,
        page,
        status,
      });
      expect(list.page.map((r) => r.member.email)).toEqual(status === undefined ? ["member@acme.test"] : []);
    }
    expect((await errorOf(t.query(internal.registrations.get, { actor: admin, registrationId: gone.id }))).code).toBe(
      "not_found",
    );
  });

  test("a registration whose member is missing is left out of the list rather than failing it", async () => {
    const eventId = await makeEvent(t, world.acme);
    const [orphan] = await makeMembers(t, world.acme, 1);
    await t.mutation(internal.registrations.registerMember, {
      actor: world.acme.actors.client_admin,
      eventId,
      memberId: orphan,
    });
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    await t.run((ctx) => ctx.db.delete(orphan));
    const list = await t.query(internal.registrations.listForEvent, {
      actor: world.acme.actors.client_user,
      eventId,
      page,
    });
    expect(list.page.map((r) => r.member.email)).toEqual(["member@acme.test"]);
  });

  test("check in a confirmed registration, once", async () => {
    const eventId = await makeEvent(t, world.acme);
    const reg = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    const checked = await t.mutation(internal.registrations.checkIn, {
      actor: world.acme.actors.client_user,
      registrationId: reg.id,
    });
    expect(checked.status).toBe("checked_in");
    expect(
      (
        await errorOf(
          t.mutation(internal.registrations.checkIn, { actor: world.acme.actors.client_user, registrationId: reg.id }),
        )
      ).code,
    ).toBe("invalid_transition");
  });

  test("cannot check in a cancelled registration", async () => {
    const eventId = await makeEvent(t, world.acme);
    const reg = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    await t.mutation(internal.registrations.cancel, { actor: world.acme.actors.member, registrationId: reg.id });
    expect(
      (
        await errorOf(
          t.mutation(internal.registrations.checkIn, { actor: world.acme.actors.client_user, registrationId: reg.id }),
        )
      ).code,
    ).toBe("invalid_transition");
  });

  test("a client_user may not cancel another member's registration", async () => {
    const eventId = await makeEvent(t, world.acme);
    const reg = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    expect(
      (
        await errorOf(
          t.mutation(internal.registrations.cancel, { actor: world.acme.actors.client_user, registrationId: reg.id }),
        )
      ).code,
    ).toBe("forbidden");
  });

  test("a client_admin cancels any registration", async () => {
    const eventId = await makeEvent(t, world.acme);
    const reg = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    expect(
      (
        await t.mutation(internal.registrations.cancel, {
          actor: world.acme.actors.client_admin,
          registrationId: reg.id,
        })
      ).status,
    ).toBe("cancelled");
  });

  test("a client_admin refunds a paid registration and the record says who", async () => {
    const eventId = await makeEvent(t, world.acme);
    const reg = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    await t.run((ctx) => ctx.db.patch(reg.id as never, { status: "paid" }));
    const refunded = await t.mutation(internal.registrations.refund, {
      actor: world.acme.actors.client_admin,
      registrationId: reg.id,
    });
    expect(refunded.status).toBe("refunded");
    expect(refunded.refundedBy).toBe(`user:${world.acme.actors.client_admin.userId}`);
    const audit = await t.run((ctx) =>
      ctx.db
        .query("auditLogs")
        .withIndex("by_clientId_action_at", (q) =>
          q.eq("clientId", world.acme.clientId).eq("action", "registration.refund"),
        )
        .collect(),
    );
    expect(audit[0].actorUserId).toBe(world.acme.actors.client_admin.userId);
  });

  test("a client_user may not refund", async () => {
    const eventId = await makeEvent(t, world.acme);
    const reg = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    expect(
      (
        await errorOf(
          t.mutation(internal.registrations.refund, { actor: world.acme.actors.client_user, registrationId: reg.id }),
        )
      ).code,
    ).toBe("forbidden");
  });
});

describe("members and sponsors see only what is theirs", () => {
  test("a member cannot read another member's registration", async () => {
    const eventId = await makeEvent(t, world.acme);
    const reg = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member2, eventId });
    expect(
      (await errorOf(t.query(internal.registrations.get, { actor: world.acme.actors.member, registrationId: reg.id })))
        .code,
    ).toBe("not_found");
  });

  test("a member cannot cancel another member's registration", async () => {
    const eventId = await makeEvent(t, world.acme);
    const reg = await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member2, eventId });
    expect(
      (
        await errorOf(
          t.mutation(internal.registrations.cancel, { actor: world.acme.actors.member, registrationId: reg.id }),
        )
      ).code,
    ).toBe("not_found");
  });

  test("a member lists its own registrations", async () => {
    const eventId = await makeEvent(t, world.acme);
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member2, eventId });
    const mine = await t.query(internal.registrations.listMine, { actor: world.acme.actors.member, page });
    expect(mine.page.map((r) => r.memberId)).toEqual([world.acme.memberIds.member]);
  });

  test("sponsor roles see a backed event's count but never its registrants", async () => {
    const eventId = await makeEvent(t, world.acme);
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    const count = await t.query(internal.registrations.count, { actor: world.acme.actors.sponsor_user, eventId });
    expect(count.registered).toBe(1);
    for (const actor of [world.acme.actors.sponsor_admin, world.acme.actors.sponsor_user]) {
      expect((await errorOf(t.query(internal.registrations.listForEvent, { actor, eventId, page }))).code).toBe(
        "forbidden",
      );
    }
  });
});

describe("cancelling an event", () => {
  test("cancels its open registrations and frees their places", async () => {
    const eventId = await makeEvent(t, world.acme, { capacity: 10 });
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member2, eventId });
    const event = await t.mutation(internal.events.setStatus, {
      actor: world.acme.actors.client_admin,
      eventId,
      status: "cancelled",
    });
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
