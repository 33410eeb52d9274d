// A benchmark's own databases: each named `<base>_<pid>_<random>`, created fresh (never re-used, never dropped by
// pattern) and migrated; `dropBenchDatabase` drops only what this process created, with the HANA simulator's
// database next to it (`<name>_hana_sim`, which the services create from the product database's name).
import { randomBytes } from "node:crypto";
import pg from "pg";
import { applyMigrations } from "../../src/db/schemaEngine.ts";

const baseUrl = process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** base name → the unique database created for it in this process. */
const created = new Map<string, string>();

function urlOf(name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(use: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.end();
  }
}

/** The URL of the database `freshBenchDatabase(base)` created in this process. */
export function benchDatabaseUrl(base: string): string {
  const name = created.get(base);
  if (!name) throw new Error(`no bench database was created for ${base}`);
  return urlOf(name);
}

/** Creates this run's database for `base` (a name no other run uses) and migrates it unless told not to. */
export async function freshBenchDatabase(base: string, options: { migrate?: boolean } = {}): Promise<string> {
  if (!/^mvg_bench[a-z0-9_]*$/.test(base)) throw new Error(`bench database names start with mvg_bench: ${base}`);
  if (created.has(base)) await dropBenchDatabase(base);
  const name = `${base}_${process.pid}_${randomBytes(3).toString("hex")}`;
  // `create database` fails on an existing name: whatever is there is someone else's and stays.
  await withAdmin((admin) => admin.query(`create database "${name}"`));
  created.set(base, name);
  const url = urlOf(name);
  if (options.migrate !== false) await applyMigrations(url);
  return url;
}

/** Drops the database this process created for `base` (and its simulator database); anything else stays. */
export async function dropBenchDatabase(base: string): Promise<void> {
  const name = created.get(base);
  if (!name) return;
  await withAdmin(async (admin) => {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`drop database if exists "${name}_hana_sim" with (force)`);
  });
  created.delete(base);
}

/** Drops every database this process created (bench/run.ts calls it when a run ends, also after a crash). */
export async function dropAllBenchDatabases(): Promise<void> {
  for (const base of [...created.keys()]) await dropBenchDatabase(base);
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
