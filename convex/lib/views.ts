// What a document looks like outside Convex: its fields from the schema, `_id` as
// `id`, and without what callers never see (`clientId`, bookkeeping).
import { v, type PropertyValidators } from "convex/values";

export function viewOf<F extends PropertyValidators, K extends keyof F & string>(fields: F, hidden: readonly K[]) {
  const shown = Object.fromEntries(Object.entries(fields).filter(([name]) => !(hidden as readonly string[]).includes(name)));
  return v.object({ id: v.string(), ...(shown as Omit<F, K>) });
}

/** Drop the hidden fields and `_creationTime` from a document; `_id` becomes `id`. */
export function toViewOf<K extends string>(hidden: readonly K[]) {
  return <D extends { _id: string; _creationTime: number }>(doc: D) => {
    const { _id, _creationTime, ...rest } = doc;
    for (const name of hidden) delete (rest as Record<string, unknown>)[name];
    return { id: _id, ...rest } as { id: D["_id"] } & Omit<D, "_id" | "_creationTime" | K>;
  };
}
