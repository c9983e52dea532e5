/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as apiKeys from "../apiKeys.js";
import type * as audit from "../audit.js";
import type * as categories from "../categories.js";
import type * as courses from "../courses.js";
import type * as crons from "../crons.js";
import type * as demo from "../demo.js";
import type * as enrollments from "../enrollments.js";
import type * as events from "../events.js";
import type * as idempotency from "../idempotency.js";
import type * as identity from "../identity.js";
import type * as lib_capabilities from "../lib/capabilities.js";
import type * as lib_db from "../lib/db.js";
import type * as lib_errors from "../lib/errors.js";
import type * as lib_functions from "../lib/functions.js";
import type * as lib_limits from "../lib/limits.js";
import type * as lib_links from "../lib/links.js";
import type * as lib_members from "../lib/members.js";
import type * as lib_pagination from "../lib/pagination.js";
import type * as lib_principal from "../lib/principal.js";
import type * as lib_reads from "../lib/reads.js";
import type * as lib_receipts from "../lib/receipts.js";
import type * as lib_sweep from "../lib/sweep.js";
import type * as lib_transitions from "../lib/transitions.js";
import type * as lib_validate from "../lib/validate.js";
import type * as lib_views from "../lib/views.js";
import type * as lib_webhooks from "../lib/webhooks.js";
import type * as members from "../members.js";
import type * as rateLimits from "../rateLimits.js";
import type * as receipts from "../receipts.js";
import type * as registrations from "../registrations.js";
import type * as sessions from "../sessions.js";
import type * as sponsors from "../sponsors.js";
import type * as tickets from "../tickets.js";
import type * as webhooks from "../webhooks.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  apiKeys: typeof apiKeys;
  audit: typeof audit;
  categories: typeof categories;
  courses: typeof courses;
  crons: typeof crons;
  demo: typeof demo;
  enrollments: typeof enrollments;
  events: typeof events;
  idempotency: typeof idempotency;
  identity: typeof identity;
  "lib/capabilities": typeof lib_capabilities;
  "lib/db": typeof lib_db;
  "lib/errors": typeof lib_errors;
  "lib/functions": typeof lib_functions;
  "lib/limits": typeof lib_limits;
  "lib/links": typeof lib_links;
  "lib/members": typeof lib_members;
  "lib/pagination": typeof lib_pagination;
  "lib/principal": typeof lib_principal;
  "lib/reads": typeof lib_reads;
  "lib/receipts": typeof lib_receipts;
  "lib/sweep": typeof lib_sweep;
  "lib/transitions": typeof lib_transitions;
  "lib/validate": typeof lib_validate;
  "lib/views": typeof lib_views;
  "lib/webhooks": typeof lib_webhooks;
  members: typeof members;
  rateLimits: typeof rateLimits;
  receipts: typeof receipts;
  registrations: typeof registrations;
  sessions: typeof sessions;
  sponsors: typeof sponsors;
  tickets: typeof tickets;
  webhooks: typeof webhooks;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
