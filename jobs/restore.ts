// `<region>.restore` / restore: runs on a worker of the MIRROR's region and reads only that region's storage (R12).
// Phases: FETCHING (every chunk's hash verified when checkAccess) → LOADING_DATA → APPLYING_DELTA → REPLAYING_LOG →
// VALIDATING → DONE. A lease in the database (renewed by a heartbeat) keeps it running at most once at a time; a
// worker killed mid-restore loses its lease and another worker of the region restarts it (recovery is CLEAR LOG:
// it replaces the target database, so starting over is safe).
import { randomUUID } from "node:crypto";
import { DelayedError, type Job } from "bullmq";
import type { Ports } from "../src/domain/ports.ts";
import { enqueueRestore, type StoredPlan } from "../src/domain/restores.ts";
import { ACTIVE_RESTORE_STATUSES } from "../src/domain/vaults.ts";
import { HanaRecoverAbortedError } from "../src/hana/connector.ts";

type Services = Ports;

class Canceled extends Error {}
/** Another run took the restore over (this one stalled past its lease): stop without writing anything. */
class LeaseLost extends Error {}

export async function runRestore(services: Services, job: Job<{ restoreId: string }>, token?: string) {
  const { db, config } = services;
  const restoreId = job.data.restoreId;
  const now = new Date();
  // One owner token per run: even a retry in the same process waits for the old run's lease to lapse.
  const owner = `${process.pid}-${randomUUID()}`;
  const claimed = await db.restore.updateMany({
    where: {
      id: restoreId,
      status: { in: [...ACTIVE_RESTORE_STATUSES] },
      OR: [{ leaseExpiresAt: null }, { leaseExpiresAt: { lt: now } }],
    },
    data: {
      leaseOwner: owner,
      leaseExpiresAt: new Date(now.getTime() + config.leaseMs),
      attempts: { increment: 1 },
    },
  });
  const restore = await db.restore.findUnique({ where: { id: restoreId }, include: { mirrorVault: true } });
  if (!restore || !(ACTIVE_RESTORE_STATUSES as readonly string[]).includes(restore.status)) return;
  if (!claimed.count) {
    // Another worker holds a live lease: look again when it would have expired.
    await job.moveToDelayed(restore.leaseExpiresAt!.getTime() + 100, token);
    throw new DelayedError();
  }
  const publish = () => services.events.publish("restore:updated", restoreId);
  const abort = new AbortController();
  // Heartbeat: renews the lease while this run still owns it, and notices a cancel request.
  const heartbeat = setInterval(
    async () => {
      const renewed = await db.restore
        .updateMany({
          where: { id: restoreId, leaseOwner: owner },
          data: { leaseExpiresAt: new Date(Date.now() + config.leaseMs) },
        })
        .catch(() => null);
      if (renewed?.count === 0) return abort.abort(new LeaseLost("lease lost"));
      const row = await db.restore.findUnique({ where: { id: restoreId }, select: { status: true } }).catch(() => null);
      if (row?.status === "CANCELING") abort.abort(new Canceled("canceled"));
    },
    Math.max(250, Math.floor(config.leaseMs / 3)),
  );

  /** Writes only while this run owns the restore. */
  const write = async (data: Parameters<typeof db.restore.updateMany>[0]["data"]) => {
    const { count } = await db.restore.updateMany({ where: { id: restoreId, leaseOwner: owner }, data });
    if (!count) throw new LeaseLost("lease lost");
  };
  const update = async (data: { phase?: string; progress?: number }) => {
    await write(data);
    await publish();
    const row = await db.restore.findUnique({ where: { id: restoreId }, select: { status: true } });
    if (row?.status === "CANCELING") throw new Canceled("canceled");
  };
  let recoverStarted = false;

  try {
    if (restore.status === "CANCELING") throw new Canceled("canceled");
    await write({ status: "RUNNING", phase: "FETCHING", progress: 0, startedAt: restore.startedAt ?? new Date() });
    await publish();
    const plan = restore.plan as StoredPlan;
    const store = services.storage.region(restore.mirrorVault.regionId);
    const backups = await db.backup.findMany({ where: { id: { in: plan.steps.map((s) => s.backupId) } } });
    const byId = new Map(backups.map((b) => [b.id, b]));

    if (restore.checkAccess) {
      // FETCHING: every needed backup is present in the mirror region and every chunk's hash is right.
      for (const [index, step] of plan.steps.entries()) {
        for await (const _chunk of store.readBackup(step.backupId, { verify: true, signal: abort.signal })) {
          // reading is the check
        }
        await update({ progress: Math.round(((index + 1) / plan.steps.length) * 20) });
      }
    }

    const phaseRange = { LOADING_DATA: [20, 40], APPLYING_DELTA: [40, 55], REPLAYING_LOG: [55, 90] } as const;
    let lastPhase = "";
    let lastProgressAt = 0;
    const stream = (backupId: string) => store.readBackup(backupId, { verify: true, signal: abort.signal });
    const targetTime = plan.targetTime ? new Date(plan.targetTime) : undefined;
    recoverStarted = true;
    const result = await services.hana.recover(
      restore.targetInstanceId,
      restore.targetDatabaseName,
      {
        data: stream(plan.steps.find((s) => s.action === "LOAD_DATA")!.backupId),
        deltas: plan.steps.filter((s) => s.action === "APPLY_DELTA").map((s) => stream(s.backupId)),
        logs: plan.steps.filter((s) => s.action === "REPLAY_LOG").map((s) => stream(s.backupId)),
      },
      { untilPosition: BigInt(plan.targetLogPosition), ...(targetTime ? { untilTime: targetTime } : {}) },
      {
        signal: abort.signal,
        onProgress: async (phase, fraction) => {
          // Progress rows are throttled; a phase change is always recorded.
          if (phase === lastPhase && Date.now() - lastProgressAt < 500 && fraction < 1) return;
          lastPhase = phase;
          lastProgressAt = Date.now();
          const [from, to] = phaseRange[phase];
          await update({ phase, progress: Math.round(from + (to - from) * fraction) });
        },
      },
    );

    await update({ phase: "VALIDATING", progress: 90 });
    const actualDigest = await services.hana.computeDigest(restore.targetInstanceId, restore.targetDatabaseName);
    const expected = await db.catalogEntry.findFirst({
      where: { backupId: { in: [...byId.keys()] }, logPosition: result.reachedPosition },
      select: { digest: true },
    });
    const valid = expected?.digest === actualDigest;
    await write({
      status: valid ? "COMPLETE" : "FAILED",
      phase: "DONE",
      progress: 100,
      reachedLogPosition: result.reachedPosition,
      reachedTime: result.reachedTime,
      validationStatus: valid ? "SUCCESSFUL" : "FAILED",
      expectedDigest: expected?.digest ?? null,
      actualDigest,
      message: valid
        ? `RECOVER DATA finished successfully, reached timestamp ${result.reachedTime?.toISOString() ?? "-"}, reached log position ${result.reachedPosition}`
        : `validation failed: the target's digest ${actualDigest} differs from the source's ${expected?.digest ?? "(none in the catalog)"} at log position ${result.reachedPosition}`,
      completedAt: new Date(),
      activeTarget: null,
      leaseOwner: null,
      leaseExpiresAt: null,
    });
  } catch (error) {
    const reason = abort.signal.reason;
    if (error instanceof LeaseLost || reason instanceof LeaseLost) {
      // The run that took over owns the restore now; this one leaves everything to it.
      throw new Error("restore taken over by another worker after this one's lease lapsed");
    }
    if (error instanceof Canceled || error instanceof HanaRecoverAbortedError || abort.signal.aborted) {
      // Only a recovery that began touched the target; a restore cancelled before leaves it as it was.
      if (recoverStarted) {
        await services.hana.stopDatabase(restore.targetInstanceId, restore.targetDatabaseName).catch(() => null);
      }
      await write({
        status: "CANCELED",
        phase: "CANCELED",
        message: recoverStarted
          ? `canceled; the target database ${restore.targetDatabaseName} is left stopped`
          : "canceled before the target database was touched",
        completedAt: new Date(),
        activeTarget: null,
        leaseOwner: null,
        leaseExpiresAt: null,
      }).catch(() => null);
      return;
    }
    // Give the lease back so a retry (this or another worker) can start at once.
    await write({ leaseOwner: null, leaseExpiresAt: null }).catch(() => null);
    throw error;
  } finally {
    clearInterval(heartbeat);
    await publish();
  }
}

/** After the last attempt the restore is FAILED with the reason, and its target is free again. */
export async function failRestore(services: Services, job: Job<{ restoreId: string }>, error: Error) {
  await services.db.restore.updateMany({
    where: { id: job.data.restoreId, status: { in: [...ACTIVE_RESTORE_STATUSES] } },
    data: { status: "FAILED", phase: "DONE", message: error.message, completedAt: new Date(), activeTarget: null },
  });
  await services.events.publish("restore:updated", job.data.restoreId);
}

/** Reconciler step: restores the database says are unfinished get their job back (a no-op while it exists). */
export async function reconcileRestores(services: Pick<Ports, "db" | "queues">, regionIds: string[]) {
  const unfinished = await services.db.restore.findMany({
    where: { status: { in: [...ACTIVE_RESTORE_STATUSES] }, mirrorVault: { regionId: { in: regionIds } } },
    select: { id: true, mirrorVault: { select: { regionId: true } } },
  });
  for (const restore of unfinished) await enqueueRestore(services as Ports, restore.mirrorVault.regionId, restore.id);
}
