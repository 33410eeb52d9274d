// `npm run migrate`: applies pending migrations to DATABASE_URL (creating the database if it does not exist), or to
// the embedded PostgreSQL under STORAGE_DIR when DATABASE_URL is unset.
import { config } from "../src/config.ts";
import { StartupError } from "../src/db/reachable.ts";
import { prepareRuntime } from "../src/runtime.ts";

try {
  const runtime = await prepareRuntime(config, { migrate: true, embedded: true });
  console.log(`migrated: ${runtime.summary}`);
  await runtime.stop();
  // The wasm engine leaves a timer behind for a few seconds; nothing else is pending here.
  process.exit(0);
} catch (error) {
  console.error(error instanceof StartupError ? error.message : `cannot migrate: ${(error as Error).message}`);
  process.exit(1);
}
