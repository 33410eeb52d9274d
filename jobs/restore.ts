// `<region>.restore` / restore: a thin driver of the domain's restore run (src/domain/restores/run.ts) on a worker
// of its region. BullMQ's part: wait out another run's lease, refuse a job queued in the wrong region (R12), and
// record the final failure.
import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import { settleDrillRun } from "../src/domain/assurance/drillRuns.ts";
import type { Ports } from "../src/domain/ports.ts";
import {
  enqueueRestore,
  failRestore as failRestoreRow,
  runRestore as runRestoreInDomain,
  unfinishedRestores,
  WrongRegion,
} from "../src/domain/restores/index.ts";
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
  try {
    const result = await runRestoreInDomain(ports, job.data.restoreId, { regionId: ctx.regionId });
    if (result.kind === "leased") {
      // Another worker holds a live lease: look again when it would have expired.
      await job.moveToDelayed(result.retryAt.getTime() + 100, ctx.token);
      throw new DelayedError();
    }
    // A drill's restore ends its run (the reconciler settles it if this fails).
    await settleDrillRun(ports, job.data.restoreId).catch((e) => console.error(`[drill] ${e.message}`));
  } catch (error) {
    if (!(error instanceof WrongRegion)) throw error;
    console.error(`[${ctx.regionId}.restore] refusing job ${job.id}: ${error.message}`);
    throw new MisroutedRestoreJob(error.message);
  }
}

/** After the last attempt the restore is FAILED with the reason; a misrouted job leaves the restore alone. */
export async function failRestore(ports: Pick<Ports, "db" | "events" | "clock">, job: RestoreJob, error: Error) {
  if (error instanceof MisroutedRestoreJob) return;
  await failRestoreRow(ports, job.data.restoreId, error.message);
  await settleDrillRun(ports, job.data.restoreId);
}

/** Reconciler step: restores the database says are unfinished get their job back (a no-op while it exists). */
export async function reconcileRestores(ports: Pick<Ports, "db" | "queues">, regionIds: string[]) {
  for (const { restoreId, regionId } of await unfinishedRestores(ports, regionIds)) {
    await enqueueRestore(ports, regionId, restoreId);
  }
}
