import { createPubSub } from "graphql-yoga";
import type { Redis } from "ioredis";
import { createRedisEventTarget } from "./redisEventTarget.ts";

/** Topics carry only an id: subscribers re-read the database, the source of truth. */
export type Topics = {
  "restore:updated": [restoreId: string, payload: { id: string }];
  "vault:replication": [vaultId: string, payload: { id: string }];
  "instance:updated": [instanceId: string, payload: { id: string }];
  "backup:updated": [backupId: string, payload: { id: string }];
};

export function createEvents(publish: Redis, subscribe: Redis, prefix: string) {
  const eventTarget = createRedisEventTarget({ publish, subscribe, channelPrefix: `${prefix}:events:` });
  return createPubSub<Topics>({ eventTarget: eventTarget as never });
}

export type Events = ReturnType<typeof createEvents>;
