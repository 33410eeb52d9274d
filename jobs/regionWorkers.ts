// The workers of one region: one BullMQ Worker per queue of the region, each job dispatched by name to its
// processor (one processor per file in jobs/). Work for a region is only ever done here.
import type { Job } from "bullmq";
import type { Config } from "../src/config.ts";
import type { Ports } from "../src/domain/ports.ts";
import { type LogFields, log, withLogFields } from "../src/log/index.ts";
import { jobDuration, jobsFailed } from "../src/metrics/jobMetrics.ts";
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

/** What each line a job logs carries: the job, its queue and region, the ids it works on and the request behind it. */
function jobLogFields(regionId: string, kind: QueueKind, job: Job): LogFields {
  const data = (job.data ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof data[key] === "string" ? (data[key] as string) : undefined);
  return {
    requestId: text("requestId"),
    jobId: job.id,
    job: job.name,
    queue: kind,
    region: regionId,
    restoreId: text("restoreId"),
    backupId: text("backupId"),
    mirrorVaultId: text("mirrorVaultId"),
    instanceId: text("instanceId"),
  };
}

/** Runs one attempt with its log fields, timing it; a job moved to delayed (DelayedError) is neither. */
async function runAttempt(regionId: string, kind: QueueKind, job: Job, run: () => Promise<unknown>) {
  return withLogFields(jobLogFields(regionId, kind, job), async () => {
    const timer = jobDuration.startTimer({ region: regionId, queue: kind, job: job.name });
    try {
      const result = await run();
      const seconds = timer({ outcome: "completed" });
      log.info({ durationMs: Math.round(seconds * 1000) }, "job completed");
      return result;
    } catch (error) {
      if ((error as Error).name !== "DelayedError") timer({ outcome: "failed" });
      throw error;
    }
  });
}

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
        return runAttempt(regionId, kind, job, () => processor(ports, job, { regionId, token }));
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
      jobsFailed.inc({ region: regionId, queue: kind, job: job.name, final: String(final) });
      withLogFields(jobLogFields(regionId, kind, job), () => {
        log.error(
          { err: error, attemptsMade: job.attemptsMade, final },
          final ? "job failed" : "job failed, will retry",
        );
        if (isStall(error)) {
          // Not the work's failure: the row stays unfinished and the job is put back (the reconciler would too).
          void job.retry("failed").catch((e) => log.error({ err: e }, "putting a stalled job back failed"));
          return;
        }
        // If this write fails too, the reconciler finds the row unfinished and runs the job again.
        if (final) {
          void onFinalFailure[job.name]?.(ports, job, error).catch((e) =>
            log.error({ err: e }, "recording the job's final failure failed"),
          );
        }
      });
    });
    worker.on("error", (error) => log.error({ err: error, region: regionId, queue: kind }, "worker error"));
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
