// Everything a request handler or a worker needs, built once per process (or per test file).
import type { Redis } from "ioredis";
import { type Config, config as defaultConfig } from "./config.ts";
import { createBulkPool, createDb, type Db } from "./db/client.ts";
import { type Ports, systemClock } from "./domain/ports.ts";
import { RegionCatalogue } from "./domain/regions.ts";
import type { EventBus } from "./events/eventBus.ts";
import { createEvents, type Events } from "./events/pubsub.ts";
import type { HanaConnector } from "./hana/connector.ts";
import { HanaSimulator } from "./hana/simulator.ts";
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
  /** The same backends as the domain's ports (the events through the EventBus interface). */
  ports: Ports;
  close(): Promise<void>;
};

export async function createServices(overrides: Partial<Config> = {}): Promise<Services> {
  const config = { ...defaultConfig, ...overrides };
  const db = createDb(config.databaseUrl);
  const redis = createRedis(config.redisUrl, "producer");
  const subscriber = createRedis(config.redisUrl, "subscriber");
  await Promise.all([waitReady(redis), waitReady(subscriber)]);
  const events = createEvents(redis, subscriber, config.queuePrefix);
  const queues = new RegionQueues(redis, config.queuePrefix);
  const bulkPool = createBulkPool(config.databaseUrl);
  const simulator = new HanaSimulator(db, { bulk: { pool: bulkPool } });
  const regions = new RegionCatalogue(config.regions);
  const storage = new RegionalStorage(config.storageDir);
  const ports: Ports = {
    db,
    events: eventBusOver(events),
    queues,
    storage,
    hana: simulator,
    clock: systemClock,
    regions,
    config,
  };
  const services: Services = {
    config,
    db,
    redis,
    events,
    regions,
    queues,
    storage,
    hana: simulator,
    simulator,
    ports,
    async close() {
      await queues.close();
      await db.$disconnect();
      await bulkPool.end();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
  return services;
}

/** Until the composition root builds a real EventBus: the yoga pub/sub seen through the EventBus interface. */
function eventBusOver(events: Events): EventBus {
  const publishTo = events.publish as (topic: string, id: string, payload: { id: string }) => void;
  return {
    async publish(topic, id) {
      publishTo(topic, id, { id });
    },
    async subscribe(topic, id, listener) {
      const iterator = events.subscribe(topic, id)[Symbol.asyncIterator]();
      void (async () => {
        while (!(await iterator.next()).done) listener();
      })();
      return async () => {
        await iterator.return?.();
      };
    },
    async close() {},
  };
}

function waitReady(redis: Redis): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    redis.once("ready", () => resolve());
    redis.once("error", reject);
  });
}
