// Function builders for client-scoped functions.
//
// Every client-scoped function takes an explicit `actor` argument: the BFF resolves who
// is calling, but Convex does not trust it. Before the handler runs, the builder verifies
// the actor against the data (a membership with that role, an active API key with that
// role, or a platform admin) and checks the capability the function declares against the
// capabilities matrix. The handler then gets `ctx.actor` (verified, with the member
// profile and sponsor it acts for) and helpers that scope every read and write to the
// actor's client. A mutation's writes are held to the actor's client and to an audit
// record by the builder itself (`guardedWriter`), not by each handler remembering.

import { type Infer, v } from "convex/values";
import { customMutation, customQuery } from "convex-helpers/server/customFunctions";
import type { Doc, Id, TableNames } from "../_generated/dataModel";
import { internalQuery, type MutationCtx, type QueryCtx } from "../_generated/server";
import schema, { role } from "../schema";
import { type Action, type Role, roleCan } from "./capabilities";
import { fail } from "./errors";
import { internalMutation, type RequestContext } from "./receipts";
import { type Emits, emittedType, recordEvent } from "./webhooks";

export const actorArg = v.object({
  clientId: v.id("clients"),
  role,
  userId: v.optional(v.id("users")),
  apiKeyId: v.optional(v.id("apiKeys")),
});
export type ActorArg = Infer<typeof actorArg>;

export type Actor = ActorArg & {
  role: Role;
  /** The member profile linked to the acting user in this client, if any. */
  memberId?: Id<"memberProfiles">;
  /** The sponsor a sponsor_admin / sponsor_user acts for. */
  sponsorId?: Id<"sponsors">;
};

export type ClientOwnedTable = {
  [T in TableNames]: Doc<T> extends { clientId: Id<"clients"> } ? T : never;
}[TableNames];

/** A table's name in the singular: "venues" -> "venue", "categories" -> "category". */
type Singular<T extends string> = T extends `${infer S}ies` ? `${S}y` : T extends `${infer S}s` ? S : T;

function singular<T extends string>(table: T): Singular<T> {
  return (table.endsWith("ies") ? `${table.slice(0, -3)}y` : table.replace(/s$/, "")) as Singular<T>;
}

/** The tables whose documents are not called by their table's name in the singular, and what they are called. */
const ENTITY_NAMES = {
  apiKeys: "API key",
  courseEnrollments: "enrollment",
  eventRegistrations: "registration",
  interestCategories: "interest category",
  memberProfiles: "member",
  supportTickets: "ticket",
  webhookDeliveries: "delivery",
  webhookEndpoints: "webhook",
  webhookEvents: "webhook event",
} as const satisfies Partial<Record<ClientOwnedTable, string>>;

type EntityOf<T extends ClientOwnedTable> = T extends keyof typeof ENTITY_NAMES
  ? (typeof ENTITY_NAMES)[T]
  : Singular<T>;

/** Tables whose documents belong to one client (they carry `clientId`). */
const CLIENT_OWNED: ReadonlySet<string> = new Set(
  Object.entries(schema.tables).flatMap(([name, table]) =>
    "clientId" in ((table.validator as { fields?: object }).fields ?? {}) ? [name] : [],
  ),
);

/**
 * What a not_found calls a document (its `entity`) of each client-owned table: one name per table,
 * whichever function refuses it. The table's name in the singular ("venues": "venue") unless
 * ENTITY_NAMES gives another, so a new table needs no entry here.
 */
export const ENTITY = Object.fromEntries(
  [...CLIENT_OWNED].map((table) => [table, (ENTITY_NAMES as Record<string, string>)[table] ?? singular(table)]),
) as { [T in ClientOwnedTable]: EntityOf<T> };

/** The client-owned tables, whose documents refusals name. */
export type NamedTable = keyof typeof ENTITY;

/** The refusal of a document of `table` that is missing, another client's, or not the actor's to see: all alike. */
export function notFound(table: NamedTable): never {
  return fail("not_found", `${ENTITY[table]} not found`, { entity: ENTITY[table] });
}

/** Verify the actor against the data; refuse a forged or stale one. */
export async function verifyActor(ctx: QueryCtx, actor: ActorArg): Promise<Actor> {
  // Typed, not inferred, so that a call to it narrows like a call to `fail`.
  const refuse: (why: string) => never = (why) => fail("invalid_actor", `Actor refused: ${why}`);
  const { userId, apiKeyId } = actor;
  if ((userId === undefined) === (apiKeyId === undefined)) {
    refuse("exactly one of userId and apiKeyId is required");
  }
  const client = await ctx.db.get(actor.clientId);
  if (client === null) refuse("unknown client");
  let sponsorId: Id<"sponsors"> | undefined;
  let memberId: Id<"memberProfiles"> | undefined;
  if (userId !== undefined) {
    const user = await ctx.db.get(userId);
    if (user === null) refuse("unknown user");
    if (actor.role === "platform_admin") {
      if (!user.isPlatformAdmin) refuse("not a platform admin");
    } else {
      const membership = await ctx.db
        .query("clientMemberships")
        .withIndex("by_clientId_userId", (q) => q.eq("clientId", actor.clientId).eq("userId", userId))
        .unique();
      if (membership === null || membership.role !== actor.role) {
        refuse("no membership with that role in this client");
      }
      sponsorId = membership.sponsorId;
    }
    const profile = await ctx.db
      .query("memberProfiles")
      .withIndex("by_clientId_userId", (q) => q.eq("clientId", actor.clientId).eq("userId", userId))
      .unique();
    memberId = profile?._id;
  } else if (apiKeyId !== undefined) {
    // Always taken when userId is undefined: the first check refused an actor with neither.
    const key = await ctx.db.get(apiKeyId);
    if (key === null || key.clientId !== actor.clientId) refuse("unknown API key");
    if (key.revokedAt !== undefined) refuse("API key revoked");
    if (key.role !== actor.role) refuse("API key has another role");
    sponsorId = key.sponsorId;
  }
  return { ...actor, memberId, sponsorId };
}

export { principalOf } from "./principal";

function requireCapability(actor: Actor, capability: Action | readonly Action[]) {
  const wanted = typeof capability === "string" ? [capability] : capability;
  if (!wanted.some((action) => roleCan(actor.role, action))) {
    fail("forbidden", `Role ${actor.role} lacks capability ${wanted.join(" or ")}`, {
      capability: wanted.join(" or "),
    });
  }
}

function scopedReader(ctx: QueryCtx, actor: Actor) {
  return {
    actor,
    can: (action: Action) => roleCan(actor.role, action),
    /**
     * Fetch a document of the actor's client by an id string from outside.
     * A malformed id, an id of another table, a missing document and a
     * document of another client all give the same not_found.
     */
    async getOwned<T extends NamedTable>(table: T, id: string): Promise<Doc<T>> {
      const normalized = ctx.db.normalizeId(table, id);
      const doc = normalized === null ? null : await ctx.db.get(normalized);
      if (doc === null || (doc as unknown as { clientId: Id<"clients"> }).clientId !== actor.clientId) {
        notFound(table);
      }
      return doc as Doc<T>;
    },
  };
}

/**
 * For a document that belongs to one member or one sponsor: go on when the actor is its owner
 * (the member itself, or a user or key acting for that sponsor) or holds `staff`, the capability
 * to act on anyone's. Anyone else gets the not_found a missing document gets, so another
 * member's data cannot be told from data that does not exist (`table` is the document's). Answers
 * which of the two the actor is; the owner first when it is both.
 */
export function requireOwnerOrStaff(
  ctx: ClientQueryCtx,
  owner: { memberId: Id<"memberProfiles"> } | { sponsorId: Id<"sponsors"> },
  staff: Action,
  table: NamedTable,
): "owner" | "staff" {
  const isOwner = "memberId" in owner ? owner.memberId === ctx.actor.memberId : owner.sponsorId === ctx.actor.sponsorId;
  if (isOwner) return "owner";
  if (ctx.can(staff)) return "staff";
  return notFound(table);
}

type CapabilityExtra = { capability: Action | readonly Action[] };

/**
 * A mutation may declare the webhook event it reports (`emits`, convex/webhooks.json): the builder
 * records it, with the mutation's result (the resource as the REST API returns it) as its data,
 * in the same transaction, whenever the call changed something (wrote its audit record).
 */
type MutationExtra = CapabilityExtra & { emits?: Emits<never> };

const WRITES: ReadonlySet<string | symbol> = new Set(["insert", "patch", "replace", "delete"]);

/**
 * The mutation's database, unchanged but for two checks on writes (neither reads anything):
 * a document written into a client-owned table carries the actor's `clientId`, and each write
 * is reported to `onWrite`, so the builder can refuse a mutation that changed data without
 * writing its audit record. A failed check is a programming error: the whole mutation fails
 * and nothing it wrote is kept.
 */
function guardedWriter(db: MutationCtx["db"], actor: Actor, onWrite: () => void): MutationCtx["db"] {
  return new Proxy(db, {
    get(target, name) {
      const member = Reflect.get(target, name, target);
      if (typeof member !== "function") return member;
      if (!WRITES.has(name)) return member.bind(target);
      return (...args: unknown[]) => {
        // insert(table, value), patch/replace(id, value) or (table, id, value), delete(...).
        const value = name === "delete" ? undefined : (args[args.length - 1] as { clientId?: unknown });
        const foreign =
          name === "insert"
            ? CLIENT_OWNED.has(args[0] as string) && value?.clientId !== actor.clientId
            : value !== undefined && "clientId" in value && value.clientId !== actor.clientId;
        if (foreign)
          throw new Error(
            `A ${actor.role} of client ${actor.clientId} may not write another client's ${String(args[0])}`,
          );
        onWrite();
        return member.apply(target, args);
      };
    },
  });
}

export const clientQuery = customQuery(internalQuery, {
  args: { actor: actorArg },
  input: async (ctx, { actor: claimed }, { capability }: CapabilityExtra) => {
    const actor = await verifyActor(ctx, claimed);
    requireCapability(actor, capability);
    return { ctx: scopedReader(ctx, actor), args: {} };
  },
});

/**
 * What an audit record names: `<entityType>.<verb>` ("registration.refund"); the record's
 * entityType is the part before the dot, so an action always names the kind of entity it changed.
 */
export type AuditAction = `${string}.${string}`;

/** Small summaries of what changed (changed fields only). */
export type AuditChanges = { before?: unknown; after?: unknown };

type Audit = (action: AuditAction, entityId: string, changes?: AuditChanges) => Promise<void>;

export const clientMutation = customMutation(internalMutation, {
  args: { actor: actorArg },
  input: async (ctx, { actor: claimed }, { capability, emits }: MutationExtra) => {
    const actor = await verifyActor(ctx, claimed);
    requireCapability(actor, capability);
    let wrote = false;
    let audited = false;
    const db = guardedWriter(ctx.db, actor, () => {
      wrote = true;
    });
    /** Write the audit record of this change, in the same transaction. */
    const audit: Audit = async (action, entityId, changes) => {
      audited = true;
      await writeAudit(ctx, actor, action, entityId, changes);
    };
    return {
      ctx: {
        ...scopedReader(ctx, actor),
        db,
        audit,
      },
      args: {},
      // Every change to client data leaves its audit record: a handler that forgot it fails
      // (in its tests first) instead of leaving a change nobody can trace.
      onSuccess: async ({ result }: { result: unknown }) => {
        if (wrote && !audited) throw new Error("A client mutation changed data without an audit record (ctx.audit)");
        const type = audited ? emittedType(emits as Emits<unknown> | undefined, result) : undefined;
        const { requestId } = ctx as RequestContext;
        if (type !== undefined) await recordEvent(ctx, actor.clientId, type, result, undefined, requestId);
      },
    };
  },
});

export async function writeAudit(
  ctx: MutationCtx,
  actor: Pick<Actor, "clientId" | "userId" | "apiKeyId"> & { role: Role | "system" },
  action: AuditAction,
  entityId: string,
  changes: AuditChanges = {},
) {
  await ctx.db.insert("auditLogs", {
    clientId: actor.clientId,
    actorUserId: actor.userId,
    actorApiKeyId: actor.apiKeyId,
    actorRole: actor.role,
    action,
    entityType: action.slice(0, action.indexOf(".")),
    entityId,
    before: changes.before,
    after: changes.after,
    at: Date.now(),
  });
}

export type ClientQueryCtx = QueryCtx & ReturnType<typeof scopedReader>;
export type ClientMutationCtx = MutationCtx & ReturnType<typeof scopedReader> & { audit: Audit };
