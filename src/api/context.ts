import type { Services } from "../services.ts";
import type { Loaders } from "./loaders.ts";

/** Who is calling: an account (its API key) or the platform admin (ADMIN_API_KEY). */
export type Viewer = { kind: "account"; accountId: string } | { kind: "admin" };

export type Context = {
  services: Services;
  viewer: Viewer;
  loaders: Loaders;
};

/** The account the request acts within; scope-auth has already refused callers without one. */
export function accountOf(ctx: Context): string {
  if (ctx.viewer.kind !== "account") throw new Error("no account on this request");
  return ctx.viewer.accountId;
}
