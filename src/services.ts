// Everything a request handler or a worker needs, built once per process (or per test file).
import type { Redis } from "ioredis";
import { type Config, config as defaultConfig } from "./config.ts";
import { createDb, type Db } from "./db/client.ts";
import { RegionCatalogue } from "./domain/regions.ts";
import { createEvents, type Events } from "./events/pubsub.ts";
import { createRedis } from "./redis.ts";

export type Services = {
  config: Config;
  db: Db;
  redis: Redis;
  events: Events;
  regions: RegionCatalogue;
  close(): Promise<void>;
};

export async function createServices(overrides: Partial<Config> = {}): Promise<Services> {
  const config = { ...defaultConfig, ...overrides };
  const db = createDb(config.databaseUrl);
  const redis = createRedis(config.redisUrl, "producer");
  const subscriber = createRedis(config.redisUrl, "subscriber");
  await Promise.all([waitReady(redis), waitReady(subscriber)]);
  const events = createEvents(redis, subscriber, config.queuePrefix);
  const services: Services = {
    config,
    db,
    redis,
    events,
    regions: new RegionCatalogue(config.regions),
    async close() {
      await db.$disconnect();
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
