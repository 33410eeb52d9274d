// Configuration from the environment, parsed and checked by one zod schema at start (README "Configuration"); the
// defaults serve a local machine. A bad value ends the start with one line naming the variable.
// Adding a variable: one line in `variables` (config key, variable name, kind and default from src/configValues.ts).
import { createHash } from "node:crypto";
import { z } from "zod";
import {
  bytesPerSecond,
  REGIONAL_VARIABLES,
  regionalInput,
  regionalValues,
  resolveRegional,
} from "./configRegional.ts";
import { flag, list, oneOf, optionalText, optionalUrl, text, whole } from "./configValues.ts";
import { LOG_LEVELS } from "./log/logger.ts";
import type { WebhookConfig } from "./webhookConfig.ts";

export type RegionInfo = { id: string; name: string };

const defaultRegions: RegionInfo[] = [
  { id: "cn-hangzhou", name: "China (Hangzhou)" },
  { id: "cn-shanghai", name: "China (Shanghai)" },
  { id: "cn-beijing", name: "China (Beijing)" },
  { id: "cn-shenzhen", name: "China (Shenzhen)" },
  { id: "ap-southeast-1", name: "Singapore" },
  { id: "eu-central-1", name: "Germany (Frankfurt)" },
];

/** Development values: fine on a laptop, refused when NODE_ENV=production. */
export const DEVELOPMENT_ADMIN_API_KEY = "admin-local-key";
const DEVELOPMENT_SECRET = "mirror-vault-gateway-local-development-secret";

/** `REGIONS`: a comma-separated list of `id` or `id=Display name`. */
const regionList = list([]).transform((items, ctx) => {
  if (!items.length) return defaultRegions;
  const regions = items.map((item) => {
    const [id, name] = item.split("=").map((part) => part.trim());
    return { id, name: name || defaultRegions.find((r) => r.id === id)?.name || id };
  });
  if (regions.some((region) => !/^[a-z0-9][a-z0-9-]*$/.test(region.id))) {
    ctx.addIssue({ code: "custom", message: "region ids are lower-case letters, digits and -, e.g. cn-hangzhou" });
  }
  return regions;
});

/** `WORKER_REGIONS`: unset or `all`: every region (this process owns the database); `none`: the API only. */
const workerRegionList = list([]).transform((items) => {
  if (!items.length || (items.length === 1 && items[0] === "all")) return undefined;
  if (items.length === 1 && items[0] === "none") return [] as string[];
  return items;
});

const duration = (fallback: number) => whole(fallback);
const concurrency = (fallback: number) => whole(fallback, { min: 1 });

/** Every variable: config key → [environment variable, kind with default]. */
const variables = {
  /** production refuses the development admin key and secret; test is development with another name. */
  nodeEnv: ["NODE_ENV", oneOf(["development", "production", "test"], "development")],
  port: ["PORT", whole(4000, { max: 65_535 })],
  /** Unset: `npm start` runs an embedded PostgreSQL with its data under STORAGE_DIR (src/runtime.ts). */
  databaseUrl: ["DATABASE_URL", optionalUrl(["postgresql:", "postgres:"])],
  /** Unset: queues run on BullMQ's PostgreSQL backend and events on LISTEN/NOTIFY. */
  redisUrl: ["REDIS_URL", optionalUrl(["redis:", "rediss:"])],
  /** The embedded PostgreSQL's port (when DATABASE_URL is unset); a free one is picked if it is taken. */
  embeddedPostgresPort: ["EMBEDDED_POSTGRES_PORT", whole(5488, { min: 1, max: 65_535 })],
  /** The simulated SAP HANA clusters' own database; unset: `<database>_hana_sim` on the same server. */
  hanaSimulatorDatabaseUrl: ["HANA_SIMULATOR_DATABASE_URL", optionalUrl(["postgresql:", "postgres:"])],
  adminApiKey: ["ADMIN_API_KEY", text(DEVELOPMENT_ADMIN_API_KEY)],
  /**
   * How long the API trusts a key it found without asking the database again: a deleted (revoked) key still works
   * at most this long on each API process. 0: every request asks the database.
   */
  apiKeyCacheMs: ["API_KEY_CACHE_MS", duration(5_000)],
  /** Key material for AES-256-GCM (hashed into `secretKey` below, whatever its length). */
  secret: ["SECRET_KEY", text(DEVELOPMENT_SECRET)],
  storageDir: ["STORAGE_DIR", text("./data")],
  /** Restores stage fetched chunks here (a folder per restore); unset: `<STORAGE_DIR>/.restore-staging`. */
  restoreStagingDir: ["RESTORE_STAGING_DIR", optionalText()],
  historicalSyncDelayMs: ["HISTORICAL_SYNC_DELAY_MS", duration(5_400_000)],
  regions: ["REGIONS", regionList],
  /** Unset: every region's workers run in `npm start`; `[]` (`none`): the API only (README "Production"). */
  workerRegions: ["WORKER_REGIONS", workerRegionList],
  /** Prefix of every BullMQ key and pub/sub channel, so several deployments (or test files) share one Redis. */
  queuePrefix: ["QUEUE_PREFIX", text("mvg")],
  reconcileIntervalMs: ["RECONCILE_INTERVAL_MS", duration(60_000)],
  /** How long a worker's claim on a restore (and a BullMQ job lock) lasts without a heartbeat. */
  leaseMs: ["LEASE_MS", whole(30_000, { min: 1 })],
  /**
   * Jobs one region's worker runs at once, per queue. Sync jobs (historical syncs, copies) mostly wait on the
   * database and storage I/O, so they get the most; restores hold a cluster and stream whole backups, so few.
   */
  hanaConcurrency: ["HANA_CONCURRENCY", concurrency(4)],
  backupConcurrency: ["BACKUP_CONCURRENCY", concurrency(4)],
  syncConcurrency: ["SYNC_CONCURRENCY", concurrency(16)],
  restoreConcurrency: ["RESTORE_CONCURRENCY", concurrency(2)],
  /** The length of a minute of a restore drill's intervalMinutes; shorter only in tests. */
  drillMinuteMs: ["DRILL_MINUTE_MS", whole(60_000, { min: 1 })],
  /** How often each region's storage garbage collection runs (removes chunks no manifest references); 0: never. */
  storageGcIntervalMs: ["STORAGE_GC_INTERVAL_MS", duration(3_600_000)],
  /**
   * Unreferenced chunks younger than this stay, so GC never deletes a chunk a running writer is about to name
   * in its manifest. Keep it longer than any backup or copy takes; 0 only in tests.
   */
  storageGcMinAgeMs: ["STORAGE_GC_MIN_AGE_MS", duration(3_600_000)],
  /** Copies running at once per region pair (source → mirror region), across every worker process. */
  copyConcurrencyPerRegionPair: ["COPY_CONCURRENCY_PER_REGION_PAIR", concurrency(4)],
  /** Bytes/s of copies per region pair, per process, unless COPY_BANDWIDTH_<FROM>__<TO> says otherwise; 0: unlimited. */
  copyBandwidthLimit: ["COPY_BANDWIDTH_LIMIT", bytesPerSecond],
  /** The least severe log level written: fatal, error, warn, info, debug, trace or silent. */
  logLevel: ["LOG_LEVEL", oneOf(LOG_LEVELS, "info")],
  /** Set: /metrics on this port with no key (not on PORT); unset: on PORT behind the admin key. */
  metricsPort: ["METRICS_PORT", whole(0, { max: 65_535 })],
  /**
   * How long one read of the database- and queue-derived figures serves /metrics (src/api/clusterMetrics.ts): every
   * scrape of an API process within this bound shows the same values; 0: each scrape reads.
   */
  metricsCacheMs: ["METRICS_CACHE_MS", duration(10_000)],
  /** Longest a SIGTERM/SIGINT waits for running requests and jobs before the process exits anyway. */
  shutdownTimeoutMs: ["SHUTDOWN_TIMEOUT_MS", whole(10_000, { min: 1 })],
  // GraphQL limits (src/api/limits/): graphql-armor's defaults, measured with fragments expanded.
  graphqlMaxDepth: ["GRAPHQL_MAX_DEPTH", whole(6, { min: 1 })],
  graphqlMaxAliases: ["GRAPHQL_MAX_ALIASES", whole(15)],
  graphqlMaxTokens: ["GRAPHQL_MAX_TOKENS", whole(1000, { min: 1 })],
  graphqlMaxDirectives: ["GRAPHQL_MAX_DIRECTIVES", whole(50)],
  graphqlMaxCost: ["GRAPHQL_MAX_COST", whole(5000, { min: 1 })],
  requestBodyLimitBytes: ["REQUEST_BODY_LIMIT_BYTES", whole(262_144, { min: 1024 })],
  nodesMaxIds: ["NODES_MAX_IDS", whole(100, { min: 1 })],
  simulateWritesMaxRows: ["SIMULATE_WRITES_MAX_ROWS", whole(100_000, { min: 1 })],
  simulateWritesMaxBytes: ["SIMULATE_WRITES_MAX_BYTES", whole(67_108_864, { min: 1 })],
  // Failed authentication, per client address and per presented key, in the shared backend.
  authFailureLimit: ["AUTH_FAILURE_LIMIT", whole(10, { min: 1 })],
  authFailureWindowMs: ["AUTH_FAILURE_WINDOW_MS", whole(60_000, { min: 1000 })],
  /** Behind a proxy: the client address is the first X-Forwarded-For entry. */
  trustProxy: ["TRUST_PROXY", flag(false)],
  // Fairness between accounts, per API process.
  accountMaxConcurrentRequests: ["ACCOUNT_MAX_CONCURRENT_REQUESTS", whole(4, { min: 1 })],
  accountMaxSubscriptions: ["ACCOUNT_MAX_SUBSCRIPTIONS", whole(10, { min: 1 })],
  /** Origins a browser may call the API from; empty: CORS off (no cross-origin access). */
  corsOrigins: ["CORS_ORIGINS", list([])],
  // Webhook delivery (src/webhookConfig.ts).
  /** Loopback, private, link-local and metadata receivers allowed (tests, private deployments). */
  webhookAllowPrivateNetworks: ["WEBHOOK_ALLOW_PRIVATE_NETWORKS", flag(false)],
  webhookTimeoutMs: ["WEBHOOK_TIMEOUT_MS", whole(10_000, { min: 1 })],
  webhookRetryBaseMs: ["WEBHOOK_RETRY_BASE_MS", whole(10_000, { min: 1 })],
  webhookRetryMaxDelayMs: ["WEBHOOK_RETRY_MAX_DELAY_MS", whole(3_600_000, { min: 1 })],
  webhookRetryWindowMs: ["WEBHOOK_RETRY_WINDOW_MS", whole(86_400_000)],
  webhookConcurrency: ["WEBHOOK_CONCURRENCY", concurrency(16)],
  webhookConcurrencyPerWebhook: ["WEBHOOK_CONCURRENCY_PER_WEBHOOK", concurrency(2)],
  webhookDispatchIntervalMs: ["WEBHOOK_DISPATCH_INTERVAL_MS", whole(1000, { min: 10 })],
} as const;

type Variables = typeof variables;
type Key = keyof Variables;

const keys = Object.keys(variables) as Key[];
/** Every environment variable the schema reads by name. */
export const CONFIG_VARIABLES: readonly string[] = keys.map((key) => variables[key][0]);
/** And by pattern: the names follow REGIONS (src/configRegional.ts). */
export const CONFIG_VARIABLE_PATTERNS: readonly string[] = REGIONAL_VARIABLES;
const schema = z
  .object({
    ...(Object.fromEntries(keys.map((key) => [key, variables[key][1]])) as { [K in Key]: Variables[K][1] }),
    regional: regionalValues,
  })
  .superRefine((settings, ctx) => {
    if (settings.nodeEnv !== "production") return;
    // The development values are in this file, hence public: a production start refuses them.
    if (settings.adminApiKey === DEVELOPMENT_ADMIN_API_KEY)
      ctx.addIssue({ code: "custom", path: ["adminApiKey"], message: "set your own key (NODE_ENV=production)" });
    if (settings.secret === DEVELOPMENT_SECRET)
      ctx.addIssue({ code: "custom", path: ["secret"], message: "set your own secret (NODE_ENV=production)" });
  })
  // Runs once every value is right: the per-region names are checked against REGIONS.
  .transform(({ regional, copyBandwidthLimit, ...settings }, ctx) => ({
    ...settings,
    ...resolveRegional(regional, settings.regions, copyBandwidthLimit, ctx),
  }));

/** A configuration value is wrong; the message is one line naming the variable (never a secret's value). */
export class ConfigError extends Error {}

/** Parses and checks the whole configuration; throws ConfigError naming the first bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv) {
  const input = {
    ...Object.fromEntries(keys.map((key) => [key, env[variables[key][0]]])),
    regional: regionalInput(env, new Set(CONFIG_VARIABLES)),
  };
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    // A named variable's key, or (per-region variables) the variable's name itself, last in the path.
    const name = variables[issue.path[0] as Key]?.[0] ?? String(issue.path.at(-1));
    throw new ConfigError(`${name}: ${issue.message}`);
  }
  /**
   * storageSpecs: each region's STORAGE_<REGION> store (absent: the folder STORAGE_DIR/<region>); copyBandwidth:
   * bytes/s of copies per region pair, per process (src/transferConfig.ts).
   */
  const { secret, ...settings } = result.data;
  /** Webhook delivery: timeouts, retries, the SSRF guard's operator switch. */
  const webhooks: WebhookConfig = {
    allowPrivateNetworks: settings.webhookAllowPrivateNetworks,
    timeoutMs: settings.webhookTimeoutMs,
    retryBaseMs: settings.webhookRetryBaseMs,
    retryMaxDelayMs: settings.webhookRetryMaxDelayMs,
    retryWindowMs: settings.webhookRetryWindowMs,
    concurrency: settings.webhookConcurrency,
    concurrencyPerWebhook: settings.webhookConcurrencyPerWebhook,
    dispatchIntervalMs: settings.webhookDispatchIntervalMs,
  };
  return {
    ...settings,
    /** 32 bytes for AES-256-GCM, derived from SECRET_KEY whatever its length. */
    secretKey: createHash("sha256").update(secret).digest(),
    workerConcurrency: {
      hana: settings.hanaConcurrency,
      backup: settings.backupConcurrency,
      sync: settings.syncConcurrency,
      restore: settings.restoreConcurrency,
      /** Storage GC: one sweep of a region's store at a time. */
      maintenance: 1,
    },
    webhooks,
  };
}

export type Config = ReturnType<typeof parseConfig>;

/** The process's configuration. A bad value ends every entry point (API, worker, scripts) with one line, no stack. */
function loadConfig(): Config {
  try {
    return parseConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

export const config = loadConfig();
