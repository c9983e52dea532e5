// Index ranges read through an index, as on Convex. convex-test (dist/index.js) answers every
// query by walking every committed document of every table: it filters all ids by table name,
// then evaluates the range on each of that table's documents, then sorts what matched. With the
// demo data (thousands of members, growing log tables) that walk was most of the embedded
// backend's CPU in `make run` and in the test suites (a node profile of the schemathesis run:
// about 135 of 215 busy seconds in it).
//
// Here each database keeps, per table, the ids of its committed documents and, per schema index,
// its committed documents sorted by the index's key (its fields, then `_creationTime` and `_id`,
// as convex-test and Convex order them), updated as each top-level transaction commits. A query
// on an index range is handed only the documents whose key starts with the range's equalities,
// plus every document the transaction itself has written to the table. That is a superset of
// the answer: convex-test still reads each one through its own `get` (so the transaction's own
// writes win), checks the whole range, then sorts and filters it, so answers, read counts and
// transaction limits are the same as before. Any other read (a full scan, `by_creation_time`,
// a search) is handed the table's documents, never another table's.
import { compareValues, type JSONValue, jsonToConvex, type Value } from "convex/values";
import { tableOfId } from "./documents.js";

type Document = Record<string, Value>;
type RangeExpression = { type: "Eq" | "Gt" | "Gte" | "Lt" | "Lte"; fieldPath: string; value: unknown };
type QuerySource = { type: string; indexName?: string; range?: RangeExpression[] };

/** The parts of convex-test's DatabaseFake used here (convex-test/dist/index.js). */
export type IndexedDatabase = {
  _documents: Record<string, Document>;
  _writes: Record<string, unknown>[];
  _schema: { tables: Map<string, { indexes: { indexDescriptor: string; fields: string[] }[] }> } | null;
  get(table: string, id: string): Document | null;
  commit(...rest: unknown[]): void;
  _iterateDocs(table: string, callback: (document: Document) => void): void;
  _resolveQuerySource(query: { source: QuerySource }): unknown;
};

const INDEXED = Symbol.for("devbackend.indexes");

function fieldOf(document: Document, path: string): Value | undefined {
  let value: unknown = document;
  for (const part of path.split(".")) {
    value =
      value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Document)[part] : undefined;
  }
  return value as Value | undefined;
}

/** A range's bound as convex-test reads it (`{$undefined: null}` is a missing field). */
function queryValue(json: unknown): Value | undefined {
  const missing = typeof json === "object" && json !== null && "$undefined" in json;
  return missing ? undefined : jsonToConvex(json as JSONValue);
}

function compareKeys(a: (Value | undefined)[], b: (Value | undefined)[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareValues(a[i], b[i]);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

function entryOf<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  const found = map.get(key);
  if (found !== undefined) return found;
  const made = make();
  map.set(key, made);
  return made;
}

/** One schema index's committed documents, sorted by key. */
class SortedIndex {
  private readonly entries: { key: (Value | undefined)[]; id: string }[] = [];

  constructor(readonly fields: string[]) {}

  keyOf(document: Document): (Value | undefined)[] {
    return [...this.fields.map((field) => fieldOf(document, field)), document._creationTime, document._id];
  }

  /** The first position whose key is not below `prefix` (`after`: not at or below it). */
  private position(prefix: (Value | undefined)[], after: boolean): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = compareKeys(this.entries[middle].key.slice(0, prefix.length), prefix);
      if (order < 0 || (after && order === 0)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  add(document: Document): void {
    const key = this.keyOf(document);
    this.entries.splice(this.position(key, false), 0, { key, id: document._id as string });
  }

  remove(document: Document): void {
    const at = this.position(this.keyOf(document), false);
    if (this.entries[at]?.id === document._id) this.entries.splice(at, 1);
  }

  /** The ids whose key starts with `prefix`, in index order. */
  idsStartingWith(prefix: (Value | undefined)[]): string[] {
    const end = this.position(prefix, true);
    return this.entries.slice(this.position(prefix, false), end).map((entry) => entry.id);
  }
}

/** Make `db`'s queries read only their table's documents, and an index range only its prefix (once per database). */
export function indexDocuments(db: IndexedDatabase): void {
  const marked = db as IndexedDatabase & { [INDEXED]?: true };
  if (marked[INDEXED]) return;
  marked[INDEXED] = true;

  const tables = new Map<string, Set<string>>();
  const indexes = new Map<string, SortedIndex>(); // "table.index" -> its sorted documents
  const idsOf = (table: string) => entryOf(tables, table, () => new Set<string>());
  const indexesOf = (table: string) =>
    (db._schema?.tables.get(table)?.indexes ?? []).map(({ indexDescriptor, fields }) =>
      entryOf(indexes, `${table}.${indexDescriptor}`, () => new SortedIndex(fields)),
    );
  const committed = (id: string, document: Document | undefined, change: "add" | "remove") => {
    const table = tableOfId(id);
    if (document === undefined) return;
    if (change === "add") idsOf(table).add(id);
    else idsOf(table).delete(id);
    for (const index of indexesOf(table)) index[change](document);
  };
  for (const [id, document] of Object.entries(db._documents)) committed(id, document, "add");

  const { commit } = db;
  db.commit = (...rest) => {
    const written = db._writes.length === 1 ? Object.keys(db._writes[0] ?? {}) : [];
    const before = written.map((id) => db._documents[id]);
    commit.apply(db, rest);
    written.forEach((id, i) => {
      committed(id, before[i], "remove");
      committed(id, db._documents[id], "add");
    });
  };

  // The source of the query convex-test is resolving (its `_iterateDocs` is called synchronously within).
  let source: QuerySource | undefined;
  const { _resolveQuerySource: resolve } = db;
  db._resolveQuerySource = (query) => {
    source = query.source;
    try {
      return resolve.call(db, query);
    } finally {
      source = undefined;
    }
  };

  db._iterateDocs = (table, callback) => {
    const candidates = new Set(candidatesOf(table, source) ?? tables.get(table));
    for (const level of db._writes) {
      for (const id of Object.keys(level)) if (tableOfId(id) === table) candidates.add(id);
    }
    for (const id of candidates) {
      const document = db.get(table, id);
      if (document !== null) callback(document);
    }
  };

  /** The committed ids an index range can match, or undefined where the whole table is read. */
  const candidatesOf = (table: string, query: QuerySource | undefined): string[] | undefined => {
    if (query?.type !== "IndexRange" || query.indexName === undefined) return undefined;
    const index = indexes.get(query.indexName);
    if (index === undefined || !query.indexName.startsWith(`${table}.`)) return undefined;
    // The equalities come first, on the index's leading fields, in order (Convex's rule).
    const prefix: (Value | undefined)[] = [];
    for (const expression of query.range ?? []) {
      if (expression.type !== "Eq" || expression.fieldPath !== index.fields[prefix.length]) break;
      prefix.push(queryValue(expression.value));
    }
    return index.idsStartingWith(prefix);
  };
}
