// The composition root: the one place that reads configuration and constructs backends (database, queues, event
// bus, regional blob stores, HANA connector). Everything else receives the ports it uses (src/domain/ports.ts).
// REDIS_URL set: queues and events on Redis; unset: BullMQ's PostgreSQL backend and LISTEN/NOTIFY.
import path from "node:path";
import type { Redis } from "ioredis";
import { type FailureCounter, postgresFailureCounter, redisFailureCounter } from "./api/limits/failureCounter.ts";
import { type Config, config as defaultConfig } from "./config.ts";
import { createDb } from "./db/client.ts";
import { type Ports, systemClock } from "./domain/ports.ts";
import { RegionCatalogue } from "./domain/regions.ts";
import type { EventBus } from "./events/eventBus.ts";
import { createPostgresEventBus } from "./events/postgresEventBus.ts";
import { createRedisEventBus } from "./events/redisEventBus.ts";
import { connectorFor, simulatorDatabaseUrl } from "./hana/index.ts";
import { log } from "./log/index.ts";
import { createCopySlots } from "./queue/copySlots.ts";
import { createPostgresQueueBackend, createRedisQueueBackend, type QueueBackend } from "./queue/queueBackend.ts";
import { RegionQueues } from "./queue/queues.ts";
import { createBandwidth } from "./storage/bandwidth.ts";
import { RegionalStorage } from "./storage/regionalStorage.ts";

type Health = "ok" | "unavailable";

/** The ports, plus what only the process itself needs: the whole configuration, readiness and shutdown. */
export type Services = Omit<Ports, "config"> & {
  config: Config & { databaseUrl: string; restoreStagingDir: string };
  /** PostgreSQL and the queue backend answer. */
  ready(): Promise<{ postgres: Health; queues: Health }>;
  /** Failed authentications per client address and key, shared by every API replica (Redis, else PostgreSQL). */
  authFailures: FailureCounter;
  close(): Promise<void>;
};

/** Builds every backend from the configuration; `databaseUrl` must be resolved (src/runtime.ts). */
export async function createServices(overrides: Partial<Config> = {}): Promise<Services> {
  const merged = { ...defaultConfig, ...overrides };
  const databaseUrl = merged.databaseUrl;
  if (!databaseUrl) throw new Error("createServices needs a database URL (src/runtime.ts resolves it)");
  // Next to the region stores by default: the same disk, and a test's storage folder holds it too.
  const restoreStagingDir = path.resolve(merged.restoreStagingDir ?? path.join(merged.storageDir, ".restore-staging"));
  const config = { ...merged, databaseUrl, restoreStagingDir };
  const db = createDb(databaseUrl);
  const backend: { queues: QueueBackend; events: EventBus } = config.redisUrl
    ? await redisBackends(config.redisUrl, config.queuePrefix)
    : await postgresBackends(databaseUrl, config.queuePrefix);
  const queues = new RegionQueues(backend.queues);
  const copySlots = createCopySlots(databaseUrl);
  // The simulated clusters live in a database of their own next to the product's (not the product's data).
  const hana = await connectorFor({
    kind: "simulator",
    databaseUrl: config.hanaSimulatorDatabaseUrl ?? simulatorDatabaseUrl(databaseUrl),
    onIdleError: (error) => log.warn({ err: error, component: "hana simulator pool" }, "an idle connection broke"),
  });
  const storage = createRegionalStorage(config);
  const redis = backend.queues.kind === "redis" ? (backend.queues.connection as Redis) : null;
  return {
    config,
    db,
    events: backend.events,
    regions: new RegionCatalogue(config.regions),
    queues,
    storage,
    hana: hana.connector,
    simulator: hana.simulator,
    clock: systemClock,
    copySlots,
    bandwidth: createBandwidth(),
    authFailures: redis
      ? redisFailureCounter(redis, config.queuePrefix, config.authFailureWindowMs)
      : postgresFailureCounter(db, config.authFailureWindowMs),
    async ready() {
      const [postgres, queueState] = await Promise.allSettled([db.$queryRawUnsafe("select 1"), redis?.ping()]);
      const health = (check: PromiseSettledResult<unknown>): Health =>
        check.status === "fulfilled" ? "ok" : "unavailable";
      // On PostgreSQL the queues live in the product database: they answer when it does.
      return { postgres: health(postgres), queues: health(redis ? queueState : postgres) };
    },
    async close() {
      await queues.close();
      await copySlots.close();
      await backend.events.close();
      await backend.queues.close();
      await hana.close();
      await db.$disconnect();
      storage.close();
    },
  };
}

/** Each region's blob store: the one STORAGE_<REGION> names (parsed with the configuration), else a directory under STORAGE_DIR. */
export function createRegionalStorage(config: Pick<Config, "storageDir" | "storageSpecs">): RegionalStorage {
  return new RegionalStorage(config.storageDir, { specs: config.storageSpecs });
}

async function redisBackends(url: string, prefix: string) {
  const queues = await createRedisQueueBackend({ url, prefix });
  return { queues, events: await createRedisEventBus({ url, prefix }) };
}

async function postgresBackends(url: string, prefix: string) {
  const queues = await createPostgresQueueBackend({ url, prefix });
  return { queues, events: await createPostgresEventBus({ url, prefix }) };
}
