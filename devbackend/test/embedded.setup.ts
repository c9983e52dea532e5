// The embedded backend over the fixture functions (test/fixture/convex), for one test file.
import { resolve } from "node:path";
import { afterAll } from "vitest";
import { type EmbeddedServer, startEmbeddedServer } from "../src/server.js";

export const ADMIN_KEY = "fixture-admin-key";

/** Start the backend on a free port; it is closed once the calling file's tests are done. */
export async function startFixtureServer(): Promise<EmbeddedServer> {
  const embedded = await startEmbeddedServer({
    convexDir: resolve(__dirname, "fixture/convex"),
    adminKey: ADMIN_KEY,
    port: 0,
  });
  afterAll(async () => embedded.close());
  return embedded;
}
