/**
 * The API client: openapi-fetch over the types openapi-typescript generates from the BFF's OpenAPI
 * document (`make` writes ./schema.d.ts). Every path, parameter, body and answer is type-checked
 * against the API the BFF actually serves.
 *
 * The SPA holds no token. The browser sends the BFF's session cookie by itself (same origin; it is
 * HttpOnly, so no script can read it), and the BFF calls the API's backend with the user's rights.
 * What the SPA must add is the anti-forgery header on every request that changes something; a
 * middleware does it here, once, so no call can forget it.
 */
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type ProblemDetail = Schemas["ProblemDetail"];

/** Fired on `window` when an answer says the session is over (401): the app shows the signed-out view. */
export const SESSION_ENDED = "session-ended";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The BFF refuses a cookie-authenticated POST, PUT, PATCH or DELETE without `X-CSRF: 1`
 * (403 `csrf_failed`). Another site cannot forge it: an HTML form cannot set a header, and a
 * cross-origin fetch that sets one needs a CORS preflight, which the BFF does not grant.
 */
const antiForgery: Middleware = {
  onRequest({ request }) {
    if (!SAFE_METHODS.has(request.method)) {
      request.headers.set("X-CSRF", "1");
    }
    return request;
  },
};

/** A 401 from any call means the session ended (signed out in another tab, idle too long, revoked). */
const sessionWatch: Middleware = {
  onResponse({ response }) {
    if (response.status === 401) {
      window.dispatchEvent(new Event(SESSION_ENDED));
    }
    return response;
  },
};

// No baseUrl: paths stay relative, so every call goes to the origin that served this page, the BFF.
export const api = createClient<paths>();
api.use(antiForgery, sessionWatch);

/** An API answer that was a problem (RFC 9457): `detail` says what went wrong, for people. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemDetail | undefined,
  ) {
    super(problem?.detail ?? `The server answered ${status}.`);
  }
}

/** The body of a successful call, or the call's problem thrown as an ApiProblem. */
export function expectData<T>(answer: { data?: T; error?: ProblemDetail; response: Response }): T {
  if (answer.data === undefined || answer.error !== undefined) {
    // A proxy's HTML error page arrives as a string, not a problem.
    const problem = typeof answer.error === "object" ? answer.error : undefined;
    throw new ApiProblem(answer.response.status, problem);
  }
  return answer.data;
}
