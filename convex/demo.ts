// Demo data for development (`make run`) and end-to-end tests: two clients,
// `acme` and `globex`, one user per role in each, and enough content that every
// screen has something to show and pagination is real (thousands of acme members).
// Idempotent: a second run finds `acme` and changes nothing. Seeded in bounded transactions
// (demo:seed, then demo:seedBatch; SEED_BATCH says how bounded), never in one that grows with
// the members asked for.
// `exampleIds` finds, by name, the documents that Swagger UI's examples use (EXAMPLE_DOCUMENTS).
import { type Infer, v } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { internalQuery, type MutationCtx, type QueryCtx } from "./_generated/server";
import demoUsers from "./demoUsers.json";
import { fail } from "./lib/errors";
import { internalMutation } from "./lib/receipts";
import type { clientRole } from "./schema";

const DAY = 24 * 60 * 60 * 1000;

// The users who can sign in live in demoUsers.json, which the development OpenID provider
// (devtools/oidc-provider.mjs) reads too: it lets exactly these users sign in. A role the
// schema does not know fails at the insert below.
const PEOPLE = demoUsers.people as ReadonlyArray<{ local: string; role: Infer<typeof clientRole>; name: string }>;
const [ACME] = demoUsers.clients;

const FIRST = [
  "Alex",
  "Blake",
  "Casey",
  "Dana",
  "Eli",
  "Flynn",
  "Gray",
  "Harper",
  "Indy",
  "Jules",
  "Kai",
  "Lee",
  "Morgan",
  "Noor",
  "Ola",
  "Pat",
  "Quinn",
  "Ray",
  "Sky",
  "Tam",
];
const LAST = [
  "Adams",
  "Brown",
  "Clark",
  "Diaz",
  "Evans",
  "Fox",
  "Garcia",
  "Hill",
  "Ito",
  "Jones",
  "King",
  "Lopez",
  "Moore",
  "Nash",
  "Owens",
  "Park",
  "Reed",
  "Smith",
  "Tran",
  "Young",
];

/**
 * Bulk members one seeding transaction inserts, at most. With the rest of a client's demo
 * documents and the next client's users (under 70 more, all small), a seeding transaction
 * writes at most SEED_BATCH + 70 documents of under 1 KiB each and reads a few dozen: far
 * inside Convex's limits for one transaction (16,000 documents and 16 MiB written, 32,000
 * documents and 16 MiB read, 4,096 index ranges: https://docs.convex.dev/production/state/limits),
 * however many members are asked for. convex/tests/demo.test.ts measures each transaction.
 */
export const SEED_BATCH = 500;

const CLIENTS = demoUsers.clients;

/** Where seeding goes on: the next bulk member of a client. */
const seedCursor = v.object({
  // The instant of the whole seed: every transaction stamps its documents with it, as one did.
  now: v.number(),
  // How many bulk members each of demoUsers.clients gets, in its order.
  members: v.array(v.number()),
  // The client (an index into demoUsers.clients) and how many of its bulk members are in.
  client: v.number(),
  offset: v.number(),
});
type SeedCursor = Infer<typeof seedCursor>;

// "scheduled" (the default: `npx convex run demo:seed` on a deployment, docker-compose.yml's
// `seed`): each transaction schedules the next (ctx.scheduler), and the data is complete a few
// seconds after demo:seed returns. "returned": each transaction answers the cursor of the next
// in `next` and schedules nothing; the caller calls demo:seedBatch with it until `next` is null,
// so the data is complete when its loop ends (the embedded backend, devbackend/src/main.ts,
// before it says it is ready).
const batchesArg = v.optional(v.union(v.literal("scheduled"), v.literal("returned")));
type Batches = "scheduled" | "returned";

/**
 * Seeds the demo data, unless `acme` exists. This transaction inserts the platform admins and
 * the first client's users; demo:seedBatch inserts the bulk members, SEED_BATCH a transaction,
 * then the rest of each client's documents, in the order one transaction used to insert them
 * all (ids follow that order in the embedded backend; app/openapi/demo_ids.json records them).
 */
export const seed = internalMutation({
  args: { acmeMembers: v.optional(v.number()), globexMembers: v.optional(v.number()), batches: batchesArg },
  returns: v.object({
    seeded: v.boolean(),
    clients: v.array(v.string()),
    // Member profiles the seed makes in all (bulk members and the demo users who are members).
    members: v.number(),
    // With batches "returned", the cursor to call demo:seedBatch with; otherwise null.
    next: v.union(seedCursor, v.null()),
  }),
  handler: async (ctx, { acmeMembers = 3000, globexMembers = 40, batches = "scheduled" }) => {
    const slugs = CLIENTS.map((c) => c.slug);
    const existing = await ctx.db
      .query("clients")
      .withIndex("by_slug", (q) => q.eq("slug", ACME.slug))
      .unique();
    if (existing !== null) return { seeded: false, clients: slugs, members: 0, next: null };
    const members = [acmeMembers, globexMembers];
    for (const [i, field] of ["acmeMembers", "globexMembers"].entries()) {
      if (!Number.isInteger(members[i]) || members[i] < 0)
        fail("validation", `${field} must be a whole number, at least 0`, { field });
    }

    const now = Date.now();
    for (const admin of demoUsers.platformAdmins) {
      await ctx.db.insert("users", {
        email: admin.email,
        name: admin.name,
        authSubject: `user|${admin.email}`,
        isPlatformAdmin: true,
        createdAt: now,
      });
    }
    await seedUsers(ctx, CLIENTS[0], now);
    const memberUsers = PEOPLE.filter((p) => p.role === "member").length;
    return {
      seeded: true,
      clients: slugs,
      members: members.reduce((sum, n) => sum + n + memberUsers, 0),
      next: await handOn(ctx, { now, members, client: 0, offset: 0 }, batches),
    };
  },
});

/**
 * One seeding transaction after demo:seed's: up to SEED_BATCH bulk members of the cursor's
 * client; after its last, the rest of its documents and the next client's users. A batch
 * whose first document is there already ran (a caller retrying after a lost answer): it writes
 * nothing and answers what it answered then.
 */
export const seedBatch = internalMutation({
  args: { cursor: seedCursor, batches: batchesArg },
  returns: v.object({ next: v.union(seedCursor, v.null()) }),
  handler: async (ctx, { cursor, batches = "scheduled" }) => {
    const spec = CLIENTS[cursor.client];
    const total = cursor.members[cursor.client];
    if (spec === undefined || total === undefined || cursor.offset < 0 || cursor.offset > total)
      fail("validation", "The cursor is not one demo:seed or demo:seedBatch answered", { field: "cursor" });
    const client = await ctx.db
      .query("clients")
      .withIndex("by_slug", (q) => q.eq("slug", spec.slug))
      .unique();
    if (client === null) fail("not_found", `No demo client ${spec.slug}: demo:seed runs first`);
    const { now } = cursor;
    const end = Math.min(total, cursor.offset + SEED_BATCH);
    const following: SeedCursor | null =
      end < total
        ? { ...cursor, offset: end }
        : cursor.client + 1 < CLIENTS.length
          ? { ...cursor, client: cursor.client + 1, offset: 0 }
          : null;
    if (await batchRan(ctx, client._id, spec.slug, cursor.offset, total)) {
      return { next: batches === "returned" ? following : null };
    }

    for (let i = cursor.offset; i < end; i++) {
      await ctx.db.insert("memberProfiles", { clientId: client._id, ...bulkMember(spec.slug, i), ...stamps(now) });
    }
    if (end === total) {
      await seedContent(ctx, client._id, spec, total, now);
      if (following !== null) await seedUsers(ctx, CLIENTS[following.client], now);
    }
    return { next: await handOn(ctx, following, batches) };
  },
});

/** The next batch: scheduled, or answered to the caller to run. */
async function handOn(ctx: MutationCtx, next: SeedCursor | null, batches: Batches) {
  if (batches === "returned") return next;
  if (next !== null) await ctx.scheduler.runAfter(0, internal.demo.seedBatch, { cursor: next, batches });
  return null;
}

/** Whether the batch starting at `offset` was committed: its first document exists. */
async function batchRan(ctx: MutationCtx, clientId: Id<"clients">, slug: string, offset: number, total: number) {
  if (offset < total) return (await bulkMemberId(ctx, clientId, slug, offset)) !== null;
  // After the last bulk member, a batch starts with the client's first interest category.
  const first = await ctx.db
    .query("interestCategories")
    .withIndex("by_clientId_name", (q) => q.eq("clientId", clientId).eq("name", INTERESTS[0]))
    .first();
  return first !== null;
}

const stamps = (now: number) => ({ createdAt: now, updatedAt: now });

/** Bulk member `i` of a client: members who cannot sign in, deterministic names, unique emails. */
function bulkMember(slug: string, i: number) {
  const firstName = FIRST[i % FIRST.length];
  const lastName = LAST[Math.floor(i / FIRST.length) % LAST.length];
  return {
    firstName,
    lastName,
    email: `${firstName}.${lastName}.${i}@members.${slug}.test`.toLowerCase(),
    status: i % 17 === 0 ? ("inactive" as const) : ("active" as const),
    cpdPoints: i % 40,
    searchName: `${firstName} ${lastName}`.toLowerCase(),
  };
}

async function bulkMemberId(ctx: MutationCtx, clientId: Id<"clients">, slug: string, i: number) {
  const { email } = bulkMember(slug, i);
  const member = await ctx.db
    .query("memberProfiles")
    .withIndex("by_clientId_email", (q) => q.eq("clientId", clientId).eq("email", email))
    .unique();
  return member?._id ?? null;
}

type ClientSpec = (typeof CLIENTS)[number];

const sponsorSpecs = ({ slug, name }: ClientSpec) => [
  { name: `${name} Partner Bank`, tier: "gold" as const, website: `https://bank.${slug}.test` },
  { name: `${name} Tools Ltd`, tier: "silver" as const, website: `https://tools.${slug}.test` },
];

const INTERESTS = ["Leadership", "Digital skills", "Compliance"];

/** A client, its sponsors, and its demo users (who can sign in) with their memberships. */
async function seedUsers(ctx: MutationCtx, spec: ClientSpec, now: number) {
  const { slug, name } = spec;
  const clientId = await ctx.db.insert("clients", { slug, name, status: "active", createdAt: now });
  const stamp = stamps(now);

  const sponsors = await Promise.all(
    sponsorSpecs(spec).map((s) =>
      ctx.db.insert("sponsors", { clientId, ...s, description: `Supports ${name}.`, ...stamp }),
    ),
  );

  for (const person of PEOPLE) {
    await addPerson(ctx, { clientId, slug, ...person, sponsorId: sponsors[0], phone: "+44 20 7946 0000", now });
  }
}

/**
 * One person of a client who can sign in (`<local>@<slug>.test`): a user, a membership with
 * `role` (a sponsor role acts for `sponsorId`) and, for a member, a member profile. Also what
 * convex/tests/world.setup.ts builds its world of.
 */
export async function addPerson(
  ctx: MutationCtx,
  person: {
    clientId: Id<"clients">;
    slug: string;
    local: string;
    name: string;
    role: Infer<typeof clientRole>;
    sponsorId: Id<"sponsors">;
    phone?: string;
    now: number;
  },
): Promise<{ userId: Id<"users">; memberId: Id<"memberProfiles"> | null }> {
  const { clientId, name, role, now } = person;
  const email = `${person.local}@${person.slug}.test`;
  const userId = await ctx.db.insert("users", {
    email,
    name,
    authSubject: `user|${email}`,
    isPlatformAdmin: false,
    createdAt: now,
  });
  await ctx.db.insert("clientMemberships", {
    clientId,
    userId,
    role,
    sponsorId: role.startsWith("sponsor") ? person.sponsorId : undefined,
    createdAt: now,
  });
  if (role !== "member") return { userId, memberId: null };
  const [firstName, lastName] = name.split(" ");
  const memberId = await ctx.db.insert("memberProfiles", {
    clientId,
    userId,
    firstName,
    lastName,
    email,
    phone: person.phone,
    status: "active",
    cpdPoints: 0,
    searchName: name.toLowerCase(),
    ...stamps(now),
  });
  return { userId, memberId };
}

/**
 * The rest of a client's demo documents, after its bulk members: interests, categories,
 * courses, events, registrations, tickets. What they refer to (sponsors, users, members) is
 * found by what identifies it, through the client's indexes: a few dozen reads.
 */
async function seedContent(
  ctx: MutationCtx,
  clientId: Id<"clients">,
  spec: ClientSpec,
  bulkMembers: number,
  now: number,
) {
  const { slug, name } = spec;
  const stamp = stamps(now);
  const found = <T>(what: string, doc: T | null): T => {
    if (doc === null) throw new Error(`The demo data of ${slug} has no ${what}: demo:seed runs first`);
    return doc;
  };
  const sponsors = await Promise.all(
    sponsorSpecs(spec).map(async (s) => {
      const sponsor = await ctx.db
        .query("sponsors")
        .withIndex("by_clientId_name", (q) => q.eq("clientId", clientId).eq("name", s.name))
        .unique();
      return found(`sponsor ${s.name}`, sponsor)._id;
    }),
  );
  const userIds: Record<string, Id<"users">> = {};
  const profileIds: Record<string, Id<"memberProfiles">> = {};
  for (const person of PEOPLE) {
    const email = `${person.local}@${slug}.test`;
    const user = await ctx.db
      .query("users")
      .withIndex("by_email", (q) => q.eq("email", email))
      .unique();
    userIds[person.local] = found(`user ${email}`, user)._id;
    if (person.role === "member") {
      const profile = await ctx.db
        .query("memberProfiles")
        .withIndex("by_clientId_email", (q) => q.eq("clientId", clientId).eq("email", email))
        .unique();
      profileIds[person.local] = found(`member ${email}`, profile)._id;
    }
  }
  const firstBulk: Id<"memberProfiles">[] = [];
  for (let i = 0; i < Math.min(8, bulkMembers); i++) {
    firstBulk.push(found(`bulk member ${i}`, await bulkMemberId(ctx, clientId, slug, i)));
  }

  const interests = await Promise.all(
    INTERESTS.map((n) => ctx.db.insert("interestCategories", { clientId, name: n, createdAt: now })),
  );
  await ctx.db.insert("memberInterests", {
    clientId,
    memberId: profileIds.member,
    interestCategoryId: interests[0],
    createdAt: now,
  });
  await ctx.db.insert("memberInterests", {
    clientId,
    memberId: profileIds.member,
    interestCategoryId: interests[1],
    createdAt: now,
  });

  const categories = await Promise.all(
    [
      ["Health & Safety", "health-safety"],
      ["Leadership", "leadership"],
      ["Technology", "technology"],
    ].map(([n, s]) =>
      ctx.db.insert("categories", { clientId, name: n, slug: s, description: `${n} courses.`, createdAt: now }),
    ),
  );

  const courseSpecs = [
    { title: "Fire Safety Essentials", status: "published" as const, cpdPoints: 5, category: 0 },
    { title: "Leading Remote Teams", status: "published" as const, cpdPoints: 8, category: 1 },
    { title: "Data Protection in Practice", status: "published" as const, cpdPoints: 6, category: 2 },
    { title: "Advanced Negotiation (draft)", status: "draft" as const, cpdPoints: 10, category: 1 },
    { title: "Legacy Systems 101", status: "archived" as const, cpdPoints: 2, category: 2 },
  ];
  const courses: Id<"courses">[] = [];
  for (const [i, spec] of courseSpecs.entries()) {
    const courseId = await ctx.db.insert("courses", {
      clientId,
      title: spec.title,
      description: `${spec.title} for ${name} members.`,
      status: spec.status,
      cpdPoints: spec.cpdPoints,
      startAt: now + (i + 1) * 7 * DAY,
      createdAt: now + i,
      updatedAt: now + i,
    });
    courses.push(courseId);
    await ctx.db.insert("courseCategories", { clientId, courseId, categoryId: categories[spec.category] });
  }
  await ctx.db.insert("courseEnrollments", {
    clientId,
    courseId: courses[0],
    memberId: profileIds.member,
    status: "active",
    enrolledAt: now,
    updatedAt: now,
  });
  await ctx.db.insert("courseEnrollments", {
    clientId,
    courseId: courses[1],
    memberId: profileIds.member2,
    status: "completed",
    enrolledAt: now - 30 * DAY,
    completedAt: now - DAY,
    cpdPointsAwarded: courseSpecs[1].cpdPoints,
    updatedAt: now - DAY,
  });

  const speakers = [
    { name: "Dr Rosa Field", title: "Chief Scientist", bio: "Twenty years in applied research." },
    { name: "Tom Okafor", title: "Head of Operations" },
  ];
  const eventSpecs = [
    { title: "Annual Conference", status: "published" as const, inDays: 30, capacity: 200 },
    { title: "Members' Breakfast", status: "published" as const, inDays: 14, capacity: 10 }, // nearly full
    { title: "Autumn Gala (draft)", status: "draft" as const, inDays: 60, capacity: undefined },
  ];
  const events: Id<"events">[] = [];
  for (const spec of eventSpecs) {
    const startAt = now + spec.inDays * DAY;
    events.push(
      await ctx.db.insert("events", {
        clientId,
        title: spec.title,
        description: `${spec.title} of ${name}.`,
        location: "London",
        status: spec.status,
        startAt,
        endAt: startAt + 3 * 60 * 60 * 1000,
        registrationOpensAt: now - DAY,
        registrationClosesAt: startAt - DAY,
        capacity: spec.capacity,
        registeredCount: 0,
        speakers,
        ...stamp,
      }),
    );
  }
  await ctx.db.insert("eventSponsors", { clientId, eventId: events[0], sponsorId: sponsors[0], createdAt: now });
  await ctx.db.insert("eventSponsors", { clientId, eventId: events[2], sponsorId: sponsors[0], createdAt: now });
  await ctx.db.insert("eventSponsors", { clientId, eventId: events[0], sponsorId: sponsors[1], createdAt: now });

  // The breakfast: 9 of 10 places taken (member2 plus 8 others); `member` can take the last one.
  const registrants = [profileIds.member2, ...firstBulk];
  for (const memberId of registrants) {
    await ctx.db.insert("eventRegistrations", {
      clientId,
      eventId: events[1],
      memberId,
      status: "confirmed",
      registeredAt: now,
      updatedAt: now,
    });
  }
  await ctx.db.patch(events[1], { registeredCount: registrants.length });
  await ctx.db.insert("eventRegistrations", {
    clientId,
    eventId: events[0],
    memberId: profileIds.member,
    status: "confirmed",
    registeredAt: now,
    updatedAt: now,
  });
  await ctx.db.patch(events[0], { registeredCount: 1 });

  const ticketId = await ctx.db.insert("supportTickets", {
    clientId,
    memberId: profileIds.member,
    subject: "Cannot download my CPD certificate",
    status: "open",
    priority: "normal",
    assigneeUserId: userIds.staff,
    ...stamp,
  });
  const thread = [
    { authorUserId: userIds.member, body: "The download link on my certificate page gives an error.", internal: false },
    { authorUserId: userIds.staff, body: "Sorry about that. We are looking into it.", internal: false },
    {
      authorUserId: userIds.staff,
      body: "Internal: certificate service returns 500 for this member; escalated.",
      internal: true,
    },
  ];
  for (const [i, message] of thread.entries()) {
    await ctx.db.insert("supportTicketMessages", { clientId, ticketId, ...message, createdAt: now + i });
  }
  await ctx.db.insert("supportTickets", {
    clientId,
    memberId: profileIds.member2,
    subject: "Change of address",
    status: "resolved",
    priority: "low",
    ...stamp,
  });
}

// The demo documents Swagger UI's examples use (app/<domain>/__init__.py names them), each
// described by what identifies it in the data above, never by its id: ids follow the order of
// the inserts. All are acme's, the client the examples act in as its client_admin.
// `python -m devtools.demo_ids` runs `exampleIds` on freshly seeded demo data and writes the ids
// to app/openapi/demo_ids.json, which the BFF reads; app/openapi/demo.py describes each name.
const EXAMPLE_DOCUMENTS = {
  CATEGORY_HEALTH_SAFETY: (find) => find.category("Health & Safety"),
  CATEGORY_LEADERSHIP: (find) => find.category("Leadership"),
  COURSE_FIRE_SAFETY: (find) => find.course("Fire Safety Essentials"), // published; Mia is enrolled
  COURSE_DATA_PROTECTION: (find) => find.course("Data Protection in Practice"), // published, no enrollments
  COURSE_NEGOTIATION_DRAFT: (find) => find.course("Advanced Negotiation (draft)"),
  COURSE_LEGACY_ARCHIVED: (find) => find.course("Legacy Systems 101"), // no enrollments
  ENROLLMENT_MIA_FIRE_SAFETY: (find) => find.enrollment("member@acme.test", "Fire Safety Essentials"), // active
  EVENT_CONFERENCE: (find) => find.event("Annual Conference"), // published, 1 of 200 places taken (Mia)
  EVENT_BREAKFAST: (find) => find.event("Members' Breakfast"), // published, 9 of 10 places taken
  EVENT_GALA_DRAFT: (find) => find.event("Autumn Gala (draft)"), // no registrations
  REGISTRATION_MAX_BREAKFAST: (find) => find.registration("member2@acme.test", "Members' Breakfast"), // confirmed
  REGISTRATION_MIA_CONFERENCE: (find) => find.registration("member@acme.test", "Annual Conference"), // confirmed
  TICKET_MIA: (find) => find.ticket("member@acme.test", "Cannot download my CPD certificate"), // open, Sam Staff's
  MEMBER_MIA: (find) => find.member("member@acme.test"),
  MEMBER_MAX: (find) => find.member("member2@acme.test"),
  // A member who cannot sign in, with nothing active (of the bulk members, the 11th: several are Kai Adams).
  MEMBER_KAI: (find) => find.member("kai.adams.10@members.acme.test"),
  INTEREST_LEADERSHIP: (find) => find.interest("Leadership"),
  INTEREST_COMPLIANCE: (find) => find.interest("Compliance"),
  SPONSOR_PARTNER_BANK: (find) => find.sponsor(`${ACME.name} Partner Bank`), // backs the conference and the gala
  SPONSOR_TOOLS: (find) => find.sponsor(`${ACME.name} Tools Ltd`), // backs the conference only
  USER_SAM_STAFF: (find) => find.user("staff@acme.test"), // a client_user
} satisfies Record<string, (find: DemoFinder) => Promise<string | null>>;

/** The id of each of EXAMPLE_DOCUMENTS by its name, or null where the demo data has no such document. */
export const exampleIds = internalQuery({
  args: {},
  returns: v.record(v.string(), v.union(v.string(), v.null())),
  handler: async (ctx) => {
    const client = await ctx.db
      .query("clients")
      .withIndex("by_slug", (q) => q.eq("slug", ACME.slug))
      .unique();
    const ids: Record<string, string | null> = {};
    for (const [name, lookUp] of Object.entries(EXAMPLE_DOCUMENTS)) {
      ids[name] = client === null ? null : await lookUp(new DemoFinder(ctx, client._id));
    }
    return ids;
  },
});

/**
 * Finds one client's demo documents by their natural keys, through indexes that start with the
 * client (or a document of it). A key that matches more than one document is an error: it no
 * longer names one document.
 */
class DemoFinder {
  constructor(
    private readonly ctx: QueryCtx,
    private readonly clientId: Id<"clients">,
  ) {}

  category = (name: string) => this.named("categories", name);
  interest = (name: string) => this.named("interestCategories", name);
  sponsor = (name: string) => this.named("sponsors", name);

  /** The client's document of `table` named `name` (each such table has `by_clientId_name`). */
  private async named(table: "categories" | "interestCategories" | "sponsors", name: string) {
    const found = await this.ctx.db
      .query(table as "categories")
      .withIndex("by_clientId_name", (q) => q.eq("clientId", this.clientId).eq("name", name))
      .unique();
    return found === null ? null : (found._id as Id<typeof table>);
  }

  async member(email: string) {
    return await this.ctx.db
      .query("memberProfiles")
      .withIndex("by_clientId_email", (q) => q.eq("clientId", this.clientId).eq("email", email))
      .unique()
      .then(idOf);
  }

  /** A user with a membership of the client. */
  async user(email: string) {
    const user = await this.ctx.db
      .query("users")
      .withIndex("by_email", (q) => q.eq("email", email))
      .unique();
    if (user === null) return null;
    const membership = await this.ctx.db
      .query("clientMemberships")
      .withIndex("by_clientId_userId", (q) => q.eq("clientId", this.clientId).eq("userId", user._id))
      .unique();
    return membership === null ? null : user._id;
  }

  // Courses, events and tickets have no index by title or subject: the client's (or the
  // member's) few demo documents are read through an index that starts with it.
  async course(title: string) {
    const courses = this.ctx.db
      .query("courses")
      .withIndex("by_clientId_createdAt", (q) => q.eq("clientId", this.clientId));
    return await theOne(`course "${title}"`, courses, (course) => course.title === title);
  }

  async event(title: string) {
    const events = this.ctx.db.query("events").withIndex("by_clientId_startAt", (q) => q.eq("clientId", this.clientId));
    return await theOne(`event "${title}"`, events, (event) => event.title === title);
  }

  async ticket(memberEmail: string, subject: string) {
    const memberId = await this.member(memberEmail);
    if (memberId === null) return null;
    const tickets = this.ctx.db
      .query("supportTickets")
      .withIndex("by_memberId_updatedAt", (q) => q.eq("memberId", memberId));
    return await theOne(`ticket "${subject}"`, tickets, (ticket) => ticket.subject === subject);
  }

  async enrollment(memberEmail: string, courseTitle: string) {
    const [memberId, courseId] = [await this.member(memberEmail), await this.course(courseTitle)];
    if (memberId === null || courseId === null) return null;
    return await this.ctx.db
      .query("courseEnrollments")
      .withIndex("by_courseId_memberId", (q) => q.eq("courseId", courseId).eq("memberId", memberId))
      .unique()
      .then(idOf);
  }

  async registration(memberEmail: string, eventTitle: string) {
    const [memberId, eventId] = [await this.member(memberEmail), await this.event(eventTitle)];
    if (memberId === null || eventId === null) return null;
    return await this.ctx.db
      .query("eventRegistrations")
      .withIndex("by_eventId_memberId", (q) => q.eq("eventId", eventId).eq("memberId", memberId))
      .unique()
      .then(idOf);
  }
}

function idOf<T extends { _id: string }>(doc: T | null): T["_id"] | null {
  return doc === null ? null : doc._id;
}

/** The id of the one document of `docs` that `matches`, or null; a second one is an error. */
async function theOne<T extends { _id: string }>(what: string, docs: AsyncIterable<T>, matches: (doc: T) => boolean) {
  let found: T | null = null;
  for await (const doc of docs) {
    if (!matches(doc)) continue;
    if (found !== null)
      throw new Error(`The demo data has more than one ${what}: the name no longer names one document`);
    found = doc;
  }
  return idOf(found);
}
