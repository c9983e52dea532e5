// Reads the one capabilities matrix (convex/capabilities.json): role x action. The BFF
// checks the same file before any data call; the Convex builders check it again, so a
// function is protected even when called some other way (defence in depth).
import matrix from "../capabilities.json";

export type Role = keyof typeof matrix.roles;
export type Action = keyof typeof matrix.actions;

const allowed = new Map<string, ReadonlySet<string>>(
  Object.entries(matrix.actions).map(([action, spec]) => [action, new Set(spec.roles)]),
);

export function roleCan(role: Role, action: Action): boolean {
  return allowed.get(action)?.has(role) ?? false;
}
