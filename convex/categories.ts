// Course categories: everyone in the client reads them; client_admin manages them.
import { v } from "convex/values";
import { inClient, mustGet } from "./lib/db";
import { fail } from "./lib/errors";
import { clientMutation } from "./lib/functions";
import { PATTERNS, TEXT_MAX } from "./lib/limits";
import { getQuery, pageQuery } from "./lib/reads";
import { text } from "./lib/validate";
import { viewOf } from "./lib/views";

const categoryView = viewOf("categories", { omit: ["clientId"] });

export const list = pageQuery("categories.read", categoryView, (ctx) => inClient(ctx, "categories", "name"));

export const get = getQuery("categories.read", categoryView, "categoryId", (ctx, id) => ctx.getOwned("categories", id));

export const create = clientMutation({
  capability: "categories.manage",
  args: {
    name: v.string(),
    slug: v.string(),
    description: v.optional(v.string()),
  },
  returns: categoryView.validator,
  handler: async (ctx, args) => {
    const name = text("name", args.name, TEXT_MAX.name);
    if (args.slug.length > TEXT_MAX.slug || !PATTERNS.slug.test(args.slug))
      fail("validation", "slug must be lower-case words joined by hyphens", { field: "slug" });
    const clash = await ctx.db
      .query("categories")
      .withIndex("by_clientId_slug", (q) => q.eq("clientId", ctx.actor.clientId).eq("slug", args.slug))
      .first();
    if (clash !== null) fail("conflict", `A category with slug ${args.slug} exists`, { field: "slug" });
    const id = await ctx.db.insert("categories", {
      clientId: ctx.actor.clientId,
      name,
      slug: args.slug,
      description: args.description,
      createdAt: Date.now(),
    });
    const doc = await mustGet(ctx, id);
    await ctx.audit("category.create", id, { after: { name, slug: args.slug } });
    return categoryView.of(doc);
  },
});
