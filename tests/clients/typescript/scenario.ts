/**
 * An integrator's code against the types openapi-typescript generates from /openapi.json, called through
 * openapi-fetch. tests/e2e/test_generated_client.py generates the types into a temporary folder (imported here
 * as "member-platform-api"), compiles this file with `tsc --strict`, has Biome refuse any type assertion,
 * non-null assertion or `any` in it, and runs it with tsx against the BFF on 127.0.0.1 (BFF_URL, API_KEY,
 * CLIENT_SLUG). It prints what it saw as one JSON line, for the test to check.
 */
import { randomUUID } from "node:crypto";
import type { components, paths } from "member-platform-api";
import createClient from "openapi-fetch";

type ProblemDetail = components["schemas"]["ProblemDetail"];
type ProblemCode = components["schemas"]["ProblemCode"];
type Event = components["schemas"]["Event"];
type Member = components["schemas"]["Member"];
type RegistrationStatus = components["schemas"]["RegistrationStatus"];

/** What the scenario saw, printed for the test to check. */
interface Outcome {
  eventId: string;
  listed: boolean;
  registrationId: string;
  location: string | null;
  registeredStatus: RegistrationStatus;
  readEventId: string;
  fullAt: number | null;
  cancelledStatus: RegistrationStatus;
  placesLeft: number | null;
  auditActions: string[];
  missingCode: ProblemCode;
}

const DAY_MS = 24 * 3600 * 1000;

class ApiProblem extends Error {
  constructor(readonly problem: ProblemDetail) {
    super(`${problem.status} ${problem.code}: ${problem.detail} (request ${problem.requestId})`);
  }
}

/** The body of a successful openapi-fetch call; the problem thrown otherwise. */
function expectData<T>(answer: { data?: T; error?: ProblemDetail; response: Response }): T {
  if (answer.error !== undefined) {
    throw new ApiProblem(answer.error);
  }
  if (answer.data === undefined) {
    throw new Error(`${answer.response.status} without a body`);
  }
  return answer.data;
}

/** The problem of an openapi-fetch call that must be refused. */
function expectProblem(answer: { error?: ProblemDetail; response: Response }): ProblemDetail {
  if (answer.error === undefined) {
    throw new Error(`${answer.response.status}: expected a problem`);
  }
  return answer.error;
}

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

const api = createClient<paths>({ baseUrl: setting("BFF_URL"), headers: { "X-API-Key": setting("API_KEY") } });
const client = setting("CLIENT_SLUG");
const idempotent = () => ({ "Idempotency-Key": randomUUID() });

async function eventsPage(cursor: string | null) {
  return expectData(
    await api.GET("/v1/clients/{client}/events", {
      params: { path: { client }, query: { status: "published", limit: 100, cursor } },
    }),
  );
}

/** Every published event, page by page, following `nextCursor`. */
async function* publishedEvents(): AsyncGenerator<Event> {
  let page = await eventsPage(null);
  yield* page.items;
  while (page.nextCursor !== null) {
    page = await eventsPage(page.nextCursor);
    yield* page.items;
  }
}

async function newMember(firstName: string): Promise<Member> {
  const email = `${firstName.toLowerCase()}-${randomUUID().slice(0, 8)}@example.org`;
  return expectData(
    await api.POST("/v1/clients/{client}/members", {
      params: { path: { client }, header: idempotent() },
      body: { firstName, lastName: "Integrator", email },
    }),
  );
}

// A CRM sync: publish a one-place workshop, find it in the listing, register a member, read the registration,
// see a second member refused because the event is full, cancel, and read the audit trail.
const start = Date.now() + 10 * DAY_MS;
const draft = expectData(
  await api.POST("/v1/clients/{client}/events", {
    params: { path: { client }, header: idempotent() },
    body: { title: "Integrator workshop", startAt: start, endAt: start + 3_600_000, capacity: 1 },
  }),
);
const event = expectData(
  await api.POST("/v1/clients/{client}/events/{eventId}/publish", {
    params: { path: { client, eventId: draft.id } },
  }),
);
let listed = false;
for await (const published of publishedEvents()) {
  listed ||= published.id === event.id;
}

const alice = await newMember("Alice");
const bob = await newMember("Bob");

const registered = await api.POST("/v1/clients/{client}/events/{eventId}/registrations", {
  params: { path: { client, eventId: event.id }, header: idempotent() },
  body: { memberId: alice.id },
});
const registration = expectData(registered);
const read = expectData(
  await api.GET("/v1/clients/{client}/registrations/{registrationId}", {
    params: { path: { client, registrationId: registration.id } },
  }),
);

const refused = expectProblem(
  await api.POST("/v1/clients/{client}/events/{eventId}/registrations", {
    params: { path: { client, eventId: event.id } },
    body: { memberId: bob.id },
  }),
);
if (refused.code !== "capacity_full") {
  throw new ApiProblem(refused);
}

const cancelled = expectData(
  await api.POST("/v1/clients/{client}/registrations/{registrationId}/cancel", {
    params: { path: { client, registrationId: registration.id } },
  }),
);
const count = expectData(
  await api.GET("/v1/clients/{client}/events/{eventId}/registration-count", {
    params: { path: { client, eventId: event.id } },
  }),
);
const audit = expectData(
  await api.GET("/v1/clients/{client}/audit-log", {
    params: { path: { client }, query: { entityType: "registration", entityId: registration.id } },
  }),
);

const missing = expectProblem(
  await api.GET("/v1/clients/{client}/registrations/{registrationId}", {
    params: { path: { client, registrationId: "0".repeat(32) } },
  }),
);

const outcome: Outcome = {
  eventId: event.id,
  listed,
  registrationId: registration.id,
  location: registered.response.headers.get("Location"),
  registeredStatus: registration.status,
  readEventId: read.eventId,
  fullAt: refused.capacity ?? null,
  cancelledStatus: cancelled.status,
  placesLeft: count.placesLeft,
  auditActions: audit.items.map((entry) => entry.action),
  missingCode: missing.code,
};
console.log(JSON.stringify(outcome));
