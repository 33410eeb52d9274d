// Producer side of the regional work queues. Work for a region is only ever consumed by that region's workers.
import type { JobsOptions } from "bullmq";
import type { QueueBackend } from "./queueBackend.ts";

/**
 * The queues each region has (`<region>.<kind>`; BullMQ forbids ":" in queue names). `maintenance` carries the
 * region's housekeeping (storage garbage collection), so it never takes a slot from backups or syncs.
 */
export const QUEUE_KINDS = ["hana", "backup", "sync", "restore", "maintenance"] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

export function queueName(regionId: string, kind: QueueKind): string {
  return `${regionId}.${kind}`;
}

/** Deterministic job ids: the same work is never queued twice at once (BullMQ ids allow no ":"). */
export const jobIds = {
  initialize: (instanceId: string) => `init-${instanceId}`,
  backup: (backupId: string) => `backup-${backupId}`,
  logBackupScheduler: (instanceId: string) => `logbackup-${instanceId}`,
  historicalSync: (mirrorVaultId: string) => `hsync-${mirrorVaultId}`,
  copy: (backupId: string, mirrorVaultId: string) => `copy-${backupId}-${mirrorVaultId}`,
  restore: (restoreId: string) => `restore-${restoreId}`,
  storageGcScheduler: (regionId: string) => `storage-gc-${regionId}`,
};

const defaultJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 1000 },
};

/** A producer Queue of either backend; the methods RegionQueues and its callers use are the same on both. */
export type RegionQueue = InstanceType<QueueBackend["Queue"]>;

export class RegionQueues {
  private readonly queues = new Map<string, RegionQueue>();
  private closed = false;
  readonly prefix: string;
  /** Also what the region workers and QueueEvents are built from. */
  constructor(readonly backend: QueueBackend) {
    this.prefix = backend.prefix;
  }

  get(regionId: string, kind: QueueKind): RegionQueue {
    return this.named(queueName(regionId, kind));
  }

  /** A queue by its full name: the regions' queues, and the one outside them (webhook deliveries). */
  named(name: string): RegionQueue {
    // A queue opened after close() would hold a connection nothing closes.
    if (this.closed) throw new Error("the queues are closed (the process is shutting down)");
    let queue = this.queues.get(name);
    if (!queue) {
      const options = { prefix: this.prefix, defaultJobOptions };
      // Narrowed per kind: each backend's Queue takes its own connection type.
      queue =
        this.backend.kind === "redis"
          ? new this.backend.Queue(name, { ...options, connection: this.backend.connection })
          : new this.backend.Queue(name, { ...options, connection: this.backend.connection });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async add(regionId: string, kind: QueueKind, name: string, data: object, options: JobsOptions & { jobId: string }) {
    return this.get(regionId, kind).add(name, data, options);
  }

  /**
   * For work the database says is due: makes sure a live job exists. A job id kept in the completed or failed set
   * would make a plain `add` a silent no-op, so a finished job is replaced and a failed one retried.
   */
  async ensure(
    regionId: string,
    kind: QueueKind,
    name: string,
    data: object,
    options: JobsOptions & { jobId: string },
  ) {
    return this.ensureIn(this.get(regionId, kind), name, data, options);
  }

  /** `ensure` on a queue given by its full name. */
  async ensureIn(queue: RegionQueue, name: string, data: object, options: JobsOptions & { jobId: string }) {
    const existing = await queue.getJob(options.jobId);
    if (existing) {
      const state = await existing.getState();
      if (state === "failed") return existing.retry("failed");
      if (state !== "completed") return; // waiting, delayed, active or prioritized: it will run
      await existing.remove();
    }
    await queue.add(name, data, options);
  }

  /** Removes a job unless it is running (a running job notices its row is gone and stops). */
  async remove(regionId: string, kind: QueueKind, jobId: string): Promise<void> {
    const job = await this.get(regionId, kind).getJob(jobId);
    if (job && !(await job.isActive())) await job.remove();
  }

  /**
   * Installs or updates a job scheduler running `job` every `everyMs`. BullMQ keeps the next run's time when the
   * interval is unchanged, so calling this again (e.g. from the reconciler) does not make it fire early.
   */
  async upsertScheduler(
    regionId: string,
    kind: QueueKind,
    schedulerId: string,
    everyMs: number,
    job: { name: string; data: object },
  ): Promise<void> {
    await this.get(regionId, kind).upsertJobScheduler(schedulerId, { every: everyMs }, job);
  }

  /** Removes a job scheduler and its next, not yet started run (a no-op when there is none). */
  async removeScheduler(regionId: string, kind: QueueKind, schedulerId: string): Promise<void> {
    await this.get(regionId, kind).removeJobScheduler(schedulerId);
  }

  async close() {
    this.closed = true;
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
