// Everything a request handler or a worker needs, built once per process (or per test file).
import type { Redis } from "ioredis";
import { type Config, config as defaultConfig } from "./config.ts";
import { createBulkPool, createDb, type Db } from "./db/client.ts";
import { RegionCatalogue } from "./domain/regions.ts";
import { createEvents, type Events } from "./events/pubsub.ts";
import type { HanaConnector } from "./hana/connector.ts";
import { HanaSimulator } from "./hana/simulator.ts";
import { createRedisQueueBackend } from "./queue/queueBackend.ts";
import { RegionQueues } from "./queue/queues.ts";
import { createRedis } from "./redis.ts";
import { RegionalStorage } from "./storage/regionalStorage.ts";

export type Services = {
  config: Config;
  db: Db;
  redis: Redis;
  events: Events;
  regions: RegionCatalogue;
  queues: RegionQueues;
  storage: RegionalStorage;
  /** The connector every cluster is reached through (the simulator by default). */
  hana: HanaConnector;
  /** Set when the connector is the simulator: what `simulateHanaWrites` drives. */
  simulator: HanaSimulator | null;
  close(): Promise<void>;
};

export async function createServices(overrides: Partial<Config> = {}): Promise<Services> {
  const config = { ...defaultConfig, ...overrides };
  const db = createDb(config.databaseUrl);
  const redis = createRedis(config.redisUrl, "producer");
  const subscriber = createRedis(config.redisUrl, "subscriber");
  await Promise.all([waitReady(redis), waitReady(subscriber)]);
  const events = createEvents(redis, subscriber, config.queuePrefix);
  const queues = new RegionQueues(await createRedisQueueBackend({ url: config.redisUrl, prefix: config.queuePrefix }));
  const bulkPool = createBulkPool(config.databaseUrl);
  const simulator = new HanaSimulator(db, { bulk: { pool: bulkPool } });
  const services: Services = {
    config,
    db,
    redis,
    events,
    regions: new RegionCatalogue(config.regions),
    queues,
    storage: new RegionalStorage(config.storageDir),
    hana: simulator,
    simulator,
    async close() {
      await queues.close();
      await queues.backend.close();
      await db.$disconnect();
      await bulkPool.end();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
  return services;
}

function waitReady(redis: Redis): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    redis.once("ready", () => resolve());
    redis.once("error", reject);
  });
}
