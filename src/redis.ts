import { Redis } from "ioredis";

/**
 * Producers and API calls fail fast when Redis is down (a mutation must not hang);
 * BullMQ workers need maxRetriesPerRequest null so they wait for Redis to come back.
 */
export function createRedis(url: string, role: "producer" | "worker" | "subscriber", name?: string): Redis {
  return new Redis(url, {
    // CLIENT SETNAME: tells an operator (and a test) which connection is which.
    connectionName: name,
    maxRetriesPerRequest: role === "worker" ? null : 1,
    enableOfflineQueue: role !== "producer",
    connectTimeout: 5000,
    lazyConnect: false,
  });
}

/** Resolves once the connection is ready; rejects on its first error (a producer must not wait for Redis). */
export function waitReady(redis: Redis): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    redis.once("ready", () => resolve());
    redis.once("error", reject);
  });
}
