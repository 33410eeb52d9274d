// The queue backend seam: BullMQ's classes bound to Redis or to BullMQ's own PostgreSQL backend, chosen once at the
// composition root. Everything else (RegionQueues, the region workers, tests) builds its Queue, Worker and
// QueueEvents from a QueueBackend and never names a datastore.
import {
  type BackendClasses,
  type ConnectionOptions,
  createPostgresBackend,
  createRedisBackend,
  type IQueueBackend,
  type PostgresConnectionOptions,
  type PostgresQueueBackend,
  type RedisQueueBackend,
  runMigrations,
  withBackend,
} from "bullmq";
import pg from "pg";
import { pgIdentifier } from "../pgIdentifier.ts";
import { createRedis, waitReady } from "../redis.ts";

type Bound<K extends string, B extends IQueueBackend, C> = Pick<
  BackendClasses<B, C>,
  "Queue" | "Worker" | "QueueEvents"
> & {
  readonly kind: K;
  /** For producers (Queue): fails fast when the datastore is down, so a mutation never hangs. */
  readonly connection: C;
  /** For Worker and QueueEvents: waits for the datastore to come back. */
  readonly workerConnection: C;
  /** Redis key prefix; on PostgreSQL it names the schema (BullMQ ignores `prefix` there). */
  readonly prefix: string;
  /** Ends the connections the backend itself holds (each Queue/Worker/QueueEvents closes its own). */
  close(): Promise<void>;
};

export type RedisBinding = Bound<"redis", RedisQueueBackend, ConnectionOptions>;
export type PostgresBinding = Bound<"postgres", PostgresQueueBackend, PostgresConnectionOptions>;
export type QueueBackend = RedisBinding | PostgresBinding;

export async function createRedisQueueBackend(options: { url: string; prefix: string }): Promise<RedisBinding> {
  const connection = createRedis(options.url, "producer");
  // One worker connection for all of a process's workers; BullMQ duplicates it for each blocking consumer.
  const workerConnection = createRedis(options.url, "worker");
  try {
    await Promise.all([waitReady(connection), waitReady(workerConnection)]);
  } catch (error) {
    connection.disconnect();
    workerConnection.disconnect();
    throw error;
  }
  return {
    kind: "redis",
    ...withBackend(createRedisBackend),
    connection,
    workerConnection,
    prefix: options.prefix,
    async close() {
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}

/**
 * Pool sizes per Queue / Worker / QueueEvents. Each of them owns a pg.Pool, and each Worker and QueueEvents also
 * holds a dedicated LISTEN connection: measured, a Queue holds 1 connection, a Worker 3 (its pool stays open: it
 * polls at least every drainDelay), QueueEvents 2. A region's 5 queues plus 5 workers hold 20, so the 6 default
 * regions in one process need about 120 besides Prisma's pool: size max_connections for it (BullMQ's backend works
 * with a pool of one, but gets slower).
 */
const POOL_SIZE = { producer: 1, worker: 2 };

export async function createPostgresQueueBackend(options: { url: string; prefix: string }): Promise<PostgresBinding> {
  const schema = queueSchemaName(options.prefix);
  // Migrations once, on one session (BullMQ's advisory lock and transaction must share it), so the
  // Queue/Worker/QueueEvents only check the schema version when they connect.
  const migrator = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 5000 });
  await migrator.connect();
  try {
    await runMigrations(migrator, schema);
  } finally {
    await migrator.end();
  }
  // BullMQ's tables need no fsync per commit: like a Redis without persistence, a crash may lose the last moments
  // of queue state, and the reconciler re-enqueues from the product database whatever is due or unfinished
  // (never corruption: only durability of the newest commits is relaxed, and only on these connections).
  // Measured by bench/queueLateness.ts: it roughly halves the lateness of 1,000 delayed jobs due together.
  const base = { connectionString: options.url, schema, options: "-c synchronous_commit=off" };
  return {
    kind: "postgres",
    ...withBackend(createPostgresBackend),
    // The pg pool waits forever for a connection by default: a producer gives up after 5 s instead.
    connection: { ...base, max: POOL_SIZE.producer, connectionTimeoutMillis: 5000 },
    // A worker's failed connect is retried by BullMQ's run loop; the timeout only bounds an unreachable host.
    workerConnection: { ...base, max: POOL_SIZE.worker, connectionTimeoutMillis: 30_000 },
    prefix: options.prefix,
    async close() {},
  };
}

/**
 * The PostgreSQL schema holding BullMQ's tables for `prefix`: runs (and deployments) sharing one database are
 * kept apart by schema, as the key prefix does on Redis.
 */
export function queueSchemaName(prefix: string): string {
  return pgIdentifier("bullmq", prefix);
}
