// A Prisma client over a pg.Pool that counts every SQL statement sent to PostgreSQL.
// Counting happens on each pooled pg.Client's `query`, which both pool.query (plain queries) and
// the adapter's transactions go through, so each statement is counted exactly once.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import type { Db } from "../../src/db/client.ts";
import { PrismaClient } from "../../src/generated/prisma/client.ts";

export type SqlCounter = {
  count: number;
  statements: string[];
  reset(): void;
};

export function createCountingDb(databaseUrl: string, options: { max?: number } = {}) {
  const counter: SqlCounter = {
    count: 0,
    statements: [],
    reset() {
      this.count = 0;
      this.statements = [];
    },
  };
  const pool = new pg.Pool({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000, max: options.max ?? 10 });
  pool.on("connect", (client) => {
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as any).query = (...args: unknown[]) => {
      const first = args[0] as string | { text?: string } | undefined;
      counter.count += 1;
      counter.statements.push(typeof first === "string" ? first : (first?.text ?? "<unknown>"));
      return original(...args);
    };
  });
  const db: Db = new PrismaClient({ adapter: new PrismaPg(pool), errorFormat: "minimal" });
  return {
    db,
    counter,
    async close() {
      await db.$disconnect();
      await pool.end();
    },
  };
}
