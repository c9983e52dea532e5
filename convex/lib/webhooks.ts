// Webhook events are recorded in the transaction of the change they report (a crash after the
// commit loses none), with one delivery per endpoint of the same client that subscribes to the
// type. The BFF's delivery worker sends them (convex/webhooks.ts, `claimDue`); nothing here
// reaches outside Convex.
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { WebhookEventType } from "../schema";
import catalogue from "../webhooks.json";

export const DELIVERY = catalogue.delivery;

/** An event a mutation reports: always one type, or one chosen by its result (a status change). */
export type Emits<R = unknown> = WebhookEventType | ((result: R) => WebhookEventType | undefined);

/**
 * Record `type` with `data` (the resource as the REST API returns it) for `clientId`, and queue a
 * delivery to each enabled endpoint of that client subscribed to it (or only to `onlyTo`, a ping).
 * Endpoints per client are capped (`endpointsPerClient`), so the fan-out is bounded; with none
 * subscribed nothing is written (one index read is the whole cost).
 */
export async function recordEvent(
  ctx: Pick<MutationCtx, "db">,
  clientId: Id<"clients">,
  type: WebhookEventType,
  data: unknown,
  onlyTo?: Id<"webhookEndpoints">,
  requestId?: string,
): Promise<{ eventId?: Id<"webhookEvents">; deliveryIds: Id<"webhookDeliveries">[] }> {
  const now = Date.now();
  const endpoints = await ctx.db
    .query("webhookEndpoints")
    .withIndex("by_clientId_createdAt", (q) => q.eq("clientId", clientId))
    .take(DELIVERY.endpointsPerClient);
  const wanted = endpoints.filter((endpoint) =>
    onlyTo === undefined ? endpoint.enabled && endpoint.events.includes(type) : endpoint._id === onlyTo,
  );
  if (wanted.length === 0) return { deliveryIds: [] };
  const eventId = await ctx.db.insert("webhookEvents", { clientId, type, data, createdAt: now, requestId });
  const deliveryIds: Id<"webhookDeliveries">[] = [];
  for (const endpoint of wanted) {
    const deliveryId = await ctx.db.insert("webhookDeliveries", {
      clientId,
      endpointId: endpoint._id,
      eventId,
      type,
      status: "pending",
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
    });
    deliveryIds.push(deliveryId);
  }
  return { eventId, deliveryIds };
}

/** The type a mutation that declared `emits` reports for `result`, if any. */
export function emittedType<R>(emits: Emits<R> | undefined, result: R): WebhookEventType | undefined {
  return typeof emits === "function" ? emits(result) : emits;
}
