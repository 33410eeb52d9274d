import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import type { Db } from "./types.ts";

export type { Db };

/** One client per process (or per test file); the pool waits at most 10 s for a connection. */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    connectionTimeoutMillis: 10_000,
    max: options.max ?? 10,
  });
  return new PrismaClient({ adapter });
}

/**
 * A small pool for the simulator's bulk loads, which bypass Prisma (see src/hana/bulk.ts). Its connections close
 * when idle and never keep the process alive.
 */
export function createBulkPool(databaseUrl: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 2,
    idleTimeoutMillis: 2_000,
    connectionTimeoutMillis: 10_000,
    allowExitOnIdle: true,
  });
  pool.on("error", (error) => console.error("[bulk pool]", error.message));
  return pool;
}
