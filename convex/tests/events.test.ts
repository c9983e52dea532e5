// Events, speakers, sponsors' view of events.
import { describe, expect } from "vitest";
import { internal } from "../_generated/api";
import { MAX_EVENT_SPONSORS, MAX_SPEAKERS } from "../schema";
import { allLinksOf, backEvent, codeOf, DAY_MS, errorOf, makeEvent } from "./content.setup";
import { type Backend, type ClientWorld, test } from "./world.setup";

const page = { cursor: null };
const later = (days: number) => Date.now() + days * DAY_MS;
const draft = () => ({ title: "AGM", startAt: later(10), endAt: later(10) + 3_600_000 });

describe("creating events", () => {
  test("staff create a draft event with speakers", async ({ t, world }) => {
    const event = await t.mutation(internal.events.create, {
      actor: world.acme.actors.client_user,
      ...draft(),
      speakers: [{ name: "Ann Lee" }],
    });
    expect(event).toMatchObject({ status: "draft", registeredCount: 0, speakers: [{ name: "Ann Lee" }] });
  });

  test("a member may not create events", async ({ t, world }) => {
    expect(await codeOf(t.mutation(internal.events.create, { actor: world.acme.actors.member, ...draft() }))).toBe(
      "forbidden",
    );
  });

  test("endAt must be after startAt", async ({ t, world }) => {
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

  test("registration closes no later than the event starts", async ({ t, world }) => {
    const err = await errorOf(
      t.mutation(internal.events.create, {
        actor: world.acme.actors.client_user,
        ...draft(),
        registrationClosesAt: later(11),
      }),
    );
    expect(err).toMatchObject({ code: "validation", field: "registrationClosesAt" });
  });

  test(`at most ${MAX_SPEAKERS} speakers, enforced in the mutation`, async ({ t, world }) => {
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

  test("update holds title, description and location to the rules create holds them to", async ({ t, world }) => {
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

  test("capacity cannot go below the active registrations", async ({ t, world }) => {
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
  test("client_admin publishes a draft", async ({ t, world }) => {
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

  test("client_user may not publish", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme, { status: "draft" });
    expect(
      await codeOf(
        t.mutation(internal.events.setStatus, { actor: world.acme.actors.client_user, eventId, status: "published" }),
      ),
    ).toBe("forbidden");
  });

  test("an archived event cannot be published again", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme, { status: "archived" });
    expect(
      await codeOf(
        t.mutation(internal.events.setStatus, {
          actor: world.acme.actors.client_admin,
          eventId,
          status: "published",
        }),
      ),
    ).toBe("invalid_transition");
  });

  test("an event with registrations cannot be deleted", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme);
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    expect(await codeOf(t.mutation(internal.events.remove, { actor: world.acme.actors.client_admin, eventId }))).toBe(
      "conflict",
    );
  });

  test("an event without registrations is deleted by client_admin", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme, { status: "draft" });
    expect(await t.mutation(internal.events.remove, { actor: world.acme.actors.client_admin, eventId })).toBeNull();
  });
});

describe("who sees which events", () => {
  test("members list only published events", async ({ t, world }) => {
    await makeEvent(t, world.acme, { status: "draft", title: "Hidden" });
    await makeEvent(t, world.acme, { title: "Open" });
    const list = await t.query(internal.events.list, { actor: world.acme.actors.member, page });
    expect(list.page.map((e) => e.title)).toEqual(["Open"]);
  });

  test("members may not ask for drafts", async ({ t, world }) => {
    expect(
      await codeOf(t.query(internal.events.list, { actor: world.acme.actors.member, page, status: "draft" })),
    ).toBe("forbidden");
  });

  test("staff list drafts", async ({ t, world }) => {
    await makeEvent(t, world.acme, { status: "draft", title: "Hidden" });
    const list = await t.query(internal.events.list, { actor: world.acme.actors.client_user, page, status: "draft" });
    expect(list.page.map((e) => e.title)).toEqual(["Hidden"]);
  });

  test("a sponsor sees the draft events its sponsor backs, and no other drafts", async ({ t, world }) => {
    const backed = await makeEvent(t, world.acme, { status: "draft", title: "Backed" });
    const other = await makeEvent(t, world.acme, { status: "draft", title: "Other" });
    await backEvent(t, world.acme, backed);
    expect((await t.query(internal.events.get, { actor: world.acme.actors.sponsor_user, eventId: backed })).title).toBe(
      "Backed",
    );
    expect(await codeOf(t.query(internal.events.get, { actor: world.acme.actors.sponsor_user, eventId: other }))).toBe(
      "not_found",
    );
    const sponsored = await t.query(internal.events.listSponsored, { actor: world.acme.actors.sponsor_admin, page });
    expect(sponsored.page.map((e) => e.title)).toEqual(["Backed"]);
  });

  /** A list filter: a status, and a window of days from now. */
  type Window = { status?: "draft" | "published"; after?: number; before?: number };
  const windows: [Window, string[]][] = [
    [{ after: 20 }, ["Later", "Last"]],
    [{ before: 20 }, ["Soon"]],
    [{ after: 20, before: 60 }, ["Later"]],
    [{ status: "draft", after: 20 }, ["Last"]],
    [{ status: "published", before: 60 }, ["Soon", "Later"]],
  ];

  test.for(windows)(
    "a time range on startAt (%o), with or without a status, is an index range",
    async ([{ status, after, before }, titles], { t, world }) => {
      await makeEvent(t, world.acme, { inDays: 5, title: "Soon" });
      await makeEvent(t, world.acme, { inDays: 50, title: "Later" });
      await makeEvent(t, world.acme, { inDays: 90, title: "Last", status: "draft" });
      const list = await t.query(internal.events.list, {
        actor: world.acme.actors.client_user,
        page,
        status,
        startsAfter: after === undefined ? undefined : later(after),
        startsBefore: before === undefined ? undefined : later(before),
      });
      expect(list.page.map((e) => e.title)).toEqual(titles);
    },
  );

  test("another client's event reads exactly like a missing one", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.globex);
    const foreign = await errorOf(t.query(internal.events.get, { actor: world.acme.actors.client_admin, eventId }));
    const missing = await errorOf(
      t.query(internal.events.get, { actor: world.acme.actors.client_admin, eventId: "not-an-id" }),
    );
    expect(foreign).toEqual(missing);
  });
});

describe("sponsors", () => {
  /** acme's client_admin attaches the sponsor to the event. */
  const attach = (t: Backend, acme: ClientWorld, eventId: string, sponsorId: string) =>
    t.mutation(internal.sponsors.attachToEvent, { actor: acme.actors.client_admin, eventId, sponsorId });

  test("client_admin attaches a sponsor to an event, once", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme);
    await attach(t, world.acme, eventId, world.acme.sponsorId);
    expect(await codeOf(attach(t, world.acme, eventId, world.acme.sponsorId))).toBe("conflict");
    const sponsors = await t.query(internal.sponsors.listForEvent, { actor: world.acme.actors.member, eventId });
    expect(sponsors).toHaveLength(1);
  });

  test("a sponsor of another client cannot be attached (reads as missing)", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme);
    const err = await errorOf(attach(t, world.acme, eventId, world.globex.sponsorId));
    expect(err).toMatchObject({ code: "not_found", entity: "sponsor" });
  });

  test("a sponsor_admin edits its own sponsor's profile", async ({ t, world }) => {
    const { actors, sponsorId } = world.acme;
    const description = "We fund training.";
    const updated = await t.mutation(internal.sponsors.update, { actor: actors.sponsor_admin, sponsorId, description });
    expect(updated.description).toBe(description);
  });

  test("a sponsor_admin cannot edit another sponsor", async ({ t, world }) => {
    const { client_admin: admin, sponsor_admin: sponsor } = world.acme.actors;
    const other = await t.mutation(internal.sponsors.create, { actor: admin, name: "Rival Ltd" });
    const edit = t.mutation(internal.sponsors.update, { actor: sponsor, sponsorId: other.id, name: "Mine now" });
    expect(await codeOf(edit)).toBe("not_found");
  });

  test("a sponsor_user edits nothing", async ({ t, world }) => {
    const { actors, sponsorId } = world.acme;
    const edit = t.mutation(internal.sponsors.update, { actor: actors.sponsor_user, sponsorId, name: "X" });
    expect(await codeOf(edit)).toBe("forbidden");
  });

  test("a client_user may not manage sponsors", async ({ t, world }) => {
    const actor = world.acme.actors.client_user;
    expect(await codeOf(t.mutation(internal.sponsors.create, { actor, name: "New" }))).toBe("forbidden");
  });
});

describe(`at most ${MAX_EVENT_SPONSORS} sponsors per event`, () => {
  const CAP = MAX_EVENT_SPONSORS;
  /** An event backed by `count` sponsors of acme, and one more sponsor that does not back it (direct inserts). */
  async function crowdedEvent(t: Backend, acme: ClientWorld, count: number) {
    const eventId = await makeEvent(t, acme);
    const spare = await t.run(async (ctx) => {
      for (let i = 0; i < count; i++) {
        const sponsorId = await ctx.db.insert("sponsors", {
          clientId: acme.clientId,
          name: `Backer ${i}`,
          createdAt: 0,
          updatedAt: 0,
        });
        await ctx.db.insert("eventSponsors", { clientId: acme.clientId, eventId, sponsorId, createdAt: 0 });
      }
      return ctx.db.insert("sponsors", {
        clientId: acme.clientId,
        name: "Latecomer",
        createdAt: 0,
        updatedAt: 0,
      });
    });
    return { eventId, spare };
  }
  test("attachToEvent takes the last place and refuses a sponsor beyond the cap", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    const { eventId, spare } = await crowdedEvent(t, world.acme, CAP - 1);
    await t.mutation(internal.sponsors.attachToEvent, { actor: admin, eventId, sponsorId: world.acme.sponsorId });
    const err = await errorOf(t.mutation(internal.sponsors.attachToEvent, { actor: admin, eventId, sponsorId: spare }));
    expect(err).toMatchObject({ code: "conflict", field: "sponsorId" });
    expect(await allLinksOf(t, "eventSponsors", eventId)).toHaveLength(CAP);
  });

  test("listForEvent lists every sponsor of a full event, none cut off", async ({ t, world }) => {
    const { eventId } = await crowdedEvent(t, world.acme, CAP);
    expect(await t.query(internal.sponsors.listForEvent, { actor: world.acme.actors.member, eventId })).toHaveLength(
      CAP,
    );
  });

  test("remove deletes every sponsor link of a full event", async ({ t, world }) => {
    const { eventId } = await crowdedEvent(t, world.acme, CAP);
    await t.mutation(internal.events.remove, { actor: world.acme.actors.client_admin, eventId });
    expect(await allLinksOf(t, "eventSponsors", eventId)).toEqual([]);
  });
});
