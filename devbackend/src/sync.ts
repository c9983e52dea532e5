// Convex's WebSocket sync protocol, enough of it for the official clients (the Python
// `ConvexClient`, which is Convex's Rust client, and convex-js) to subscribe to queries,
// run mutations and actions, and receive a new result whenever a mutation commits.
//
// Message shapes follow get-convex/convex-backend crates/convex/sync_types/src/types/json.rs
// (the Rust client's parser, the strictest reader) and convex-js src/browser/sync/protocol.ts.
// Session rules follow crates/sync/src/state.rs and worker.rs:
//   - The client sends Connect, then Authenticate {baseVersion} and ModifyQuerySet
//     {baseVersion, newVersion, modifications: Add|Remove}; a base version that does not
//     match is a FatalError.
//   - The server answers with Transitions {startVersion, endVersion, modifications}; each
//     starts at the version the previous one ended at. A version is {querySet, identity, ts};
//     ts is a u64 written as base64 of its 8 little-endian bytes.
//   - Authenticate bumps the identity version; an invalid admin key is an AuthError.
//   - Every MutationResponse and ActionResponse is followed by a Transition, whether the
//     function succeeded or failed (worker.rs schedules an update when a mutation or action
//     future completes). A successful MutationResponse carries its commit ts and the client
//     completes the mutation only once a Transition reaches it; a failed one carries no ts,
//     and Convex's Rust client (the Python ConvexClient) still completes a mutation that
//     failed with a ConvexError only at the next Transition
//     (crates/convex/src/base_client/request_manager.rs), so without one it would wait for
//     some unrelated commit. After a failure nothing changed: the Transition may be empty
//     and end at the version it starts from, as Convex's may (state.rs, advance_version).
//   - A Ping every 15 s keeps idle sessions open (the Rust client gives up after 30 s).
//
// Not Convex: subscriptions are re-run after *every* commit (convex-test exposes no read
// sets), and only changed results are sent. Fine for development; see README.md.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { type JSONValue, jsonToConvex, type Value } from "convex/values";
import { WebSocket, WebSocketServer } from "ws";
import { stringify, type UdfResponse } from "./wire.js";

const HEARTBEAT_MS = 15_000;
const SYNC_PATH = /^\/api\/(?:[^/]+\/)?sync$/;

type Kind = "query" | "mutation" | "action";
export type RunFunction = (
  kind: Kind,
  path: string,
  args: Record<string, Value>,
  admin: boolean,
) => Promise<UdfResponse>;

type StateVersion = { querySet: number; identity: number; ts: bigint };
type Subscription = { udfPath: string; args: Record<string, Value>; lastResult: string | null };
type Identity = "admin" | "anonymous";
/** A client message as the sync protocol defines it; parsed JSON, so fields are checked where it matters. */
type ClientMessage = {
  type: string;
  sessionId?: unknown;
  baseVersion: number;
  newVersion: number;
  tokenType?: string;
  value?: unknown;
  modifications?: QuerySetModification[];
  udfPath?: unknown;
  args?: unknown;
  requestId: number;
};
type QuerySetModification = { type: string; queryId: number; udfPath?: unknown; args?: unknown };

class ProtocolError extends Error {}

/** A u64 as the protocol writes it: base64 of its 8 little-endian bytes. */
export function encodeTs(ts: bigint): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(ts);
  return bytes.toString("base64");
}

export function decodeTs(encoded: string): bigint {
  const bytes = Buffer.from(encoded, "base64");
  if (bytes.length !== 8) throw new ProtocolError("u64 must be 8 bytes");
  return bytes.readBigUInt64LE();
}

/** Every open sync session, and the commit clock they all follow. */
export class SyncHub {
  private readonly sessions = new Set<SyncSession>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly heartbeat: NodeJS.Timeout;
  /** The ts of the latest commit, in nanoseconds as Convex's timestamps are. */
  private ts = BigInt(Date.now()) * 1_000_000n;

  constructor(
    private readonly run: RunFunction,
    private readonly adminKey: string,
  ) {
    this.heartbeat = setInterval(() => {
      for (const session of this.sessions) session.ping();
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Take over `upgrade` requests for the sync path; other paths are refused. */
  attach(server: Server): void {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      if (!SYNC_PATH.test(path)) {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws));
    });
  }

  get currentTs(): bigint {
    return this.ts;
  }

  /** A mutation committed (over HTTP or a session): advance the clock, refresh every session. */
  committed(): bigint {
    const now = BigInt(Date.now()) * 1_000_000n;
    this.ts = now > this.ts ? now : this.ts + 1n;
    for (const session of this.sessions) session.refresh();
    return this.ts;
  }

  checkAdminKey(value: string): boolean {
    return value === this.adminKey;
  }

  runFunction(kind: Kind, path: string, args: Record<string, Value>, admin: boolean) {
    return this.run(kind, path, args, admin);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const session of this.sessions) session.terminate();
    this.wss.close();
  }

  private open(ws: WebSocket): void {
    const session = new SyncSession(this, ws);
    this.sessions.add(session);
    ws.on("close", () => this.sessions.delete(session));
  }
}

/** One WebSocket connection: its query set, its identity, the version it has seen. */
class SyncSession {
  private readonly queries = new Map<number, Subscription>();
  private identity: Identity = "anonymous";
  /** What the client has asked for (query set, identity)... */
  private requestedQuerySet = 0;
  private requestedIdentity = 0;
  /** ...and the version the last Transition ended at. */
  private sent: StateVersion = { querySet: 0, identity: 0, ts: 0n };
  private work: Promise<void> = Promise.resolve();
  private refreshQueued = false;

  constructor(
    private readonly hub: SyncHub,
    private readonly ws: WebSocket,
  ) {
    ws.on("message", (data, isBinary) => {
      if (isBinary) return this.fatal("Binary messages are not part of the protocol");
      this.enqueue(() => this.receive(data.toString()));
    });
  }

  ping(): void {
    this.send({ type: "Ping" });
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Re-run the subscriptions after a commit; a refresh already waiting covers this one too. */
  refresh(): void {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    this.enqueue(async () => {
      this.refreshQueued = false;
      await this.transition([], [...this.queries.keys()]);
    });
  }

  /** Messages and refreshes run one at a time, in order, so versions chain. */
  private enqueue(task: () => Promise<void>): void {
    this.work = this.work.then(task).catch((error) => {
      this.fatal(error instanceof ProtocolError ? error.message : `Internal error: ${String(error)}`);
    });
  }

  private async receive(text: string): Promise<void> {
    let message: ClientMessage;
    try {
      message = JSON.parse(text);
    } catch {
      throw new ProtocolError("Message is not JSON");
    }
    switch (message.type) {
      case "Connect":
        if (typeof message.sessionId !== "string") throw new ProtocolError("Connect needs a sessionId");
        return;
      case "Authenticate":
        return this.authenticate(message);
      case "ModifyQuerySet":
        return this.modifyQuerySet(message);
      case "Mutation":
      case "Action":
        return this.request(message.type, message);
      case "Event":
        return;
      default:
        throw new ProtocolError(`Unknown message type ${String(message.type)}`);
    }
  }

  private async authenticate(message: ClientMessage): Promise<void> {
    if (message.baseVersion !== this.requestedIdentity) {
      throw new ProtocolError(`Identity base version ${message.baseVersion} is not ${this.requestedIdentity}`);
    }
    if (message.tokenType === "Admin") {
      if (!this.hub.checkAdminKey(String(message.value))) {
        return this.refuseAuth(message, "The provided admin key was invalid for this instance");
      }
      this.identity = "admin";
    } else if (message.tokenType === "User") {
      return this.refuseAuth(
        message,
        "No auth provider found matching the given token (the embedded backend has no auth config).",
      );
    } else {
      this.identity = "anonymous";
    }
    this.requestedIdentity += 1;
    // A new identity may change every result.
    await this.transition([], [...this.queries.keys()]);
  }

  /** Answer an Authenticate the backend cannot honour, and close the connection as Convex does. */
  private refuseAuth(message: ClientMessage, error: string): void {
    this.send({ type: "AuthError", error, baseVersion: message.baseVersion, authUpdateAttempted: true });
    this.ws.close(1000, "AuthError");
  }

  private async modifyQuerySet(message: ClientMessage): Promise<void> {
    if (message.baseVersion !== this.requestedQuerySet) {
      throw new ProtocolError(
        `Base version ${message.baseVersion} passed up doesn't match the current version ${this.requestedQuerySet}`,
      );
    }
    if (!(message.newVersion > message.baseVersion)) throw new ProtocolError("newVersion must be above baseVersion");
    this.requestedQuerySet = message.newVersion;
    const added: number[] = [];
    const removed: number[] = [];
    for (const modification of message.modifications ?? []) {
      if (modification.type === "Add") {
        this.queries.set(modification.queryId, {
          udfPath: String(modification.udfPath),
          args: decodeArgs(modification.args),
          lastResult: null,
        });
        added.push(modification.queryId);
      } else if (modification.type === "Remove") {
        this.queries.delete(modification.queryId);
        removed.push(modification.queryId);
      } else {
        throw new ProtocolError(`Unknown query set modification ${String(modification.type)}`);
      }
    }
    await this.transition(removed, added);
  }

  private async request(type: "Mutation" | "Action", message: ClientMessage): Promise<void> {
    const kind = type === "Mutation" ? "mutation" : "action";
    const response = await this.hub.runFunction(
      kind,
      String(message.udfPath),
      decodeArgs(message.args),
      this.identity === "admin",
    );
    const reply: Record<string, JSONValue> = { type: `${type}Response`, requestId: message.requestId, logLines: [] };
    // A committed mutation, and any action (it may have run mutations, whether or not it then
    // failed), advance the clock: every session, this one included, is then refreshed by a
    // Transition queued behind this reply.
    const committed = response.status === "success" || kind === "action";
    const ts = committed ? this.hub.committed() : null;
    if (response.status === "success") {
      Object.assign(reply, { success: true, result: response.value });
      if (kind === "mutation" && ts !== null) reply.ts = encodeTs(ts);
    } else {
      Object.assign(reply, { success: false, result: response.errorMessage });
      if (response.errorData !== undefined) reply.errorData = response.errorData;
    }
    this.send(reply);
    // A failed mutation committed nothing, but Convex follows its response with a Transition
    // all the same, which is what completes it in the Rust client.
    if (!committed) await this.transition([], [], true);
  }

  /**
   * Run `rerun` queries, send what changed (and removals) in one Transition at the current ts.
   * When the clock has moved since the last Transition every query is re-run, so that no result
   * is older than the ts the Transition ends at. A Transition that changes nothing is not sent,
   * unless `always` (after a failed mutation, as Convex does).
   */
  private async transition(removed: number[], rerun: number[], always = false): Promise<void> {
    const modifications: Record<string, JSONValue>[] = removed.map((queryId) => ({ type: "QueryRemoved", queryId }));
    const ts = this.hub.currentTs;
    const queryIds = ts === this.sent.ts ? rerun : [...this.queries.keys()];
    for (const queryId of queryIds) {
      const query = this.queries.get(queryId);
      if (query === undefined) continue;
      const response = await this.hub.runFunction("query", query.udfPath, query.args, this.identity === "admin");
      const result = stringify(response as unknown as JSONValue);
      if (result === query.lastResult) continue;
      query.lastResult = result;
      modifications.push(
        response.status === "success"
          ? { type: "QueryUpdated", queryId, value: response.value, logLines: [], journal: null }
          : {
              type: "QueryFailed",
              queryId,
              errorMessage: response.errorMessage,
              logLines: [],
              journal: null,
              ...(response.errorData !== undefined ? { errorData: response.errorData } : {}),
            },
      );
    }
    const end: StateVersion = { querySet: this.requestedQuerySet, identity: this.requestedIdentity, ts };
    const unchanged =
      end.querySet === this.sent.querySet && end.identity === this.sent.identity && end.ts === this.sent.ts;
    if (unchanged && modifications.length === 0 && !always) return;
    this.send({
      type: "Transition",
      startVersion: wireVersion(this.sent),
      endVersion: wireVersion(end),
      modifications,
    });
    this.sent = end;
  }

  private fatal(error: string): void {
    this.send({ type: "FatalError", error });
    this.ws.close(1011, error.slice(0, 120));
  }

  private send(message: Record<string, JSONValue>): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeMessage(message));
  }
}

// Fields holding Convex values; everything else is protocol (ids and versions are integers).
const VALUE_FIELDS = new Set(["value", "result", "errorData"]);

/** JSON for a server message: Convex values as Convex writes them (`1.0`), integers elsewhere. */
export function encodeMessage(message: Record<string, JSONValue>): string {
  const fields = Object.entries(message)
    .filter(([, v]) => v !== undefined)
    .map(([key, v]) => {
      const text = VALUE_FIELDS.has(key)
        ? stringify(v)
        : key === "modifications"
          ? `[${(v as Record<string, JSONValue>[]).map(encodeMessage).join(",")}]`
          : JSON.stringify(v);
      return `${JSON.stringify(key)}:${text}`;
    });
  return `{${fields.join(",")}}`;
}

function wireVersion(version: StateVersion): JSONValue {
  return { querySet: version.querySet, identity: version.identity, ts: encodeTs(version.ts) };
}

/** Function args travel as a one-element array of Convex-encoded JSON. */
function decodeArgs(args: unknown): Record<string, Value> {
  const first = Array.isArray(args) ? args[0] : args;
  if (first === undefined) return {};
  let value: Value;
  try {
    value = jsonToConvex(first as JSONValue);
  } catch (error) {
    throw new ProtocolError(`Invalid Convex value in args: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new ProtocolError("args must be an object");
  return value as Record<string, Value>;
}
