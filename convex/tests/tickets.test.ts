// Support tickets and their messages.
import { beforeEach, describe, expect, test } from "vitest";
import { internal } from "../_generated/api";
import { errorOf } from "./content.setup";
import { type Backend, newBackend, seedWorld, type World } from "./world.setup";

let t: Backend;
let world: World;
beforeEach(async () => {
  t = newBackend();
  world = await seedWorld(t);
});

const page = { cursor: null };

async function memberTicket(actor = world.acme.actors.member) {
  return t.mutation(internal.tickets.open, {
    actor,
    subject: "Certificate missing",
    body: "I cannot find my certificate.",
  });
}

describe("members", () => {
  test("open a ticket with a first message", async () => {
    const ticket = await memberTicket();
    expect(ticket).toMatchObject({ status: "open", memberId: world.acme.memberIds.member });
    const thread = await t.query(internal.tickets.messages, {
      actor: world.acme.actors.member,
      ticketId: ticket.id,
      page,
    });
    expect(thread.page.map((m) => m.body)).toEqual(["I cannot find my certificate."]);
  });

  test("never see internal notes", async () => {
    const ticket = await memberTicket();
    await t.mutation(internal.tickets.addInternalNote, {
      actor: world.acme.actors.client_user,
      ticketId: ticket.id,
      body: "VIP, be quick",
    });
    await t.mutation(internal.tickets.reply, {
      actor: world.acme.actors.client_user,
      ticketId: ticket.id,
      body: "On it",
    });
    const memberView = await t.query(internal.tickets.messages, {
      actor: world.acme.actors.member,
      ticketId: ticket.id,
      page,
    });
    expect(memberView.page.map((m) => m.body)).toEqual(["I cannot find my certificate.", "On it"]);
    const staffView = await t.query(internal.tickets.messages, {
      actor: world.acme.actors.client_user,
      ticketId: ticket.id,
      page,
    });
    expect(staffView.page.map((m) => m.internal)).toEqual([false, true, false]);
  });

  test("cannot write internal notes", async () => {
    const ticket = await memberTicket();
    expect(
      (
        await errorOf(
          t.mutation(internal.tickets.addInternalNote, {
            actor: world.acme.actors.member,
            ticketId: ticket.id,
            body: "x",
          }),
        )
      ).code,
    ).toBe("forbidden");
  });

  test("read only their own tickets: another member's reads as missing", async () => {
    const theirs = await memberTicket(world.acme.actors.member2);
    expect(
      (await errorOf(t.query(internal.tickets.get, { actor: world.acme.actors.member, ticketId: theirs.id }))).code,
    ).toBe("not_found");
    expect(
      (
        await errorOf(
          t.mutation(internal.tickets.reply, { actor: world.acme.actors.member, ticketId: theirs.id, body: "hi" }),
        )
      ).code,
    ).toBe("not_found");
    const mine = await t.query(internal.tickets.listMine, { actor: world.acme.actors.member, page });
    expect(mine.page).toHaveLength(0);
  });

  test("may not list all of the client's tickets", async () => {
    expect((await errorOf(t.query(internal.tickets.list, { actor: world.acme.actors.member, page }))).code).toBe(
      "forbidden",
    );
  });

  test("close their own ticket, but not move it to other states", async () => {
    const ticket = await memberTicket();
    expect(
      (
        await errorOf(
          t.mutation(internal.tickets.setStatus, {
            actor: world.acme.actors.member,
            ticketId: ticket.id,
            status: "resolved",
          }),
        )
      ).code,
    ).toBe("forbidden");
    expect(
      (
        await t.mutation(internal.tickets.setStatus, {
          actor: world.acme.actors.member,
          ticketId: ticket.id,
          status: "closed",
        })
      ).status,
    ).toBe("closed");
  });

  test("a member's reply reopens a resolved ticket", async () => {
    const ticket = await memberTicket();
    await t.mutation(internal.tickets.setStatus, {
      actor: world.acme.actors.client_user,
      ticketId: ticket.id,
      status: "resolved",
    });
    await t.mutation(internal.tickets.reply, {
      actor: world.acme.actors.member,
      ticketId: ticket.id,
      body: "Still broken",
    });
    expect((await t.query(internal.tickets.get, { actor: world.acme.actors.member, ticketId: ticket.id })).status).toBe(
      "open",
    );
  });
});

describe("staff", () => {
  test("read all the client's tickets, filtered by status", async () => {
    await memberTicket();
    const second = await memberTicket(world.acme.actors.member2);
    await t.mutation(internal.tickets.setStatus, {
      actor: world.acme.actors.client_user,
      ticketId: second.id,
      status: "pending",
    });
    expect((await t.query(internal.tickets.list, { actor: world.acme.actors.client_user, page })).page).toHaveLength(2);
    const pending = await t.query(internal.tickets.list, {
      actor: world.acme.actors.client_user,
      page,
      status: "pending",
    });
    expect(pending.page.map((x) => x.id)).toEqual([second.id]);
  });

  test("assign to a staff user of the client, not to a member or another client's user", async () => {
    const ticket = await memberTicket();
    const assigned = await t.mutation(internal.tickets.assign, {
      actor: world.acme.actors.client_user,
      ticketId: ticket.id,
      assigneeUserId: world.acme.actors.client_admin.userId,
    });
    expect(assigned.assigneeUserId).toBe(world.acme.actors.client_admin.userId);
    for (const other of [world.acme.actors.member.userId, world.globex.actors.client_admin.userId]) {
      expect(
        (
          await errorOf(
            t.mutation(internal.tickets.assign, {
              actor: world.acme.actors.client_user,
              ticketId: ticket.id,
              assigneeUserId: other,
            }),
          )
        ).code,
      ).toBe("not_found");
    }
  });

  test("follow the state machine: open -> pending -> resolved -> closed, reopen until closed", async () => {
    const ticket = await memberTicket();
    for (const status of ["pending", "resolved", "open", "resolved", "closed"] as const) {
      await t.mutation(internal.tickets.setStatus, {
        actor: world.acme.actors.client_user,
        ticketId: ticket.id,
        status,
      });
    }
    expect(
      (
        await errorOf(
          t.mutation(internal.tickets.setStatus, {
            actor: world.acme.actors.client_user,
            ticketId: ticket.id,
            status: "open",
          }),
        )
      ).code,
    ).toBe("invalid_transition");
  });

  test("a closed ticket takes no replies", async () => {
    const ticket = await memberTicket();
    await t.mutation(internal.tickets.setStatus, {
      actor: world.acme.actors.client_user,
      ticketId: ticket.id,
      status: "closed",
    });
    expect(
      (
        await errorOf(
          t.mutation(internal.tickets.reply, {
            actor: world.acme.actors.client_user,
            ticketId: ticket.id,
            body: "late",
          }),
        )
      ).code,
    ).toBe("invalid_transition");
  });

  test("another client's ticket reads exactly like a missing one", async () => {
    const ticket = await memberTicket(world.globex.actors.member);
    const foreign = await errorOf(
      t.query(internal.tickets.get, { actor: world.acme.actors.client_admin, ticketId: ticket.id }),
    );
    const missing = await errorOf(
      t.query(internal.tickets.get, { actor: world.acme.actors.client_admin, ticketId: "nope" }),
    );
    expect(foreign).toEqual(missing);
  });

  test("sponsor roles have no access to tickets", async () => {
    const ticket = await memberTicket();
    expect(
      (await errorOf(t.query(internal.tickets.get, { actor: world.acme.actors.sponsor_admin, ticketId: ticket.id })))
        .code,
    ).toBe("forbidden");
  });
});

describe("live thread (messagesSince)", () => {
  test("gives the thread from a point in time, oldest first, with notes for staff only", async () => {
    const ticket = await memberTicket();
    const opened = ticket.createdAt;
    await t.mutation(internal.tickets.addInternalNote, {
      actor: world.acme.actors.client_user,
      ticketId: ticket.id,
      body: "note",
    });
    await t.mutation(internal.tickets.reply, {
      actor: world.acme.actors.client_user,
      ticketId: ticket.id,
      body: "reply",
    });
    const forMember = await t.query(internal.tickets.messagesSince, {
      actor: world.acme.actors.member,
      ticketId: ticket.id,
      since: opened,
    });
    expect(forMember.map((m) => m.body)).toEqual(["I cannot find my certificate.", "reply"]);
    const forStaff = await t.query(internal.tickets.messagesSince, {
      actor: world.acme.actors.client_user,
      ticketId: ticket.id,
      since: opened,
    });
    expect(forStaff.map((m) => m.body)).toEqual(["I cannot find my certificate.", "note", "reply"]);
    const later = await t.query(internal.tickets.messagesSince, {
      actor: world.acme.actors.member,
      ticketId: ticket.id,
      since: Date.now() + 1,
    });
    expect(later).toEqual([]);
  });

  test("another member's or another client's ticket reads as missing", async () => {
    const ticket = await memberTicket();
    for (const actor of [world.acme.actors.member2, world.globex.actors.client_admin]) {
      expect(
        (await errorOf(t.query(internal.tickets.messagesSince, { actor, ticketId: ticket.id, since: 0 }))).code,
      ).toBe("not_found");
    }
  });
});
