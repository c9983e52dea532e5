// Regenerate convex/_generated/ without a deployment.
//
// `npx convex codegen` writes the server and data-model files from the local
// folder, but for the typed `api` object it needs a running deployment; with none
// it leaves `api` untyped (AnyApi). This runs it, then writes api.d.ts/api.js with
// Convex's own template (convex/dist/cjs/cli/codegen_templates/api.js) over the
// modules Convex would deploy. Usage: node devtools/convex-codegen.cjs
const { execFileSync } = require("node:child_process");
const { readdirSync, statSync, writeFileSync } = require("node:fs");
const { join, relative, sep } = require("node:path");

const root = join(__dirname, "..");
const convexDir = join(root, "convex");

try {
  execFileSync(join(root, "node_modules/.bin/convex"), ["codegen", "--typecheck", "disable"], {
    cwd: root,
    stdio: "ignore",
    env: { ...process.env, CONVEX_SELF_HOSTED_URL: "http://127.0.0.1:9", CONVEX_SELF_HOSTED_ADMIN_KEY: "codegen" },
    timeout: 120_000,
  });
} catch {
  // Expected: nothing listens there, after the local files are written.
}

/** Files Convex deploys: .ts/.js modules, no dotfiles, no names with several dots. */
function modules(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return name === "_generated" || name.startsWith(".") ? [] : modules(full);
    const ok = /\.(ts|js)$/.test(name) && !name.endsWith(".d.ts") && name.split(".").length === 2 && name !== "schema.ts";
    return ok ? [relative(convexDir, full).split(sep).join("/")] : [];
  });
}

const { apiCodegen } = require(join(root, "node_modules/convex/dist/cjs/cli/codegen_templates/api.js"));
const { DTS, JS } = apiCodegen(modules(convexDir).sort(), { useTypeScript: false });
writeFileSync(join(convexDir, "_generated/api.d.ts"), DTS);
writeFileSync(join(convexDir, "_generated/api.js"), JS);
execFileSync(join(root, "node_modules/.bin/prettier"), ["--write", "convex/_generated/api.d.ts", "convex/_generated/api.js"], { cwd: root, stdio: "ignore" });
console.log("convex/_generated written");
