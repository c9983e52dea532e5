// Discover the modules of a convex/ folder the way Convex's bundler does, and
// hand them to convex-test as the lazy-import map it expects (under vitest that
// map comes from import.meta.glob, which a plain Node process does not have).
import { readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";

export type ModuleMap = Record<string, () => Promise<Record<string, unknown>>>;

/** Files Convex would deploy: .ts/.js, no dotfiles, no several-dot names (tests, setups). */
function isFunctionModule(name: string): boolean {
  if (name.startsWith(".") || name.startsWith("#")) return false;
  if (!/\.(ts|js|mjs|cjs|tsx|jsx)$/.test(name) || name.endsWith(".d.ts")) return false;
  return name.split(".").length === 2;
}

export function discoverModules(convexDir: string): ModuleMap {
  const modules: ModuleMap = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) {
        if (name !== "node_modules" && !name.startsWith(".")) walk(full);
        continue;
      }
      const inGenerated = relative(convexDir, full).split(sep)[0] === "_generated";
      if (inGenerated ? name.endsWith(".js") : isFunctionModule(name)) {
        // Keys relative to the folder that holds convex/, as import.meta.glob would give.
        const key = `./${relative(join(convexDir, ".."), full).split(sep).join("/")}`;
        const url = pathToFileURL(full).href;
        modules[key] = () => import(url);
      }
    }
  };
  walk(convexDir);
  return modules;
}

/** "courses:list" -> the module key and export name, or null when it names no module. */
export function moduleKeyFor(modules: ModuleMap, udfPath: string): { key: string; exportName: string } | null {
  const [modulePathRaw, exportName = "default"] = udfPath.split(":");
  const modulePath = modulePathRaw.replace(/\.js$/, "");
  const key = Object.keys(modules).find(
    (k) =>
      !k.includes("/_generated/") &&
      k
        .split("/")
        .slice(2)
        .join("/")
        .replace(/\.[^.]+$/, "") === modulePath,
  );
  return key === undefined ? null : { key, exportName };
}
