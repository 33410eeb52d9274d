// A benchmark's own database: dropped, re-created and migrated on every run; no other database is touched but the
// HANA simulator's next to it (`<name>_hana_sim`, which the services create), dropped along with it.
import pg from "pg";
import { applyMigrations } from "../../src/db/schemaEngine.ts";

const baseUrl = process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** The run's own database for `name`: the pid keeps concurrent runs apart. */
function runDatabaseName(name: string): string {
  if (!/^mvg_bench[a-z0-9_]*$/.test(name)) throw new Error(`bench database names start with mvg_bench: ${name}`);
  return `${name}_${process.pid}`;
}

export function benchDatabaseUrl(name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${runDatabaseName(name)}`;
  return url.toString();
}

export async function freshBenchDatabase(base: string): Promise<string> {
  const url = benchDatabaseUrl(base);
  const name = runDatabaseName(base);
  const admin = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`drop database if exists "${name}_hana_sim" with (force)`);
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  await applyMigrations(url);
  return url;
}

export async function dropBenchDatabase(base: string): Promise<void> {
  const name = runDatabaseName(base);
  const admin = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`drop database if exists "${name}_hana_sim" with (force)`);
  } finally {
    await admin.end();
  }
}

/** Runs `use` with a single pg client on `url`, closing it afterwards. */
export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
