// How long each function's own JavaScript runs, and a warning on the backend's output when it
// runs longer than Convex allows.
//
// Convex limits the "user time" of a function: the time its JavaScript runs, not the time it
// waits on the database (crates/common/src/knobs.rs: DATABASE_UDF_USER_TIMEOUT 1 s for queries
// and mutations, V8_ACTION_USER_TIMEOUT for actions). Past the limit it stops the function,
// which fails with "Function execution timed out (maximum duration: 1s)"
// (crates/isolate/src/termination.rs, UserTimeoutError); past 80% of it, it logs the warning
// "Function execution took a long time. (maximum duration: 1s, actual duration: ...)."
// (crates/udf/src/warnings.rs, approaching_duration_limit_warning).
//
// convex-test cannot stop JavaScript that runs too long, so the embedded backend lets it finish
// and says so on its output: a WARNING line naming the function past the limit, and Convex's own
// warning past 80%. A function's time runs from when its handler starts to when it returns,
// less the time spent in its database calls (every `Convex.syscall` and `Convex.asyncSyscall`,
// timed by writes.ts's hook: queries, reads, writes, ctx.runQuery/runMutation); waiting for the one-at-a-time transaction
// lock comes before the handler starts, so it never counts.
import { AsyncLocalStorage } from "node:async_hooks";
import type { ModuleMap } from "./convexModules.js";
import { LIMIT_WARNING_RATIO, USER_TIMEOUT_MS } from "./limits.js";

const TIMED = Symbol.for("devbackend.timed");

type Kind = keyof typeof USER_TIMEOUT_MS;
type Execution = { outsideMs: number };
type RegisteredFunction = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  _handler?: (...args: unknown[]) => unknown;
  [TIMED]?: true;
};

const executions = new AsyncLocalStorage<Execution>();

/** What to do with a function's time: by default, warn on the console (tests replace it). */
export type TimingReport = (kind: Kind, path: string, userMs: number) => void;
let report: TimingReport = warnIfSlow;

export function setTimingReport(next: TimingReport | null): void {
  report = next ?? warnIfSlow;
}

/** Convex's limit for `kind`, with the warning it logs and the one the embedded backend adds. */
export function warnIfSlow(kind: Kind, path: string, userMs: number): void {
  const limitMs = USER_TIMEOUT_MS[kind];
  const limit = `${limitMs / 1000}s`;
  if (userMs > limitMs) {
    console.warn(
      `devbackend: WARNING ${kind} ${path} ran for ${(userMs / 1000).toFixed(2)} s of JavaScript, ` +
        `over Convex's limit of ${limitMs / 1000} s for a ${kind}: Convex would stop it and fail it with ` +
        `"Function execution timed out (maximum duration: ${limit})"`,
    );
  } else if (userMs > limitMs * LIMIT_WARNING_RATIO) {
    console.warn(
      `devbackend: warning: ${kind} ${path}: Function execution took a long time. ` +
        `(maximum duration: ${limit}, actual duration: ${userMs.toFixed(0)}ms).`,
    );
  }
}

/** Time spent outside the function's own JavaScript (a database call), not counted as its time. */
export async function outsideUserCode<T>(run: () => Promise<T>): Promise<T> {
  const execution = executions.getStore();
  const started = performance.now();
  try {
    return await run();
  } finally {
    if (execution !== undefined) execution.outsideMs += performance.now() - started;
  }
}

/** The same for a synchronous call (convex-test evaluates a whole `db.query` in one). */
export function outsideUserCodeSync<T>(run: () => T): T {
  const execution = executions.getStore();
  const started = performance.now();
  try {
    return run();
  } finally {
    if (execution !== undefined) execution.outsideMs += performance.now() - started;
  }
}

function kindOf(fn: RegisteredFunction): Kind | null {
  return fn.isQuery ? "query" : fn.isMutation ? "mutation" : fn.isAction ? "action" : null;
}

/** Time every function the modules export (their handlers, which convex-test calls). */
export function timeModules(modules: ModuleMap): ModuleMap {
  return Object.fromEntries(
    Object.entries(modules).map(([key, load]) => {
      if (key.includes("/_generated/")) return [key, load];
      // Keys are `./convex/<module path>.<ext>`; functions are named `<module path>:<export>`.
      const modulePath = key
        .split("/")
        .slice(2)
        .join("/")
        .replace(/\.[^.]+$/, "");
      return [
        key,
        async () => {
          const module = await load();
          for (const [name, fn] of Object.entries(module))
            timeFunction(fn as RegisteredFunction, `${modulePath}:${name}`);
          return module;
        },
      ];
    }),
  );
}

function timeFunction(fn: RegisteredFunction, path: string): void {
  const kind = fn !== null && typeof fn === "function" ? kindOf(fn) : null;
  const handler = fn?._handler;
  if (kind === null || typeof handler !== "function" || fn[TIMED]) return;
  fn[TIMED] = true;
  fn._handler = function (this: unknown, ...args: unknown[]) {
    const execution: Execution = { outsideMs: 0 };
    const started = performance.now();
    const finish = () => report(kind, path, performance.now() - started - execution.outsideMs);
    return executions.run(execution, () => {
      let result: unknown;
      try {
        result = handler.apply(this, args);
      } catch (error) {
        finish();
        throw error;
      }
      if (result instanceof Promise) return result.finally(finish);
      finish();
      return result;
    });
  };
}
