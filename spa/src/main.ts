/**
 * The app shell: who is signed in, which client they act for, and which view is shown.
 *
 * Signing in and out happen at the BFF (the Backend-for-Frontend pattern): the SPA links to
 * /v1/auth/login, the BFF runs the OpenID Connect flow and sets an HttpOnly session cookie, and
 * GET /v1/auth/session tells the SPA who is signed in. The SPA never sees a token.
 *
 * Views are chosen by the URL's hash (`#/acme/events`), so every view has a link that can be
 * bookmarked, and the back button works, with no server routes to add.
 */
import { ApiProblem, api, expectData, type Schemas, SESSION_ENDED } from "./api/client";
import { h } from "./dom";
import { link, type View, type ViewContext } from "./views/context";
import { eventsView } from "./views/events";
import { mineView } from "./views/mine";
import { supportView, ticketView } from "./views/support";

type Session = Schemas["SignedIn"];
type Membership = Schemas["Membership"];

const APP_NAME = "Member Platform";
const SECTIONS: { path: string; label: string; view: View }[] = [
  { path: "events", label: "Events", view: eventsView },
  { path: "mine", label: "My registrations", view: mineView },
  { path: "support", label: "Support", view: supportView },
];

function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) {
    throw new Error(`index.html has no #${id}`);
  }
  return element;
}

const main = byId("main");
const nav = byId("nav");
const account = byId("account");
const status = byId("status");
const alert = byId("alert");

let session: Session | null = null;
let leaving: (() => void)[] = []; // cleanups of the view on screen
let rendering = 0; // the latest render: an older one that finishes late is dropped
let firstRender = true;

function announce(message: string): void {
  status.replaceChildren(message);
}

function fail(error: unknown): void {
  let message = "Something went wrong. Try again.";
  if (error instanceof ApiProblem) {
    const fields = (error.problem?.errors ?? []).map((e) => `${e.field.replace(/^body\./, "")}: ${e.message}`);
    message = [error.message, ...fields].join(" ");
  } else if (error instanceof TypeError) {
    message = "The server cannot be reached. Check your connection and try again."; // what fetch throws offline
  } else if (error instanceof Error) {
    message = error.message;
  }
  alert.replaceChildren(message);
}

function runAll(cleanups: (() => void)[]): void {
  for (const cleanup of cleanups) {
    cleanup();
  }
}

function leave(): void {
  runAll(leaving);
  leaving = [];
}

/** Replaces <main> with `nodes`, names the page after its <h1>, and moves focus as a page load would. */
function show(nodes: Node[], focusId?: string): void {
  main.replaceChildren(...nodes);
  main.removeAttribute("aria-busy");
  const heading = main.querySelector("h1");
  document.title = heading ? `${heading.textContent} · ${APP_NAME}` : APP_NAME;
  // After navigating, a screen reader user must land on the new content, not stay on the link
  // they followed (which is gone); on the first load the browser's own start is right.
  const target = (focusId ? document.getElementById(focusId) : null) ?? heading;
  if (!firstRender) {
    target?.focus();
  }
  firstRender = false;
}

function signedOut(reason: string | null): void {
  leave();
  session = null;
  nav.replaceChildren();
  account.replaceChildren();
  // A plain link: signing in is a top-level navigation to the BFF, which redirects to the identity provider.
  show(
    [
      h("h1", { tabIndex: -1 }, "Sign in"),
      reason ? h("p", {}, reason) : null,
      h("p", {}, "Sign in to see upcoming events, your registrations and your support tickets."),
      h("p", {}, h("a", { className: "button", href: "/v1/auth/login?returnTo=/" }, "Sign in")),
    ].filter((node) => node !== null),
  );
}

async function signOut(button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    // POST, so the antiForgery middleware adds X-CSRF. The BFF ends the session and clears the cookie.
    const { endSessionUrl } = expectData(await api.POST("/v1/auth/logout"));
    leave();
    if (endSessionUrl) {
      // Also end the session at the identity provider, which then sends the browser back to `/`.
      window.location.assign(endSessionUrl);
    } else {
      signedOut("You are signed out.");
    }
  } catch (error) {
    fail(error);
    button.disabled = false;
  }
}

function renderAccount(current: Session): void {
  const signOutButton = h("button", { type: "button" }, "Sign out");
  signOutButton.addEventListener("click", () => void signOut(signOutButton));
  account.replaceChildren(
    h("span", {}, `Signed in as ${current.name ?? current.email ?? "a new user"}`),
    signOutButton,
  );
}

function renderNav(client: Membership | null, section: string | null): void {
  if (client === null) {
    nav.replaceChildren();
    return;
  }
  const links = SECTIONS.map(({ path, label }) => {
    const attrs: Record<string, string> = path === section ? { "aria-current": "page" } : {};
    return h("li", {}, h("a", { href: link(client.client, path), attrs }, label));
  });
  if ((session?.memberships.length ?? 0) > 1) {
    links.push(h("li", {}, h("a", { href: "#/" }, "Switch organisation")));
  }
  nav.replaceChildren(h("p", { className: "client" }, client.clientName), h("ul", {}, ...links));
}

function chooseClient(memberships: Membership[]): Node[] {
  return [
    h("h1", { tabIndex: -1 }, "Choose an organisation"),
    memberships.length > 0
      ? h(
          "ul",
          {},
          ...memberships.map((m) =>
            h("li", {}, h("a", { href: link(m.client, "events") }, m.clientName), ` (${m.role.replace("_", " ")})`),
          ),
        )
      : h("p", {}, "Your account is not a member of any organisation yet."),
  ];
}

/** The segments of the hash, `#/<client>/<section>[/<id>]`; none when it is not one this app wrote. */
function hashPath(): string[] {
  try {
    return window.location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  } catch {
    return []; // a malformed %-escape, typed by hand
  }
}

/** Shows the view the hash names: `#/<client>/<section>[/<id>]`. */
async function route(focusId?: string): Promise<void> {
  if (session === null) {
    return;
  }
  leave();
  alert.replaceChildren();
  const turn = ++rendering;
  const [slug, section, id] = hashPath();
  const memberships = session.memberships;
  const client = memberships.find((m) => m.client === slug) ?? null;
  if (client === null) {
    if (memberships.length === 1 && memberships[0]) {
      window.location.replace(link(memberships[0].client, "events")); // the only choice: no page for it
    } else {
      renderNav(null, null);
      show(chooseClient(memberships));
    }
    return;
  }
  const found = SECTIONS.find((s) => s.path === section) ?? SECTIONS[0];
  if (found === undefined) {
    return;
  }
  renderNav(client, found.path);
  const cleanups: (() => void)[] = [];
  const context: ViewContext = {
    client: client.client,
    announce,
    fail,
    refresh: (focus) => route(focus),
    go: (hash) => window.location.assign(hash),
    onLeave: (cleanup) => cleanups.push(cleanup),
  };
  main.setAttribute("aria-busy", "true");
  try {
    const nodes = found.path === "support" && id ? await ticketView(context, id) : await found.view(context);
    if (turn !== rendering) {
      runAll(cleanups); // the reader moved on meanwhile
      return;
    }
    leaving = cleanups;
    show(nodes, focusId);
  } catch (error) {
    runAll(cleanups);
    if (turn === rendering && session !== null) {
      show([h("h1", { tabIndex: -1 }, "This page could not be loaded")]);
      fail(error);
    }
  }
}

async function start(): Promise<void> {
  const answer = await api.GET("/v1/auth/session");
  if (answer.response.status === 401) {
    signedOut(null);
    return;
  }
  session = expectData(answer);
  renderAccount(session);
  window.addEventListener("hashchange", () => void route());
  await route();
}

window.addEventListener(SESSION_ENDED, () => {
  if (session !== null) {
    signedOut("Your session has ended. Sign in again to continue.");
  }
});

// The skip link moves focus to the content without touching the hash (the hash names the view).
byId("skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

start().catch((error: unknown) => {
  show([h("h1", { tabIndex: -1 }, APP_NAME)]);
  fail(error);
});
