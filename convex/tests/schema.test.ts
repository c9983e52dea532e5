// The data model rules (docs/data-model.md) as a test over the schema itself.
import { describe, expect, test } from "vitest";
import dataModel from "../../docs/data-model.md?raw";
import schema, { BOUNDED_EMBEDS, BOUNDED_LINKS } from "../schema";

type FieldType = { type: string; value?: unknown; tableName?: string; fieldType?: FieldType };
type TableExport = {
  indexes: { indexDescriptor: string; fields: string[] }[];
  documentType: { type: "object"; value: Record<string, { fieldType: FieldType; optional: boolean }> };
};

// `export()` is what Convex sends at deploy time: fields and indexes as JSON.
const exported = schema.tables as unknown as Record<string, { export(): TableExport }>;
const tables = Object.entries(exported).map(([name, table]) => [name, table.export()] as const);

/** Tables that are not owned by one client: the tenants, the auth identities and their sessions. */
const GLOBAL_TABLES = new Set([
  "clients",
  "users",
  "rateLimitWindows",
  "sessions",
  "pendingLogins",
  "mutationReceipts",
]);
/** Indexes that must find a document before its client is known, each with its reason. */
const GLOBAL_LOOKUPS: Record<string, string> = {
  "apiKeys.by_hash": "resolveActor finds a key by its hash, then checks the key's client",
  "idempotencyKeys.by_expiresAt": "the expiry sweep deletes expired records of every client",
  "webhookEvents.by_createdAt": "the retention sweep deletes old events of every client",
  "webhookDeliveries.by_status_nextAttemptAt":
    "the delivery worker takes the due deliveries of every client; each names its client and endpoint",
};
/** Parent ids that a leading index field may be: the parent is checked against the client first. */
const PARENT_IDS = new Set([
  "courseId",
  "eventId",
  "ticketId",
  "memberId",
  "interestCategoryId",
  "categoryId",
  "sponsorId",
  "userId",
  "endpointId",
]);

function arraysIn(type: FieldType, path: string): { path: string; element: FieldType }[] {
  if (type.type === "array")
    return [{ path, element: type.value as FieldType }, ...arraysIn(type.value as FieldType, `${path}[]`)];
  if (type.type === "object") {
    return Object.entries(type.value as Record<string, { fieldType: FieldType }>).flatMap(([k, f]) =>
      arraysIn(f.fieldType, `${path}.${k}`),
    );
  }
  if (type.type === "union") return (type.value as FieldType[]).flatMap((member) => arraysIn(member, path));
  return [];
}

function containsId(type: FieldType): boolean {
  if (type.type === "id") return true;
  if (type.type === "array") return containsId(type.value as FieldType);
  if (type.type === "union") return (type.value as FieldType[]).some(containsId);
  if (type.type === "object")
    return Object.values(type.value as Record<string, { fieldType: FieldType }>).some((f) => containsId(f.fieldType));
  return false;
}

describe("normalisation", () => {
  test.each(tables)("%s has no array of ids (many-to-many goes through join tables)", (_name, table) => {
    const offenders = Object.entries(table.documentType.value).flatMap(([field, f]) =>
      arraysIn(f.fieldType, field)
        .filter((a) => containsId(a.element))
        .map((a) => a.path),
    );
    expect(offenders).toEqual([]);
  });

  test.each(tables)("%s embeds only bounded lists", (name, table) => {
    const arrays = Object.entries(table.documentType.value).flatMap(([field, f]) =>
      arraysIn(f.fieldType, field).map((a) => a.path),
    );
    const allowed = Object.keys(BOUNDED_EMBEDS[name] ?? {});
    expect(arrays.filter((path) => !allowed.includes(path))).toEqual([]);
  });

  test.each(tables.filter(([name]) => !GLOBAL_TABLES.has(name)))(
    "%s carries clientId and indexes lead with it or a parent id",
    (name, table) => {
      expect(table.documentType.value.clientId?.fieldType).toEqual({ type: "id", tableName: "clients" });
      expect(table.indexes.length).toBeGreaterThan(0);
      for (const index of table.indexes) {
        if (GLOBAL_LOOKUPS[`${name}.${index.indexDescriptor}`]) continue;
        expect(index.fields[0] === "clientId" || PARENT_IDS.has(index.fields[0]), index.indexDescriptor).toBe(true);
      }
      expect(table.indexes.some((i) => i.fields[0] === "clientId" || PARENT_IDS.has(i.fields[0]))).toBe(true);
    },
  );

  test.each(tables)("%s names each index for its fields", (_name, table) => {
    for (const index of table.indexes) expect(index.indexDescriptor).toBe(`by_${index.fields.join("_")}`);
  });

  test("join tables are indexed from both sides", () => {
    const joins: Record<string, [string, string]> = {
      courseCategories: ["courseId", "categoryId"],
      memberInterests: ["memberId", "interestCategoryId"],
      eventSponsors: ["eventId", "sponsorId"],
    };
    for (const [name, [a, b]] of Object.entries(joins)) {
      const fields = exported[name].export();
      const leads = fields.indexes.map((i) => i.fields.slice(0, 2).join(","));
      expect(leads, name).toEqual(expect.arrayContaining([`${a},${b}`, `${b},${a}`]));
    }
  });

  test.each(Object.entries(BOUNDED_LINKS))(
    "capped join table %s is read by its parent through an index leading with it",
    (name, { parent, max }) => {
      const table = exported[name].export();
      expect(table.documentType.value[parent]?.fieldType.type).toBe("id");
      expect(table.indexes.some((i) => i.fields[0] === parent)).toBe(true);
      expect(Number.isInteger(max) && max > 0).toBe(true);
    },
  );

  test("every table is one docs/data-model.md explains, or one of the BFF's protection records", () => {
    // The rows of the page's "Tables" table, each naming its table first.
    const section = dataModel.split(/^## /m).find((part) => part.startsWith("Tables\n")) ?? "";
    const documented = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((row) => row[1]);
    const protection = ["idempotencyKeys", "rateLimitWindows", "mutationReceipts"];
    expect(documented).toEqual(expect.arrayContaining(["clients", "users", "sessions"]));
    expect(Object.keys(schema.tables).sort()).toEqual([...documented, ...protection].sort());
  });
});
