// @vitest-environment node
// The embedded backend speaks Convex's WebSocket sync protocol as the official clients expect.
import { afterEach, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { decodeTs, encodeMessage, encodeTs } from "../src/sync.js";
import { ADMIN_KEY, startFixtureServer } from "./embedded.setup.js";

const open: Session[] = [];

const embedded = await startFixtureServer();
afterEach(() => {
  for (const session of open.splice(0)) session.ws.close();
});

/** A server message as the tests read it: loosely, each assertion checks the fields it needs. */
// biome-ignore lint/suspicious/noExplicitAny: the tests reach into nested fields the assertions then check
type ServerMessage = any;

/** A raw protocol client: send messages, await the next server message of a type. */
class Session {
  readonly received: ServerMessage[] = [];
  /** The type of every message received, in order (`received` loses those `next` took). */
  readonly arrived: string[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const message = JSON.parse(data.toString());
      this.received.push(message);
      this.arrived.push(message.type);
      this.wakeAll();
    });
    ws.on("close", () => this.wakeAll());
  }

  private wakeAll(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  static async connect(path = "/api/sync"): Promise<Session> {
    const ws = new WebSocket(embedded.url.replace("http", "ws") + path);
    await new Promise((ok, fail) => ws.once("open", ok).once("error", fail));
    const session = new Session(ws);
    open.push(session);
    session.send({
      type: "Connect",
      sessionId: "00000000-0000-4000-8000-000000000000",
      connectionCount: 0,
      lastCloseReason: null,
      clientTs: 0,
    });
    return session;
  }

  send(message: object) {
    this.ws.send(JSON.stringify(message));
  }

  async next(type: string, timeoutMs = 2000): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex((m) => m.type === type);
      if (index >= 0) return this.received.splice(index, 1)[0];
      if (Date.now() > deadline || this.ws.readyState === WebSocket.CLOSED)
        throw new Error(`no ${type}; got ${JSON.stringify(this.received)}`);
      await new Promise<void>((wake) => {
        this.waiters.push(wake);
        setTimeout(wake, 50);
      });
    }
  }

  /** A session authenticated with the admin key. */
  static async admin(path?: string): Promise<Session> {
    const session = await Session.connect(path);
    session.send({ type: "Authenticate", tokenType: "Admin", value: ADMIN_KEY, baseVersion: 0 });
    await session.next("Transition");
    return session;
  }
}

const addList = (queryId: number, base: number) => ({
  type: "ModifyQuerySet",
  baseVersion: base,
  newVersion: base + 1,
  modifications: [{ type: "Add", queryId, udfPath: "notes:list", args: [{}] }],
});

/** An admin session subscribed to `notes:list` as query `queryId`, and the Transition that answered it. */
async function watchingNotes(queryId = 1): Promise<[Session, ServerMessage]> {
  const session = await Session.admin();
  session.send(addList(queryId, 0));
  return [session, await session.next("Transition")];
}

async function httpMutation(path: string, args: object) {
  const response = await fetch(`${embedded.url}/api/mutation`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Convex ${ADMIN_KEY}` },
    body: JSON.stringify({ path, args }),
  });
  return response.json();
}

describe("versions", () => {
  test("a ts travels as base64 of 8 little-endian bytes", () => {
    expect(encodeTs(1n)).toBe("AQAAAAAAAAA=");
    expect(decodeTs(encodeTs(1_764_000_000_000_000_000n))).toBe(1_764_000_000_000_000_000n);
  });

  test("protocol integers stay integers while Convex values keep their float form", () => {
    const text = encodeMessage({
      type: "Transition",
      modifications: [{ type: "QueryUpdated", queryId: 1, value: { n: 1 } }],
    });
    expect(text).toBe('{"type":"Transition","modifications":[{"type":"QueryUpdated","queryId":1,"value":{"n":1.0}}]}');
  });

  test("each transition starts where the previous one ended", async () => {
    const [session, first] = await watchingNotes();
    await httpMutation("notes:add", { text: "chained" });
    const second = await session.next("Transition");
    expect(second.startVersion).toEqual(first.endVersion);
    expect(first.endVersion.querySet).toBe(1);
    expect(decodeTs(second.endVersion.ts)).toBeGreaterThan(decodeTs(first.endVersion.ts));
  });

  test("the versioned path of convex-js is served too", async () => {
    await Session.admin("/api/1.48.0/sync");
  });
});

describe("subscriptions", () => {
  test("an added query answers with its current result", async () => {
    const [, transition] = await watchingNotes(7);
    expect(transition.modifications).toEqual([
      { type: "QueryUpdated", queryId: 7, value: expect.any(Array), logLines: [], journal: null },
    ]);
  });

  test("a commit over HTTP sends the new result to a subscriber", async () => {
    const [session] = await watchingNotes();
    await httpMutation("notes:add", { text: "pushed" });
    const update = await session.next("Transition");
    expect(update.modifications[0].value).toContainEqual({ text: "pushed", count: { $integer: expect.any(String) } });
  });

  test("a ConvexError in a query is a QueryFailed with its data", async () => {
    const session = await Session.admin();
    session.send({
      type: "ModifyQuerySet",
      baseVersion: 0,
      newVersion: 1,
      modifications: [{ type: "Add", queryId: 3, udfPath: "notes:missing", args: [{}] }],
    });
    const transition = await session.next("Transition");
    expect(transition.modifications[0]).toMatchObject({
      type: "QueryFailed",
      queryId: 3,
      errorData: { code: "not_found", message: "note not found" },
    });
  });

  test("a removed query is reported removed and no longer updated", async () => {
    const [session] = await watchingNotes();
    session.send({
      type: "ModifyQuerySet",
      baseVersion: 1,
      newVersion: 2,
      modifications: [{ type: "Remove", queryId: 1 }],
    });
    expect((await session.next("Transition")).modifications).toEqual([{ type: "QueryRemoved", queryId: 1 }]);
    await httpMutation("notes:add", { text: "unseen" });
    const after = await session.next("Transition");
    expect(after.modifications).toEqual([]);
  });

  test("an internal query is not found for a session without the admin key", async () => {
    const session = await Session.connect();
    session.send(addList(1, 0));
    const transition = await session.next("Transition");
    expect(transition.modifications[0]).toMatchObject({
      type: "QueryFailed",
      errorMessage: "Could not find public function for 'notes:list'.",
    });
  });
});

describe("mutations", () => {
  test("a mutation's response carries its commit ts and a transition reaches it", async () => {
    const session = await Session.admin();
    session.send({ type: "Mutation", requestId: 0, udfPath: "notes:add", args: [{ text: "over ws" }] });
    const response = await session.next("MutationResponse");
    expect(response).toMatchObject({ requestId: 0, success: true, result: null, logLines: [] });
    const transition = await session.next("Transition");
    expect(decodeTs(transition.endVersion.ts)).toBeGreaterThanOrEqual(decodeTs(response.ts));
  });

  test("a failed mutation says why and carries no ts", async () => {
    const session = await Session.admin();
    session.send({ type: "Mutation", requestId: 4, udfPath: "notes:add", args: [{ text: 5 }] });
    const response = await session.next("MutationResponse");
    expect(response.success).toBe(false);
    expect(response.result).toMatch(/^ArgumentValidationError/);
    expect(response.ts).toBeUndefined();
  });

  // Convex sends a Transition after every mutation, failed or not (crates/sync/src/worker.rs);
  // the Rust client (Python's ConvexClient) completes a ConvexError mutation only on one.
  test.each([
    ["a ConvexError", "notes:addThenFail", { text: "rolled back" }],
    ["an argument error", "notes:add", { text: 5 }],
    ["an unknown function", "notes:nothing", {}],
  ])("a mutation failing with %s is followed by a Transition that changes nothing", async (_, udfPath, args) => {
    const [session, subscribed] = await watchingNotes();
    session.send({ type: "Mutation", requestId: 9, udfPath, args: [args] });
    const response = await session.next("MutationResponse");
    expect(response).toMatchObject({ requestId: 9, success: false });
    const after = await session.next("Transition", 1000);
    expect(session.arrived.slice(-2)).toEqual(["MutationResponse", "Transition"]);
    expect(after.startVersion).toEqual(subscribed.endVersion);
    expect(after.endVersion).toEqual(subscribed.endVersion);
    expect(after.modifications).toEqual([]);
  });

  test("a ConvexError mutation's response carries its data before the Transition", async () => {
    const session = await Session.admin();
    session.send({ type: "Mutation", requestId: 2, udfPath: "notes:addThenFail", args: [{ text: "x" }] });
    const response = await session.next("MutationResponse");
    expect(response.errorData).toEqual({ code: "conflict", message: "rolled back" });
    expect(response.ts).toBeUndefined();
    await session.next("Transition", 1000);
  });

  test("a failed mutation's Transition catches up with commits made meanwhile", async () => {
    const [session, subscribed] = await watchingNotes();
    // A commit by someone else, then a failing mutation on this session: whichever Transition
    // comes first, the session ends at the new ts with the new result, and versions chain.
    await httpMutation("notes:add", { text: "meanwhile" });
    session.send({ type: "Mutation", requestId: 3, udfPath: "notes:addThenFail", args: [{ text: "x" }] });
    await session.next("MutationResponse");
    const first = await session.next("Transition", 1000);
    expect(first.startVersion).toEqual(subscribed.endVersion);
    expect(decodeTs(first.endVersion.ts)).toBeGreaterThan(decodeTs(subscribed.endVersion.ts));
    expect(first.modifications[0].value).toContainEqual({ text: "meanwhile", count: { $integer: expect.any(String) } });
  });
});

describe("actions", () => {
  test("an action's response is followed by a Transition with what its mutations wrote", async () => {
    const [session, subscribed] = await watchingNotes();
    session.send({ type: "Action", requestId: 5, udfPath: "notes:addViaAction", args: [{ text: "by an action" }] });
    expect(await session.next("ActionResponse")).toMatchObject({ requestId: 5, success: true, result: "added" });
    const after = await session.next("Transition", 1000);
    expect(session.arrived.slice(-2)).toEqual(["ActionResponse", "Transition"]);
    expect(after.startVersion).toEqual(subscribed.endVersion);
    expect(after.modifications[0].value).toContainEqual({
      text: "by an action",
      count: { $integer: expect.any(String) },
    });
  });

  test("a failed action is followed by a Transition too", async () => {
    const session = await Session.admin();
    session.send({ type: "Action", requestId: 6, udfPath: "notes:failingAction", args: [{}] });
    const response = await session.next("ActionResponse");
    expect(response).toMatchObject({ requestId: 6, success: false });
    expect(response.errorData).toEqual({ code: "unavailable", message: "the action failed" });
    await session.next("Transition", 1000);
    expect(session.arrived.slice(-2)).toEqual(["ActionResponse", "Transition"]);
  });
});

describe("refusals", () => {
  test("a wrong admin key is an AuthError", async () => {
    const session = await Session.connect();
    session.send({ type: "Authenticate", tokenType: "Admin", value: "wrong", baseVersion: 0 });
    expect(await session.next("AuthError")).toMatchObject({ baseVersion: 0, authUpdateAttempted: true });
  });

  test("a query set base version that does not match is a FatalError", async () => {
    const session = await Session.connect();
    session.send(addList(1, 5));
    expect((await session.next("FatalError")).error).toMatch(/Base version 5/);
  });

  test("a message that is not JSON is a FatalError", async () => {
    const session = await Session.connect();
    session.ws.send("{not json");
    expect((await session.next("FatalError")).error).toBe("Message is not JSON");
  });

  test("another path is not upgraded", async () => {
    const ws = new WebSocket(`${embedded.url.replace("http", "ws")}/api/elsewhere`);
    await expect(new Promise((ok, fail) => ws.once("open", ok).once("error", fail))).rejects.toThrow(/404/);
  });
});
