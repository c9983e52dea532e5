// Which documents each committed transaction wrote (GET /_embedded/writes; not Convex).
//
// Convex serialises the writes to one document and retries, then refuses, mutations that
// collide on it; the embedded backend runs one transaction at a time, so it never shows such
// a collision. Tests find the documents that would be hot on Convex from these write sets.
//
// convex-test keeps its write sets private, so the log watches the database syscalls every
// Convex function makes (`Convex.asyncSyscall`: insert, patch, replace, delete) and files each
// write under the top-level mutation the embedded backend is running (an AsyncLocalStorage
// context), then keeps the set only if that mutation committed.
//
// Not recorded: the writes of scheduled functions (convex-test gives no sign of whether they
// committed) and of mutations that actions run (this project has no actions); the
// `_scheduled_functions` entry a mutation adds is not a syscall write either. A nested
// `ctx.runMutation` that failed and was caught would still be listed (nothing here does that).
//
// The same hook times every syscall, so that a function's own JavaScript time leaves out its
// database calls (timing.ts).
import { AsyncLocalStorage } from "node:async_hooks";
import { outsideUserCode, outsideUserCodeSync } from "./timing.js";

/** Bounds on what the log holds; the oldest transactions go first. */
export const MAX_TRANSACTIONS = 2_000;
export const MAX_IDS_PER_TRANSACTION = 1_000;

const WRITE_SYSCALLS = new Set(["1.0/insert", "1.0/shallowMerge", "1.0/replace", "1.0/remove"]);

export type WrittenDocument = { table: string; id: string };

export type TransactionWrites = {
  /** Commit order since the backend started; gaps are mutations that wrote nothing. */
  seq: number;
  /** `module:function`, as the caller named it. */
  path: string;
  /** How many distinct documents it wrote; `documents` stops at MAX_IDS_PER_TRANSACTION. */
  writeCount: number;
  documents: WrittenDocument[];
};

type Pending = { documents: Map<string, string> };

type ConvexGlobal = {
  syscall: (op: string, jsonArgs: string) => string;
  jsSyscall: unknown;
  asyncSyscall: (op: string, jsonArgs: string) => Promise<string>;
};

const pendingWrites = new AsyncLocalStorage<Pending>();
const HOOKED = Symbol.for("devbackend.writeLog");

/** convex-test ids are digits followed by the table name. */
function tableOfId(id: string): string {
  return id.replace(/^[0-9]+/, "");
}

/**
 * Wraps convex-test's syscall entry point once per process (it installs `globalThis.Convex` on
 * its first `convexTest()` call, so this must come after one).
 */
function installHook() {
  const holder = globalThis as unknown as { Convex?: ConvexGlobal & { [HOOKED]?: true } };
  const original = holder.Convex;
  if (original === undefined) throw new Error("devbackend: convex-test has not installed its syscalls yet");
  if (original[HOOKED]) return;
  holder.Convex = {
    [HOOKED]: true,
    get syscall() {
      const call = original.syscall;
      return (op: string, jsonArgs: string) => outsideUserCodeSync(() => call(op, jsonArgs));
    },
    get jsSyscall() {
      return original.jsSyscall;
    },
    get asyncSyscall() {
      const call = original.asyncSyscall;
      const recorded = async (op: string, jsonArgs: string) => {
        const result = await call(op, jsonArgs);
        const pending = pendingWrites.getStore();
        if (pending !== undefined && WRITE_SYSCALLS.has(op)) {
          // A scheduled function's timer was armed inside the mutation that scheduled it, so it
          // inherits that mutation's context after the mutation has committed: its writes are
          // its own transaction's, not this one's.
          const metadata = JSON.parse(await call("1.0/getRequestMetadata", "{}")) as { scheduledFunctionId?: unknown };
          if (metadata.scheduledFunctionId === null || metadata.scheduledFunctionId === undefined) {
            const args = JSON.parse(jsonArgs) as { table?: string; id?: string };
            const id = op === "1.0/insert" ? (JSON.parse(result) as { _id: string })._id : args.id;
            if (id !== undefined) pending.documents.set(id, args.table ?? tableOfId(id));
          }
        }
        return result;
      };
      // Time in a database call is not the function's own JavaScript time (timing.ts).
      return (op: string, jsonArgs: string) => outsideUserCode(() => recorded(op, jsonArgs));
    },
  };
}

export class WriteLog {
  private entries: TransactionWrites[] = [];
  private seq = 0;
  private dropped = 0;

  constructor(private readonly maxTransactions = MAX_TRANSACTIONS) {
    installHook();
  }

  /** Runs one top-level mutation and, if it commits, records the documents it wrote. */
  async record<T>(path: string, run: () => Promise<T>): Promise<T> {
    const pending: Pending = { documents: new Map() };
    const value = await pendingWrites.run(pending, run);
    this.seq += 1;
    if (pending.documents.size === 0) return value;
    const documents = [...pending.documents.entries()]
      .slice(0, MAX_IDS_PER_TRANSACTION)
      .map(([id, table]) => ({ table, id }));
    this.entries.push({ seq: this.seq, path, writeCount: pending.documents.size, documents });
    if (this.entries.length > this.maxTransactions) {
      this.entries.shift();
      this.dropped += 1;
    }
    return value;
  }

  /** The recorded transactions, oldest first, and how many were evicted since the last clear. */
  list(): { transactions: TransactionWrites[]; dropped: number } {
    return { transactions: [...this.entries], dropped: this.dropped };
  }

  clear(): number {
    const cleared = this.entries.length;
    this.entries = [];
    this.dropped = 0;
    return cleared;
  }
}
