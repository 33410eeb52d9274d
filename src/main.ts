// `npm start`: decides the backends (an embedded PostgreSQL when DATABASE_URL is unset, queues and events on
// PostgreSQL when REDIS_URL is unset), applies pending migrations, serves the API and runs every region's workers.
import { startWorkers } from "../jobs/workers.ts";
import { createHttpServer } from "./app.ts";
import { config } from "./config.ts";
import { StartupError } from "./db/reachable.ts";
import { prepareRuntime } from "./runtime.ts";
import { createServices } from "./services.ts";

const storageRegions = config.regions.map((region) => region.id);
const runtime = await prepareRuntime(config, { migrate: true, embedded: true, storageRegions }).catch((error) => {
  // One clear line, no stack: the variable and the address that did not answer.
  console.error(error instanceof StartupError ? error.message : `cannot start: ${(error as Error).message}`);
  process.exit(1);
});
console.log(`Mirror Vault Gateway: ${runtime.summary}`);

const services = await createServices({ databaseUrl: runtime.databaseUrl, redisUrl: runtime.redisUrl });
const workers = await startWorkers(
  services,
  services.config,
  services.regions.all.map((region) => region.id),
);
const server = createHttpServer(services);
server.listen(config.port, () => {
  console.log(`GraphiQL at http://localhost:${config.port}/graphql`);
});

async function shutdown(signal: string) {
  console.log(`${signal}: shutting down`);
  const stopped = new Promise((resolve) => server.close(resolve));
  server.closeIdleConnections();
  await workers.close();
  await services.close();
  await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  await runtime.stop();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
