// `npm run worker -- --region <id>`: runs one region's workers (and the reconciler for that region), on a machine
// of its own. It needs DATABASE_URL (the embedded PostgreSQL belongs to `npm start`, which runs every region itself).
import { parseArgs } from "node:util";
import { config } from "../src/config.ts";
import { StartupError } from "../src/db/reachable.ts";
import { createDrain, stopOnSignals } from "../src/lifecycle.ts";
import { log } from "../src/log/index.ts";
import { metricsRegistry } from "../src/metrics/registry.ts";
import { startMetricsServer } from "../src/metrics/server.ts";
import { prepareRuntime } from "../src/runtime.ts";
import { createServices } from "../src/services.ts";
import { storesForWorkers } from "../src/storage/regionAccess.ts";
import { startWorkers } from "./workers.ts";

log.level = config.logLevel;
const { values } = parseArgs({ options: { region: { type: "string", multiple: true } } });
const storageRegions = values.region?.length ? values.region : config.regions.map((region) => region.id);
const runtime = await prepareRuntime(config, { migrate: false, embedded: false, storageRegions }).catch((error) => {
  if (error instanceof StartupError) log.fatal(error.message);
  else log.fatal({ err: error }, "cannot start");
  process.exit(1);
});
log.info(`Mirror Vault Gateway workers: ${runtime.summary}`);
const services = await createServices({ databaseUrl: runtime.databaseUrl, redisUrl: runtime.redisUrl });
const regionIds = values.region?.length ? values.region : services.regions.all.map((r) => r.id);
for (const id of regionIds) services.regions.require(id, ["--region"]);
// Region-isolated: its own regions' stores to write, every other region's read-only (the sources of its mirrors).
const ports = { ...services, storage: storesForWorkers(services.storage, regionIds) };
const workers = await startWorkers(ports, services.config, regionIds);
log.info(`workers running for ${regionIds.join(", ")}`);
// This process's own figures (its jobs and restores); the cluster's are on the API's /metrics.
const metricsServer =
  config.metricsPort === undefined
    ? null
    : await startMetricsServer(config.metricsPort, () => metricsRegistry.metrics());

// Running jobs finish (or, past SHUTDOWN_TIMEOUT_MS, are retaken from the queue once their lock expires).
stopOnSignals(createDrain(), config.shutdownTimeoutMs, {
  drain: async () => {
    metricsServer?.close();
    await workers.close();
  },
  release: () => services.close(),
});
