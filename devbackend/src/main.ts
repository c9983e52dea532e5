// `tsx devbackend/src/main.ts [--port 3210] [--no-seed] [--convex-dir convex] [--exit-with-parent]`
// The embedded development backend. In memory, for development and tests only.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startEmbeddedServer } from "./server.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "3210" },
    host: { type: "string", default: "127.0.0.1" },
    "no-seed": { type: "boolean", default: false },
    "convex-dir": { type: "string", default: "convex" },
    // Stop when stdin closes: the process that started us (make run, a test session) is gone,
    // even if it was killed before it could stop us, so no backend is left holding the port.
    "exit-with-parent": { type: "boolean", default: false },
  },
});

const adminKey = process.env.CONVEX_ADMIN_KEY;
if (!adminKey) {
  console.error("devbackend: CONVEX_ADMIN_KEY is not set; it guards the internal functions (see .env.example).");
  process.exit(2);
}

const embedded = await startEmbeddedServer({
  convexDir: resolve(values["convex-dir"]),
  adminKey,
  host: values.host,
  port: Number(values.port),
});

if (!values["no-seed"]) {
  // Seeding runs in bounded transactions (convex/demo.ts, SEED_BATCH): demo:seed answers the
  // cursor of the next, and demo:seedBatch is called with each cursor until none is left, so
  // the data is complete before this backend says it is ready.
  type Arg = Parameters<typeof embedded.run>[2][string];
  const nextOf = (value: unknown) => (value as { next?: Arg } | null)?.next ?? null;
  let step = await embedded.run("mutation", "demo:seed", { batches: "returned" });
  const { next: _, ...seeded } = (step.status === "success" ? step.value : {}) as Record<string, unknown>;
  while (step.status === "success" && nextOf(step.value) !== null) {
    step = await embedded.run("mutation", "demo:seedBatch", { cursor: nextOf(step.value), batches: "returned" });
  }
  if (step.status === "success") {
    console.log(`devbackend: demo data seeded ${JSON.stringify(seeded)}`);
  } else if (step.errorMessage.startsWith("Could not find public function")) {
    console.log("devbackend: no demo:seed function; starting empty");
  } else {
    console.error(`devbackend: seeding failed: ${step.errorMessage}`);
    await embedded.close();
    process.exit(1);
  }
}

console.log(
  [
    "",
    "  IN-MEMORY DEVELOPMENT BACKEND: convex-test running this project's convex/ functions",
    "  behind Convex's HTTP API. It is not Convex: data lives in this process and is lost on exit.",
    "",
  ].join("\n"),
);
console.log(`devbackend ready on ${embedded.url}`);

let stopping = false;
async function stop(reason: string) {
  if (stopping) return;
  stopping = true;
  console.log(`devbackend: ${reason}, shutting down`);
  await embedded.close();
  process.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => stop(signal));
if (values["exit-with-parent"]) {
  process.stdin.on("end", () => stop("parent gone (stdin closed)"));
  process.stdin.resume();
}
