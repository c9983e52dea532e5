// The audit log: every write to client data leaves a record (written by the
// builders' ctx.audit in the writing transaction). client_admin reads its client's log.
import type { IndexRange } from "convex/server";
import { v } from "convex/values";
import type { RangeAt } from "./lib/db";
import { fail } from "./lib/errors";
import { clientQuery } from "./lib/functions";
import { pageArgs, paged, pageOf } from "./lib/pagination";
import { viewOf } from "./lib/views";

const entryView = viewOf("auditLogs", { omit: ["clientId"] });

/**
 * Newest first. One filter at a time is an index range (an entity type, optionally with its
 * id; an action; an actor user or actor key), combined with an optional time range on `at`.
 */
export const list = clientQuery({
  capability: "audit.read",
  args: {
    page: pageArgs,
    entityType: v.optional(v.string()),
    entityId: v.optional(v.string()),
    action: v.optional(v.string()),
    actorUserId: v.optional(v.string()),
    actorApiKeyId: v.optional(v.string()),
    from: v.optional(v.number()),
    to: v.optional(v.number()),
  },
  returns: pageOf(entryView.validator),
  handler: async (ctx, { page, entityType, entityId, action, actorUserId, actorApiKeyId, from, to }) => {
    const clientId = ctx.actor.clientId;
    if (entityId !== undefined && entityType === undefined) {
      fail("validation", "entityId needs its entityType (an entity is a type and an id)", { field: "entityId" });
    }
    const filters = [entityType, action, actorUserId, actorApiKeyId].filter((f) => f !== undefined);
    if (filters.length > 1) {
      fail("validation", "Filter by one of entityType, action, actorUserId, actorApiKeyId at a time", {
        field: "entityType",
      });
    }
    // Every index below has `at` after its equalities.
    const time = (q: RangeAt<"auditLogs", "at">): IndexRange => {
      const lower = from === undefined ? q : q.gte("at", from);
      return to === undefined ? lower : lower.lt("at", to);
    };
    const userId = actorUserId === undefined ? undefined : ctx.db.normalizeId("users", actorUserId);
    const keyId = actorApiKeyId === undefined ? undefined : ctx.db.normalizeId("apiKeys", actorApiKeyId);
    if (userId === null || keyId === null) return { page: [], isDone: true, continueCursor: "" };
    const logs = ctx.db.query("auditLogs");
    const query =
      entityType !== undefined && entityId !== undefined
        ? logs.withIndex("by_clientId_entityType_entityId_at", (q) =>
            time(q.eq("clientId", clientId).eq("entityType", entityType).eq("entityId", entityId)),
          )
        : entityType !== undefined
          ? logs.withIndex("by_clientId_entityType_at", (q) =>
              time(q.eq("clientId", clientId).eq("entityType", entityType)),
            )
          : action !== undefined
            ? logs.withIndex("by_clientId_action_at", (q) => time(q.eq("clientId", clientId).eq("action", action)))
            : userId !== undefined
              ? logs.withIndex("by_clientId_actorUserId_at", (q) =>
                  time(q.eq("clientId", clientId).eq("actorUserId", userId)),
                )
              : keyId !== undefined
                ? logs.withIndex("by_clientId_actorApiKeyId_at", (q) =>
                    time(q.eq("clientId", clientId).eq("actorApiKeyId", keyId)),
                  )
                : logs.withIndex("by_clientId_at", (q) => time(q.eq("clientId", clientId)));
    return paged(query.order("desc"), page, entryView.of);
  },
});
