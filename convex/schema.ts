// The blueprint of the data. Every client-owned table carries `clientId` and every index a
// client-scoped query uses leads with it (or with a parent id already checked against the
// client), so no request reads another client's documents. Many-to-many goes through join
// tables; the only embedded list is an event's speakers (bounded). The views functions return
// are derived from these table definitions (convex/lib/views.ts). docs/data-model.md explains
// each table and index.
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { literals } from "convex-helpers/validators";
import { LIMITS } from "./lib/limits";
import catalogue from "./webhooks.json";

export const MAX_SPEAKERS = LIMITS.speakersPerEvent;

/**
 * The only embedded lists, each with the bound its mutations enforce. The
 * normalisation test fails on any array field that is not listed here.
 */
export const BOUNDED_EMBEDS: Record<string, Record<string, number>> = {
  events: { speakers: MAX_SPEAKERS },
  // At most every event type once; the current secret and the one it replaced (for a day).
  webhookEndpoints: { events: Object.keys(catalogue.events).length, secrets: 2 },
};

/** Categories one course may have (courseCategories rows per course). */
export const MAX_COURSE_CATEGORIES = LIMITS.categoriesPerCourse;
/** Sponsors that may back one event (eventSponsors rows per event). */
export const MAX_EVENT_SPONSORS = LIMITS.sponsorsPerEvent;
/** Interests one member may have (memberInterests rows per member). */
export const MAX_MEMBER_INTERESTS = LIMITS.interestsPerMember;

/**
 * The join tables whose rows per parent are capped: every mutation that adds a row enforces
 * the cap, so every read or delete of one parent's rows takes exactly the cap and is complete.
 */
export const BOUNDED_LINKS: Record<string, { parent: string; max: number }> = {
  courseCategories: { parent: "courseId", max: MAX_COURSE_CATEGORIES },
  eventSponsors: { parent: "eventId", max: MAX_EVENT_SPONSORS },
  memberInterests: { parent: "memberId", max: MAX_MEMBER_INTERESTS },
};

/** A role a membership or API key can hold inside one client. */
export const clientRole = literals("client_admin", "client_user", "member", "sponsor_admin", "sponsor_user");

/** Any role an actor acts in: a client role, or the platform admin's in any client. */
export const role = v.union(v.literal("platform_admin"), ...clientRole.members);

export const publicationStatus = literals("draft", "published", "archived");
export const eventStatus = literals("draft", "published", "cancelled", "archived");
export const memberStatus = literals("active", "inactive", "suspended");
export const registrationStatus = literals("pending", "confirmed", "paid", "checked_in", "cancelled", "refunded");
export const enrollmentStatus = literals("active", "completed", "withdrawn", "removed");
export const ticketStatus = literals("open", "pending", "resolved", "closed");
export const ticketPriority = literals("low", "normal", "high", "urgent");

export const sponsorTier = literals("gold", "silver", "bronze");

/** What a webhook event reports (convex/webhooks.json); `webhook.ping` only goes to the endpoint pinged. */
export type WebhookEventType = keyof typeof catalogue.events;
const eventTypes = Object.keys(catalogue.events) as WebhookEventType[];
export const webhookEventType = v.union(...eventTypes.map((type) => v.literal(type)));
/**
 * A delivery waits for its next attempt (`pending`), is being sent by a worker that leased it
 * (`sending`, until `nextAttemptAt`), or has ended: `delivered` (a 2xx), `failed` (attempts spent,
 * a 410, or its endpoint disabled).
 */
export const webhookDeliveryStatus = literals("pending", "sending", "delivered", "failed");
/** Why an endpoint stopped receiving: its admin, a 410 Gone from it, or failing for days. */
export const webhookDisabledReason = literals("admin", "gone", "failing");

/**
 * Why a browser session ended: signed out, ended by its user or a platform admin, by the
 * provider's back-channel logout, a refresh the provider refused, or pushed out by the
 * user's newer sessions (convex/sessions.ts, MAX_SESSIONS_PER_SUBJECT).
 */
export const sessionEndReason = literals("logout", "user", "admin", "backchannel", "refresh_failed", "superseded");

/** A response the BFF stored for an Idempotency-Key, to replay. */
export const storedResponse = v.object({
  status: v.number(),
  contentType: v.string(),
  body: v.string(),
  location: v.optional(v.string()),
});

export const speaker = v.object({
  name: v.string(),
  title: v.optional(v.string()),
  bio: v.optional(v.string()),
});

export default defineSchema({
  clients: defineTable({
    slug: v.string(),
    name: v.string(),
    status: literals("active", "suspended"),
    createdAt: v.number(),
  }).index("by_slug", ["slug"]),

  // The auth identity. Not the member record (that is memberProfiles).
  users: defineTable({
    email: v.string(),
    name: v.string(),
    // The JWT `sub` of the identity provider.
    authSubject: v.string(),
    isPlatformAdmin: v.boolean(),
    createdAt: v.number(),
  })
    .index("by_authSubject", ["authSubject"])
    .index("by_email", ["email"]),

  clientMemberships: defineTable({
    clientId: v.id("clients"),
    userId: v.id("users"),
    role: clientRole,
    // Set for sponsor_admin / sponsor_user: the sponsor this user acts for.
    sponsorId: v.optional(v.id("sponsors")),
    createdAt: v.number(),
  })
    .index("by_clientId_userId", ["clientId", "userId"])
    .index("by_userId", ["userId"]),

  apiKeys: defineTable({
    clientId: v.id("clients"),
    name: v.string(),
    // SHA-256 hex of the secret; the secret itself is never stored.
    hash: v.string(),
    // First characters of the secret, to recognise a key in a list.
    prefix: v.string(),
    role: clientRole,
    sponsorId: v.optional(v.id("sponsors")),
    createdByUserId: v.optional(v.id("users")),
    createdAt: v.number(),
    revokedAt: v.optional(v.number()),
  })
    .index("by_hash", ["hash"])
    .index("by_clientId_createdAt", ["clientId", "createdAt"]),

  memberProfiles: defineTable({
    clientId: v.id("clients"),
    // Set when the member can sign in.
    userId: v.optional(v.id("users")),
    firstName: v.string(),
    lastName: v.string(),
    // Lower-cased; unique within a client.
    email: v.string(),
    phone: v.optional(v.string()),
    status: memberStatus,
    cpdPoints: v.number(),
    // Lower-cased "first last" for prefix search by name.
    searchName: v.string(),
    createdAt: v.number(),
    updatedAt: v.number(),
  })
    .index("by_clientId_email", ["clientId", "email"])
    .index("by_clientId_userId", ["clientId", "userId"])
    .index("by_clientId_status_searchName", ["clientId", "status", "searchName"])
    .index("by_clientId_searchName", ["clientId", "searchName"]),

  interestCategories: defineTable({
    clientId: v.id("clients"),
    name: v.string(),
    createdAt: v.number(),
  }).index("by_clientId_name", ["clientId", "name"]),

  memberInterests: defineTable({
    clientId: v.id("clients"),
    memberId: v.id("memberProfiles"),
    interestCategoryId: v.id("interestCategories"),
    createdAt: v.number(),
  })
    .index("by_memberId_interestCategoryId", ["memberId", "interestCategoryId"])
    .index("by_interestCategoryId_memberId", ["interestCategoryId", "memberId"]),

  categories: defineTable({
    clientId: v.id("clients"),
    name: v.string(),
    slug: v.string(),
    description: v.optional(v.string()),
    createdAt: v.number(),
  })
    .index("by_clientId_slug", ["clientId", "slug"])
    .index("by_clientId_name", ["clientId", "name"]),

  courses: defineTable({
    clientId: v.id("clients"),
    title: v.string(),
    description: v.optional(v.string()),
    status: publicationStatus,
    cpdPoints: v.number(),
    startAt: v.optional(v.number()),
    createdAt: v.number(),
    updatedAt: v.number(),
  })
    .index("by_clientId_status_createdAt", ["clientId", "status", "createdAt"])
    .index("by_clientId_createdAt", ["clientId", "createdAt"]),

  courseCategories: defineTable({
    clientId: v.id("clients"),
    courseId: v.id("courses"),
    categoryId: v.id("categories"),
  })
    .index("by_courseId_categoryId", ["courseId", "categoryId"])
    .index("by_categoryId_courseId", ["categoryId", "courseId"]),

  courseEnrollments: defineTable({
    clientId: v.id("clients"),
    courseId: v.id("courses"),
    memberId: v.id("memberProfiles"),
    status: enrollmentStatus,
    enrolledAt: v.number(),
    completedAt: v.optional(v.number()),
    // CPD points actually awarded on completion (awarded once).
    cpdPointsAwarded: v.optional(v.number()),
    updatedAt: v.number(),
  })
    .index("by_courseId_status", ["courseId", "status"])
    .index("by_courseId_memberId", ["courseId", "memberId"])
    .index("by_memberId_status", ["memberId", "status"]),

  events: defineTable({
    clientId: v.id("clients"),
    title: v.string(),
    description: v.optional(v.string()),
    location: v.optional(v.string()),
    status: eventStatus,
    startAt: v.number(),
    endAt: v.number(),
    registrationOpensAt: v.optional(v.number()),
    registrationClosesAt: v.optional(v.number()),
    // Absent: unlimited.
    capacity: v.optional(v.number()),
    // Active (pending, confirmed, paid, checked_in) registrations; kept in the
    // same transaction as every registration change so capacity checks read one doc.
    registeredCount: v.number(),
    // Bounded (MAX_SPEAKERS), always read with the event: embedded.
    speakers: v.array(speaker),
    createdAt: v.number(),
    updatedAt: v.number(),
  })
    .index("by_clientId_status_startAt", ["clientId", "status", "startAt"])
    .index("by_clientId_startAt", ["clientId", "startAt"]),

  sponsors: defineTable({
    clientId: v.id("clients"),
    name: v.string(),
    website: v.optional(v.string()),
    description: v.optional(v.string()),
    tier: v.optional(sponsorTier),
    createdAt: v.number(),
    updatedAt: v.number(),
  }).index("by_clientId_name", ["clientId", "name"]),

  eventSponsors: defineTable({
    clientId: v.id("clients"),
    eventId: v.id("events"),
    sponsorId: v.id("sponsors"),
    createdAt: v.number(),
  })
    .index("by_eventId_sponsorId", ["eventId", "sponsorId"])
    .index("by_sponsorId_eventId", ["sponsorId", "eventId"]),

  eventRegistrations: defineTable({
    clientId: v.id("clients"),
    eventId: v.id("events"),
    memberId: v.id("memberProfiles"),
    status: registrationStatus,
    registeredAt: v.number(),
    checkedInAt: v.optional(v.number()),
    cancelledAt: v.optional(v.number()),
    refundedAt: v.optional(v.number()),
    // Who refunded: "user:<id>" or "apiKey:<id>", the verified principal.
    refundedBy: v.optional(v.string()),
    updatedAt: v.number(),
  })
    .index("by_eventId_status", ["eventId", "status"])
    .index("by_eventId_memberId", ["eventId", "memberId"])
    .index("by_memberId_registeredAt", ["memberId", "registeredAt"])
    .index("by_memberId_status", ["memberId", "status"]),

  supportTickets: defineTable({
    clientId: v.id("clients"),
    // The member the ticket is about / opened by.
    memberId: v.id("memberProfiles"),
    subject: v.string(),
    status: ticketStatus,
    priority: ticketPriority,
    assigneeUserId: v.optional(v.id("users")),
    createdAt: v.number(),
    updatedAt: v.number(),
    closedAt: v.optional(v.number()),
  })
    .index("by_clientId_status_updatedAt", ["clientId", "status", "updatedAt"])
    .index("by_clientId_updatedAt", ["clientId", "updatedAt"])
    .index("by_memberId_updatedAt", ["memberId", "updatedAt"])
    .index("by_clientId_assigneeUserId_updatedAt", ["clientId", "assigneeUserId", "updatedAt"]),

  supportTicketMessages: defineTable({
    clientId: v.id("clients"),
    ticketId: v.id("supportTickets"),
    authorUserId: v.optional(v.id("users")),
    authorApiKeyId: v.optional(v.id("apiKeys")),
    body: v.string(),
    // Internal notes are never shown to members.
    internal: v.boolean(),
    createdAt: v.number(),
  })
    .index("by_ticketId_createdAt", ["ticketId", "createdAt"])
    .index("by_ticketId_internal_createdAt", ["ticketId", "internal", "createdAt"]),

  auditLogs: defineTable({
    clientId: v.id("clients"),
    actorUserId: v.optional(v.id("users")),
    actorApiKeyId: v.optional(v.id("apiKeys")),
    // "system" for what Convex does on its own (disabling a failing webhook endpoint).
    actorRole: v.union(role, v.literal("system")),
    // e.g. "course.create", "registration.refund"
    action: v.string(),
    entityType: v.string(),
    entityId: v.string(),
    // Small before/after summaries (changed fields only).
    before: v.optional(v.any()),
    after: v.optional(v.any()),
    at: v.number(),
  })
    .index("by_clientId_at", ["clientId", "at"])
    .index("by_clientId_entityType_at", ["clientId", "entityType", "at"])
    .index("by_clientId_entityType_entityId_at", ["clientId", "entityType", "entityId", "at"])
    .index("by_clientId_action_at", ["clientId", "action", "at"])
    .index("by_clientId_actorUserId_at", ["clientId", "actorUserId", "at"])
    .index("by_clientId_actorApiKeyId_at", ["clientId", "actorApiKeyId", "at"]),

  // Idempotency-Key records (docs/security.md): one per client, principal and key, kept here
  // rather than in a BFF process so a replay survives a BFF restart and is shared by every
  // BFF process.
  idempotencyKeys: defineTable({
    clientId: v.id("clients"),
    // "user:<id>" or "apiKey:<id>": the verified principal, never a claim from the request.
    principal: v.string(),
    key: v.string(),
    // SHA-256 of method, path and body: the same key with another request is refused.
    requestHash: v.string(),
    // in_doubt: the request's change was sent and no answer came back, so it may have been
    // applied. A request with the key in doubt, or still in flight (its BFF may have died),
    // resumes it with the same receipt key (convex/idempotency.ts, begin).
    state: literals("in_flight", "done", "in_doubt"),
    // What the request's mutations derive their receipt keys from (convex/lib/receipts.ts).
    receipt: v.optional(v.string()),
    // Written by records made before receipts; no longer read.
    lockedUntil: v.optional(v.number()),
    response: v.optional(storedResponse),
    createdAt: v.number(),
    expiresAt: v.number(),
  })
    .index("by_clientId_principal_key", ["clientId", "principal", "key"])
    .index("by_expiresAt", ["expiresAt"]),

  // Mutation receipts (convex/lib/receipts.ts): one per mutation the BFF sent with a `receipt`
  // key, written in that mutation's own transaction, so the same key sent again returns this
  // result instead of running again.
  mutationReceipts: defineTable({
    key: v.string(),
    // "<clientId>/<principal>" of the actor the mutation took, if it took one.
    owner: v.optional(v.string()),
    result: v.any(),
    // The result carried a secret, which is never stored: a replay is refused instead.
    withheld: v.optional(v.boolean()),
    at: v.number(),
  })
    .index("by_key", ["key"])
    .index("by_at", ["at"]),

  // Fixed-window request counters for rate limits, shared by every BFF process.
  rateLimitWindows: defineTable({
    // "principal:<id>/<window ms>", or a shard of a client's bucket, "client:<id>/<window ms>#<shard>"
    // (no "#<shard>" when its limit is too small to split; convex/rateLimits.ts).
    bucket: v.string(),
    windowStart: v.number(),
    count: v.number(),
    // On a principal's window: the client shard it spends from in that window.
    clientShard: v.optional(v.number()),
  })
    .index("by_bucket_windowStart", ["bucket", "windowStart"])
    // The hourly sweep of windows no request can still spend from.
    .index("by_windowStart", ["windowStart"]),

  // Browser sessions at the BFF (convex/sessions.ts, docs/data-model.md "Sessions"): per user,
  // not per client, shared by every BFF process. The cookie value is never stored.
  sessions: defineTable({
    // SHA-256 hex of the cookie value.
    handleHash: v.string(),
    // The provider's `sub`: a user's `authSubject`.
    authSubject: v.string(),
    issuer: v.string(),
    // The provider's session (`sid` claim), which back-channel logout names.
    providerSid: v.optional(v.string()),
    // Set when a user with this auth subject exists at sign-in.
    userId: v.optional(v.id("users")),
    // The provider's tokens, encrypted by the BFF (AES-256-GCM): ciphertext only.
    tokens: v.string(),
    accessExpiresAt: v.number(),
    createdAt: v.number(),
    lastSeenAt: v.number(),
    // Slides with use, never past absoluteExpiresAt.
    idleExpiresAt: v.number(),
    absoluteExpiresAt: v.number(),
    revokedAt: v.optional(v.number()),
    revokedReason: v.optional(sessionEndReason),
    // The one BFF request refreshing the tokens, until refreshLeaseUntil.
    refreshHolder: v.optional(v.string()),
    refreshLeaseUntil: v.optional(v.number()),
    userAgent: v.optional(v.string()),
  })
    .index("by_handleHash", ["handleHash"])
    // A user's sessions not revoked (revokedAt missing), newest first: lists and the cap.
    .index("by_authSubject_revokedAt_createdAt", ["authSubject", "revokedAt", "createdAt"])
    // Back-channel logout by the provider's session.
    .index("by_issuer_providerSid_revokedAt", ["issuer", "providerSid", "revokedAt"])
    // The purge: idleExpiresAt never passes absoluteExpiresAt, so it finds every expired session.
    .index("by_idleExpiresAt", ["idleExpiresAt"])
    .index("by_revokedAt", ["revokedAt"]),

  // Sign-ins under way: what the callback must check, for at most ten minutes; read once.
  pendingLogins: defineTable({
    // SHA-256 hex of the `state` parameter.
    stateHash: v.string(),
    // SHA-256 hex of the transient login cookie, tying the callback to the browser that started.
    bindingHash: v.string(),
    nonce: v.string(),
    // The PKCE code verifier, encrypted by the BFF.
    verifier: v.string(),
    returnTo: v.string(),
    expiresAt: v.number(),
  })
    .index("by_stateHash", ["stateHash"])
    .index("by_expiresAt", ["expiresAt"]),

  // Where a client's integrators want events delivered (convex/webhooks.ts).
  webhookEndpoints: defineTable({
    clientId: v.id("clients"),
    url: v.string(),
    description: v.optional(v.string()),
    events: v.array(webhookEventType),
    enabled: v.boolean(),
    // Signing secrets, sealed (encrypted) by the BFF, which alone signs; the newest first. A
    // rotated-out secret stays, with its expiresAt, and signs beside the new one until then.
    secrets: v.array(v.object({ sealed: v.string(), createdAt: v.number(), expiresAt: v.optional(v.number()) })),
    disabledReason: v.optional(webhookDisabledReason),
    disabledAt: v.optional(v.number()),
    // The first failed attempt since the last success: an endpoint failing for days is disabled.
    failingSince: v.optional(v.number()),
    createdAt: v.number(),
    updatedAt: v.number(),
  }).index("by_clientId_createdAt", ["clientId", "createdAt"]),

  // What happened, recorded in the transaction of the change it reports; `data` is the resource
  // as the REST API returns it. Its id is the deliveries' `webhook-id`.
  webhookEvents: defineTable({
    clientId: v.id("clients"),
    type: webhookEventType,
    data: v.any(),
    createdAt: v.number(),
    // The BFF request whose change this reports, for the delivery worker's log lines.
    requestId: v.optional(v.string()),
  })
    .index("by_clientId_createdAt", ["clientId", "createdAt"])
    .index("by_createdAt", ["createdAt"]),

  // One event to one endpoint, with its attempts so far.
  webhookDeliveries: defineTable({
    clientId: v.id("clients"),
    endpointId: v.id("webhookEndpoints"),
    eventId: v.id("webhookEvents"),
    type: webhookEventType,
    status: webhookDeliveryStatus,
    attempts: v.number(),
    // pending: when the next attempt is due; sending: when the worker's lease ends; ended: when it ended.
    nextAttemptAt: v.number(),
    lastAttemptAt: v.optional(v.number()),
    // The receiver's HTTP status, or why there was none (timeout, refused, ...).
    lastStatus: v.optional(v.number()),
    lastError: v.optional(v.string()),
    // The start of the receiver's answer, cut to 1 KiB.
    lastResponseBody: v.optional(v.string()),
    lastDurationMs: v.optional(v.number()),
    createdAt: v.number(),
  })
    .index("by_endpointId_createdAt", ["endpointId", "createdAt"])
    .index("by_endpointId_status", ["endpointId", "status"])
    .index("by_status_nextAttemptAt", ["status", "nextAttemptAt"]),
});
