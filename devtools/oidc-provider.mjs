// `node devtools/oidc-provider.mjs [--issuer http://127.0.0.1:8001] [--bff-origin http://127.0.0.1:8000] [--exit-with-parent]`
//
// The development OpenID provider: the certified `oidc-provider` package, in memory, on 127.0.0.1
// only, with one client (the BFF) and exactly the demo users of convex/demoUsers.json, who sign in
// with their email and no password. `make run` and the end-to-end tests start it (devtools/oidc.py);
// docs/identity-providers.md describes it. Never a production provider.
//
// Environment: OIDC_CLIENT_SECRET (required), OIDC_CLIENT_ID (default member-platform-bff),
// OIDC_DEV_ACCESS_TOKEN_TTL_S (default 300; short, so that the BFF's refresh path runs often).
// Prints one line "ready <issuer>" on stdout once it listens; stops on SIGTERM or SIGINT.
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import Provider from "oidc-provider";

const { values } = parseArgs({
  options: {
    issuer: { type: "string", default: process.env.OIDC_DEV_ISSUER ?? "http://127.0.0.1:8001" },
    "bff-origin": { type: "string", default: process.env.PUBLIC_ORIGIN ?? "http://127.0.0.1:8000" },
    // Stop when stdin closes: the process that started us is gone, even if it was killed before it
    // could stop us, so no provider is left holding the port (as devbackend does).
    "exit-with-parent": { type: "boolean", default: false },
  },
});

function fail(message) {
  console.error(`oidc-provider: ${message}`);
  process.exit(2);
}

const issuer = new URL(values.issuer);
// Plain http is acceptable only because nothing leaves this machine: the provider listens on the
// loopback interface and refuses any other issuer host.
if (issuer.hostname !== "127.0.0.1" || issuer.protocol !== "http:" || issuer.pathname !== "/") {
  fail(`the development provider runs on http://127.0.0.1:<port> only, not ${values.issuer}`);
}
const bffOrigin = new URL(values["bff-origin"]).origin;
const clientId = process.env.OIDC_CLIENT_ID || "member-platform-bff";
const clientSecret = process.env.OIDC_CLIENT_SECRET;
if (!clientSecret) fail("OIDC_CLIENT_SECRET is not set (see .env.example)");
const accessTokenTtlS = Number(process.env.OIDC_DEV_ACCESS_TOKEN_TTL_S || 300);
if (!Number.isInteger(accessTokenTtlS) || accessTokenTtlS < 1)
  fail("OIDC_DEV_ACCESS_TOKEN_TTL_S must be a positive integer");

// --- The demo users: the same file convex/demo.ts seeds them from ------------------------------
const demo = JSON.parse(readFileSync(new URL("../convex/demoUsers.json", import.meta.url), "utf8"));
/** email -> { email, name, authSubject }; the account id (and so `sub`) is the Convex authSubject. */
const USERS = new Map();
for (const { email, name } of demo.platformAdmins) USERS.set(email, { email, name });
for (const client of demo.clients) {
  for (const person of demo.people) {
    const email = `${person.local}@${client.slug}.test`;
    USERS.set(email, { email, name: person.name });
  }
}
for (const user of USERS.values()) user.authSubject = `user|${user.email}`;
const BY_SUBJECT = new Map([...USERS.values()].map((user) => [user.authSubject, user]));

// --- Keys: made at start, gone at exit (every token dies with the process anyway) ---------------
const signingKey = {
  ...generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" }),
  kid: `dev-${randomUUID()}`,
  use: "sig",
  alg: "RS256",
};

const TTL_DAY = 24 * 60 * 60;

const provider = new Provider(issuer.origin, {
  // The default in-memory adapter: nothing survives a restart, which is what development wants.
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      client_name: "Member platform BFF (development)",
      application_type: "web",
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      scope: "openid email profile offline_access",
      redirect_uris: [`${bffOrigin}/v1/auth/callback`],
      post_logout_redirect_uris: [`${bffOrigin}/`],
      backchannel_logout_uri: `${bffOrigin}/v1/auth/backchannel-logout`,
      backchannel_logout_session_required: true,
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: {
    keys: [randomBytes(32).toString("base64url")],
    // Lax, not the library's None: the BFF and this provider are the same site (127.0.0.1), and
    // browsers drop SameSite=None cookies that are not Secure, which they cannot be over http.
    long: { signed: true, httpOnly: true, sameSite: "lax" },
    short: { signed: true, httpOnly: true, sameSite: "lax" },
  },
  scopes: ["openid", "email", "profile", "offline_access"],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  // email and name in the ID token too (not only at userinfo), as the BFF reads them from there.
  conformIdTokenClaims: false,
  responseTypes: ["code"],
  pkce: { methods: ["S256"], required: () => true },
  features: {
    devInteractions: { enabled: false }, // ours below accept the demo users only
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    backchannelLogout: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
  },
  // The BFF is a confidential client: a refresh token with every code, whatever the scope.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  // Every refresh answers a new refresh token and retires the old one; replaying a retired one
  // revokes the whole grant, so a BFF that refreshes twice at once finds out at once.
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTokenTtlS,
    AuthorizationCode: 60,
    IdToken: 60 * 60,
    RefreshToken: TTL_DAY,
    Grant: TTL_DAY,
    Session: TTL_DAY,
    Interaction: 10 * 60,
  },
  // The BFF is the only client: what it asks for is granted, with no consent screen.
  loadExistingGrant,
  findAccount: async (_ctx, sub) => {
    const user = BY_SUBJECT.get(sub);
    if (user === undefined) return undefined;
    return {
      accountId: sub,
      claims: async () => ({ sub, email: user.email, email_verified: true, name: user.name }),
    };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  clientBasedCORS: () => false, // the BFF talks to the provider server to server; browsers only navigate
  renderError,
});

// OpenID Connect Core grants offline_access only with prompt=consent "unless other conditions for
// processing the request permitting offline access to the requested resources are in place". They
// are (the one client is the first-party, confidential BFF), as at Auth0, Entra ID or Keycloak,
// which grant it without that prompt. Without this the library drops offline_access, the refresh
// token lacks it, and a refresh that repeats the granted scope (Authlib's does) gets invalid_scope.
// The consent prompt it adds is answered without asking (handleInteraction).
provider.use(async (ctx, next) => {
  if (ctx.method === "GET" && ctx.path === "/auth") {
    const { scope, prompt } = ctx.query;
    const prompts = typeof prompt === "string" ? prompt.split(" ") : [];
    if (typeof scope === "string" && scope.split(" ").includes("offline_access") && !prompts.includes("none")) {
      if (!prompts.includes("consent")) ctx.query = { ...ctx.query, prompt: [...prompts, "consent"].join(" ") };
    }
  }
  await next();
});

async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId);
  const grant =
    (grantId && (await oidc.provider.Grant.find(grantId))) ||
    new oidc.provider.Grant({ accountId: oidc.account.accountId, clientId: oidc.client.clientId });
  grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(" "));
  grant.addOIDCClaims([...oidc.requestParamClaims]);
  await grant.save();
  return grant;
}

// --- Pages ----------------------------------------------------------------------------------------
const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · development provider</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; }
  .banner { background: #fff3cd; border: 1px solid #e0c060; padding: .5rem .75rem; }
  .error { color: #a00; }
  label, input, button { display: block; font: inherit; }
  input { width: 100%; padding: .4rem; margin: .25rem 0 .75rem; box-sizing: border-box; }
  button { padding: .4rem 1rem; }
</style>
</head>
<body>
<p class="banner">Development OpenID provider: demo users only, no passwords. Never use it in production.</p>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`;
}

function loginPage(uid, clientName, { email = "", error } = {}) {
  const users = [...USERS.values()];
  return page(
    "Sign in",
    `<p>to <strong>${escapeHtml(clientName)}</strong></p>
${error ? `<p class="error" id="email-error" role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="/interaction/${uid}/login" autocomplete="off">
  <label for="email">Email of a demo user</label>
  <input id="email" name="email" type="email" required autofocus list="demo-users" value="${escapeHtml(email)}"${
    error ? ' aria-invalid="true" aria-describedby="email-error"' : ""
  }>
  <datalist id="demo-users">${users.map((u) => `<option value="${escapeHtml(u.email)}">`).join("")}</datalist>
  <button type="submit">Sign in</button>
</form>
<p><a href="/interaction/${uid}/abort">Cancel and go back</a></p>
<h2>Demo users</h2>
<ul>${users.map((u) => `<li><code>${escapeHtml(u.email)}</code> (${escapeHtml(u.name)})</li>`).join("")}</ul>`,
  );
}

async function logoutSource(ctx, form) {
  ctx.body = page(
    "Sign out",
    `<p>Sign out of the development provider too?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}

async function postLogoutSuccessSource(ctx) {
  ctx.body = page("Signed out", "<p>You are signed out of the development provider.</p>");
}

async function renderError(ctx, out) {
  ctx.type = "html";
  const details = Object.entries(out).map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(value)}</dd>`);
  ctx.body = page("Something went wrong", `<dl>${details.join("")}</dl>`);
}

// --- Interactions: the sign-in form -------------------------------------------------------------
const MAX_FORM_BYTES = 8 * 1024;

function send(res, status, html, headers = {}) {
  res.writeHead(status, {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    ...headers,
  });
  res.end(html);
}

async function readForm(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error("form too large");
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** The pending interaction of this browser (its cookie), or null when it has none for `uid`. */
async function pendingInteraction(req, res, uid) {
  try {
    const interaction = await provider.interactionDetails(req, res);
    return interaction.uid === uid ? interaction : null;
  } catch {
    return null; // no or expired interaction cookie (SessionNotFound)
  }
}

async function handleInteraction(req, res, url) {
  const match = url.pathname.match(/^\/interaction\/([\w-]+)(\/login|\/abort)?$/);
  if (match === null) return send(res, 404, page("Not found", "<p>No such page.</p>"));
  const [, uid, action = ""] = match;
  const interaction = await pendingInteraction(req, res, uid);
  if (interaction === null) {
    return send(
      res,
      400,
      page("Sign-in expired", "<p>This sign-in has expired. Start again from the application.</p>"),
    );
  }
  if (interaction.prompt.name === "consent") {
    // Never asked: the BFF is the only client, and loadExistingGrant grants what it requests.
    return provider.interactionFinished(req, res, { consent: {} }, { mergeWithLastSubmission: true });
  }
  if (interaction.prompt.name !== "login") {
    return send(res, 500, page("Unexpected step", `<p>Unexpected prompt ${escapeHtml(interaction.prompt.name)}.</p>`));
  }
  const client = await provider.Client.find(interaction.params.client_id);
  const clientName = client?.clientName ?? interaction.params.client_id;

  if (req.method === "GET" && action === "") {
    return send(res, 200, loginPage(uid, clientName, { email: interaction.params.login_hint ?? "" }));
  }
  if (req.method === "GET" && action === "/abort") {
    return provider.interactionFinished(
      req,
      res,
      { error: "access_denied", error_description: "The user cancelled the sign-in" },
      { mergeWithLastSubmission: false },
    );
  }
  if (req.method === "POST" && action === "/login") {
    let form;
    try {
      form = await readForm(req);
    } catch {
      return send(res, 413, page("Too large", "<p>The form was too large.</p>"));
    }
    const email = (form.get("email") ?? "").trim().toLowerCase();
    const user = USERS.get(email);
    if (user === undefined) {
      const error = `${email || "That"} is not a demo user: sign in as one of the users listed below.`;
      return send(res, 401, loginPage(uid, clientName, { email, error }));
    }
    console.log(`oidc-provider: signed in ${user.email}`);
    return provider.interactionFinished(
      req,
      res,
      // Consent too, in the same step: it is never asked (see the consent prompt above).
      { login: { accountId: user.authSubject }, consent: {} },
      { mergeWithLastSubmission: false },
    );
  }
  return send(res, 405, page("Not allowed", "<p>Method not allowed.</p>"), {
    Allow: action === "/login" ? "POST" : "GET",
  });
}

// --- Logs: what a developer needs when a sign-in or a logout goes wrong --------------------------
provider.on("server_error", (_ctx, err) => console.error("oidc-provider: server error", err));
provider.on("grant.error", (_ctx, err) =>
  console.error(`oidc-provider: token request refused: ${err.message} (${err.error_description ?? ""})`),
);
provider.on("backchannel.success", (_ctx, client, accountId) =>
  console.log(`oidc-provider: back-channel logout of ${accountId} delivered to ${client.backchannelLogoutUri}`),
);
provider.on("backchannel.error", (_ctx, err, client, accountId) =>
  console.error(
    `oidc-provider: back-channel logout of ${accountId} to ${client.backchannelLogoutUri} failed: ${err.message}`,
  ),
);

// --- Server -----------------------------------------------------------------------------------------
const providerCallback = provider.callback();
const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", issuer.origin);
  if (url.pathname.startsWith("/interaction/")) {
    handleInteraction(req, res, url).catch((err) => {
      console.error("oidc-provider: interaction failed", err);
      if (!res.headersSent)
        send(res, 500, page("Something went wrong", "<p>The sign-in failed; see the provider's log.</p>"));
    });
    return;
  }
  providerCallback(req, res);
});

server.on("error", (err) => fail(`cannot listen on 127.0.0.1:${issuer.port}: ${err.message}`));
server.listen(Number(issuer.port || 80), "127.0.0.1", () => {
  console.log(`oidc-provider: client ${clientId} for ${bffOrigin}, access tokens live ${accessTokenTtlS} s`);
  console.log(`ready ${issuer.origin}`);
});

let stopping = false;
function stop(reason) {
  if (stopping) return;
  stopping = true;
  console.log(`oidc-provider: ${reason}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stop(signal));
if (values["exit-with-parent"]) {
  process.stdin.on("end", () => stop("parent gone (stdin closed)"));
  process.stdin.resume();
}
