// Configuration from the environment; the defaults serve a local machine (README "Configuration").
import { createHash } from "node:crypto";
import { copyBandwidthFromEnv } from "./transferConfig.ts";
import { webhookConfigFromEnv } from "./webhookConfig.ts";

export type RegionInfo = { id: string; name: string };

const defaultRegions: RegionInfo[] = [
  { id: "cn-hangzhou", name: "China (Hangzhou)" },
  { id: "cn-shanghai", name: "China (Shanghai)" },
  { id: "cn-beijing", name: "China (Beijing)" },
  { id: "cn-shenzhen", name: "China (Shenzhen)" },
  { id: "ap-southeast-1", name: "Singapore" },
  { id: "eu-central-1", name: "Germany (Frankfurt)" },
];

/** `REGIONS` is a comma-separated list of `id` or `id=Display name`. */
function parseRegions(value: string | undefined): RegionInfo[] {
  if (!value?.trim()) return defaultRegions;
  return value.split(",").map((item) => {
    const [id, name] = item.split("=").map((part) => part.trim());
    return { id, name: name || defaultRegions.find((r) => r.id === id)?.name || id };
  });
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
}

/** A worker concurrency: a whole number of at least 1. */
function concurrencyFromEnv(name: string, fallback: number): number {
  const value = intFromEnv(name, fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1`);
  return value;
}

/**
 * `WORKER_REGIONS`: the regions whose workers `npm start` runs, comma-separated; `none` serves the API only.
 * Unset (or `all`): every region, and this process owns the database (embedded when DATABASE_URL is unset, migrated).
 */
function parseWorkerRegions(value: string | undefined): string[] | undefined {
  const trimmed = value?.trim();
  if (!trimmed || trimmed === "all") return undefined;
  if (trimmed === "none") return [];
  return trimmed.split(",").map((id) => id.trim());
}

const secret = process.env.SECRET_KEY ?? "mirror-vault-gateway-local-development-secret";

export const config = {
  port: intFromEnv("PORT", 4000),
  /** Unset: `npm start` runs an embedded PostgreSQL with its data under STORAGE_DIR (src/runtime.ts). */
  databaseUrl: process.env.DATABASE_URL || undefined,
  /** Unset: queues run on BullMQ's PostgreSQL backend and events on LISTEN/NOTIFY. */
  redisUrl: process.env.REDIS_URL || undefined,
  /** The embedded PostgreSQL's port (when DATABASE_URL is unset); a free one is picked if it is taken. */
  embeddedPostgresPort: intFromEnv("EMBEDDED_POSTGRES_PORT", 5488),
  /** The simulated SAP HANA clusters' own database; unset: `<database>_hana_sim` on the same server. */
  hanaSimulatorDatabaseUrl: process.env.HANA_SIMULATOR_DATABASE_URL || undefined,
  adminApiKey: process.env.ADMIN_API_KEY ?? "admin-local-key",
  /**
   * How long the API trusts a key it found without asking the database again: a deleted (revoked) key still works
   * at most this long on each API process. 0: every request asks the database.
   */
  apiKeyCacheMs: intFromEnv("API_KEY_CACHE_MS", 5_000),
  /** 32 bytes for AES-256-GCM, derived from SECRET_KEY whatever its length. */
  secretKey: createHash("sha256").update(secret).digest(),
  storageDir: process.env.STORAGE_DIR ?? "./data",
  /** Restores stage fetched chunks here (a folder per restore); unset: `<STORAGE_DIR>/.restore-staging`. */
  restoreStagingDir: process.env.RESTORE_STAGING_DIR || undefined,
  historicalSyncDelayMs: intFromEnv("HISTORICAL_SYNC_DELAY_MS", 5_400_000),
  regions: parseRegions(process.env.REGIONS),
  /** Unset: every region's workers run in `npm start`; `[]` (`none`): the API only (README "Production"). */
  workerRegions: parseWorkerRegions(process.env.WORKER_REGIONS),
  /** Prefix of every BullMQ key and pub/sub channel, so several deployments (or test files) share one Redis. */
  queuePrefix: process.env.QUEUE_PREFIX ?? "mvg",
  reconcileIntervalMs: intFromEnv("RECONCILE_INTERVAL_MS", 60_000),
  /** How long a worker's claim on a restore (and a BullMQ job lock) lasts without a heartbeat. */
  leaseMs: intFromEnv("LEASE_MS", 30_000),
  /**
   * Jobs one region's worker runs at once, per queue. Sync jobs (historical syncs, copies) mostly wait on the
   * database and storage I/O, so they get the most; restores hold a cluster and stream whole backups, so few.
   */
  workerConcurrency: {
    hana: concurrencyFromEnv("HANA_CONCURRENCY", 4),
    backup: concurrencyFromEnv("BACKUP_CONCURRENCY", 4),
    sync: concurrencyFromEnv("SYNC_CONCURRENCY", 16),
    restore: concurrencyFromEnv("RESTORE_CONCURRENCY", 2),
    /** Storage GC: one sweep of a region's store at a time. */
    maintenance: 1,
  },
  /** The length of a minute of a restore drill's intervalMinutes; shorter only in tests. */
  drillMinuteMs: intFromEnv("DRILL_MINUTE_MS", 60_000),
  /** How often each region's storage garbage collection runs (removes chunks no manifest references); 0: never. */
  storageGcIntervalMs: intFromEnv("STORAGE_GC_INTERVAL_MS", 3_600_000),
  /**
   * Unreferenced chunks younger than this stay, so GC never deletes a chunk a running writer is about to name
   * in its manifest. Keep it longer than any backup or copy takes; 0 only in tests.
   */
  storageGcMinAgeMs: intFromEnv("STORAGE_GC_MIN_AGE_MS", 3_600_000),
  /** Copies running at once per region pair (source → mirror region), across every worker process. */
  copyConcurrencyPerRegionPair: concurrencyFromEnv("COPY_CONCURRENCY_PER_REGION_PAIR", 4),
  /** Bytes/s of copies per region pair, per process (src/transferConfig.ts); unset: unlimited. */
  copyBandwidth: copyBandwidthFromEnv(process.env, parseRegions(process.env.REGIONS)),
  /** Webhook delivery: timeouts, retries, the SSRF guard's operator switch (src/webhookConfig.ts). */
  webhooks: webhookConfigFromEnv(process.env),
};

export type Config = typeof config;
