// Prisma's schema engine as WebAssembly: Prisma's native engine can't be downloaded on these machines
// (see ../shared/notes/toolchain.md), so migrations are diffed and applied through the wasm build.
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, "../..");
export const schemaPath = path.join(root, "prisma/schema.prisma");
export const migrationsDir = path.join(root, "prisma/migrations");

type Engine = {
  diff(params: unknown): Promise<unknown>;
  applyMigrations(input: unknown): Promise<{ appliedMigrationNames: string[] }>;
  free(): void;
};
type EngineModule = {
  SchemaEngine: { new: (options: unknown, log: (line: string) => void, adapter: unknown) => Promise<Engine> };
};

let engineModule: Promise<EngineModule> | undefined;

/** Loads the wasm bytes by hand: Node 20 can't import .wasm as an ES module without a flag. */
function loadEngineModule(): Promise<EngineModule> {
  engineModule ??= (async () => {
    const dir = path.dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
    const glue = await import(path.join(dir, "schema_engine_bg.js"));
    const bytes = await readFile(path.join(dir, "schema_engine_bg.wasm"));
    const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue as EngineModule;
  })();
  return engineModule;
}

const filters = { externalTables: [], externalEnums: [] };

/**
 * The pg adapter runs a migration script by splitting it at every `;`, which cuts a function body (`$$ ... $$`,
 * the vault_counters migration) apart. Sent whole as one simple query, PostgreSQL runs it as `prisma migrate deploy` would,
 * and all of it or none (one implicit transaction).
 */
function wholeScripts(factory: PrismaPg): PrismaPg {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const raw = adapter as unknown as { client: pg.Pool; onError(error: unknown): never };
    adapter.executeScript = async (script: string) => {
      try {
        await raw.client.query(script);
      } catch (error) {
        raw.onError(error);
      }
    };
    return adapter;
  };
  return factory;
}

async function withEngine<T>(connectionString: string, datamodel: string, use: (engine: Engine) => Promise<T>) {
  const { SchemaEngine } = await loadEngineModule();
  const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: 10_000 });
  const adapter = bindMigrationAwareSqlAdapterFactory(wholeScripts(new PrismaPg(pool)));
  const engine = await SchemaEngine.new({ datamodels: [["schema.prisma", datamodel]] }, () => {}, adapter);
  try {
    return await use(engine);
  } finally {
    engine.free();
    await pool.end();
  }
}

/** The SQL that takes a database from one datamodel (or nothing) to another; touches no database. */
export async function diffSql(from: string | null, to: string): Promise<string> {
  const datamodel = (content: string) => ({ tag: "schemaDatamodel", files: [{ path: "schema.prisma", content }] });
  return withEngine("postgresql://postgres@127.0.0.1:5432/postgres", to, async (engine) => {
    const result = (await engine.diff({
      from: from === null ? { tag: "empty" } : datamodel(from),
      to: datamodel(to),
      script: true,
      exitCode: null,
      filters,
    })) as { stdout: string };
    return result.stdout;
  });
}

/** Applies pending migration folders and records them in `_prisma_migrations`, as `prisma migrate deploy` does. */
export async function applyMigrations(connectionString: string): Promise<string[]> {
  await renamePathRecordedMigrations(connectionString);
  const names = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const migrationDirectories = await Promise.all(
    names.map(async (name) => ({
      // The folder name alone: it is what _prisma_migrations records, wherever the checkout lives.
      path: name,
      migrationFile: {
        path: "migration.sql",
        content: { tag: "ok", value: await readFile(path.join(migrationsDir, name, "migration.sql"), "utf8") },
      },
    })),
  );
  const lockPath = path.join(migrationsDir, "migration_lock.toml");
  const datamodel = await readFile(schemaPath, "utf8");
  return withEngine(connectionString, datamodel, async (engine) => {
    const result = await engine.applyMigrations({
      migrationsList: {
        baseDir: migrationsDir,
        lockfile: { path: lockPath, content: await readFile(lockPath, "utf8") },
        migrationDirectories,
        shadowDbInitScript: "",
      },
      filters,
    });
    return result.appliedMigrationNames;
  });
}

/**
 * Early builds recorded each migration under its absolute folder path, so a database migrated from another checkout
 * looked unmigrated. Renames those records to the folder name; failed attempts left beside a finished one go.
 */
async function renamePathRecordedMigrations(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ exists: boolean }>(
      "select to_regclass('_prisma_migrations') is not null as exists",
    );
    if (!rows[0]?.exists) return;
    await client.query("begin");
    await client.query(
      "update _prisma_migrations set migration_name = regexp_replace(migration_name, '^.*/', '') where migration_name like '%/%'",
    );
    await client.query(`delete from _prisma_migrations m where m.finished_at is null and exists (
      select 1 from _prisma_migrations f where f.migration_name = m.migration_name and f.finished_at is not null)`);
    await client.query(`delete from _prisma_migrations m where m.finished_at is not null and exists (
      select 1 from _prisma_migrations f where f.migration_name = m.migration_name and f.finished_at is not null
        and (f.finished_at, f.id) < (m.finished_at, m.id))`);
    await client.query("commit");
  } finally {
    await client.end();
  }
}
