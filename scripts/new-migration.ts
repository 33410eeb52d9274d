// Usage: npm run migration:new -- <name>
// Writes prisma/migrations/<timestamp>_<name>/migration.sql from the change between the datamodel of the
// last migration (prisma/migrations/schema.snapshot.prisma) and prisma/schema.prisma.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { diffSql, migrationsDir, schemaPath } from "../src/db/schemaEngine.ts";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) throw new Error("usage: npm run migration:new -- <snake_case_name>");
const snapshotPath = path.join(migrationsDir, "schema.snapshot.prisma");
const from = existsSync(snapshotPath) ? await readFile(snapshotPath, "utf8") : null;
const to = await readFile(schemaPath, "utf8");
const sql = await diffSql(from, to);
if (!sql.trim() || /^-- This is an empty migration/.test(sql.trim())) {
  console.log("schema.prisma has no changes since the last migration");
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const dir = path.join(migrationsDir, `${stamp}_${name}`);
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, "migration.sql"), sql);
await writeFile(snapshotPath, to);
const lockPath = path.join(migrationsDir, "migration_lock.toml");
if (!existsSync(lockPath)) await writeFile(lockPath, 'provider = "postgresql"\n');
console.log(`wrote ${path.relative(process.cwd(), dir)}/migration.sql`);
