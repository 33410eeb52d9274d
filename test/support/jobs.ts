// Waits on BullMQ's own events (QueueEvents), bounded in time: no sleeps.
import { Job } from "bullmq";
import { jobIds, type QueueKind, queueName } from "../../src/queue/queues.ts";
import { createRegionQueueEvents, type RegionQueueEvents } from "../../src/queue/regionWorker.ts";
import type { Services } from "../../src/services.ts";

const listeners = new Map<string, RegionQueueEvents>();

async function eventsFor(services: Services, regionId: string, kind: QueueKind) {
  const name = queueName(regionId, kind);
  let events = listeners.get(`${services.config.queuePrefix}/${name}`);
  if (!events) {
    events = createRegionQueueEvents(services.queues.backend, regionId, kind);
    await events.waitUntilReady();
    listeners.set(`${services.config.queuePrefix}/${name}`, events);
  }
  return events;
}

export async function waitForJob(
  services: Services,
  regionId: string,
  kind: QueueKind,
  jobId: string,
  timeoutMs = 30_000,
) {
  const events = await eventsFor(services, regionId, kind);
  const queue = services.queues.get(regionId, kind);
  const job = await Job.fromId(queue, jobId);
  if (!job) throw new Error(`no job ${jobId} in ${queueName(regionId, kind)}`);
  return job.waitUntilFinished(events, timeoutMs);
}

export const waitFor = {
  initialized: (s: Services, regionId: string, instanceId: string) =>
    waitForJob(s, regionId, "hana", jobIds.initialize(instanceId)),
  backup: (s: Services, regionId: string, backupId: string) =>
    waitForJob(s, regionId, "backup", jobIds.backup(backupId)),
};

export async function closeJobListeners() {
  await Promise.all([...listeners.values()].map((events) => events.close()));
  listeners.clear();
}

// Mirror vaults (R8, R9): the jobs run on the MIRROR region's sync queue.
export const waitForSync = {
  historicalSync: (s: Services, mirrorRegionId: string, mirrorVaultId: string, timeoutMs?: number) =>
    waitForJob(s, mirrorRegionId, "sync", jobIds.historicalSync(mirrorVaultId), timeoutMs),
  copy: (s: Services, mirrorRegionId: string, backupId: string, mirrorVaultId: string, timeoutMs?: number) =>
    waitForJob(s, mirrorRegionId, "sync", jobIds.copy(backupId, mirrorVaultId), timeoutMs),
};
