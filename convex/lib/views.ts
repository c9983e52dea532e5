// What a document looks like outside Convex: `_id` as `id`, then the table's own fields as
// convex/schema.ts declares them, without the ones callers never see (`clientId`, secrets,
// bookkeeping). A view is one definition read off the table's validator in the schema
// (as convex-helpers' `doc()` reads it): the `returns` validator and the function that builds
// the view from a document both come from the same list of fields, so they cannot drift
// apart, and a field added to a table reaches its `omit` views without another edit.
//
// `omit` for a document's full view (everything but what is hidden); `pick` for a summary of
// a few fields, or for a table with secrets, where a new field must not leak by default.
import { type PropertyValidators, type VId, type VObject, v } from "convex/values";
import type { Doc, Id, TableNames } from "../_generated/dataModel";
import schema from "../schema";

type FieldsOf<T extends TableNames> =
  (typeof schema)["tables"][T]["validator"] extends VObject<infer _Type, infer F, infer _Optional, infer _Paths>
    ? F
    : never;
type FieldName<T extends TableNames> = keyof FieldsOf<T> & string;
type ViewFields<T extends TableNames, F> = { id: VId<Id<T>> } & (F extends PropertyValidators ? F : never);
type ViewValidator<T extends TableNames, F> = ReturnType<typeof v.object<ViewFields<T, F>>>;

export type View<T extends TableNames, F> = {
  /** The `returns` validator of the view. */
  validator: ViewValidator<T, F>;
  /** The view of one document: exactly the validator's fields. */
  of: (doc: Doc<T>) => ViewValidator<T, F>["type"];
};

export function viewOf<T extends TableNames, K extends FieldName<T>>(
  table: T,
  shown: { omit: readonly K[] },
): View<T, Omit<FieldsOf<T>, K>>;
export function viewOf<T extends TableNames, K extends FieldName<T>>(
  table: T,
  shown: { pick: readonly K[] },
): View<T, Pick<FieldsOf<T>, K>>;
export function viewOf(
  table: TableNames,
  shown: { omit: readonly string[] } | { pick: readonly string[] },
): View<TableNames, PropertyValidators> {
  const all = (schema.tables[table].validator as VObject<unknown, PropertyValidators>).fields;
  const names = "pick" in shown ? [...shown.pick] : Object.keys(all).filter((name) => !shown.omit.includes(name));
  const fields = Object.fromEntries(names.map((name) => [name, all[name]]));
  return {
    validator: v.object({ id: v.id(table), ...fields }) as ViewValidator<TableNames, PropertyValidators>,
    of: (doc) => {
      const view: Record<string, unknown> = { id: doc._id };
      for (const name of names) {
        const value = (doc as Record<string, unknown>)[name];
        if (value !== undefined) view[name] = value;
      }
      return view as ViewValidator<TableNames, PropertyValidators>["type"];
    },
  };
}
