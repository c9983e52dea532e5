// Events, speakers, sponsors' view of events.
import { beforeEach, describe, expect, test } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { MAX_EVENT_SPONSORS, MAX_SPEAKERS } from "../schema";
import { backEvent, DAY_MS, errorOf, makeEvent } from "./content.setup";
import { type Backend, newBackend, seedWorld, type World } from "./world.setup";

let t: Backend;
let world: World;
beforeEach(async () => {
  t = newBackend();
  world = await seedWorld(t);
});

const page = { cursor: null };
const later = (days: number) => Date.now() + days * DAY_MS;
const draft = () => ({ title: "AGM", startAt: later(10), endAt: later(10) + 3_600_000 });

describe("creating events", () => {
  test("staff create a draft event with speakers", async () => {
    const event = await t.mutation(internal.events.create, {
      actor: world.acme.actors.client_user,
      ...draft(),
      speakers: [{ name: "Ann Lee" }],
    });
    expect(event).toMatchObject({ status: "draft", registeredCount: 0, speakers: [{ name: "Ann Lee" }] });
  });

  test("a member may not create events", async () => {
    expect(
      (await errorOf(t.mutation(internal.events.create, { actor: world.acme.actors.member, ...draft() }))).code,
    ).toBe("forbidden");
  });

  test("endAt must be after startAt", async () => {
    const err = await errorOf(
      t.mutation(internal.events.create, {
        actor: world.acme.actors.client_user,
        title: "X",
        startAt: later(2),
        endAt: later(1),
      }),
    );
    expect(err).toMatchObject({ code: "validation", field: "endAt" });
  });

  test("registration closes no later than the event starts", async () => {
    const err = await errorOf(
      t.mutation(internal.events.create, {
        actor: world.acme.actors.client_user,
        ...draft(),
        registrationClosesAt: later(11),
      }),
    );
    expect(err).toMatchObject({ code: "validation", field: "registrationClosesAt" });
  });

  test(`at most ${MAX_SPEAKERS} speakers, enforced in the mutation`, async () => {
    const speakers = Array.from({ length: MAX_SPEAKERS + 1 }, (_, i) => ({ name: `Speaker ${i}` }));
    const err = await errorOf(
      t.mutation(internal.events.create, { actor: world.acme.actors.client_user, ...draft(), speakers }),
    );
    expect(err).toMatchObject({ code: "validation", field: "speakers" });
    const ok = await t.mutation(internal.events.create, {
      actor: world.acme.actors.client_user,
      ...draft(),
      speakers: speakers.slice(0, MAX_SPEAKERS),
    });
    expect(ok.speakers).toHaveLength(MAX_SPEAKERS);
  });

  test("update holds title, description and location to the rules create holds them to", async () => {
    const event = await t.mutation(internal.events.create, { actor: world.acme.actors.client_user, ...draft() });
    const update = (fields: { title?: string; description?: string; location?: string }) =>
      errorOf(
        t.mutation(internal.events.update, { actor: world.acme.actors.client_user, eventId: event.id, ...fields }),
      );
    expect(await update({ description: "x".repeat(5001) })).toMatchObject({ code: "validation", field: "description" });
    expect(await update({ location: "x".repeat(301) })).toMatchObject({ code: "validation", field: "location" });
    expect(await update({ title: "  " })).toMatchObject({ code: "validation", field: "title" });
    const updated = await t.mutation(internal.events.update, {
      actor: world.acme.actors.client_user,
      eventId: event.id,
      title: " AGM 2026 ",
      location: " Leeds ",
    });
    expect(updated).toMatchObject({ title: "AGM 2026", location: "Leeds" });
  });

  test("capacity cannot go below the active registrations", async () => {
    const eventId = await makeEvent(t, world.acme, { capacity: 5 });
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member2, eventId });
    const err = await errorOf(
      t.mutation(internal.events.update, { actor: world.acme.actors.client_user, eventId, capacity: 1 }),
    );
    expect(err.code).toBe("conflict");
  });
});

describe("event status", () => {
  test("client_admin publishes a draft", async () => {
    const eventId = await makeEvent(t, world.acme, { status: "draft" });
    expect(
      (
        await t.mutation(internal.events.setStatus, {
          actor: world.acme.actors.client_admin,
          eventId,
          status: "published",
        })
      ).status,
    ).toBe("published");
  });

  test("client_user may not publish", async () => {
    const eventId = await makeEvent(t, world.acme, { status: "draft" });
    expect(
      (
        await errorOf(
          t.mutation(internal.events.setStatus, { actor: world.acme.actors.client_user, eventId, status: "published" }),
        )
      ).code,
    ).toBe("forbidden");
  });

  test("an archived event cannot be published again", async () => {
    const eventId = await makeEvent(t, world.acme, { status: "archived" });
    expect(
      (
        await errorOf(
          t.mutation(internal.events.setStatus, {
            actor: world.acme.actors.client_admin,
            eventId,
            status: "published",
          }),
        )
      ).code,
    ).toBe("invalid_transition");
  });

  test("an event with registrations cannot be deleted", async () => {
    const eventId = await makeEvent(t, world.acme);
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    expect(
      (await errorOf(t.mutation(internal.events.remove, { actor: world.acme.actors.client_admin, eventId }))).code,
    ).toBe("conflict");
  });

  test("an event without registrations is deleted by client_admin", async () => {
    const eventId = await makeEvent(t, world.acme, { status: "draft" });
    expect(await t.mutation(internal.events.remove, { actor: world.acme.actors.client_admin, eventId })).toBeNull();
  });
});

describe("who sees which events", () => {
  test("members list only published events", async () => {
    await makeEvent(t, world.acme, { status: "draft", title: "Hidden" });
    await makeEvent(t, world.acme, { title: "Open" });
    const list = await t.query(internal.events.list, { actor: world.acme.actors.member, page });
    expect(list.page.map((e) => e.title)).toEqual(["Open"]);
  });

  test("members may not ask for drafts", async () => {
    expect(
      (await errorOf(t.query(internal.events.list, { actor: world.acme.actors.member, page, status: "draft" }))).code,
    ).toBe("forbidden");
  });

  test("staff list drafts", async () => {
    await makeEvent(t, world.acme, { status: "draft", title: "Hidden" });
    const list = await t.query(internal.events.list, { actor: world.acme.actors.client_user, page, status: "draft" });
    expect(list.page.map((e) => e.title)).toEqual(["Hidden"]);
  });

  test("a sponsor sees the draft events its sponsor backs, and no other drafts", async () => {
    const backed = await makeEvent(t, world.acme, { status: "draft", title: "Backed" });
    const other = await makeEvent(t, world.acme, { status: "draft", title: "Other" });
    await backEvent(t, world.acme, backed);
    expect((await t.query(internal.events.get, { actor: world.acme.actors.sponsor_user, eventId: backed })).title).toBe(
      "Backed",
    );
    expect(
      (await errorOf(t.query(internal.events.get, { actor: world.acme.actors.sponsor_user, eventId: other }))).code,
    ).toBe("not_found");
    const sponsored = await t.query(internal.events.listSponsored, { actor: world.acme.actors.sponsor_admin, page });
    expect(sponsored.page.map((e) => e.title)).toEqual(["Backed"]);
  });

  test("a time range on startAt is an index range", async () => {
    await makeEvent(t, world.acme, { inDays: 5, title: "Soon" });
    await makeEvent(t, world.acme, { inDays: 50, title: "Later" });
    const list = await t.query(internal.events.list, { actor: world.acme.actors.member, page, startsAfter: later(20) });
    expect(list.page.map((e) => e.title)).toEqual(["Later"]);
  });

  test("another client's event reads exactly like a missing one", async () => {
    const eventId = await makeEvent(t, world.globex);
    const foreign = await errorOf(t.query(internal.events.get, { actor: world.acme.actors.client_admin, eventId }));
    const missing = await errorOf(
      t.query(internal.events.get, { actor: world.acme.actors.client_admin, eventId: "not-an-id" }),
    );
    expect(foreign).toEqual(missing);
  });
});

describe("sponsors", () => {
  test("client_admin attaches a sponsor to an event, once", async () => {
    const eventId = await makeEvent(t, world.acme);
    await t.mutation(internal.sponsors.attachToEvent, {
      actor: world.acme.actors.client_admin,
      eventId,
      sponsorId: world.acme.sponsorId,
    });
    expect(
      (
        await errorOf(
          t.mutation(internal.sponsors.attachToEvent, {
            actor: world.acme.actors.client_admin,
            eventId,
            sponsorId: world.acme.sponsorId,
          }),
        )
      ).code,
    ).toBe("conflict");
    const sponsors = await t.query(internal.sponsors.listForEvent, { actor: world.acme.actors.member, eventId });
    expect(sponsors).toHaveLength(1);
  });

  test("a sponsor of another client cannot be attached (reads as missing)", async () => {
    const eventId = await makeEvent(t, world.acme);
    const err = await errorOf(
      t.mutation(internal.sponsors.attachToEvent, {
        actor: world.acme.actors.client_admin,
        eventId,
        sponsorId: world.globex.sponsorId,
      }),
    );
    expect(err).toMatchObject({ code: "not_found", entity: "sponsor" });
  });

  test("a sponsor_admin edits its own sponsor's profile", async () => {
    const updated = await t.mutation(internal.sponsors.update, {
      actor: world.acme.actors.sponsor_admin,
      sponsorId: world.acme.sponsorId,
      description: "We fund training.",
    });
    expect(updated.description).toBe("We fund training.");
  });

  test("a sponsor_admin cannot edit another sponsor", async () => {
    const other = await t.mutation(internal.sponsors.create, {
      actor: world.acme.actors.client_admin,
      name: "Rival Ltd",
    });
    expect(
      (
        await errorOf(
          t.mutation(internal.sponsors.update, {
            actor: world.acme.actors.sponsor_admin,
            sponsorId: other.id,
            name: "Mine now",
          }),
        )
      ).code,
    ).toBe("not_found");
  });

  test("a sponsor_user edits nothing", async () => {
    expect(
      (
        await errorOf(
          t.mutation(internal.sponsors.update, {
            actor: world.acme.actors.sponsor_user,
            sponsorId: world.acme.sponsorId,
            name: "X",
          }),
        )
      ).code,
    ).toBe("forbidden");
  });

  test("a client_user may not manage sponsors", async () => {
    expect(
      (await errorOf(t.mutation(internal.sponsors.create, { actor: world.acme.actors.client_user, name: "New" }))).code,
    ).toBe("forbidden");
  });
});

describe(`at most ${MAX_EVENT_SPONSORS} sponsors per event`, () => {
  const CAP = MAX_EVENT_SPONSORS;
  const admin = () => world.acme.actors.client_admin;
  /** An event backed by `count` sponsors of acme, and one more sponsor that does not back it (direct inserts). */
  async function crowdedEvent(count: number) {
    const eventId = await makeEvent(t, world.acme);
    const spare = await t.run(async (ctx) => {
      for (let i = 0; i < count; i++) {
        const sponsorId = await ctx.db.insert("sponsors", {
          clientId: world.acme.clientId,
          name: `Backer ${i}`,
          createdAt: 0,
          updatedAt: 0,
        });
        await ctx.db.insert("eventSponsors", { clientId: world.acme.clientId, eventId, sponsorId, createdAt: 0 });
      }
      return ctx.db.insert("sponsors", {
        clientId: world.acme.clientId,
        name: "Latecomer",
        createdAt: 0,
        updatedAt: 0,
      });
    });
    return { eventId, spare };
  }
  const linksOf = (eventId: Id<"events">) =>
    t.run((ctx) =>
      ctx.db
        .query("eventSponsors")
        .withIndex("by_eventId_sponsorId", (q) => q.eq("eventId", eventId))
        .collect(),
    );

  test("attachToEvent takes the last place and refuses a sponsor beyond the cap", async () => {
    const { eventId, spare } = await crowdedEvent(CAP - 1);
    await t.mutation(internal.sponsors.attachToEvent, { actor: admin(), eventId, sponsorId: world.acme.sponsorId });
    const err = await errorOf(
      t.mutation(internal.sponsors.attachToEvent, { actor: admin(), eventId, sponsorId: spare }),
    );
    expect(err).toMatchObject({ code: "conflict", field: "sponsorId" });
    expect(await linksOf(eventId)).toHaveLength(CAP);
  });

  test("listForEvent lists every sponsor of a full event, none cut off", async () => {
    const { eventId } = await crowdedEvent(CAP);
    expect(await t.query(internal.sponsors.listForEvent, { actor: world.acme.actors.member, eventId })).toHaveLength(
      CAP,
    );
  });

  test("remove deletes every sponsor link of a full event", async () => {
    const { eventId } = await crowdedEvent(CAP);
    await t.mutation(internal.events.remove, { actor: admin(), eventId });
    expect(await linksOf(eventId)).toEqual([]);
  });
});
