// How records name the verified principal: "user:<id>" or "apiKey:<id>", never a claim from a request.
// Apart from convex/lib/functions.ts (which re-exports it) so that convex/lib/receipts.ts, beneath it, can use it.

export function principalOf(actor: { userId?: string; apiKeyId?: string }): string {
  return actor.userId !== undefined ? `user:${actor.userId}` : `apiKey:${actor.apiKeyId}`;
}
