// `<region>.restore` / restore: a thin driver of the domain's restore run (src/domain/restores/run.ts) on a worker
// of its region. BullMQ's part: wait out another run's lease, refuse a job queued in the wrong region (R12), and
// record the final failure.
import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import { settleDrillRun } from "../src/domain/assurance/drillRuns.ts";
import { endedRestoreFigures } from "../src/domain/operations.ts";
import type { Ports } from "../src/domain/ports.ts";
import {
  enqueueRestore,
  failRestore as failRestoreRow,
  runRestore as runRestoreInDomain,
  unfinishedRestores,
  WrongRegion,
} from "../src/domain/restores/index.ts";
import { log } from "../src/log/index.ts";
import { observeRestore } from "../src/metrics/jobMetrics.ts";
import type { JobContext } from "./jobContext.ts";

type RestoreJob = Job<{ restoreId: string }>;

/** A restore job queued in another region than its mirror's: failed at once, the restore itself left as it is. */
class MisroutedRestoreJob extends UnrecoverableError {
  // The name BullMQ and the worker's failure log know as "do not retry".
  override name = "UnrecoverableError";
}

export async function restore(
  ports: Pick<Ports, "db" | "events" | "storage" | "hana" | "clock" | "config">,
  job: RestoreJob,
  ctx: JobContext,
) {
  const since = new Date();
  try {
    const result = await runRestoreInDomain(ports, job.data.restoreId, { regionId: ctx.regionId });
    if (result.kind === "finished") await recordRestoreFigures(ports, job.data.restoreId, since);
    if (result.kind === "leased") {
      // Another worker holds a live lease: look again when it would have expired.
      await job.moveToDelayed(result.retryAt.getTime() + 100, ctx.token);
      throw new DelayedError();
    }
    // A drill's restore ends its run (the reconciler settles it if this fails).
    await settleDrillRun(ports, job.data.restoreId).catch((e) =>
      log.error({ err: e }, "could not settle the drill run; the reconciler will"),
    );
  } catch (error) {
    if (!(error instanceof WrongRegion)) throw error;
    log.error({ err: error }, "refusing a restore job queued in another region (R12)");
    throw new MisroutedRestoreJob(error.message);
  }
}

/** After the last attempt the restore is FAILED with the reason; a misrouted job leaves the restore alone. */
export async function failRestore(ports: Pick<Ports, "db" | "events" | "clock">, job: RestoreJob, error: Error) {
  if (error instanceof MisroutedRestoreJob) return;
  const since = new Date();
  await failRestoreRow(ports, job.data.restoreId, error.message);
  await recordRestoreFigures(ports, job.data.restoreId, since);
  await settleDrillRun(ports, job.data.restoreId);
}

/** Restore duration and throughput, when this run ended the restore; metrics never fail the job. */
async function recordRestoreFigures(ports: Pick<Ports, "db">, restoreId: string, since: Date) {
  const figures = await endedRestoreFigures(ports, restoreId, since).catch((error) => {
    log.warn({ err: error }, "could not read the restore's figures for its metrics");
    return null;
  });
  if (figures) observeRestore(figures);
}

/** Reconciler step: restores the database says are unfinished get their job back (a no-op while it exists). */
export async function reconcileRestores(ports: Pick<Ports, "db" | "queues">, regionIds: string[]) {
  for (const { restoreId, regionId } of await unfinishedRestores(ports, regionIds)) {
    await enqueueRestore(ports, regionId, restoreId);
  }
}
