// `npm start`: decides the backends (an embedded PostgreSQL when DATABASE_URL is unset, queues and events on
// PostgreSQL when REDIS_URL is unset), applies pending migrations, serves the API and runs every region's workers.
// WORKER_REGIONS narrows the workers (`none`, or `npm run api`: the API alone, for replicas behind a load balancer);
// such a process is one of several, so like `npm run worker` it needs DATABASE_URL and leaves migrations to
// `npm run migrate`.
import { startWorkers } from "../jobs/workers.ts";
import { createHttpServer } from "./app.ts";
import { config } from "./config.ts";
import { StartupError } from "./db/reachable.ts";
import { createDrain, stopOnSignals } from "./lifecycle.ts";
import { prepareRuntime } from "./runtime.ts";
import { createServices } from "./services.ts";

const ownsDatabase = config.workerRegions === undefined;
if (!ownsDatabase && !config.databaseUrl) {
  console.error("DATABASE_URL is not set; with WORKER_REGIONS set this process shares a database (set DATABASE_URL)");
  process.exit(1);
}
// The API may touch every region's store (deletions), so every region's store is checked.
const storageRegions = config.regions.map((region) => region.id);
const runtime = await prepareRuntime(config, { migrate: ownsDatabase, embedded: ownsDatabase, storageRegions }).catch(
  (error) => {
    // One clear line, no stack: the variable and the address that did not answer.
    console.error(error instanceof StartupError ? error.message : `cannot start: ${(error as Error).message}`);
    process.exit(1);
  },
);
console.log(`Mirror Vault Gateway: ${runtime.summary}`);

const services = await createServices({ databaseUrl: runtime.databaseUrl, redisUrl: runtime.redisUrl });
const regionIds = config.workerRegions ?? services.regions.all.map((region) => region.id);
try {
  for (const id of regionIds) services.regions.require(id, ["WORKER_REGIONS"]);
} catch (error) {
  console.error(`WORKER_REGIONS: ${(error as Error).message}`);
  await services.close();
  await runtime.stop();
  process.exit(1);
}
// No regions: no workers and no reconciler either (the reconciler re-queues only its own regions' work).
const workers = regionIds.length ? await startWorkers(services, services.config, regionIds) : null;
console.log(regionIds.length ? `workers running for ${regionIds.join(", ")}` : "workers: none (API only)");
const drain = createDrain();
const server = createHttpServer(services, drain);
server.listen(config.port, () => {
  console.log(`GraphiQL at http://localhost:${config.port}/graphql`);
});

stopOnSignals(drain, config.shutdownTimeoutMs, {
  async drain() {
    // Still listening, so a load balancer sees /ready 503 and new requests get 503, while running requests (and
    // subscriptions, which the drain ends) and jobs finish.
    await Promise.all([workers?.close(), server.idle()]);
    await new Promise((resolve) => server.close(resolve));
  },
  async release() {
    server.closeAllConnections();
    await services.close();
    await runtime.stop();
  },
});
