// Applies pending migrations to DATABASE_URL, creating the database if it does not exist.

import { config } from "../src/config.ts";
import { ensureDatabase } from "../src/db/ensureDatabase.ts";
import { applyMigrations } from "../src/db/schemaEngine.ts";

await ensureDatabase(config.databaseUrl);
const applied = await applyMigrations(config.databaseUrl);
console.log(applied.length ? `applied ${applied.join(", ")}` : "database is up to date");
// The wasm engine leaves a timer behind for a few seconds; nothing else is pending here.
process.exit(0);
