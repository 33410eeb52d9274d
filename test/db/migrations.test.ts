// Fails when prisma/schema.prisma and the migration folders drift apart (create one with `npm run migration:new`).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { applyMigrations, diffSql, migrationsDir, schemaPath } from "../../src/db/schemaEngine.ts";
import { freshDatabase } from "../support/database.ts";

function schemaDump(url: string): string {
  const dump = execFileSync("pg_dump", ["--schema-only", "--no-owner", "--exclude-table=_prisma_migrations", url], {
    encoding: "utf8",
  });
  return dump
    .split("\n")
    .filter((line) => !line.startsWith("--") && !line.startsWith("\\") && line.trim() !== "")
    .join("\n");
}

/** The definitions of the functions and triggers a database holds (its own, in schema public). */
async function triggersOf(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const functions = await client.query<{ def: string }>(
      `select pg_get_functiondef(p.oid) as def from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' order by p.proname`,
    );
    const triggers = await client.query<{ def: string }>(
      `select pg_get_triggerdef(t.oid) as def from pg_trigger t join pg_class c on c.oid = t.tgrelid
       join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and not t.tgisinternal
       order by t.tgname`,
    );
    return [...functions.rows, ...triggers.rows].map((row) => `${row.def};`).join("\n");
  } finally {
    await client.end();
  }
}

describe("migrations", () => {
  it("build the same database as schema.prisma describes", async () => {
    const migrated = await freshDatabase("migrations_applied");
    // A second database built straight from the schema's full diff, without migration history.
    const expectedUrl = await freshDatabase("migrations_expected", { migrate: false });
    const client = new pg.Client({ connectionString: expectedUrl });
    await client.connect();
    try {
      await client.query(await diffSql(null, readFileSync(schemaPath, "utf8")));
      // What schema.prisma can't say (the Vault counters' functions and triggers) has one source, the migrations
      // (vault_counters): copied over as the migrated database holds them. Their behaviour is tested by
      // test/api/listingCost.test.ts (the counters against counting the rows).
      await client.query(await triggersOf(migrated));
    } finally {
      await client.end();
    }
    expect(schemaDump(migrated)).toBe(schemaDump(expectedUrl));
  });

  it("records each migration by its folder name, so another checkout of the same code finds nothing to apply", async () => {
    const url = await freshDatabase("migrations_names");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query("select migration_name from _prisma_migrations order by migration_name");
      const folders = readdirSync(migrationsDir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
      expect(rows.map((r) => r.migration_name)).toEqual(folders);
    } finally {
      await client.end();
    }
    expect(await applyMigrations(url)).toEqual([]);
  });

  it("repairs a database whose migrations an early build recorded under their absolute path", async () => {
    const url = await freshDatabase("migrations_paths");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        "update _prisma_migrations set migration_name = '/elsewhere/prisma/migrations/' || migration_name",
      );
      // ...and a failed attempt another checkout left under the folder name
      await client.query(`insert into _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
        select gen_random_uuid()::text, checksum, regexp_replace(migration_name, '^.*/', ''), now(), 0 from _prisma_migrations`);
      expect(await applyMigrations(url)).toEqual([]);
      const { rows } = await client.query("select migration_name, finished_at from _prisma_migrations");
      expect(rows.every((r) => !r.migration_name.includes("/") && r.finished_at !== null)).toBe(true);
    } finally {
      await client.end();
    }
  });
});
