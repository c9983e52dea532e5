// Webhook endpoints, and the deliveries of the events recorded for them (convex/lib/webhooks.ts).
//
// A client admin manages its client's endpoints. Delivery is at least once: the BFF's worker
// leases due deliveries (`claimDue`), sends them, and reports each attempt (`recordAttempt`),
// which ends the delivery or schedules its next attempt by convex/webhooks.json's `delivery`
// policy. A worker that dies mid-attempt loses its lease, and the delivery is sent again.
// Signing secrets are sealed by the BFF before they reach Convex, and only the BFF signs.
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { internalQuery } from "./_generated/server";
import { byParent, inClient, mustGet } from "./lib/db";
import { fail } from "./lib/errors";
import { clientMutation, clientQuery, writeAudit } from "./lib/functions";
import { TEXT_MAX } from "./lib/limits";
import { pageArgs, paged, pageOf } from "./lib/pagination";
import { getQuery, pageQuery } from "./lib/reads";
import { internalMutation, type RequestContext } from "./lib/receipts";
import { optionalText } from "./lib/validate";
import { viewOf } from "./lib/views";
import { DELIVERY, recordEvent } from "./lib/webhooks";
import { type WebhookEventType, webhookDeliveryStatus, webhookEventType } from "./schema";

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

// Picked: the secrets never leave through a view.
const endpointView = viewOf("webhookEndpoints", {
  pick: ["url", "description", "events", "enabled", "disabledReason", "disabledAt", "createdAt", "updatedAt"],
});
/** A delivery as the API shows it: its endpoint as `webhookId`; `nextAttemptAt` only while it waits, `endedAt` once it ended. */
const deliveryView = {
  validator: v.object({
    id: v.id("webhookDeliveries"),
    webhookId: v.id("webhookEndpoints"),
    eventId: v.id("webhookEvents"),
    type: webhookEventType,
    status: webhookDeliveryStatus,
    attempts: v.number(),
    nextAttemptAt: v.optional(v.number()),
    lastAttemptAt: v.optional(v.number()),
    lastStatus: v.optional(v.number()),
    lastError: v.optional(v.string()),
    lastResponseBody: v.optional(v.string()),
    lastDurationMs: v.optional(v.number()),
    endedAt: v.optional(v.number()),
    createdAt: v.number(),
  }),
  of: ({ _id, _creationTime, clientId, endpointId, nextAttemptAt, ...rest }: Doc<"webhookDeliveries">) => {
    const ended = rest.status === "delivered" || rest.status === "failed";
    return {
      id: _id,
      webhookId: endpointId,
      ...rest,
      ...(rest.status === "pending" && { nextAttemptAt }),
      ...(ended && { endedAt: nextAttemptAt }),
    };
  },
};

/** A URL Convex will store: http(s), no credentials, within the length bound. The BFF refuses private targets. */
function checkedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail("validation", "url must be an absolute http or https URL", { field: "url" });
  }
  if (url.length > DELIVERY.urlMaxLength || !["http:", "https:"].includes(parsed.protocol))
    fail("validation", `url must be an http or https URL of at most ${DELIVERY.urlMaxLength} characters`, {
      field: "url",
    });
  if (parsed.username !== "" || parsed.password !== "")
    fail("validation", "url must not carry credentials", { field: "url" });
  return url;
}

/** Subscribed types: at least one, each once, never `webhook.ping` (sent only when asked for). */
function checkedEvents(events: WebhookEventType[]): WebhookEventType[] {
  const unique = [...new Set(events)];
  if (unique.length === 0 || unique.length !== events.length || unique.includes("webhook.ping"))
    fail("validation", "events must name each event type once, at least one, and not webhook.ping", {
      field: "events",
    });
  return unique;
}

const endpointFields = {
  url: v.string(),
  events: v.array(webhookEventType),
  description: v.optional(v.string()),
};

export const create = clientMutation({
  capability: "webhooks.manage",
  args: { ...endpointFields, sealedSecret: v.string() },
  returns: endpointView.validator,
  handler: async (ctx, args) => {
    const existing = await inClient(ctx, "webhookEndpoints", "createdAt").take(DELIVERY.endpointsPerClient);
    if (existing.length >= DELIVERY.endpointsPerClient)
      fail("conflict", `A client has at most ${DELIVERY.endpointsPerClient} webhook endpoints`);
    const now = Date.now();
    const fields = {
      url: checkedUrl(args.url),
      events: checkedEvents(args.events),
      description: optionalText("description", args.description, TEXT_MAX.title),
    };
    const id = await ctx.db.insert("webhookEndpoints", {
      clientId: ctx.actor.clientId,
      ...fields,
      enabled: true,
      secrets: [{ sealed: args.sealedSecret, createdAt: now }],
      createdAt: now,
      updatedAt: now,
    });
    await ctx.audit("webhook.create", id, { after: fields });
    return endpointView.of(await mustGet(ctx, id));
  },
});

export const list = pageQuery("webhooks.manage", endpointView, (ctx) =>
  inClient(ctx, "webhookEndpoints", "createdAt").order("desc"),
);

export const get = getQuery("webhooks.manage", endpointView, "webhookId", (ctx, id) =>
  ctx.getOwned("webhookEndpoints", id),
);

/** Change the URL, the events or the description, or enable or disable; enabling clears why it was disabled. */
export const update = clientMutation({
  capability: "webhooks.manage",
  args: {
    webhookId: v.string(),
    url: v.optional(v.string()),
    events: v.optional(v.array(webhookEventType)),
    description: v.optional(v.string()),
    enabled: v.optional(v.boolean()),
  },
  returns: endpointView.validator,
  handler: async (ctx, { webhookId, ...changes }) => {
    const endpoint = await ctx.getOwned("webhookEndpoints", webhookId);
    const now = Date.now();
    const fields: Partial<Doc<"webhookEndpoints">> = {};
    if (changes.url !== undefined) fields.url = checkedUrl(changes.url);
    if (changes.events !== undefined) fields.events = checkedEvents(changes.events);
    if (changes.description !== undefined)
      fields.description = optionalText("description", changes.description, TEXT_MAX.title);
    if (changes.enabled === true && !endpoint.enabled)
      Object.assign(fields, {
        enabled: true,
        disabledReason: undefined,
        disabledAt: undefined,
        failingSince: undefined,
      });
    if (changes.enabled === false && endpoint.enabled)
      Object.assign(fields, { enabled: false, disabledReason: "admin", disabledAt: now });
    await ctx.db.patch(endpoint._id, { ...fields, updatedAt: now });
    const before = Object.fromEntries(Object.keys(fields).map((k) => [k, endpoint[k as keyof typeof endpoint]]));
    await ctx.audit("webhook.update", endpoint._id, { before, after: fields });
    return endpointView.of(await mustGet(ctx, endpoint._id));
  },
});

/**
 * Delete an endpoint. Its deliveries go with it: the worker drops any it still finds, and the
 * retention sweep the rest, so one transaction never has to delete an unbounded number.
 */
export const remove = clientMutation({
  capability: "webhooks.manage",
  args: { webhookId: v.string() },
  returns: v.null(),
  handler: async (ctx, { webhookId }) => {
    const endpoint = await ctx.getOwned("webhookEndpoints", webhookId);
    await ctx.db.delete(endpoint._id);
    await ctx.audit("webhook.delete", endpoint._id, { before: { url: endpoint.url } });
    return null;
  },
});

/** A new signing secret; the one it replaces keeps signing beside it for `previousSecretHours`. */
export const rotateSecret = clientMutation({
  capability: "webhooks.manage",
  args: { webhookId: v.string(), sealedSecret: v.string() },
  returns: endpointView.validator,
  handler: async (ctx, { webhookId, sealedSecret }) => {
    const endpoint = await ctx.getOwned("webhookEndpoints", webhookId);
    const now = Date.now();
    const [current] = endpoint.secrets;
    const previous = { ...current, expiresAt: now + DELIVERY.previousSecretHours * HOUR_MS };
    await ctx.db.patch(endpoint._id, { secrets: [{ sealed: sealedSecret, createdAt: now }, previous], updatedAt: now });
    await ctx.audit("webhook.rotateSecret", endpoint._id, { after: { previousExpiresAt: previous.expiresAt } });
    return endpointView.of(await mustGet(ctx, endpoint._id));
  },
});

/** Queue a `webhook.ping` to this endpoint alone; answers its delivery. */
export const ping = clientMutation({
  capability: "webhooks.manage",
  args: { webhookId: v.string() },
  returns: deliveryView.validator,
  handler: async (ctx, { webhookId }) => {
    const endpoint = await ctx.getOwned("webhookEndpoints", webhookId);
    if (!endpoint.enabled) fail("conflict", "A disabled webhook endpoint cannot be pinged: enable it first");
    const data = { webhookId: endpoint._id, url: endpoint.url };
    const { requestId } = ctx as RequestContext;
    const { eventId, deliveryIds } = await recordEvent(
      ctx,
      ctx.actor.clientId,
      "webhook.ping",
      data,
      endpoint._id,
      requestId,
    );
    await ctx.audit("webhook.ping", endpoint._id, { after: { eventId } });
    return deliveryView.of(await mustGet(ctx, deliveryIds[0]));
  },
});

/** An endpoint's deliveries, newest first, optionally by status. */
export const listDeliveries = clientQuery({
  capability: "webhooks.manage",
  args: { webhookId: v.string(), page: pageArgs, status: v.optional(webhookDeliveryStatus) },
  returns: pageOf(deliveryView.validator),
  handler: async (ctx, { webhookId, page, status }) => {
    const endpoint = await ctx.getOwned("webhookEndpoints", webhookId);
    const query =
      status === undefined
        ? ctx.db
            .query("webhookDeliveries")
            .withIndex("by_endpointId_createdAt", (q) => q.eq("endpointId", endpoint._id))
        : byParent(ctx, "webhookDeliveries", "endpointId", endpoint._id, status);
    return paged(query.order("desc"), page, deliveryView.of);
  },
});

/** Send a delivery again now, whatever its state, unless it is already waiting or being sent. */
export const redeliver = clientMutation({
  capability: "webhooks.manage",
  args: { webhookId: v.string(), deliveryId: v.string() },
  returns: deliveryView.validator,
  handler: async (ctx, { webhookId, deliveryId }) => {
    const endpoint = await ctx.getOwned("webhookEndpoints", webhookId);
    const delivery = await ctx.getOwned("webhookDeliveries", deliveryId);
    if (delivery.endpointId !== endpoint._id) return fail("not_found", "delivery not found", { entity: "delivery" });
    if (!endpoint.enabled) fail("conflict", "A disabled webhook endpoint takes no deliveries: enable it first");
    if (delivery.status === "pending" || delivery.status === "sending")
      fail("conflict", "The delivery is already queued");
    if ((await ctx.db.get(delivery.eventId)) === null)
      fail("conflict", `The event is older than ${DELIVERY.retentionDays} days and no longer kept`);
    await ctx.db.patch(delivery._id, { status: "pending", nextAttemptAt: Date.now() });
    await ctx.audit("webhook.redeliver", delivery._id, { before: { status: delivery.status } });
    return deliveryView.of(await mustGet(ctx, delivery._id));
  },
});

// ----- The delivery worker's side: system functions, not client-scoped (they serve every client,
// each delivery naming its own client and endpoint; nothing here takes a client from a caller).

const claimed = v.object({
  deliveryId: v.id("webhookDeliveries"),
  attempt: v.number(),
  url: v.string(),
  /** The client the secrets are sealed for. */
  clientId: v.id("clients"),
  /** The BFF request whose change the event reports, if known. */
  requestId: v.optional(v.string()),
  /** The sealed secrets to sign with: the current one first, then one rotated out less than a day ago. */
  secrets: v.array(v.string()),
  /** The payload: `client` is the client's slug, `data` the resource as the REST API returns it. */
  event: v.object({
    id: v.id("webhookEvents"),
    type: webhookEventType,
    createdAt: v.number(),
    client: v.string(),
    data: v.any(),
  }),
});

/** When the earliest delivery falls due (or a lease runs out), or null when none waits: an idle worker's poll. */
export const nextDueAt = internalQuery({
  args: {},
  returns: v.union(v.number(), v.null()),
  handler: async (ctx) => {
    const first = (status: "pending" | "sending") =>
      ctx.db
        .query("webhookDeliveries")
        .withIndex("by_status_nextAttemptAt", (q) => q.eq("status", status))
        .first();
    const times = [await first("pending"), await first("sending")].flatMap((d) =>
      d === null ? [] : [d.nextAttemptAt],
    );
    return times.length === 0 ? null : Math.min(...times);
  },
});

/**
 * Lease up to `limit` due deliveries (waiting, or leased by a worker whose lease ran out) for one
 * attempt each, at most `maxInFlightPerEndpoint` per endpoint at a time. A delivery whose endpoint
 * was deleted is dropped; one whose endpoint is disabled ends as failed.
 */
export const claimDue = internalMutation({
  args: { limit: v.number() },
  returns: v.array(claimed),
  handler: async (ctx, { limit }) => {
    const now = Date.now();
    const due = async (status: "pending" | "sending", n: number) =>
      ctx.db
        .query("webhookDeliveries")
        .withIndex("by_status_nextAttemptAt", (q) => q.eq("status", status).lte("nextAttemptAt", now))
        .take(n);
    const candidates = [...(await due("sending", limit)), ...(await due("pending", limit * 4))];
    const inFlight = new Map<Id<"webhookEndpoints">, number>();
    const out: (typeof claimed.type)[] = [];
    for (const delivery of candidates) {
      if (out.length >= limit) break;
      const endpoint = await ctx.db.get(delivery.endpointId);
      if (endpoint === null) {
        await ctx.db.delete(delivery._id);
        continue;
      }
      if (!endpoint.enabled) {
        await ctx.db.patch(delivery._id, { status: "failed", nextAttemptAt: now, lastError: "endpoint disabled" });
        continue;
      }
      let sending = inFlight.get(endpoint._id);
      if (sending === undefined) {
        const leased = await byParent(ctx, "webhookDeliveries", "endpointId", endpoint._id, "sending")
          .filter((q) => q.gt(q.field("nextAttemptAt"), now))
          .take(DELIVERY.maxInFlightPerEndpoint);
        sending = leased.length;
      }
      if (sending >= DELIVERY.maxInFlightPerEndpoint) {
        // Its endpoint is busy: due from now instead, behind every delivery that fell due earlier,
        // so the next claims reach other endpoints' and one slow receiver holds back only its own.
        await ctx.db.patch(delivery._id, { nextAttemptAt: now });
        continue;
      }
      const event = await ctx.db.get(delivery.eventId);
      if (event === null) {
        await ctx.db.patch(delivery._id, { status: "failed", nextAttemptAt: now, lastError: "event expired" });
        continue;
      }
      inFlight.set(endpoint._id, sending + 1);
      const attempt = delivery.attempts + 1;
      await ctx.db.patch(delivery._id, {
        status: "sending",
        attempts: attempt,
        nextAttemptAt: now + DELIVERY.leaseSeconds * 1000,
        lastAttemptAt: now,
      });
      const client = await mustGet(ctx, delivery.clientId);
      out.push({
        deliveryId: delivery._id,
        attempt,
        url: endpoint.url,
        clientId: delivery.clientId,
        requestId: event.requestId,
        secrets: endpoint.secrets.filter((s) => s.expiresAt === undefined || s.expiresAt > now).map((s) => s.sealed),
        event: { id: event._id, type: event.type, createdAt: event.createdAt, client: client.slug, data: event.data },
      });
    }
    return out;
  },
});

/** When the next attempt after `attempts` failed ones is due, or undefined when none is left. */
export function nextAttemptAt(attempts: number, now: number, random: () => number = Math.random) {
  const delay = DELIVERY.retryDelaysSeconds[attempts - 1];
  if (delay === undefined) return undefined;
  const jitter = 1 + DELIVERY.jitter * (2 * random() - 1);
  return now + Math.round(delay * 1000 * jitter);
}

const outcome = v.union(v.literal("delivered"), v.literal("retry"), v.literal("failed"), v.literal("stale"));

/**
 * Record one attempt's result: a 2xx delivers; a 410 fails it and disables the endpoint;
 * anything else (another status, a timeout, a refused connection) is retried by the schedule
 * until it is spent, and an endpoint failing for `disableAfterFailingDays` is disabled. A report
 * for an attempt that is no longer the delivery's current lease changes nothing (`stale`).
 */
export const recordAttempt = internalMutation({
  args: {
    deliveryId: v.id("webhookDeliveries"),
    attempt: v.number(),
    status: v.optional(v.number()),
    error: v.optional(v.string()),
    responseBody: v.optional(v.string()),
    durationMs: v.number(),
  },
  returns: v.object({ outcome, disabled: v.optional(v.string()) }),
  handler: async (ctx, { deliveryId, attempt, status, error, responseBody, durationMs }) => {
    const delivery = await ctx.db.get(deliveryId);
    if (delivery === null || delivery.status !== "sending" || delivery.attempts !== attempt)
      return { outcome: "stale" as const };
    const endpoint = await ctx.db.get(delivery.endpointId);
    const now = Date.now();
    const result = {
      lastStatus: status,
      lastError: error,
      lastResponseBody: responseBody?.slice(0, DELIVERY.responseBodyBytes),
      lastDurationMs: durationMs,
    };
    const ok = status !== undefined && status >= 200 && status < 300;
    if (ok) {
      await ctx.db.patch(delivery._id, { ...result, status: "delivered", nextAttemptAt: now });
      if (endpoint?.failingSince !== undefined) await ctx.db.patch(endpoint._id, { failingSince: undefined });
      return { outcome: "delivered" as const };
    }
    const failingSince = endpoint?.failingSince ?? now;
    const disable =
      endpoint === null || !endpoint.enabled
        ? undefined
        : status === 410
          ? ("gone" as const)
          : now - failingSince >= DELIVERY.disableAfterFailingDays * DAY_MS
            ? ("failing" as const)
            : undefined;
    // No retry to an endpoint gone, disabled meanwhile or now, or answering 410.
    const retry = endpoint?.enabled === true && disable === undefined && status !== 410;
    const next = retry ? nextAttemptAt(attempt, now) : undefined;
    await ctx.db.patch(delivery._id, {
      ...result,
      status: next === undefined ? "failed" : "pending",
      nextAttemptAt: next ?? now,
    });
    if (endpoint !== null) {
      // Written only when it changes: every failed attempt of one endpoint would otherwise write
      // its document, a hot document on Convex when several workers report at once.
      if (endpoint.failingSince === undefined || disable !== undefined)
        await ctx.db.patch(endpoint._id, {
          failingSince,
          ...(disable !== undefined && { enabled: false, disabledReason: disable, disabledAt: now, updatedAt: now }),
        });
      if (disable !== undefined)
        await writeAudit(ctx, { clientId: endpoint.clientId, role: "system" }, "webhook.disable", endpoint._id, {
          after: { reason: disable, lastStatus: status, lastError: error },
        });
    }
    return { outcome: next === undefined ? ("failed" as const) : ("retry" as const), disabled: disable };
  },
});

/** Delete events and ended deliveries older than `retentionDays`, a batch at a time (hourly). */
export const sweep = internalMutation({
  args: {},
  returns: v.object({ deleted: v.number() }),
  handler: async (ctx) => {
    const cutoff = Date.now() - DELIVERY.retentionDays * DAY_MS;
    let deleted = 0;
    for (const status of ["delivered", "failed"] as const) {
      const old = await ctx.db
        .query("webhookDeliveries")
        .withIndex("by_status_nextAttemptAt", (q) => q.eq("status", status).lt("nextAttemptAt", cutoff))
        .take(100);
      for (const delivery of old) await ctx.db.delete(delivery._id);
      deleted += old.length;
    }
    const events = await ctx.db
      .query("webhookEvents")
      .withIndex("by_createdAt", (q) => q.lt("createdAt", cutoff))
      .take(100);
    for (const event of events) await ctx.db.delete(event._id);
    return { deleted: deleted + events.length };
  },
});
