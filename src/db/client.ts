import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import type { Db } from "./types.ts";

export type { Db };

/** The reads that take a relation load strategy. */
const READS = new Set(["findUnique", "findUniqueOrThrow", "findFirst", "findFirstOrThrow", "findMany"]);

/** One client per process (or per test file); the pool waits at most 10 s for a connection. */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    connectionTimeoutMillis: 10_000,
    max: options.max ?? 10,
  });
  // "minimal": no Error built per call to point error messages at the caller's source line (8-15% of the API's CPU
  // in a profile); Prisma picks it only under NODE_ENV=production otherwise.
  const client = new PrismaClient({ adapter, errorFormat: "minimal" });
  // Relations load with one statement per relation ("query") unless a read asks for "join" (Prisma's relationJoins
  // preview): the vault listing does (its page and relations in one statement). Joins are not the default
  // everywhere: with them a nested relation's order and page came back wrong (a drill's runs, test/api/drills).
  return client.$extends({
    query: {
      $allModels: {
        $allOperations({ operation, args, query }) {
          const read = args as { relationLoadStrategy?: string } | undefined;
          if (READS.has(operation) && read && read.relationLoadStrategy === undefined) {
            return query({ ...read, relationLoadStrategy: "query" } as typeof args);
          }
          return query(args);
        },
      },
    },
  }) as unknown as Db;
}
