// Mutation receipts (convex/lib/receipts.ts): a mutation sent again with its receipt key
// applies once and answers its first outcome.
import { describe, expect, vi } from "vitest";
import { internal } from "../_generated/api";
import { keepable, MAX_KEPT_RESULT_CHARS, RECEIPT_RETENTION_MS } from "../lib/receipts";
import { codeOf, makeEvent } from "./content.setup";
import { test } from "./world.setup";

/** `args` with a receipt key: the functions' generated types do not name it (only the BFF sends it). */
const receipted = <A extends object>(args: A, receipt: string) => ({ ...args, receipt }) as unknown as A;

test.scoped({ fakeTimers: true });

describe("a mutation sent again with its receipt", () => {
  test("applies once and answers what it answered first", async ({ t, world }) => {
    const member = world.acme.actors.member;
    const eventId = await makeEvent(t, world.acme);
    const args = receipted({ actor: member, eventId }, "r-1");
    const first = await t.mutation(internal.registrations.registerSelf, args);
    const again = await t.mutation(internal.registrations.registerSelf, args);
    expect(again).toEqual(first);
    const registrations = await t.run((ctx) => ctx.db.query("eventRegistrations").collect());
    expect(registrations.filter((r) => r.eventId === first.eventId)).toHaveLength(1);
  });

  test("without one, runs again (the receipt is what makes it safe)", async ({ t, world }) => {
    const member = world.acme.actors.member;
    const eventId = await makeEvent(t, world.acme);
    await t.mutation(internal.registrations.registerSelf, { actor: member, eventId });
    expect(await codeOf(t.mutation(internal.registrations.registerSelf, { actor: member, eventId }))).toBe(
      "already_registered",
    );
  });

  test("after a failure runs again: a failed run recorded nothing", async ({ t, world }) => {
    const member = world.acme.actors.member;
    const eventId = await makeEvent(t, world.acme, { opensInDays: 2, closesInDays: 5 });
    const args = receipted({ actor: member, eventId }, "r-2");
    expect(await codeOf(t.mutation(internal.registrations.registerSelf, args))).toBe("registration_closed");
    expect(await t.run((ctx) => ctx.db.query("mutationReceipts").collect())).toEqual([]);
    await t.run(async (ctx) => {
      await ctx.db.patch(eventId as never, { registrationOpensAt: Date.now() - 1 });
    });
    expect((await t.mutation(internal.registrations.registerSelf, args)).status).toBe("confirmed");
  });

  test("by another actor is refused, and changes nothing", async ({ t, world }) => {
    const eventId = await makeEvent(t, world.acme);
    await t.mutation(
      internal.registrations.registerSelf,
      receipted({ actor: world.acme.actors.member, eventId }, "r-3"),
    );
    const other = receipted({ actor: world.acme.actors.member2, eventId }, "r-3");
    expect(await codeOf(t.mutation(internal.registrations.registerSelf, other))).toBe("invalid_actor");
    const registrations = await t.run((ctx) => ctx.db.query("eventRegistrations").collect());
    expect(registrations.filter((r) => r.eventId === eventId)).toHaveLength(1);
  });

  test("of a mutation without an actor answers its first result too", async ({ t }) => {
    const old = async (count: number) =>
      await t.run(async (ctx) => {
        for (let i = 0; i < count; i++) await ctx.db.insert("mutationReceipts", { key: `o${i}`, result: i, at: 0 });
      });
    vi.setSystemTime(RECEIPT_RETENTION_MS + 1_000);
    await old(3);
    expect(await t.mutation(internal.receipts.sweep, receipted({}, "r-4"))).toBe(3);
    await old(2);
    expect(await t.mutation(internal.receipts.sweep, receipted({}, "r-4"))).toBe(3);
    const left = await t.run((ctx) => ctx.db.query("mutationReceipts").collect());
    expect(left.map((r) => r.key).sort()).toEqual(["o0", "o1", "r-4"]);
  });
});

describe("a result that carries a secret", () => {
  test("is never kept: sent again, the change is refused as applied, not shown twice", async ({ t, world }) => {
    const admin = world.acme.actors.client_admin;
    const args = receipted({ actor: admin, name: "CRM", role: "client_user" as const }, "r-5");
    const { secret } = await t.mutation(internal.apiKeys.create, args);
    const receipts = await t.run((ctx) => ctx.db.query("mutationReceipts").collect());
    expect(JSON.stringify(receipts)).not.toContain(secret);
    expect(await codeOf(t.mutation(internal.apiKeys.create, args))).toBe("conflict");
    const keys = await t.run((ctx) => ctx.db.query("apiKeys").collect());
    expect(keys.filter((k) => k.name === "CRM")).toHaveLength(1);
  });
});

describe("what a receipt keeps", () => {
  test("a result of its size or under, but no secret and nothing larger", () => {
    expect(keepable({ id: "r1", status: "confirmed" })).toBe(true);
    expect(keepable(null)).toBe(true);
    expect(keepable("x".repeat(MAX_KEPT_RESULT_CHARS - 2))).toBe(true);
    expect(keepable("x".repeat(MAX_KEPT_RESULT_CHARS))).toBe(false);
    expect(keepable({ key: { id: "k1" }, secret: "mp_..." })).toBe(false);
  });
});

describe("receipts are swept", () => {
  test("once older than the retention, in bounded batches", async ({ t }) => {
    await t.run(async (ctx) => {
      for (let i = 0; i < 7; i++)
        await ctx.db.insert("mutationReceipts", { key: `old-${i}`, result: i, at: Date.now() });
    });
    vi.advanceTimersByTime(RECEIPT_RETENTION_MS / 2);
    await t.run(async (ctx) => {
      await ctx.db.insert("mutationReceipts", { key: "young", result: null, at: Date.now() });
    });
    vi.advanceTimersByTime(RECEIPT_RETENTION_MS / 2 + 1);
    expect(await t.mutation(internal.receipts.sweep, { batchSize: 5 })).toBe(5);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const left = await t.run((ctx) => ctx.db.query("mutationReceipts").collect());
    expect(left.map((r) => r.key)).toEqual(["young"]);
  });
});
