// Bounds and patterns the BFF's request models apply too: one file, convex/limits.json, read
// by both, so a limit changes in one place.
import limits from "../limits.json";

export const LIMITS = limits;
/** Maximum characters of each kind of text field. */
export const TEXT_MAX = limits.text;
export const PATTERNS = {
  slug: new RegExp(limits.patterns.slug),
  phone: new RegExp(limits.patterns.phone),
  idempotencyKey: new RegExp(limits.patterns.idempotencyKey),
};
