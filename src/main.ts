// `npm start`: applies pending migrations, serves the API, and runs the workers of every region (embedded default).

import { startWorkers } from "../jobs/workers.ts";
import { createHttpServer } from "./app.ts";
import { config } from "./config.ts";
import { ensureDatabase } from "./db/ensureDatabase.ts";
import { applyMigrations } from "./db/schemaEngine.ts";
import { createServices } from "./services.ts";

await ensureDatabase(config.databaseUrl);
const applied = await applyMigrations(config.databaseUrl);
if (applied.length) console.log(`applied migrations: ${applied.join(", ")}`);

const services = await createServices();
const workers = await startWorkers(
  services,
  config,
  services.regions.all.map((region) => region.id),
);
const server = createHttpServer(services);
server.listen(config.port, () => {
  console.log(`Mirror Vault Gateway: GraphiQL at http://localhost:${config.port}/graphql`);
});

async function shutdown(signal: string) {
  console.log(`${signal}: shutting down`);
  server.close();
  await workers.close();
  await services.close();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
