// `<mirror region>.sync` / historicalSync (R9): one attempt of a mirror's historical sync. BullMQ retries a failure
// with backoff; the final failure leaves the replication FAILED. It also starts the other due syncs of its region.
import type { Job } from "bullmq";
import { markHistoricalSyncFailed, runHistoricalSync } from "../src/domain/mirrors/historicalSync.ts";
import type { Ports } from "../src/domain/ports.ts";
import type { JobContext } from "./jobContext.ts";
import { leased } from "./leased.ts";

type Data = { mirrorVaultId: string };

export function historicalSync(
  ports: Pick<Ports, "db" | "queues" | "storage" | "events" | "clock" | "copySlots" | "bandwidth" | "config">,
  job: Job<Data>,
  ctx: JobContext,
) {
  // Also starts every other due sync of the worker's region (R9's sweep).
  return leased(job, ctx, () =>
    runHistoricalSync(ports, job.data.mirrorVaultId, (percent) => job.updateProgress(percent), {
      regionId: ctx.regionId,
    }),
  );
}

export function failHistoricalSync(ports: Pick<Ports, "db" | "events">, job: Job<Data>, error: Error) {
  return markHistoricalSyncFailed(ports, job.data.mirrorVaultId, error.message);
}
