import type { Context } from "./context.ts";

// Matches no row: node lookups by the admin (who owns nothing) find nothing.
const NO_ACCOUNT = "00000000-0000-0000-0000-000000000000";

/** The account whose rows this request may see (R17). */
export function visibleAccount(ctx: Context): string {
  return ctx.viewer.kind === "account" ? ctx.viewer.accountId : NO_ACCOUNT;
}
