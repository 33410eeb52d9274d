// One run of a restore on a worker of the mirror's region (R12). Phases: FETCHING (CHECK ACCESS: every chunk of
// the plan read once from the region, verified and staged on local disk, see chainStreams.ts) → LOADING_DATA →
// APPLYING_DELTA → REPLAYING_LOG → VALIDATING → DONE. A lease keeps it running at most once at a time; a worker
// killed mid-restore loses its lease and another run starts over (recovery is CLEAR LOG: it replaces the target
// database, so starting over is safe; FETCHING stages afresh).
import { randomUUID } from "node:crypto";
import {
  HanaFencedError,
  HanaRecoverAbortedError,
  type RecoverChain,
  type RecoverPhase,
} from "../../hana/connector.ts";
import { ChunkStaging } from "../../storage/staging.ts";
import { firstLineOf } from "../errors.ts";
import type { Ports } from "../ports.ts";
import { ACTIVE_RESTORE_STATUSES } from "../vaults.ts";
import { FetchFailed, fetchChain, recoverChain, stagedChain } from "./chainStreams.ts";
import { Canceled, LeaseLost, RestoreLease } from "./lease.ts";
import type { RestorePlan } from "./plan.ts";
import { readStoredPlan, UnreadablePlan } from "./storedPlan.ts";
import { completionMessage, reachedMismatch, validateRestore } from "./validation.ts";

export type RunPorts = Pick<Ports, "db" | "events" | "storage" | "hana" | "clock" | "config">;

/** finished: nothing left to do (done, failed, canceled or gone); leased: another run holds it until `retryAt`. */
export type RunResult = { kind: "finished" } | { kind: "leased"; retryAt: Date };

/** R12: a restore handed to a worker of another region than its mirror's. Nothing was touched. */
export class WrongRegion extends Error {
  override name = "WrongRegion";
}

type RestoreRow = NonNullable<Awaited<ReturnType<RunPorts["db"]["restore"]["findUnique"]>>>;

const PROGRESS = { FETCHING: [0, 20], LOADING_DATA: [20, 40], APPLYING_DELTA: [40, 55], REPLAYING_LOG: [55, 90] };
const isActive = (status: string) => (ACTIVE_RESTORE_STATUSES as readonly string[]).includes(status);

/**
 * Runs the restore as a worker of `worker.regionId`. Throws WrongRegion (R12) before touching anything, LeaseLost
 * when another run took over, and any other error for the caller to retry (the lease is given back first).
 */
export async function runRestore(ports: RunPorts, restoreId: string, worker: { regionId: string }): Promise<RunResult> {
  const { db } = ports;
  const found = await db.restore.findUnique({ where: { id: restoreId }, include: { mirrorVault: true } });
  if (!found || !isActive(found.status)) return { kind: "finished" };
  if (found.mirrorVault.regionId !== worker.regionId) {
    throw new WrongRegion(
      `restore ${restoreId} reads mirror vault ${found.mirrorVaultId} in ${found.mirrorVault.regionId}; ` +
        `a worker of ${worker.regionId} must not run it`,
    );
  }
  const lease = new RestoreLease(ports, restoreId);
  if (!(await lease.claim())) {
    const held = await db.restore.findUnique({ where: { id: restoreId }, select: { leaseExpiresAt: true } });
    const retryAt = held?.leaseExpiresAt ?? new Date(ports.clock.now().getTime() + ports.config.leaseMs);
    return { kind: "leased", retryAt };
  }
  const restore = await db.restore.findUniqueOrThrow({ where: { id: restoreId } });
  lease.startHeartbeat();
  try {
    await new RestoreRun(ports, lease, restore, worker.regionId).run();
    return { kind: "finished" };
  } finally {
    lease.stop();
    await ports.events.publish("restore:updated", restoreId).catch(() => {});
  }
}

class RestoreRun {
  private recoverStarted = false;
  private lastPhase = "";
  private lastProgressAt = 0;
  private staging: ChunkStaging | undefined;

  constructor(
    private readonly ports: RunPorts,
    private readonly lease: RestoreLease,
    private readonly restore: RestoreRow,
    private readonly regionId: string,
  ) {}

  async run(): Promise<void> {
    try {
      if (this.restore.status === "CANCELING") throw new Canceled("canceled");
      const plan = readStoredPlan(this.restore.plan);
      await this.recover(plan);
    } catch (error) {
      await this.ended(error);
    } finally {
      // Success, failure, cancel or lost lease: the staged copy is never needed again (a retry stages afresh).
      await this.staging?.remove().catch(() => {});
    }
  }

  private async recover(plan: RestorePlan): Promise<void> {
    const { restore, lease, ports } = this;
    await lease.write({
      status: "RUNNING",
      phase: "FETCHING",
      progress: 0,
      startedAt: restore.startedAt ?? ports.clock.now(),
    });
    await this.publish();
    const chain = restore.checkAccess ? await this.fetch(plan) : recoverChain(this.store(), plan.steps, lease.signal);
    this.recoverStarted = true;
    const target = { instanceId: restore.targetInstanceId, databaseName: restore.targetDatabaseName };
    const reached = await ports.hana.recover(
      target.instanceId,
      {
        databaseName: target.databaseName,
        recoverStatement: plan.recoverStatement,
        target: { untilPosition: plan.targetLogPosition, ...(plan.targetTime ? { untilTime: plan.targetTime } : {}) },
      },
      chain,
      {
        signal: lease.signal,
        onProgress: (phase, fraction) => this.progress(phase, fraction),
        fence: lease.epoch,
      },
    );
    const result = { reachedLogPosition: reached.reachedPosition, reachedTime: reached.reachedTime };
    const mismatch = reachedMismatch(plan, reached);
    const lateCancel = `canceled after the recovery had ended; the target database ${target.databaseName} holds the recovered content, not validated`;
    if (mismatch) {
      await lease.finish({ status: "FAILED", phase: "DONE", message: mismatch, ...result }, lateCancel);
      return;
    }
    await this.update({ phase: "VALIDATING", progress: 90 });
    const validation = await validateRestore(ports, target, plan, reached);
    await lease.finish(
      {
        status: validation.valid ? "COMPLETE" : "FAILED",
        phase: "DONE",
        progress: 100,
        ...result,
        validationStatus: validation.valid ? "SUCCESSFUL" : "FAILED",
        expectedDigest: validation.expectedDigest,
        actualDigest: validation.actualDigest,
        message: completionMessage(reached, validation),
      },
      lateCancel,
    );
  }

  /** FETCHING: the chain's chunks read once from the mirror's store, verified and staged; the target is untouched. */
  private async fetch(plan: RestorePlan): Promise<RecoverChain> {
    const { ports, restore, lease } = this;
    this.staging = await ChunkStaging.open(ports.config.restoreStagingDir, restore.id, randomUUID());
    const label = await backupLabels(ports, plan);
    await fetchChain(this.store(), this.staging, plan.steps, label, lease.signal, (fraction) =>
      this.progress("FETCHING", fraction),
    );
    return stagedChain(this.staging, plan.steps, lease.signal);
  }

  /** R12: the mirror region's store, and no other. */
  private store() {
    return this.ports.storage.region(this.regionId);
  }

  /** Progress rows are throttled; a phase change (and `force`) is always recorded. */
  private async progress(phase: keyof typeof PROGRESS | RecoverPhase, fraction: number, force = false) {
    const now = this.ports.clock.now().getTime();
    if (!force && phase === this.lastPhase && now - this.lastProgressAt < 500 && fraction < 1) return;
    this.lastPhase = phase;
    this.lastProgressAt = now;
    const [from, to] = PROGRESS[phase];
    await this.update({ phase, progress: Math.round(from + (to - from) * fraction) });
  }

  /** Records progress, tells watchers, and stops at this safe point when a cancel was requested. */
  private async update(data: { phase: string; progress: number }) {
    await this.lease.write(data);
    await this.publish();
    await this.lease.checkCanceled();
  }

  private async ended(error: unknown): Promise<void> {
    const { lease, restore } = this;
    const reason = lease.signal.reason;
    if (error instanceof LeaseLost || reason instanceof LeaseLost || error instanceof HanaFencedError) {
      // The run that took over owns the restore now; this one leaves everything to it.
      throw new LeaseLost("restore taken over by another worker after this one's lease lapsed");
    }
    if (error instanceof UnreadablePlan) {
      // Retrying can't repair the row; nothing was touched.
      await lease.finish({ status: "FAILED", phase: "DONE", message: error.message });
      return;
    }
    if (error instanceof FetchFailed && error.permanent) {
      // A missing, corrupt or truncated object stays so on a retry; FETCHING never touched the target.
      await lease.finish({ status: "FAILED", phase: "FETCHING", message: error.message });
      return;
    }
    if (error instanceof Canceled || error instanceof HanaRecoverAbortedError || lease.signal.aborted) {
      // Only a recovery that began touched the target; a restore cancelled before leaves it as it was.
      if (this.recoverStarted) {
        await this.ports.hana
          .stopDatabase(restore.targetInstanceId, restore.targetDatabaseName, lease.epoch)
          .catch(() => null);
      }
      const message = this.recoverStarted
        ? `canceled; the target database ${restore.targetDatabaseName} is left stopped`
        : "canceled before the target database was touched";
      await lease.finish({ status: "CANCELED", phase: "CANCELED", message }).catch(() => null);
      return;
    }
    // Anything else (a store or the cluster unreachable, credentials refused...): the job retries with backoff and
    // the row says why meanwhile.
    const why = firstLineOf(error);
    await lease.write({ message: `attempt ${restore.attempts} failed, retrying: ${why}` }).catch(() => null);
    await lease.release().catch(() => null);
    throw error;
  }

  private publish() {
    return this.ports.events.publish("restore:updated", this.restore.id);
  }
}

/** "backup <HANA prefix> (<id>)" for each backup of the plan, so a failure names it as operators know it. */
async function backupLabels({ db }: Pick<RunPorts, "db">, plan: RestorePlan): Promise<(backupId: string) => string> {
  const rows = await db.backup.findMany({
    where: { id: { in: plan.steps.map((s) => s.backupId) } },
    select: { id: true, prefix: true },
  });
  const prefixes = new Map(rows.map((r) => [r.id, r.prefix]));
  return (backupId) => {
    const prefix = prefixes.get(backupId);
    return prefix ? `backup ${prefix} (${backupId})` : `backup ${backupId}`;
  };
}
