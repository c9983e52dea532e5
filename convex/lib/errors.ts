// Expected failures. Every one is thrown as ConvexError({code, message, ...}) through `fail`,
// with a code from convex/errorCodes.json: the one list of problem codes, which the BFF reads
// too (each code's HTTP status) and docs/errors.md is generated from.
import { ConvexError } from "convex/values";
import errorCodes from "../errorCodes.json";

export const ERROR_CODES = errorCodes.convex;

export type ErrorCode = keyof typeof ERROR_CODES;

export function fail(
  code: ErrorCode,
  message: string,
  extra: Record<string, string | number | boolean | null> = {},
): never {
  throw new ConvexError({ code, message, ...extra });
}
