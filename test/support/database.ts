// Each test file gets a database of its own, created fresh and migrated, so files can't leak into one another.
import pg from "pg";
import { applyMigrations } from "../../src/db/schemaEngine.ts";

const baseUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

const created = new Set<string>();

/** The database of `name` for this run: the pid keeps concurrent runs (and test files) apart. */
export function testDatabaseUrl(name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/mvg_test_${name.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${process.pid}`;
  return url.toString();
}

/** Drops the databases this process created (test/support/setup.ts runs it after each file). */
export async function dropCreatedDatabases(): Promise<void> {
  if (!created.size) return;
  const admin = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    for (const dbName of created) await admin.query(`drop database if exists "${dbName}" with (force)`);
    created.clear();
  } finally {
    await admin.end();
  }
}

/** Drops and re-creates the test file's database, then applies every migration (unless told not to). */
export async function freshDatabase(name: string, options: { migrate?: boolean } = {}): Promise<string> {
  const url = testDatabaseUrl(name);
  const dbName = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${dbName}" with (force)`);
    await admin.query(`create database "${dbName}"`);
    created.add(dbName);
  } finally {
    await admin.end();
  }
  if (options.migrate !== false) await applyMigrations(url);
  return url;
}
