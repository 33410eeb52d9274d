// `<mirror region>.sync` / copy (R8): copies one completed source backup into its mirror's region. Idempotent: a
// rerun finds the manifest in place and only re-records; a mirror that is gone makes it a no-op. When the region
// pair's copy slots are all taken, the job is delayed and tried again, spending no attempt and no worker slot.
import { DelayedError, type Job } from "bullmq";
import { checkMirrorRpo } from "../src/domain/assurance/rpo.ts";
import { copyToMirror, noteCopyFailure } from "../src/domain/mirrors/copies.ts";
import { recordCopyFailed } from "../src/domain/mirrors/events.ts";
import { CopySlotsBusyError, slotRetryDelayMs } from "../src/domain/mirrors/transfers.ts";
import type { Ports } from "../src/domain/ports.ts";
import type { JobContext } from "./jobContext.ts";
import { leased } from "./leased.ts";

export async function mirrorCopy(
  ports: Pick<Ports, "db" | "storage" | "events" | "clock" | "copySlots" | "bandwidth" | "config">,
  job: Job<{ backupId: string; mirrorVaultId: string }>,
  ctx: JobContext,
) {
  try {
    const { backupId, mirrorVaultId } = job.data;
    const copied = await leased(job, ctx, () =>
      copyToMirror(ports, backupId, mirrorVaultId, { waitForSlot: false }).catch(async (error) => {
        // A store unreachable, credentials refused...: the job retries with backoff; the mirror says why meanwhile.
        if (!(error instanceof CopySlotsBusyError)) await noteCopyFailure(ports, backupId, mirrorVaultId, error);
        throw error;
      }),
    );
    // A copy that lands may end (or, with a newer source commit seen, start) an RPO breach.
    if (copied === true) {
      await checkMirrorRpo(ports, mirrorVaultId).catch((e) => console.error(`[rpo] ${e.message}`));
    }
    return { copied };
  } catch (error) {
    if (!(error instanceof CopySlotsBusyError)) throw error;
    await job.moveToDelayed(Date.now() + slotRetryDelayMs(), ctx.token);
    throw new DelayedError();
  }
}

/** After the copy's last attempt: COPY_FAILED for webhooks (once per backup and mirror; the reconciler retries later). */
export function failMirrorCopy(
  ports: Pick<Ports, "db">,
  job: Job<{ backupId: string; mirrorVaultId: string }>,
  error: Error,
) {
  return recordCopyFailed(ports.db, job.data.backupId, job.data.mirrorVaultId, error.message);
}
