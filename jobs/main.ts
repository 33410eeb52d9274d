// `npm run worker -- --region <id>`: runs one region's workers (and the reconciler for that region), on a machine
// of its own. It needs DATABASE_URL (the embedded PostgreSQL belongs to `npm start`, which runs every region itself).
import { parseArgs } from "node:util";
import { config } from "../src/config.ts";
import { StartupError } from "../src/db/reachable.ts";
import { createDrain, stopOnSignals } from "../src/lifecycle.ts";
import { prepareRuntime } from "../src/runtime.ts";
import { createServices } from "../src/services.ts";
import { storesForWorkers } from "../src/storage/regionAccess.ts";
import { startWorkers } from "./workers.ts";

const { values } = parseArgs({ options: { region: { type: "string", multiple: true } } });
const storageRegions = values.region?.length ? values.region : config.regions.map((region) => region.id);
const runtime = await prepareRuntime(config, { migrate: false, embedded: false, storageRegions }).catch((error) => {
  console.error(error instanceof StartupError ? error.message : `cannot start: ${(error as Error).message}`);
  process.exit(1);
});
console.log(`Mirror Vault Gateway workers: ${runtime.summary}`);
const services = await createServices({ databaseUrl: runtime.databaseUrl, redisUrl: runtime.redisUrl });
const regionIds = values.region?.length ? values.region : services.regions.all.map((r) => r.id);
for (const id of regionIds) services.regions.require(id, ["--region"]);
// Region-isolated: its own regions' stores to write, every other region's read-only (the sources of its mirrors).
const ports = { ...services, storage: storesForWorkers(services.storage, regionIds) };
const workers = await startWorkers(ports, services.config, regionIds);
console.log(`workers running for ${regionIds.join(", ")}`);

// Running jobs finish (or, past SHUTDOWN_TIMEOUT_MS, are retaken from the queue once their lock expires).
stopOnSignals(createDrain(), config.shutdownTimeoutMs, {
  drain: () => workers.close(),
  release: () => services.close(),
});
