// One run of a restore drill: a real restore (restoreFromMirror, then the restore job on the mirror's region) into
// the drill's scratch tenant. PASSED only when the restore completed and validation matched the source's digest at
// the reached point; FAILED with the reason otherwise. Ending a run and its DRILL_PASSED / DRILL_FAILED event are
// one transaction. One run of a drill at a time (DrillRun.activeDrill is unique while a run is RUNNING).
import type { Db } from "../../db/types.ts";
import type { DrillRun, Prisma } from "../../generated/prisma/client.ts";
import { Conflict, DomainError, FailedPrecondition } from "../errors.ts";
import { recordEvent } from "../events/outbox.ts";
import type { Ports } from "../ports.ts";
import { readStoredPlan, restoreFromMirror } from "../restores/index.ts";
import type { RestoreModeName } from "../restores/planInput.ts";
import { TERMINAL_RESTORE_STATUSES } from "../vaults.ts";
import { pickDrillPoint } from "./drillPoint.ts";
import { recoveryWindowOf } from "./windows.ts";

export type DrillRunPorts = Pick<Ports, "db" | "hana" | "queues" | "clock" | "config">;

type Drill = Prisma.RestoreDrillGetPayload<{ include: { mirrorVault: true } }>;

/** Starts a run now (the API's runRestoreDrill and the scheduled `drill` job). Conflict while one runs. */
export async function startDrillRun(ports: DrillRunPorts, drill: Drill): Promise<DrillRun> {
  const { db, clock } = ports;
  if (drill.mirrorVault.status !== "CREATED") {
    throw new FailedPrecondition(`the drill's mirror vault is ${drill.mirrorVault.status}`);
  }
  const startedAt = clock.now();
  const run = await db.drillRun
    .create({ data: { accountId: drill.accountId, drillId: drill.id, activeDrill: drill.id, startedAt } })
    .catch((error) => {
      if ((error as { code?: string }).code !== "P2002") throw error;
      throw new Conflict(`a run of restore drill "${drill.name}" is in progress; wait until it ends`);
    });
  try {
    return await startRestore(ports, drill, run);
  } catch (error) {
    const message = error instanceof DomainError ? error.message : `the restore could not start: ${error}`;
    if (!(error instanceof DomainError)) console.error(`[drill] ${drill.id}:`, error);
    return (await endRun(db, run.id, { status: "FAILED", message, completedAt: clock.now() })) ?? run;
  }
}

async function startRestore(ports: DrillRunPorts, drill: Drill, run: DrillRun): Promise<DrillRun> {
  const { db, hana, clock } = ports;
  const window = await recoveryWindowOf(db, drill.mirrorVault, drill.sourceInstanceId, drill.sourceDatabaseName);
  const rpoSeconds = window?.rpoSeconds ?? null;
  await db.drillRun.update({ where: { id: run.id }, data: { rpoSeconds } });
  if (window && window.gaps.length > 0) {
    const gaps = window.gaps.map((g) => `positions ${g.from}..${g.to}`).join(", ");
    throw new FailedPrecondition(
      `the mirror's log chain of ${drill.sourceDatabaseName} has a gap: ${gaps} are missing; ` +
        "points after it can not be restored from the mirror",
    );
  }
  const point = pickDrillPoint(drill.mode, window);
  const existing = await hana.getDatabase(drill.targetInstanceId, drill.targetDatabaseName);
  if (existing && !drill.scratchCreatedAt) {
    throw new FailedPrecondition(
      `database ${drill.targetDatabaseName} exists on the target and this drill did not create it; it is left untouched`,
    );
  }
  const mode: RestoreModeName = point === null ? "RECOVERY_TO_MOST_RECENT" : "RECOVERY_TO_LOG_POSITION";
  // The drill owns its scratch tenant from its first restore on: later runs may replace it.
  await db.restoreDrill.update({
    where: { id: drill.id },
    data: { scratchCreatedAt: drill.scratchCreatedAt ?? clock.now() },
  });
  const restore = await restoreFromMirror(
    ports,
    drill.accountId,
    {
      mirrorVaultId: drill.mirrorVaultId,
      sourceInstanceId: drill.sourceInstanceId,
      sourceDatabaseName: drill.sourceDatabaseName,
      targetInstanceId: drill.targetInstanceId,
      targetDatabaseName: drill.targetDatabaseName,
      mode,
      logPosition: point,
      overwrite: existing !== null,
    },
    { drillId: drill.id },
  );
  const plan = readStoredPlan(restore.plan);
  return db.drillRun.update({
    where: { id: run.id },
    data: { restoreId: restore.id, pointInTime: plan.targetTime },
  });
}

type RunEnd = {
  status: "PASSED" | "FAILED";
  message: string;
  completedAt: Date;
} & Prisma.DrillRunUpdateManyMutationInput;

/** Ends a RUNNING run and records its event, in one transaction; null when it had already ended. */
async function endRun(db: Db, runId: string, end: RunEnd): Promise<DrillRun | null> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.drillRun.updateMany({
      where: { id: runId, status: "RUNNING" },
      data: { ...end, activeDrill: null },
    });
    if (!count) return null;
    const run = await tx.drillRun.findUniqueOrThrow({ where: { id: runId }, include: { drill: true } });
    await recordEvent(tx, {
      accountId: run.accountId,
      type: end.status === "PASSED" ? "DRILL_PASSED" : "DRILL_FAILED",
      data: {
        drillId: run.drillId,
        drillName: run.drill.name,
        runId: run.id,
        restoreId: run.restoreId,
        mirrorVaultId: run.drill.mirrorVaultId,
        sourceDatabaseName: run.drill.sourceDatabaseName,
        pointInTime: run.pointInTime?.toISOString() ?? null,
        rpoSeconds: run.rpoSeconds,
        rtoSeconds: run.rtoSeconds,
        message: run.message,
      },
    });
    return run;
  });
}

const TERMINAL = new Set<string>(TERMINAL_RESTORE_STATUSES);

/** When a drill's restore has ended: the run PASSES only on a completed restore whose validation succeeded. */
export async function settleDrillRun(ports: Pick<Ports, "db" | "clock">, restoreId: string): Promise<void> {
  const { db } = ports;
  const run = await db.drillRun.findFirst({ where: { restoreId, status: "RUNNING" }, include: { restore: true } });
  const restore = run?.restore;
  if (!run || !restore || !TERMINAL.has(restore.status)) return;
  const completedAt = restore.completedAt ?? ports.clock.now();
  const passed = restore.status === "COMPLETE" && restore.validationStatus === "SUCCESSFUL";
  await endRun(db, run.id, {
    status: passed ? "PASSED" : "FAILED",
    message: passed
      ? `restored and validated: ${restore.message ?? "the digests match"}`
      : `the restore ended ${restore.status}${restore.message ? `: ${restore.message}` : ""}`,
    completedAt,
    pointInTime: restore.reachedTime ?? run.pointInTime,
    rtoSeconds: passed ? (completedAt.getTime() - run.startedAt.getTime()) / 1000 : null,
  });
}

/**
 * Reconciler step: runs whose restore ended without being settled are settled; a run that never got its restore
 * (its process died while starting it) fails after two lease lengths.
 */
export async function reconcileDrillRuns(ports: Pick<Ports, "db" | "clock" | "config">, regionIds: string[]) {
  const { db, clock } = ports;
  const runs = await db.drillRun.findMany({
    where: { status: "RUNNING", drill: { mirrorVault: { regionId: { in: regionIds } } } },
    select: { id: true, restoreId: true, startedAt: true },
  });
  const stale = clock.now().getTime() - 2 * ports.config.leaseMs;
  for (const run of runs) {
    if (run.restoreId) await settleDrillRun(ports, run.restoreId);
    else if (run.startedAt.getTime() < stale) {
      await endRun(db, run.id, {
        status: "FAILED",
        message: "the run was interrupted before its restore started",
        completedAt: clock.now(),
      });
    }
  }
}
