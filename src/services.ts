// The composition root: the one place that reads configuration and constructs backends (database, queues, event
// bus, regional blob stores, HANA connector). Everything else receives the ports it uses (src/domain/ports.ts).
import type { Redis } from "ioredis";
import { type Config, config as defaultConfig } from "./config.ts";
import { createDb } from "./db/client.ts";
import type { Ports } from "./domain/ports.ts";
import { systemClock } from "./domain/ports.ts";
import { RegionCatalogue } from "./domain/regions.ts";
import type { EventBus } from "./events/eventBus.ts";
import { createEvents } from "./events/pubsub.ts";
import { connectorFor, simulatorDatabaseUrl } from "./hana/index.ts";
import { RegionQueues } from "./queue/queues.ts";
import { createRedis } from "./redis.ts";
import { RegionalStorage } from "./storage/regionalStorage.ts";

/** The ports, plus what only the process itself needs: the whole configuration, readiness and shutdown. */
export type Services = Omit<Ports, "config"> & {
  config: Config;
  redis: Redis;
  /** PostgreSQL and the queue backend answer. */
  ready(): Promise<{ postgres: "ok" | "unavailable"; queues: "ok" | "unavailable" }>;
  close(): Promise<void>;
};

export async function createServices(overrides: Partial<Config> = {}): Promise<Services> {
  const config = { ...defaultConfig, ...overrides };
  const db = createDb(config.databaseUrl);
  const redis = createRedis(config.redisUrl, "producer");
  const subscriber = createRedis(config.redisUrl, "subscriber");
  await Promise.all([waitReady(redis), waitReady(subscriber)]);
  const pubsub = createEvents(redis, subscriber, config.queuePrefix);
  const events: EventBus = {
    publish: async (topic, id) => pubsub.publish(topic, id, { id }),
    async subscribe(topic, id, listener) {
      const iterator = pubsub.subscribe(topic, id)[Symbol.asyncIterator]();
      void (async () => {
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          listener();
        }
      })();
      return async () => void (await iterator.return?.());
    },
    close: async () => {},
  };
  const queues = new RegionQueues(redis, config.queuePrefix);
  // The simulated clusters live in a database of their own next to the product's (not the product's data).
  const hana = await connectorFor({
    kind: "simulator",
    databaseUrl: config.hanaSimulatorDatabaseUrl ?? simulatorDatabaseUrl(config.databaseUrl),
  });
  return {
    config,
    db,
    redis,
    events,
    regions: new RegionCatalogue(config.regions),
    queues,
    storage: new RegionalStorage(config.storageDir),
    hana: hana.connector,
    simulator: hana.simulator,
    clock: systemClock,
    async ready() {
      const checks = await Promise.allSettled([db.$queryRawUnsafe("select 1"), redis.ping()]);
      const [postgres, queues] = checks.map((check) => (check.status === "fulfilled" ? "ok" : "unavailable"));
      return { postgres, queues } as never;
    },
    async close() {
      await queues.close();
      await db.$disconnect();
      await hana.close();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}

function waitReady(redis: Redis): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    redis.once("ready", () => resolve());
    redis.once("error", reject);
  });
}
