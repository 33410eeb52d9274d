// Queue and event backends of both kinds for tests: each test file gets its own prefix (with RUN_ID) and, on
// PostgreSQL, its own database (dropped by test/support/setup.ts when the file ends).
import { Redis } from "ioredis";
import { createPostgresEventBus } from "../../src/events/postgresEventBus.ts";
import { createRedisEventBus } from "../../src/events/redisEventBus.ts";
import {
  createPostgresQueueBackend,
  createRedisQueueBackend,
  type QueueBackend,
} from "../../src/queue/queueBackend.ts";
import { freshDatabase } from "./database.ts";
import { RUN_ID } from "./runId.ts";

export const BACKEND_KINDS = ["redis", "postgres"] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** The prefix of `name` for this run: RUN_ID keeps concurrent runs (and a stray earlier worker) apart. */
export function testPrefix(name: string, kind: BackendKind): string {
  return `mvg-test-${name}-${kind}-${RUN_ID}`;
}

const databases = new Map<string, Promise<string>>();

/** One fresh database per test file and name (no product migrations: BullMQ makes its own schema). */
export function testDatabase(name: string): Promise<string> {
  let url = databases.get(name);
  if (!url) {
    url = freshDatabase(`backends_${name}`, { migrate: false });
    databases.set(name, url);
  }
  return url;
}

export async function testQueueBackend(kind: BackendKind, name: string): Promise<QueueBackend> {
  const prefix = testPrefix(name, kind);
  if (kind === "redis") return createRedisQueueBackend({ url: TEST_REDIS_URL, prefix });
  return createPostgresQueueBackend({ url: await testDatabase(name), prefix });
}

export async function testEventBus(kind: BackendKind, name: string) {
  const prefix = testPrefix(name, kind);
  if (kind === "redis") return createRedisEventBus({ url: TEST_REDIS_URL, prefix });
  return createPostgresEventBus({ url: await testDatabase(name), prefix });
}

/** Deletes this run's keys under `prefix` (never another run's: the prefix carries RUN_ID). */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  await redis.connect();
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** Closes the backend and removes what it stored (the PostgreSQL database goes with the test file). */
export async function disposeQueueBackend(backend: QueueBackend): Promise<void> {
  await backend.close();
  if (backend.kind === "redis") await deleteRedisPrefix(backend.prefix);
}
