// RPO targets: a mirror's recovery point objective, and RPO_BREACHED / RPO_RECOVERED once per crossing. The state
// last published is stored per source database (RpoState); an event is written in the transaction that flips it,
// so concurrent checks (a copy landing, the periodic check) publish a crossing once.
import type { Db } from "../../db/types.ts";
import { InvalidInput } from "../errors.ts";
import { recordEvent } from "../events/outbox.ts";
import type { Ports } from "../ports.ts";
import { type RecoveryWindow, recoveryWindows } from "./windows.ts";

export const RPO_TARGET_RANGE = { min: 60, max: 604_800 } as const;

/** `rpoTargetSeconds` of updateVault: MIRROR only, 60..604800; null clears it (undefined: unchanged). */
export function checkRpoTarget(vault: { kind: string }, value: number | null | undefined): void {
  if (value === undefined || value === null) return;
  const path = ["input", "rpoTargetSeconds"];
  if (vault.kind !== "MIRROR") {
    throw InvalidInput.field(path, "rpoTargetSeconds applies to a MIRROR vault only; this is a SOURCE vault");
  }
  if (!Number.isInteger(value) || value < RPO_TARGET_RANGE.min || value > RPO_TARGET_RANGE.max) {
    throw InvalidInput.field(
      path,
      `rpoTargetSeconds must be a whole number from ${RPO_TARGET_RANGE.min} (1 minute) to ${RPO_TARGET_RANGE.max} (7 days), or null to clear it`,
    );
  }
}

type RpoPorts = Pick<Ports, "db">;

/** Evaluates the mirrors (with a target) and publishes each crossing once. */
async function evaluate(ports: RpoPorts, where: { id?: string; regionId?: { in: string[] } }) {
  const mirrors = await ports.db.vault.findMany({
    where: { ...where, kind: "MIRROR", status: "CREATED", rpoTargetSeconds: { not: null } },
    select: { id: true, accountId: true, kind: true, sourceVaultId: true, rpoTargetSeconds: true },
  });
  if (mirrors.length === 0) return;
  const windows = await recoveryWindows(ports.db, mirrors);
  for (const mirror of mirrors) {
    for (const window of windows.get(mirror.id) ?? []) await publishCrossing(ports.db, mirror.accountId, window);
  }
}

/** On every copy that lands in the mirror. */
export const checkMirrorRpo = (ports: RpoPorts, mirrorVaultId: string) => evaluate(ports, { id: mirrorVaultId });

/** The periodic check (a reconciler step on the workers of the mirrors' regions). */
export const checkRpoTargets = (ports: RpoPorts, regionIds: string[]) =>
  evaluate(ports, { regionId: { in: regionIds } });

async function publishCrossing(db: Db, accountId: string, window: RecoveryWindow) {
  const key = {
    mirrorVaultId: window.mirrorVaultId,
    sourceInstanceId: window.sourceInstanceId,
    databaseName: window.databaseName,
  };
  const breached = window.rpoBreached;
  const facts = {
    ...key,
    rpoSeconds: window.rpoSeconds,
    rpoTargetSeconds: window.rpoTargetSeconds,
    latestTime: window.latest?.time?.toISOString() ?? null,
    sourceLatestTime: window.sourceLatest?.time?.toISOString() ?? null,
  };
  await db.$transaction(async (tx) => {
    // First sight: the state starts as it is; a breach at first sight is a crossing.
    const created = await tx.rpoState.createMany({ data: [{ ...key, breached }], skipDuplicates: true });
    const flipped = created.count
      ? breached
      : (
          await tx.rpoState.updateMany({
            where: { ...key, breached: !breached },
            data: { breached, changedAt: new Date() },
          })
        ).count > 0;
    if (!flipped) return;
    await recordEvent(tx, { accountId, type: breached ? "RPO_BREACHED" : "RPO_RECOVERED", data: facts });
  });
}

/** A cleared target forgets what was published; a new target starts from what the next check sees. */
export function forgetRpoStates(db: Pick<Db, "rpoState">, mirrorVaultId: string) {
  return db.rpoState.deleteMany({ where: { mirrorVaultId } });
}
