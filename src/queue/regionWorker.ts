// Consumer side of a region's queue: a BullMQ Worker on whichever backend the composition root chose.
import type { IQueueBackend, Job, QueueEvents } from "bullmq";
import type { QueueBackend } from "./queueBackend.ts";
import { type QueueKind, queueName } from "./queues.ts";

export type RegionJobProcessor = (job: Job, token?: string) => Promise<unknown>;

export type RegionWorkerOptions = {
  concurrency: number;
  /** How long a job stays claimed without a lock renewal; a crashed worker's job is retaken after it. */
  lockDuration: number;
  /** How often the worker looks for jobs whose lock expired (stalled) and puts them back. */
  stalledInterval: number;
  /** How many times a job may stall (its worker died) before BullMQ fails it. */
  maxStalledCount?: number;
};

/** A Worker of either backend; `on`, `close`, `run` and friends are the same on both. */
export type RegionWorker = InstanceType<QueueBackend["Worker"]>;

export function createRegionWorker(
  backend: QueueBackend,
  regionId: string,
  kind: QueueKind,
  processor: RegionJobProcessor,
  options: RegionWorkerOptions,
): RegionWorker {
  return createQueueWorker(backend, queueName(regionId, kind), processor, options);
}

/** A Worker of a queue given by its full name (the webhook deliveries' queue is outside the regions). */
export function createQueueWorker(
  backend: QueueBackend,
  name: string,
  processor: RegionJobProcessor,
  options: RegionWorkerOptions,
): RegionWorker {
  const common = { prefix: backend.prefix, ...options };
  // Narrowed per kind: each backend's Worker takes its own connection type.
  return backend.kind === "redis"
    ? new backend.Worker(name, processor, { ...common, connection: backend.workerConnection })
    : new backend.Worker(name, processor, { ...common, connection: backend.workerConnection });
}

/**
 * Erased to the backend interface, so `job.waitUntilFinished(events)` type-checks whichever backend made it
 * (TypeScript can't infer its type arguments from a union of the two backends' QueueEvents).
 */
// biome-ignore lint/suspicious/noExplicitAny: QueueEvents is invariant in its connection type; nothing here reads it.
export type RegionQueueEvents = QueueEvents<unknown, IQueueBackend, any>;

/** QueueEvents (completed/failed/... of a region's queue, from any process) on either backend. */
export function createRegionQueueEvents(backend: QueueBackend, regionId: string, kind: QueueKind): RegionQueueEvents {
  const name = queueName(regionId, kind);
  return backend.kind === "redis"
    ? new backend.QueueEvents(name, { prefix: backend.prefix, connection: backend.workerConnection })
    : new backend.QueueEvents(name, { prefix: backend.prefix, connection: backend.workerConnection });
}
