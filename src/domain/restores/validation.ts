// Validation after recovery: the target's digest (recomputed from its rows) against the digest the source had at
// the reached position, recorded in the backup catalog at backup time.
import type { RecoverResult } from "../../hana/connector.ts";
import type { Ports } from "../ports.ts";
import type { RestorePlan } from "./plan.ts";

export type Validation = { valid: boolean; expectedDigest: string | null; actualDigest: string };

export async function validateRestore(
  { db, hana }: Pick<Ports, "db" | "hana">,
  target: { instanceId: string; databaseName: string },
  plan: RestorePlan,
  reached: RecoverResult,
): Promise<Validation> {
  const actualDigest = await hana.computeDigest(target.instanceId, target.databaseName);
  const expected = await db.catalogEntry.findFirst({
    where: { backupId: { in: plan.steps.map((s) => s.backupId) }, logPosition: reached.reachedPosition },
    select: { digest: true },
  });
  const expectedDigest = expected?.digest ?? null;
  return { valid: expectedDigest === actualDigest, expectedDigest, actualDigest };
}

export function completionMessage(reached: RecoverResult, validation: Validation): string {
  return validation.valid
    ? `RECOVER DATA finished successfully, reached timestamp ${reached.reachedTime?.toISOString() ?? "-"}, reached log position ${reached.reachedPosition}`
    : `validation failed: the target's digest ${validation.actualDigest} differs from the source's ` +
        `${validation.expectedDigest ?? "(none in the catalog)"} at log position ${reached.reachedPosition}`;
}

/** The connector must reach exactly the commit the plan promised; anything else is a failed restore. */
export function reachedMismatch(plan: RestorePlan, reached: RecoverResult): string | null {
  if (reached.reachedPosition === plan.targetLogPosition) return null;
  return (
    `recovery reached log position ${reached.reachedPosition}, but the plan's target is log position ` +
    `${plan.targetLogPosition}; the restore is not what was asked for`
  );
}
