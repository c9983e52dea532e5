// Support tickets and their messages.
import { describe, expect } from "vitest";
import { internal } from "../_generated/api";
import { codeOf, errorOf } from "./content.setup";
import { type Backend, test, type UserActor } from "./world.setup";

const page = { cursor: null };

/** A ticket a member opens for itself, with its first message. */
function openTicket(t: Backend, actor: UserActor) {
  return t.mutation(internal.tickets.open, {
    actor,
    subject: "Certificate missing",
    body: "I cannot find my certificate.",
  });
}

describe("members", () => {
  test("open a ticket with a first message", async ({ t, world }) => {
    const { member } = world.acme.actors;
    const ticket = await openTicket(t, member);
    expect(ticket).toMatchObject({ status: "open", memberId: world.acme.memberIds.member });
    const thread = await t.query(internal.tickets.messages, { actor: member, ticketId: ticket.id, page });
    expect(thread.page.map((m) => m.body)).toEqual(["I cannot find my certificate."]);
  });

  test("never see internal notes", async ({ t, world }) => {
    const { member, client_user: staff } = world.acme.actors;
    const ticket = await openTicket(t, member);
    await t.mutation(internal.tickets.addInternalNote, { actor: staff, ticketId: ticket.id, body: "VIP, be quick" });
    await t.mutation(internal.tickets.reply, { actor: staff, ticketId: ticket.id, body: "On it" });
    const memberView = await t.query(internal.tickets.messages, { actor: member, ticketId: ticket.id, page });
    expect(memberView.page.map((m) => m.body)).toEqual(["I cannot find my certificate.", "On it"]);
    const staffView = await t.query(internal.tickets.messages, { actor: staff, ticketId: ticket.id, page });
    expect(staffView.page.map((m) => m.internal)).toEqual([false, true, false]);
  });

  test("cannot write internal notes", async ({ t, world }) => {
    const { member } = world.acme.actors;
    const ticket = await openTicket(t, member);
    const note = t.mutation(internal.tickets.addInternalNote, { actor: member, ticketId: ticket.id, body: "x" });
    expect(await codeOf(note)).toBe("forbidden");
  });

  test("read only their own tickets: another member's reads as missing", async ({ t, world }) => {
    const { member, member2 } = world.acme.actors;
    const theirs = await openTicket(t, member2);
    expect(await codeOf(t.query(internal.tickets.get, { actor: member, ticketId: theirs.id }))).toBe("not_found");
    const reply = t.mutation(internal.tickets.reply, { actor: member, ticketId: theirs.id, body: "hi" });
    expect(await codeOf(reply)).toBe("not_found");
    const mine = await t.query(internal.tickets.listMine, { actor: member, page });
    expect(mine.page).toHaveLength(0);
  });

  test("may not list all of the client's tickets", async ({ t, world }) => {
    expect(await codeOf(t.query(internal.tickets.list, { actor: world.acme.actors.member, page }))).toBe("forbidden");
  });

  test("close their own ticket, but not move it to other states", async ({ t, world }) => {
    const { member } = world.acme.actors;
    const ticket = await openTicket(t, member);
    const resolve = t.mutation(internal.tickets.setStatus, { actor: member, ticketId: ticket.id, status: "resolved" });
    expect(await codeOf(resolve)).toBe("forbidden");
    const closed = await t.mutation(internal.tickets.setStatus, {
      actor: member,
      ticketId: ticket.id,
      status: "closed",
    });
    expect(closed.status).toBe("closed");
  });

  test("a member's reply reopens a resolved ticket", async ({ t, world }) => {
    const { member, client_user: staff } = world.acme.actors;
    const ticket = await openTicket(t, member);
    await t.mutation(internal.tickets.setStatus, { actor: staff, ticketId: ticket.id, status: "resolved" });
    await t.mutation(internal.tickets.reply, { actor: member, ticketId: ticket.id, body: "Still broken" });
    expect((await t.query(internal.tickets.get, { actor: member, ticketId: ticket.id })).status).toBe("open");
  });
});

describe("staff", () => {
  test("read all the client's tickets, filtered by status", async ({ t, world }) => {
    const { member, member2, client_user: staff } = world.acme.actors;
    await openTicket(t, member);
    const second = await openTicket(t, member2);
    await t.mutation(internal.tickets.setStatus, { actor: staff, ticketId: second.id, status: "pending" });
    expect((await t.query(internal.tickets.list, { actor: staff, page })).page).toHaveLength(2);
    const pending = await t.query(internal.tickets.list, { actor: staff, page, status: "pending" });
    expect(pending.page.map((x) => x.id)).toEqual([second.id]);
  });

  test("assign to a staff user of the client, not to a member or another client's user", async ({ t, world }) => {
    const { member, client_user: staff, client_admin: admin } = world.acme.actors;
    const ticket = await openTicket(t, member);
    const assign = (assigneeUserId: string) =>
      t.mutation(internal.tickets.assign, { actor: staff, ticketId: ticket.id, assigneeUserId });
    expect((await assign(admin.userId)).assigneeUserId).toBe(admin.userId);
    for (const other of [member.userId, world.globex.actors.client_admin.userId]) {
      expect(await codeOf(assign(other))).toBe("not_found");
    }
  });

  test("follow the state machine: open -> pending -> resolved -> closed, reopen until closed", async ({ t, world }) => {
    const { member, client_user: staff } = world.acme.actors;
    const ticket = await openTicket(t, member);
    const move = (status: "open" | "pending" | "resolved" | "closed") =>
      t.mutation(internal.tickets.setStatus, { actor: staff, ticketId: ticket.id, status });
    for (const status of ["pending", "resolved", "open", "resolved", "closed"] as const) await move(status);
    expect(await codeOf(move("open"))).toBe("invalid_transition");
  });

  test("a closed ticket takes no replies", async ({ t, world }) => {
    const { member, client_user: staff } = world.acme.actors;
    const ticket = await openTicket(t, member);
    await t.mutation(internal.tickets.setStatus, { actor: staff, ticketId: ticket.id, status: "closed" });
    const late = t.mutation(internal.tickets.reply, { actor: staff, ticketId: ticket.id, body: "late" });
    expect(await codeOf(late)).toBe("invalid_transition");
  });

  test("another client's ticket reads exactly like a missing one", async ({ t, world }) => {
    const ticket = await openTicket(t, world.globex.actors.member);
    const get = (ticketId: string) =>
      t.query(internal.tickets.get, { actor: world.acme.actors.client_admin, ticketId });
    expect(await errorOf(get(ticket.id))).toEqual(await errorOf(get("nope")));
  });

  test("sponsor roles have no access to tickets", async ({ t, world }) => {
    const { member, sponsor_admin: sponsor } = world.acme.actors;
    const ticket = await openTicket(t, member);
    expect(await codeOf(t.query(internal.tickets.get, { actor: sponsor, ticketId: ticket.id }))).toBe("forbidden");
  });
});

describe("live thread (messagesSince)", () => {
  test("gives the thread from a point in time, oldest first, with notes for staff only", async ({ t, world }) => {
    const { member, client_user: staff } = world.acme.actors;
    const ticket = await openTicket(t, member);
    await t.mutation(internal.tickets.addInternalNote, { actor: staff, ticketId: ticket.id, body: "note" });
    await t.mutation(internal.tickets.reply, { actor: staff, ticketId: ticket.id, body: "reply" });
    const since = async (actor: UserActor, time: number) =>
      (await t.query(internal.tickets.messagesSince, { actor, ticketId: ticket.id, since: time })).map((m) => m.body);
    expect(await since(member, ticket.createdAt)).toEqual(["I cannot find my certificate.", "reply"]);
    expect(await since(staff, ticket.createdAt)).toEqual(["I cannot find my certificate.", "note", "reply"]);
    expect(await since(member, Date.now() + 1)).toEqual([]);
  });

  test("another member's or another client's ticket reads as missing", async ({ t, world }) => {
    const ticket = await openTicket(t, world.acme.actors.member);
    for (const actor of [world.acme.actors.member2, world.globex.actors.client_admin]) {
      const thread = t.query(internal.tickets.messagesSince, { actor, ticketId: ticket.id, since: 0 });
      expect(await codeOf(thread)).toBe("not_found");
    }
  });
});
