// `<region>.restore` / restore: a thin driver of the domain's restore run (src/domain/restores/run.ts) on a worker
// of `regionId`. BullMQ's part: wait out another run's lease, refuse a job queued in the wrong region (R12), and
// record the final failure.
import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import {
  enqueueRestore,
  failRestore as failRestoreRow,
  runRestore as runRestoreInDomain,
  unfinishedRestores,
  WrongRegion,
} from "../src/domain/restores/index.ts";
import type { Services } from "../src/services.ts";
import { registerReconciler } from "./reconciler.ts";

type RestoreJob = Job<{ restoreId: string }>;

/** A restore job queued in another region than its mirror's: failed at once, the restore itself left as it is. */
class MisroutedRestoreJob extends UnrecoverableError {
  // The name BullMQ and the worker's failure log know as "do not retry".
  override name = "UnrecoverableError";
}

export async function runRestore(services: Services, job: RestoreJob, token: string | undefined, regionId: string) {
  const restoreId = job.data.restoreId;
  try {
    const result = await runRestoreInDomain(services.ports, restoreId, { regionId });
    if (result.kind === "leased") {
      // Another worker holds a live lease: look again when it would have expired.
      await job.moveToDelayed(result.retryAt.getTime() + 100, token);
      throw new DelayedError();
    }
  } catch (error) {
    if (!(error instanceof WrongRegion)) throw error;
    console.error(`[${regionId}.restore] refusing job ${job.id}: ${error.message}`);
    throw new MisroutedRestoreJob(error.message);
  }
}

/** After the last attempt the restore is FAILED with the reason; a misrouted job leaves the restore alone. */
export async function failRestore(services: Services, job: RestoreJob, error: Error) {
  if (error instanceof MisroutedRestoreJob) return;
  await failRestoreRow(services.ports, job.data.restoreId, error.message);
}

/** Restores the database says are unfinished get their job back (a no-op while the job still exists). */
registerReconciler(async (services, regionIds) => {
  for (const { restoreId, regionId } of await unfinishedRestores(services.ports, regionIds)) {
    await enqueueRestore(services.ports, regionId, restoreId);
  }
});
