// The simulator's own schema: plain SQL files in ./migrations (NNNN_name.sql), applied in name order, each in a
// transaction, and recorded in "_hana_sim_migrations". An advisory lock serialises concurrent starts (an API and
// workers booting together); the database itself is created when missing.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { createSimPool, type SimDb, type SimPoolOptions } from "./pool.ts";

const MIGRATIONS_DIR = path.join(import.meta.dirname, "migrations");
const MIGRATION_FILE = /^\d{4}_[a-z0-9_]+\.sql$/;
/** Advisory locks are per database, so one fixed key only ever meets the simulator's own migrators. */
const LOCK_KEY = "mvg-hana-simulator-migrations";

/**
 * Creates the database of `databaseUrl` unless it exists, looking it up through the server's `postgres` database
 * (a connection attempt to a missing database would make the server log a FATAL line at every first start).
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 10_000 });
  try {
    await admin.connect();
  } catch {
    // No access to `postgres`: the database must exist already, and connecting to it says whether it does.
    await admin.end().catch(() => {});
    const probe = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
    await probe.connect().finally(() => probe.end().catch(() => {}));
    return;
  }
  try {
    const found = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount) return;
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } catch (error) {
    // Another process created it meanwhile: 42P04 duplicate_database, or 23505 from the catalog's unique index.
    const code = (error as { code?: string }).code;
    if (code !== "42P04" && code !== "23505") throw error;
  } finally {
    await admin.end();
  }
}

type Migration = { name: string; sql: string; checksum: string };

async function readMigrations(): Promise<Migration[]> {
  const names = (await readdir(MIGRATIONS_DIR)).filter((name) => MIGRATION_FILE.test(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(MIGRATIONS_DIR, name), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

/**
 * Applies the migrations the database has not recorded yet and returns their names. Refuses to run when a recorded
 * migration's file was edited since (its effect would silently differ between databases).
 */
export async function migrate(db: SimDb): Promise<string[]> {
  const migrations = await readMigrations();
  const client = await db.connect();
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS "_hana_sim_migrations" (
        "name" TEXT PRIMARY KEY,
        "checksum" TEXT NOT NULL,
        "appliedAt" TIMESTAMPTZ NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ name: string; checksum: string }>(
        `SELECT "name", "checksum" FROM "_hana_sim_migrations"`,
      );
      const recorded = new Map(rows.map((row) => [row.name, row.checksum]));
      const applied: string[] = [];
      for (const migration of migrations) {
        const checksum = recorded.get(migration.name);
        if (checksum === migration.checksum) continue;
        if (checksum !== undefined) {
          throw new Error(`simulator migration ${migration.name} was edited after it was applied; add a new one`);
        }
        await client.query("BEGIN");
        try {
          await client.query(migration.sql);
          await client.query(`INSERT INTO "_hana_sim_migrations" ("name", "checksum") VALUES ($1, $2)`, [
            migration.name,
            migration.checksum,
          ]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw error;
        }
        applied.push(migration.name);
      }
      return applied;
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

/** The simulator's database ready for use: created when missing, migrated, and a pool to it (end it when done). */
export async function openSimulatorDatabase(databaseUrl: string, options: SimPoolOptions = {}): Promise<SimDb> {
  await ensureDatabase(databaseUrl);
  const db = createSimPool(databaseUrl, options);
  try {
    await migrate(db);
  } catch (error) {
    await db.end();
    throw error;
  }
  return db;
}
