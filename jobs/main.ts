// `npm run worker -- --region <id>`: runs one region's workers (and the reconciler for that region).
import { parseArgs } from "node:util";
import { createServices } from "../src/services.ts";
import { startWorkers } from "./workers.ts";

const { values } = parseArgs({ options: { region: { type: "string", multiple: true } } });
const services = await createServices();
const regionIds = values.region?.length ? values.region : services.regions.all.map((r) => r.id);
for (const id of regionIds) services.regions.require(id, ["--region"]);
const workers = await startWorkers(services, services.config, regionIds);
console.log(`workers running for ${regionIds.join(", ")}`);

async function shutdown(signal: string) {
  console.log(`${signal}: finishing running jobs, then exiting`);
  await workers.close();
  await services.close();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
