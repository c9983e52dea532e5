// The embedded development backend: the project's convex/ modules, run by
// convex-test, behind Convex's HTTP API (docs/architecture.md, decision 7).
//
// What it answers, and where the shapes come from (get-convex/convex-backend):
//   POST /api/query|mutation|action {path, args, format}
//     200 {status:"success", value, logLines}                      public_api.rs UdfResponse
//     200 {status:"error", errorMessage, errorData?, logLines}      public_api.rs returns Json(UdfResponse)
//         (HTTP 200, as the open-source backend answers and as the official Python
//         client requires; Convex Cloud may use 560, which the BFF's gateway also accepts)
//         - a ConvexError thrown by the function carries errorData
//         - unknown function, or an internal one without the admin key:
//           "Could not find public function for '<path>'."        udf/src/validation.rs
//         - arguments that do not match the validator:
//           "ArgumentValidationError: ..."                          udf/src/validation.rs
//         - arguments over Convex's value limits: "Invalid arguments for <path>: ..."  udf/src/helpers.rs (limits.ts)
//         - a document over Convex's limits written by the function: the function's error  (documents.ts)
//     400 {code:"BadJsonBody"|"BadFormat"|"BadRequest", message}  common/src/http/extract.rs, value/src/export.rs
//         - a body over 16 MiB + 2000 bytes: BadJsonBody "Failed to buffer the request body: length limit exceeded"
//     401 {code:"BadAdminKey", message}                            authentication/src/application_auth.rs
//   GET /version -> 200 text
//   GET|DELETE /_embedded/snapshot, /_embedded/writes (admin key; not Convex): for tests, see README.md
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { makeFunctionReference } from "convex/server";
import { ConvexError, type JSONValue, jsonToConvex, type Value } from "convex/values";
import { convexTest } from "convex-test";
import { argumentProblem, type ValidatorJson } from "./args.js";
import { discoverModules, type ModuleMap, moduleKeyFor } from "./convexModules.js";
import { databasesOf, enforceDocumentLimits } from "./documents.js";
import { type IndexedDatabase, indexDocuments } from "./indexes.js";
import { argumentsProblem, MAX_REQUEST_BODY_BYTES } from "./limits.js";
import { SyncHub } from "./sync.js";
import { timeModules } from "./timing.js";
import { exportValue, parseFormat, RequestError, stringify, type UdfResponse, type ValueFormat } from "./wire.js";
import { WriteLog } from "./writes.js";

export const VERSION = "embedded-convex-test";
/** Past this, a body too large is no longer read to its end (it is refused either way). */
const MAX_DRAINED_BYTES = 256 * 1024 * 1024;

type Kind = "query" | "mutation" | "action";
type Backend = ReturnType<typeof convexTest>;

export type EmbeddedOptions = { convexDir: string; adminKey: string; host?: string; port?: number };

export type EmbeddedServer = {
  url: string;
  server: Server;
  backend: Backend;
  /** The documents each committed mutation wrote (GET /_embedded/writes). */
  writes: WriteLog;
  /** Run a function as an admin would (used for seeding). */
  run(kind: Kind, path: string, args: Record<string, Value>): Promise<UdfResponse>;
  close(): Promise<void>;
};

/** A function failure answered with this message alone (as the embedded backend always has). */
class FunctionFailure extends Error {}
/** A function failure Convex reports after its "[Request ID: ...] Server Error" line, as its own errors. */
class ServerFailure extends Error {}

export async function startEmbeddedServer(options: EmbeddedOptions): Promise<EmbeddedServer> {
  // Every function's handler is timed, to warn about one that runs longer than Convex allows.
  const modules = timeModules(discoverModules(options.convexDir));
  const schema = (await import(pathToFileURL(join(options.convexDir, "schema.ts")).href)).default;
  // Convex's own per-transaction limits (reads, writes, index ranges, scheduled functions;
  // https://docs.convex.dev/production/state/limits), so what fails on Convex fails here.
  const backend = convexTest({ schema, modules, transactionLimits: true });
  const writes = new WriteLog();
  // Convex's limits on the documents functions write (1 MiB, 16 levels, 1,024 fields, ...).
  // Queries read through their indexes (convex-test alone walks every table's documents).
  for (const db of await databasesOf(backend)) {
    enforceDocumentLimits(db);
    indexDocuments(db as unknown as IndexedDatabase);
  }

  // Every commit advances the sync clock, so live subscriptions see HTTP writes too.
  let sync: SyncHub;
  const runAndPublish = async (
    kind: Kind,
    path: string,
    args: Record<string, Value>,
    admin: boolean,
    format: ValueFormat,
  ) => {
    const response = await runFunction(backend, writes, modules, kind, path, args, admin, format);
    // A committed mutation advances the clock; so does any action, which may have run mutations
    // before it failed.
    if ((response.status === "success" && kind === "mutation") || kind === "action") sync.committed();
    return response;
  };
  sync = new SyncHub(
    (kind, path, args, admin) => runFunction(backend, writes, modules, kind, path, args, admin, "convex_encoded_json"),
    options.adminKey,
  );
  const run = (kind: Kind, path: string, args: Record<string, Value>, admin = true) =>
    runAndPublish(kind, path, args, admin, "convex_encoded_json");

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      console.error("devbackend: unexpected failure", error);
      if (!res.headersSent)
        send(res, 500, {
          code: "InternalServerError",
          message: "Your request couldn't be completed. Try again later.",
        });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && url.pathname === "/version") {
      res.writeHead(200, { "Content-Type": "text/plain" }).end(VERSION);
      return;
    }
    if (url.pathname.startsWith("/_embedded/")) {
      try {
        if (!checkAuthorization(req.headers.authorization, options.adminKey))
          throw new RequestError(401, "MissingAdminKey", `${url.pathname} needs the admin key`);
      } catch (error) {
        if (error instanceof RequestError)
          return send(res, error.httpStatus, { code: error.code, message: error.message });
        throw error;
      }
    }
    if (req.method === "GET" && url.pathname === "/_embedded/writes") {
      // Not Convex: the documents recent mutations wrote, for tests that look for documents
      // many principals write (contention on Convex, invisible here).
      return send(res, 200, writes.list() as unknown as JSONValue);
    }
    if (req.method === "DELETE" && url.pathname === "/_embedded/writes") {
      writes.clear();
      res.writeHead(204).end();
      return;
    }
    if (req.method === "GET" && url.pathname === "/_embedded/snapshot") {
      // Not Convex: every document of every table, for tests that prove a refused call wrote nothing.
      const tables = Object.keys((schema as { tables: Record<string, unknown> }).tables);
      const snapshot = await backend.run(async (ctx) => {
        const out: Record<string, Value[]> = {};
        for (const table of tables) out[table] = await ctx.db.query(table).collect();
        return out;
      });
      sendRaw(res, 200, stringify(exportValue(snapshot as unknown as Value, "convex_encoded_json")));
      return;
    }
    const match = url.pathname.match(/^\/api\/(query|mutation|action)$/);
    if (match === null) {
      send(res, 404, { code: "NotFound", message: `No route for ${req.method} ${url.pathname}` });
      return;
    }
    if (req.method !== "POST") {
      send(res, 405, { code: "MethodNotAllowed", message: `Use POST for ${url.pathname}` });
      return;
    }
    try {
      const admin = checkAuthorization(req.headers.authorization, options.adminKey);
      const body = parseBody(await readBody(req));
      const format = parseFormat(body.format);
      if (format === null) {
        throw new RequestError(400, "BadFormat", `format param must be one of [\`json\`]. Got ${String(body.format)}`);
      }
      let args: Value;
      try {
        args = jsonToConvex(body.args as JSONValue);
      } catch (e) {
        throw new RequestError(400, "BadJsonBody", `Invalid Convex value in args: ${(e as Error).message}`);
      }
      const started = performance.now();
      const response = await runAndPublish(match[1] as Kind, body.path, args as Record<string, Value>, admin, format);
      logFunction(req, match[1] as Kind, body.path, response, performance.now() - started);
      sendRaw(res, 200, stringify(response as unknown as JSONValue));
    } catch (error) {
      if (error instanceof RequestError) {
        send(res, error.httpStatus, { code: error.code, message: error.message });
        return;
      }
      throw error;
    }
  }

  sync.attach(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 3210, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    server,
    backend,
    writes,
    run: (kind, path, args) => run(kind, path, args),
    close: () =>
      new Promise<void>((resolve) => {
        sync.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `Convex <admin key>` -> admin; no header -> anonymous; anything else is refused as Convex does. */
function checkAuthorization(header: string | undefined, adminKey: string): boolean {
  if (header === undefined || header === "") return false;
  if (header.startsWith("Convex ")) {
    if (header.slice("Convex ".length) === adminKey) return true;
    throw new RequestError(401, "BadAdminKey", "The provided admin key was invalid for this instance");
  }
  if (header.startsWith("Bearer ")) {
    throw new RequestError(
      401,
      "NoAuthProvider",
      "No auth provider found matching the given token (the embedded backend has no auth config).",
    );
  }
  throw new RequestError(
    401,
    "BadAuthHeader",
    "Authorization header must be `Convex <admin key>` or `Bearer <token>`.",
  );
}

/**
 * The body, up to Convex's limit for its public API (16 MiB + 2000 bytes, knobs.rs
 * MAX_BACKEND_PUBLIC_API_REQUEST_SIZE). Convex refuses a bigger one as its body extractor fails
 * (common/src/http/extract.rs: 400 BadJsonBody with axum's "Failed to buffer the request body:
 * length limit exceeded"). The rest of a body too large is read and dropped, so that the client
 * gets that answer rather than a reset connection.
 */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = () =>
      new RequestError(400, "BadJsonBody", "Failed to buffer the request body: length limit exceeded");
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BODY_BYTES) chunks.push(chunk);
      else if (chunks.length > 0) chunks.length = 0;
      if (size > MAX_DRAINED_BYTES) {
        req.destroy();
        reject(tooLarge());
      }
    });
    req.on("end", () =>
      size > MAX_REQUEST_BODY_BYTES ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString("utf8")),
    );
    req.on("error", reject);
  });
}

function parseBody(text: string): { path: string; args: unknown; format?: unknown } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new RequestError(400, "BadJsonBody", `Failed to deserialize the JSON body: ${(e as Error).message}`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new RequestError(400, "BadJsonBody", "Failed to deserialize the JSON body: expected an object");
  }
  const { path, args, format } = body as Record<string, unknown>;
  if (typeof path !== "string") {
    throw new RequestError(400, "BadJsonBody", "Failed to deserialize the JSON body: missing field `path`");
  }
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    throw new RequestError(400, "BadJsonBody", "Failed to deserialize the JSON body: `args` must be an object");
  }
  return { path, args, format };
}

type RegisteredFunction = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isInternal?: boolean;
  isPublic?: boolean;
  exportArgs(): string;
};

async function resolve(modules: ModuleMap, path: string, admin: boolean): Promise<RegisteredFunction> {
  const notFound = () =>
    new FunctionFailure(`Could not find public function for '${path.replace(/\.js(?=:|$)/, "")}'.`);
  const location = moduleKeyFor(modules, path);
  if (location === null) throw notFound();
  const module = await modules[location.key]();
  const fn = module[location.exportName] as RegisteredFunction | undefined;
  if (fn === undefined || typeof fn.exportArgs !== "function") throw notFound();
  if (fn.isInternal && !admin) throw notFound();
  return fn;
}

function kindOf(fn: RegisteredFunction): Kind | null {
  return fn.isQuery ? "query" : fn.isMutation ? "mutation" : fn.isAction ? "action" : null;
}

async function runFunction(
  backend: Backend,
  writes: WriteLog,
  modules: ModuleMap,
  kind: Kind,
  path: string,
  args: Record<string, Value>,
  admin: boolean,
  format: ValueFormat,
): Promise<UdfResponse> {
  const udfPath = path.replace(/\.js(?=:|$)/, "");
  try {
    const fn = await resolve(modules, udfPath, admin);
    const actual = kindOf(fn);
    if (actual !== kind) {
      const title = (k: string | null) => (k === null ? "unknown" : k[0].toUpperCase() + k.slice(1));
      throw new FunctionFailure(
        `Trying to execute ${udfPath} as ${title(kind)}, but it is defined as ${title(actual)}.`,
      );
    }
    // Convex parses the arguments as Convex values, with its limits, before it validates them.
    const tooLarge = argumentsProblem(udfPath, args);
    if (tooLarge !== null) throw new ServerFailure(tooLarge);
    const problem = argumentProblem(JSON.parse(fn.exportArgs()) as ValidatorJson, args);
    if (problem !== null) throw new FunctionFailure(`ArgumentValidationError: ${problem}`);
    const value =
      kind === "query"
        ? await backend.query(makeFunctionReference<"query">(udfPath), args)
        : kind === "mutation"
          ? await writes.record(udfPath, () => backend.mutation(makeFunctionReference<"mutation">(udfPath), args))
          : await backend.action(makeFunctionReference<"action">(udfPath), args);
    return { status: "success", value: exportValue(value as Value, format), logLines: [] };
  } catch (error) {
    return failure(error, format);
  }
}

function failure(error: unknown, format: ValueFormat): UdfResponse {
  const requestId = randomUUID().replace(/-/g, "").slice(0, 16);
  if (error instanceof FunctionFailure) {
    return { status: "error", errorMessage: error.message, logLines: [] };
  }
  if (error instanceof ServerFailure) {
    return { status: "error", errorMessage: `[Request ID: ${requestId}] Server Error\n${error.message}`, logLines: [] };
  }
  if (error instanceof ConvexError || (error as { name?: string })?.name === "ConvexError") {
    const data = (error as ConvexError<Value>).data;
    return {
      status: "error",
      errorMessage: `[Request ID: ${requestId}] Server Error\nUncaught ConvexError: ${typeof data === "string" ? data : JSON.stringify(data)}`,
      errorData: exportValue(data, format),
      logLines: [],
    };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    status: "error",
    errorMessage: `[Request ID: ${requestId}] Server Error\nUncaught ${message}`,
    logLines: [],
  };
}

function send(res: ServerResponse, status: number, body: JSONValue) {
  sendRaw(res, status, JSON.stringify(body));
}

function sendRaw(res: ServerResponse, status: number, text: string) {
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) }).end(text);
}

/**
 * One line per function run, with the caller's request id, as Convex's function logs carry it
 * (it takes `Convex-Request-Id` as the request id), so a BFF log line and this one join.
 */
function logFunction(req: IncomingMessage, kind: Kind, path: string, response: UdfResponse, ms: number) {
  const requestId = req.headers["convex-request-id"] ?? "-";
  const outcome = response.status === "success" ? "success" : "error";
  console.log(`devbackend: [${requestId}] ${kind} ${path} ${outcome} ${ms.toFixed(1)} ms`);
}
