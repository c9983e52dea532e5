// Webhooks: endpoints a client admin manages, events recorded with the change they report, and
// the delivery worker's leases and retries (convex/webhooks.ts, convex/lib/webhooks.ts).
import { describe, expect, vi } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { nextAttemptAt } from "../webhooks";
import catalogue from "../webhooks.json";
import { codeOf, DAY_MS, errorOf, makeCourse, makeEvent } from "./content.setup";
import { type Backend, type ClientWorld, test, type UserActor } from "./world.setup";

const DELIVERY = catalogue.delivery;
const page = { cursor: null };

const createEndpoint = (
  t: Backend,
  actor: UserActor,
  overrides: Partial<{ url: string; events: readonly string[]; description: string }> = {},
) =>
  t.mutation(internal.webhooks.create, {
    actor,
    url: overrides.url ?? "https://hooks.example.com/acme",
    events: (overrides.events ?? ["registration.created", "registration.cancelled"]) as never,
    description: overrides.description,
    sealedSecret: "sealed:first",
  });

const deliveries = (t: Backend, endpointId?: string) =>
  t.run(async (ctx) =>
    (await ctx.db.query("webhookDeliveries").collect()).filter(
      (d) => endpointId === undefined || d.endpointId === endpointId,
    ),
  );

const claim = (t: Backend, limit = 10) => t.mutation(internal.webhooks.claimDue, { limit });

const report = (
  t: Backend,
  c: { deliveryId: Id<"webhookDeliveries">; attempt: number },
  outcome: { status?: number; error?: string; responseBody?: string },
) =>
  t.mutation(internal.webhooks.recordAttempt, {
    deliveryId: c.deliveryId,
    attempt: c.attempt,
    ...outcome,
    durationMs: 12,
  });

const register = async (t: Backend, client: ClientWorld) =>
  t.mutation(internal.registrations.registerSelf, {
    actor: client.actors.member,
    eventId: await makeEvent(t, client),
  });

describe("a client admin manages endpoints", () => {
  test("creating one shows no secret and is audited", async ({ t, world }) => {
    const endpoint = await createEndpoint(t, world.acme.actors.client_admin, { description: "CRM sync" });
    expect(endpoint).toMatchObject({ url: "https://hooks.example.com/acme", enabled: true, description: "CRM sync" });
    expect(JSON.stringify(endpoint)).not.toContain("sealed");
    const audit = await t.run((ctx) => ctx.db.query("auditLogs").collect());
    expect(audit.map((a) => a.action)).toContain("webhook.create");
  });

  test.for(["client_user", "member", "sponsor_admin"] as const)("a %s may not", async (role, { t, world }) => {
    expect(await codeOf(createEndpoint(t, world.acme.actors[role]))).toBe("forbidden");
  });

  test.for([
    ["not a URL", { url: "hooks.example.com" }],
    ["another scheme", { url: "ftp://hooks.example.com/x" }],
    ["credentials in the URL", { url: "https://user:pw@hooks.example.com/x" }],
    ["no events", { events: [] }],
    ["an event twice", { events: ["event.published", "event.published"] }],
    ["webhook.ping as a subscription", { events: ["webhook.ping"] }],
  ] as const)("%s is refused", async ([_why, overrides], { t, world }) => {
    const error = await errorOf(createEndpoint(t, world.acme.actors.client_admin, overrides));
    expect(error.code).toBe("validation");
    expect(await t.run((ctx) => ctx.db.query("webhookEndpoints").collect())).toEqual([]);
  });

  test("a client has at most endpointsPerClient endpoints", async ({ t, world }) => {
    for (let i = 0; i < DELIVERY.endpointsPerClient; i++) await createEndpoint(t, world.acme.actors.client_admin);
    expect(await codeOf(createEndpoint(t, world.acme.actors.client_admin))).toBe("conflict");
    await createEndpoint(t, world.globex.actors.client_admin);
  });

  test("another client's endpoint reads as missing, and cannot be changed", async ({ t, world }) => {
    const globex = await createEndpoint(t, world.globex.actors.client_admin);
    const acme = world.acme.actors.client_admin;
    expect(await codeOf(t.query(internal.webhooks.get, { actor: acme, webhookId: globex.id }))).toBe("not_found");
    expect(await codeOf(t.mutation(internal.webhooks.remove, { actor: acme, webhookId: globex.id }))).toBe("not_found");
    const listed = await t.query(internal.webhooks.list, { actor: acme, page });
    expect(listed.page).toEqual([]);
  });

  test("disabling and enabling: enabling clears why it was disabled", async ({ t, world }) => {
    const actor = world.acme.actors.client_admin;
    const endpoint = await createEndpoint(t, actor);
    const off = await t.mutation(internal.webhooks.update, { actor, webhookId: endpoint.id, enabled: false });
    expect(off).toMatchObject({ enabled: false, disabledReason: "admin" });
    const on = await t.mutation(internal.webhooks.update, { actor, webhookId: endpoint.id, enabled: true });
    expect(on.enabled).toBe(true);
    expect(on.disabledReason).toBeUndefined();
  });
});

describe("events are recorded with the change they report", () => {
  test("a registration queues registration.created, with the registration as the REST API returns it", async ({
    t,
    world,
  }) => {
    const endpoint = await createEndpoint(t, world.acme.actors.client_admin);
    const registration = await register(t, world.acme);
    const [delivery] = await deliveries(t, endpoint.id);
    expect(delivery).toMatchObject({ type: "registration.created", status: "pending", attempts: 0 });
    const event = await t.run((ctx) => ctx.db.get(delivery.eventId));
    expect(event?.data).toEqual(registration);
  });

  test("a change no endpoint subscribes to writes nothing for webhooks", async ({ t, world }) => {
    await createEndpoint(t, world.acme.actors.client_admin, { events: ["course.published"] });
    await register(t, world.acme);
    expect(await t.run((ctx) => ctx.db.query("webhookEvents").collect())).toEqual([]);
  });

  test("a failed change records no event", async ({ t, world }) => {
    await createEndpoint(t, world.acme.actors.client_admin);
    const eventId = await makeEvent(t, world.acme, { capacity: 1 });
    await t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member, eventId });
    const full = t.mutation(internal.registrations.registerSelf, { actor: world.acme.actors.member2, eventId });
    expect(await codeOf(full)).toBe("capacity_full");
    expect(await t.run((ctx) => ctx.db.query("webhookEvents").collect())).toHaveLength(1);
  });

  test("one client's change is delivered to that client's endpoints only", async ({ t, world }) => {
    const acme = await createEndpoint(t, world.acme.actors.client_admin);
    const globex = await createEndpoint(t, world.globex.actors.client_admin);
    await register(t, world.acme);
    expect(await deliveries(t, acme.id)).toHaveLength(1);
    expect(await deliveries(t, globex.id)).toHaveLength(0);
    const [claimed] = await claim(t);
    expect(claimed.event.client).toBe(world.acme.slug);
  });

  test("an endpoint gets only the types it subscribed to, and none while disabled", async ({ t, world }) => {
    const actor = world.acme.actors.client_admin;
    const courses = await createEndpoint(t, actor, { events: ["course.published"] });
    const off = await createEndpoint(t, actor);
    await t.mutation(internal.webhooks.update, { actor, webhookId: off.id, enabled: false });
    await register(t, world.acme);
    expect(await deliveries(t)).toEqual([]);
    const courseId = await makeCourse(t, world.acme, { status: "draft" });
    await t.mutation(internal.courses.setStatus, { actor, courseId, status: "published" });
    expect((await deliveries(t, courses.id)).map((d) => d.type)).toEqual(["course.published"]);
  });

  test("a status change reports only the statuses that have an event", async ({ t, world }) => {
    const actor = world.acme.actors.client_admin;
    await createEndpoint(t, actor, { events: ["event.published", "event.cancelled"] });
    const published = await makeEvent(t, world.acme, { status: "draft" });
    await t.mutation(internal.events.setStatus, { actor, eventId: published, status: "published" });
    const archived = await makeEvent(t, world.acme);
    await t.mutation(internal.events.setStatus, { actor, eventId: archived, status: "archived" });
    const cancelled = await makeEvent(t, world.acme);
    await t.mutation(internal.events.setStatus, { actor, eventId: cancelled, status: "cancelled" });
    expect((await deliveries(t)).map((d) => d.type)).toEqual(["event.published", "event.cancelled"]);
  });

  test("a public reply is delivered, an internal note never", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    await createEndpoint(t, admin, { events: ["ticket.created", "ticket.message.created"] });
    const ticket = await t.mutation(internal.tickets.open, {
      actor: world.acme.actors.member,
      subject: "Invoice",
      body: "Where is my invoice?",
    });
    await t.mutation(internal.tickets.addInternalNote, { actor: admin, ticketId: ticket.id, body: "VIP, be quick" });
    const reply = await t.mutation(internal.tickets.reply, { actor: admin, ticketId: ticket.id, body: "Sent today." });
    const events = await t.run((ctx) => ctx.db.query("webhookEvents").collect());
    expect(events.map((e) => e.type)).toEqual(["ticket.created", "ticket.message.created"]);
    expect(events[1].data).toEqual(reply);
    expect(JSON.stringify(events)).not.toContain("VIP");
  });

  test("completing a completed enrollment reports nothing again", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    await createEndpoint(t, admin, { events: ["enrollment.created", "enrollment.completed"] });
    const courseId = await makeCourse(t, world.acme);
    const enrollment = await t.mutation(internal.enrollments.enrolSelf, { actor: world.acme.actors.member, courseId });
    await t.mutation(internal.enrollments.complete, { actor: admin, enrollmentId: enrollment.id });
    await t.mutation(internal.enrollments.complete, { actor: admin, enrollmentId: enrollment.id });
    expect((await deliveries(t)).map((d) => d.type)).toEqual(["enrollment.created", "enrollment.completed"]);
  });
});

describe("the delivery worker", () => {
  test("leases a due delivery once, with its payload and secrets", async ({ t, world }) => {
    const endpoint = await createEndpoint(t, world.acme.actors.client_admin);
    const registration = await register(t, world.acme);
    const [claimed, ...more] = await claim(t);
    expect(more).toEqual([]);
    expect(claimed).toMatchObject({ attempt: 1, url: endpoint.url, secrets: ["sealed:first"] });
    expect(claimed.event).toMatchObject({ type: "registration.created", client: "acme", data: registration });
    expect(await claim(t)).toEqual([]);
  });

  test("a 2xx delivers", async ({ t, world }) => {
    await createEndpoint(t, world.acme.actors.client_admin);
    await register(t, world.acme);
    const [c] = await claim(t);
    expect(await report(t, c, { status: 204 })).toEqual({ outcome: "delivered" });
    const [delivery] = await deliveries(t);
    expect(delivery).toMatchObject({ status: "delivered", attempts: 1, lastStatus: 204 });
  });

  test("a failure is retried by the schedule, with jitter", async ({ t, world }) => {
    await createEndpoint(t, world.acme.actors.client_admin);
    await register(t, world.acme);
    const [c] = await claim(t);
    const before = Date.now();
    const big = "x".repeat(5000);
    expect(await report(t, c, { status: 500, responseBody: big })).toEqual({ outcome: "retry" });
    const [delivery] = await deliveries(t);
    expect(delivery.status).toBe("pending");
    expect(delivery.lastResponseBody).toHaveLength(DELIVERY.responseBodyBytes);
    const delay = DELIVERY.retryDelaysSeconds[0] * 1000;
    expect(delivery.nextAttemptAt - before).toBeGreaterThanOrEqual(delay * (1 - DELIVERY.jitter) - 5);
    expect(delivery.nextAttemptAt - before).toBeLessThanOrEqual(delay * (1 + DELIVERY.jitter) + 1000);
  });

  test("the schedule retries for more than 24 hours and then stops", () => {
    const total = DELIVERY.retryDelaysSeconds.reduce((sum, s) => sum + s, 0);
    expect(total * (1 - DELIVERY.jitter)).toBeGreaterThan(24 * 60 * 60);
    const attempts = DELIVERY.retryDelaysSeconds.length;
    expect(nextAttemptAt(attempts, 0, () => 0.5)).toBe(DELIVERY.retryDelaysSeconds[attempts - 1] * 1000);
    expect(nextAttemptAt(attempts + 1, 0)).toBeUndefined();
  });

  test("a 410 ends the delivery and disables the endpoint, audited as the system", async ({ t, world }) => {
    const endpoint = await createEndpoint(t, world.acme.actors.client_admin);
    await register(t, world.acme);
    const [c] = await claim(t);
    expect(await report(t, c, { status: 410 })).toEqual({ outcome: "failed", disabled: "gone" });
    const after = await t.query(internal.webhooks.get, {
      actor: world.acme.actors.client_admin,
      webhookId: endpoint.id,
    });
    expect(after).toMatchObject({ enabled: false, disabledReason: "gone" });
    const audit = await t.run((ctx) => ctx.db.query("auditLogs").collect());
    expect(audit.find((a) => a.action === "webhook.disable")).toMatchObject({
      actorRole: "system",
      clientId: world.acme.clientId,
    });
  });

  test("an endpoint failing for disableAfterFailingDays is disabled", async ({ t, world }) => {
    vi.useFakeTimers({ now: Date.now() });
    try {
      const endpoint = await createEndpoint(t, world.acme.actors.client_admin);
      await register(t, world.acme);
      const [first] = await claim(t);
      expect((await report(t, first, { error: "timeout" })).outcome).toBe("retry");
      await register(t, world.acme);
      vi.advanceTimersByTime(DELIVERY.disableAfterFailingDays * DAY_MS);
      const [retried, second] = await claim(t);
      expect(await report(t, retried, { status: 503 })).toEqual({ outcome: "failed", disabled: "failing" });
      await report(t, second, { status: 503 });
      const after = await t.query(internal.webhooks.get, {
        actor: world.acme.actors.client_admin,
        webhookId: endpoint.id,
      });
      expect(after.disabledReason).toBe("failing");
      // Its remaining deliveries end instead of being sent.
      expect(await claim(t)).toEqual([]);
      expect((await deliveries(t)).every((d) => d.status === "failed")).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  test("a success in between resets the failing clock", async ({ t, world }) => {
    await createEndpoint(t, world.acme.actors.client_admin);
    await register(t, world.acme);
    await register(t, world.acme);
    const [a, b] = await claim(t);
    await report(t, a, { status: 500 });
    await report(t, b, { status: 200 });
    const [endpoint] = await t.run((ctx) => ctx.db.query("webhookEndpoints").collect());
    expect(endpoint.failingSince).toBeUndefined();
  });

  test("a worker that died loses its lease: the delivery is sent again, its late report ignored", async ({
    t,
    world,
  }) => {
    vi.useFakeTimers({ now: Date.now() });
    try {
      await createEndpoint(t, world.acme.actors.client_admin);
      await register(t, world.acme);
      const [first] = await claim(t);
      vi.advanceTimersByTime(DELIVERY.leaseSeconds * 1000 + 1);
      const [second] = await claim(t);
      expect(second).toMatchObject({ deliveryId: first.deliveryId, attempt: 2 });
      expect(await report(t, first, { status: 200 })).toEqual({ outcome: "stale" });
      expect(await report(t, second, { status: 200 })).toEqual({ outcome: "delivered" });
    } finally {
      vi.useRealTimers();
    }
  });

  test("holds at most maxInFlightPerEndpoint deliveries of one endpoint at a time", async ({ t, world }) => {
    vi.useFakeTimers({ now: Date.now() });
    try {
      await createEndpoint(t, world.acme.actors.client_admin);
      for (let i = 0; i < DELIVERY.maxInFlightPerEndpoint + 2; i++) await register(t, world.acme);
      const first = await claim(t);
      expect(first).toHaveLength(DELIVERY.maxInFlightPerEndpoint);
      expect(await claim(t)).toEqual([]);
      await report(t, first[0], { status: 200 });
      vi.advanceTimersByTime(1);
      expect(await claim(t)).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  test("a busy endpoint's backlog does not hold back another endpoint's deliveries", async ({ t, world }) => {
    const actor = world.acme.actors.client_admin;
    const slow = await createEndpoint(t, actor, { events: ["registration.created"] });
    for (let i = 0; i < 20; i++) await register(t, world.acme);
    const other = await createEndpoint(t, actor, { events: ["course.published"] });
    const courseId = await makeCourse(t, world.acme, { status: "draft" });
    await t.mutation(internal.courses.setStatus, { actor, courseId, status: "published" });
    // The slow endpoint's 4 slots fill; its other due deliveries step back, so the next claims reach the other's.
    const claimed = [...(await t.mutation(internal.webhooks.claimDue, { limit: 2 }))];
    for (
      let round = 0;
      round < 5 && !claimed.some((c) => c.url === other.url && c.event.type === "course.published");
      round++
    )
      claimed.push(...(await t.mutation(internal.webhooks.claimDue, { limit: 2 })));
    expect(claimed.filter((c) => c.event.type === "registration.created")).toHaveLength(
      DELIVERY.maxInFlightPerEndpoint,
    );
    expect(claimed.some((c) => c.event.type === "course.published")).toBe(true);
    expect(slow.id).not.toBe(other.id);
  });

  test("drops the deliveries of a deleted endpoint", async ({ t, world }) => {
    const actor = world.acme.actors.client_admin;
    const endpoint = await createEndpoint(t, actor);
    await register(t, world.acme);
    await t.mutation(internal.webhooks.remove, { actor, webhookId: endpoint.id });
    expect(await claim(t)).toEqual([]);
    expect(await deliveries(t)).toEqual([]);
  });
});

describe("secrets, pings and redelivery", () => {
  test("after a rotation both secrets sign for a day, then only the new one", async ({ t, world }) => {
    vi.useFakeTimers({ now: Date.now() });
    try {
      const actor = world.acme.actors.client_admin;
      const endpoint = await createEndpoint(t, actor);
      await t.mutation(internal.webhooks.rotateSecret, {
        actor,
        webhookId: endpoint.id,
        sealedSecret: "sealed:second",
      });
      await register(t, world.acme);
      const [now] = await claim(t);
      expect(now.secrets).toEqual(["sealed:second", "sealed:first"]);
      await report(t, now, { status: 200 });
      vi.advanceTimersByTime(DELIVERY.previousSecretHours * 60 * 60 * 1000 + 1);
      await register(t, world.acme);
      const [later] = await claim(t);
      expect(later.secrets).toEqual(["sealed:second"]);
    } finally {
      vi.useRealTimers();
    }
  });

  test("a ping goes to the endpoint pinged only", async ({ t, world }) => {
    const actor = world.acme.actors.client_admin;
    const pinged = await createEndpoint(t, actor);
    await createEndpoint(t, actor);
    const delivery = await t.mutation(internal.webhooks.ping, { actor, webhookId: pinged.id });
    expect(delivery).toMatchObject({ type: "webhook.ping", status: "pending", webhookId: pinged.id });
    expect(await deliveries(t)).toHaveLength(1);
  });

  test("a failed delivery can be sent again; a queued one cannot", async ({ t, world }) => {
    const actor = world.acme.actors.client_admin;
    const endpoint = await createEndpoint(t, actor);
    await register(t, world.acme);
    const [c] = await claim(t);
    const redeliver = () =>
      t.mutation(internal.webhooks.redeliver, { actor, webhookId: endpoint.id, deliveryId: c.deliveryId });
    expect(await codeOf(redeliver())).toBe("conflict");
    await report(t, c, { status: 410 });
    await t.mutation(internal.webhooks.update, { actor, webhookId: endpoint.id, enabled: true });
    expect(await redeliver()).toMatchObject({ status: "pending", attempts: 1 });
    const [again] = await claim(t);
    expect(again).toMatchObject({ deliveryId: c.deliveryId, attempt: 2 });
  });

  test("another client's delivery reads as missing", async ({ t, world }) => {
    const acme = await createEndpoint(t, world.acme.actors.client_admin);
    const globex = await createEndpoint(t, world.globex.actors.client_admin);
    await register(t, world.globex);
    const [delivery] = await deliveries(t, globex.id);
    const listed = await t.query(internal.webhooks.listDeliveries, {
      actor: world.acme.actors.client_admin,
      webhookId: acme.id,
      page,
    });
    expect(listed.page).toEqual([]);
    const foreign = t.mutation(internal.webhooks.redeliver, {
      actor: world.acme.actors.client_admin,
      webhookId: acme.id,
      deliveryId: delivery._id,
    });
    expect(await codeOf(foreign)).toBe("not_found");
  });
});
