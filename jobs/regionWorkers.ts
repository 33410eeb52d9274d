// The workers of one region: one BullMQ Worker per queue of the region, each job dispatched by name to its
// processor (one processor per file in jobs/). Work for a region is only ever done here.
import type { Job } from "bullmq";
import type { Config } from "../src/config.ts";
import type { Ports } from "../src/domain/ports.ts";
import { QUEUE_KINDS, type QueueKind } from "../src/queue/queues.ts";
import { createRegionWorker } from "../src/queue/regionWorker.ts";
import { backup, failBackupJob, logBackup } from "./backup.ts";
import { drill } from "./drill.ts";
import { failHistoricalSync, historicalSync } from "./historicalSync.ts";
import { failInitializeJob, initialize } from "./initializeInstance.ts";
import type { JobContext } from "./jobContext.ts";
import { failMirrorCopy, mirrorCopy } from "./mirrorCopy.ts";
import { failRestore, restore } from "./restore.ts";
import { runStorageGc } from "./storageGc.ts";

type Processor = (ports: Ports, job: Job, ctx: JobContext) => Promise<unknown>;

/** Every job a region's queues carry, by queue and job name. */
const processors: Record<QueueKind, Record<string, Processor>> = {
  hana: { initialize },
  backup: { backup, logBackup },
  sync: { historicalSync, copy: mirrorCopy },
  restore: { restore, drill },
  maintenance: { storageGc: runStorageGc },
};

/** What a job's final failure leaves in the database, so the row never stays RUNNING forever. */
const onFinalFailure: Partial<Record<string, (ports: Ports, job: Job, error: Error) => Promise<void>>> = {
  backup: failBackupJob,
  restore: failRestore,
  historicalSync: failHistoricalSync,
  initialize: failInitializeJob,
  copy: failMirrorCopy,
};

/** Practically unbounded: stalls are crashes (or a frozen event loop), never the job's own fault. */
export const MAX_STALLS = 1_000_000;

/** BullMQ's reason when a job stalled more often than `maxStalledCount`: a crash, never the work's failure. */
export const isStall = (error: Error) => /stalled more than allowable limit/.test(error.message);

export type WorkerSettings = Pick<Config, "workerConcurrency" | "leaseMs">;

export type RegionWorkers = { regionId: string; close(): Promise<void> };

/**
 * Starts one Worker per queue of the region, each running up to its queue's concurrency (config
 * `workerConcurrency`: SYNC_CONCURRENCY, BACKUP_CONCURRENCY, ...; `options.concurrency` overrides it). The
 * maintenance queue's storage GC scheduler is installed by the reconciler (jobs/storageGc.ts), on start and after.
 */
export function startRegionWorkers(
  ports: Ports,
  settings: WorkerSettings,
  regionId: string,
  options: { concurrency?: Partial<Record<QueueKind, number>> } = {},
): RegionWorkers {
  const workers = QUEUE_KINDS.map((kind) => {
    const worker = createRegionWorker(
      ports.queues.backend,
      regionId,
      kind,
      async (job, token) => {
        const processor = processors[kind][job.name];
        if (!processor) throw new Error(`no processor for ${kind} job "${job.name}"`);
        return processor(ports, job, { regionId, token });
      },
      {
        concurrency: options.concurrency?.[kind] ?? settings.workerConcurrency[kind],
        // Long copies and restores keep their lock (renewed every half of it); a killed worker's job is retaken
        // after the lock expires, found by the stalled check that runs every half lease.
        lockDuration: settings.leaseMs,
        stalledInterval: Math.max(1000, Math.floor(settings.leaseMs / 2)),
        // A crash is not a failure: however often a job's worker dies, the job goes back to wait (BullMQ's default
        // of 1 failed it on the second kill). Real errors are bounded by the job's attempts and backoff instead.
        maxStalledCount: MAX_STALLS,
      },
    );
    worker.on("failed", (job, error) => {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || error.name === "UnrecoverableError";
      console.error(
        `[${regionId}.${kind}] ${job.name} ${job.id} failed${final ? "" : " (will retry)"}: ${error.message}`,
      );
      if (isStall(error)) {
        // Not the work's failure: the row stays unfinished and the job is put back (the reconciler would too).
        void job.retry("failed").catch((e) => console.error(`[${regionId}.${kind}] ${e.message}`));
        return;
      }
      // If this write fails too, the reconciler finds the row unfinished and runs the job again.
      if (final) {
        void onFinalFailure[job.name]?.(ports, job, error).catch((e) =>
          console.error(`[${regionId}.${kind}] ${e.message}`),
        );
      }
    });
    worker.on("error", (error) => console.error(`[${regionId}.${kind}] worker error: ${error.message}`));
    return worker;
  });
  return {
    regionId,
    /** Graceful: stops taking jobs and waits for the running ones to finish. */
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
