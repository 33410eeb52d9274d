// Part of the composition root: decides which backends run and makes sure they answer before anything else
// starts. DATABASE_URL unset: an embedded PostgreSQL under STORAGE_DIR. REDIS_URL unset: queues and events on
// PostgreSQL. A configured service that does not answer ends the start with one line naming the variable.
import path from "node:path";
import type { Config } from "./config.ts";
import { startEmbeddedPostgres } from "./db/embeddedPostgres.ts";
import { ensureDatabase } from "./db/ensureDatabase.ts";
import { checkPostgres, checkRedis, StartupError } from "./db/reachable.ts";
import { applyMigrations } from "./db/schemaEngine.ts";
import { createRegionalStorage } from "./services.ts";
import { StorageError } from "./storage/errors.ts";
import { checkRegionalStorage } from "./storage/storageCheck.ts";

export type Runtime = {
  databaseUrl: string;
  redisUrl: string | undefined;
  /** One line: which database, queue and event backends run. */
  summary: string;
  /** Stops what this process started (the embedded PostgreSQL). */
  stop(): Promise<void>;
};

/** Where a URL points, without its credentials. */
export function addressOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || "default port"}${parsed.pathname.length > 1 ? parsed.pathname : ""}`;
}

export async function prepareRuntime(
  config: Config,
  options: { migrate: boolean; embedded: boolean; storageRegions?: readonly string[] },
): Promise<Runtime> {
  // The configured services first: one that does not answer ends the start before anything is started.
  if (config.redisUrl) await checkRedis("REDIS_URL", config.redisUrl);
  if (options.storageRegions?.length) await checkStorage(config, options.storageRegions);
  let databaseUrl = config.databaseUrl;
  let stop = async () => {};
  let database: string;
  if (databaseUrl) {
    await checkPostgres("DATABASE_URL", databaseUrl);
    database = `PostgreSQL at ${addressOf(databaseUrl)}`;
  } else {
    if (!options.embedded) {
      throw new Error("DATABASE_URL is not set; the embedded PostgreSQL belongs to `npm start` (set DATABASE_URL)");
    }
    const dataDir = path.resolve(config.storageDir, "postgres");
    const embedded = await startEmbeddedPostgres({ dataDir, port: config.embeddedPostgresPort });
    databaseUrl = embedded.databaseUrl;
    stop = embedded.stop;
    database = `embedded PostgreSQL (data in ${dataDir}, port ${new URL(databaseUrl).port})`;
  }
  const backends = config.redisUrl
    ? `queues: BullMQ on Redis at ${addressOf(config.redisUrl)}; events: Redis pub/sub`
    : "queues: BullMQ on PostgreSQL; events: PostgreSQL LISTEN/NOTIFY";
  try {
    if (options.migrate) {
      // The embedded server created its database already.
      if (config.databaseUrl) await ensureDatabase(databaseUrl);
      await applyMigrations(databaseUrl);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { databaseUrl, redisUrl: config.redisUrl, summary: `database: ${database}; ${backends}`, stop };
}

/** The blob stores of the regions this process serves answer (STORAGE_<REGION> or STORAGE_DIR), or one line. */
export async function checkStorage(config: Config, regionIds: readonly string[]): Promise<void> {
  let storage: ReturnType<typeof createRegionalStorage> | undefined;
  try {
    storage = createRegionalStorage(config);
    await checkRegionalStorage(storage, regionIds);
  } catch (error) {
    if (error instanceof StorageError) throw new StartupError(error.message);
    throw error;
  } finally {
    storage?.close();
  }
}
