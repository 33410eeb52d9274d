// Losing queue data as a Redis FLUSHALL would, but only this run's queues and on either backend.
import { QUEUE_KINDS, type QueueKind } from "../../src/queue/queues.ts";
import type { Services } from "../../src/services.ts";

export async function loseQueueData(
  services: Services,
  regionIds: string[],
  kinds: readonly QueueKind[] = QUEUE_KINDS,
) {
  for (const regionId of regionIds) {
    for (const kind of kinds) await services.queues.get(regionId, kind).obliterate({ force: true });
  }
}
