// Reads the one capabilities matrix (convex/capabilities.json, DESIGN.md decision 4).
// The BFF reads the same file; the Convex builders check it again (defence in depth).
import matrix from "../capabilities.json";

export type Role = keyof typeof matrix.roles;
export type Action = keyof typeof matrix.actions;

const allowed = new Map<string, ReadonlySet<string>>(
  Object.entries(matrix.actions).map(([action, spec]) => [action, new Set(spec.roles)]),
);

export function isAction(name: string): name is Action {
  return allowed.has(name);
}

export function roleCan(role: Role, action: Action): boolean {
  return allowed.get(action)?.has(role) ?? false;
}

export const ROLES = Object.keys(matrix.roles) as Role[];
export const ACTIONS = Object.keys(matrix.actions) as Action[];
