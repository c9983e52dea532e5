// Demo data for development (`make run`) and end-to-end tests: two clients,
// `acme` and `globex`, one user per role in each, and enough content that every
// screen has something to show and pagination is real (thousands of acme members).
// Idempotent: a second run finds `acme` and changes nothing.
// `exampleIds` finds, by name, the documents that Swagger UI's examples use (EXAMPLE_DOCUMENTS).
import { type Infer, v } from "convex/values";
import type { Id } from "./_generated/dataModel";
import { internalQuery, type MutationCtx, type QueryCtx } from "./_generated/server";
import demoUsers from "./demoUsers.json";
import { internalMutation } from "./lib/receipts";
import type { clientRole } from "./schema";

const DAY = 24 * 60 * 60 * 1000;

// The users who can sign in live in demoUsers.json, which the development OpenID provider
// (devtools/oidc-provider.mjs) reads too: it lets exactly these users sign in. A role the
// schema does not know fails at the insert below.
const PEOPLE = demoUsers.people as ReadonlyArray<{ local: string; role: Infer<typeof clientRole>; name: string }>;
const [ACME, GLOBEX] = demoUsers.clients;

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

export const seed = internalMutation({
  args: { acmeMembers: v.optional(v.number()), globexMembers: v.optional(v.number()) },
  returns: v.object({ seeded: v.boolean(), clients: v.array(v.string()), members: v.number() }),
  handler: async (ctx, { acmeMembers = 3000, globexMembers = 40 }) => {
    const existing = await ctx.db
      .query("clients")
      .withIndex("by_slug", (q) => q.eq("slug", ACME.slug))
      .unique();
    if (existing !== null) return { seeded: false, clients: [ACME.slug, GLOBEX.slug], members: 0 };

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
    const acme = await seedClient(ctx, ACME.slug, ACME.name, acmeMembers, now);
    const globex = await seedClient(ctx, GLOBEX.slug, GLOBEX.name, globexMembers, now);
    return { seeded: true, clients: [ACME.slug, GLOBEX.slug], members: acme + globex };
  },
});

async function seedClient(ctx: MutationCtx, slug: string, name: string, bulkMembers: number, now: number) {
  const clientId = await ctx.db.insert("clients", { slug, name, status: "active", createdAt: now });
  const stamp = { createdAt: now, updatedAt: now };

  const sponsors = await Promise.all(
    [
      { name: `${name} Partner Bank`, tier: "gold" as const, website: `https://bank.${slug}.test` },
      { name: `${name} Tools Ltd`, tier: "silver" as const, website: `https://tools.${slug}.test` },
    ].map((s) => ctx.db.insert("sponsors", { clientId, ...s, description: `Supports ${name}.`, ...stamp })),
  );

  const userIds: Record<string, Id<"users">> = {};
  const profileIds: Record<string, Id<"memberProfiles">> = {};
  for (const person of PEOPLE) {
    const email = `${person.local}@${slug}.test`;
    const userId = await ctx.db.insert("users", {
      email,
      name: person.name,
      authSubject: `user|${email}`,
      isPlatformAdmin: false,
      createdAt: now,
    });
    userIds[person.local] = userId;
    await ctx.db.insert("clientMemberships", {
      clientId,
      userId,
      role: person.role,
      sponsorId: person.role.startsWith("sponsor") ? sponsors[0] : undefined,
      createdAt: now,
    });
    if (person.role === "member") {
      const [firstName, lastName] = person.name.split(" ");
      profileIds[person.local] = await ctx.db.insert("memberProfiles", {
        clientId,
        userId,
        firstName,
        lastName,
        email,
        phone: "+44 20 7946 0000",
        status: "active",
        cpdPoints: 0,
        searchName: person.name.toLowerCase(),
        ...stamp,
      });
    }
  }

  // Members who cannot sign in: deterministic names, unique emails.
  const bulk: Id<"memberProfiles">[] = [];
  for (let i = 0; i < bulkMembers; i++) {
    const firstName = FIRST[i % FIRST.length];
    const lastName = LAST[Math.floor(i / FIRST.length) % LAST.length];
    bulk.push(
      await ctx.db.insert("memberProfiles", {
        clientId,
        firstName,
        lastName,
        email: `${firstName}.${lastName}.${i}@members.${slug}.test`.toLowerCase(),
        status: i % 17 === 0 ? "inactive" : "active",
        cpdPoints: i % 40,
        searchName: `${firstName} ${lastName}`.toLowerCase(),
        ...stamp,
      }),
    );
  }

  const interests = await Promise.all(
    ["Leadership", "Digital skills", "Compliance"].map((n) =>
      ctx.db.insert("interestCategories", { clientId, name: n, createdAt: now }),
    ),
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
  const registrants = [profileIds.member2, ...bulk.slice(0, 8)];
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

  return bulkMembers + 2;
}

// The demo documents Swagger UI's examples use (app/<domain>/examples.json names them), each
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

  async category(name: string) {
    return await this.ctx.db
      .query("categories")
      .withIndex("by_clientId_name", (q) => q.eq("clientId", this.clientId).eq("name", name))
      .unique()
      .then(idOf);
  }

  async interest(name: string) {
    return await this.ctx.db
      .query("interestCategories")
      .withIndex("by_clientId_name", (q) => q.eq("clientId", this.clientId).eq("name", name))
      .unique()
      .then(idOf);
  }

  async sponsor(name: string) {
    return await this.ctx.db
      .query("sponsors")
      .withIndex("by_clientId_name", (q) => q.eq("clientId", this.clientId).eq("name", name))
      .unique()
      .then(idOf);
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
