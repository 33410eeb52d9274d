// Each test file gets a database of its own, created fresh and migrated, so files can't leak into one another.
import pg from "pg";
import { applyMigrations } from "../../src/db/schemaEngine.ts";
import { simulatorDatabaseUrl } from "../../src/hana/index.ts";
import { RUN_ID } from "./runId.ts";

const baseUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

const created = new Set<string>();

/** The database of `name` for this run: RUN_ID keeps concurrent runs (and test files) apart. */
export function testDatabaseUrl(name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/mvg_test_${name.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${RUN_ID}`;
  return url.toString();
}

async function withAdmin(use: (admin: pg.Client) => Promise<void>): Promise<void> {
  const admin = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    await use(admin);
  } finally {
    await admin.end();
  }
}

/** Drops the databases this process created (test/support/setup.ts runs it after each file). */
export async function dropCreatedDatabases(): Promise<void> {
  if (!created.size) return;
  await withAdmin(async (admin) => {
    for (const dbName of created) await admin.query(`drop database if exists "${dbName}" with (force)`);
    created.clear();
  });
}

/**
 * Creates the test file's database, then applies every migration (unless told not to). The name is this run's
 * own, so nothing is dropped first: a database of that name would be another run's.
 */
export async function freshDatabase(name: string, options: { migrate?: boolean } = {}): Promise<string> {
  const url = testDatabaseUrl(name);
  const dbName = new URL(url).pathname.slice(1);
  await withAdmin(async (admin) => {
    await admin.query(`create database "${dbName}"`);
    created.add(dbName);
  });
  if (options.migrate !== false) await applyMigrations(url);
  return url;
}

/**
 * The HANA simulator's database for `name` in this run: the one `simulatorDatabaseUrl` derives from
 * `testDatabaseUrl(name)`, so services built on `freshDatabase(name)` use it too. The simulator creates and
 * migrates it; it is dropped with the file's other databases.
 */
export async function freshSimulatorDatabase(name: string): Promise<string> {
  const url = simulatorDatabaseUrl(testDatabaseUrl(name));
  created.add(decodeURIComponent(new URL(url).pathname.slice(1)));
  return url;
}
