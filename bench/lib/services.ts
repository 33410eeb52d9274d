// The services a benchmark serves from: the product's own (createServices), with two settings a load generator
// needs. The per-account limit on requests at once is raised above the bench's connections (the bench sends all of
// them with one account's key; the limit's bookkeeping still runs on every request), and the request log is
// quiet (LOG_LEVEL=warn unless BENCH_LOG_LEVEL says otherwise): one JSON line per request would drown the report.
import { log } from "../../src/log/index.ts";
import { createServices } from "../../src/services.ts";
import { loadDefaults } from "./load.ts";

type Overrides = Parameters<typeof createServices>[0];

export async function benchServices(overrides: Overrides) {
  log.level = (process.env.BENCH_LOG_LEVEL as typeof log.level | undefined) ?? "warn";
  return createServices({ accountMaxConcurrentRequests: Math.max(64, loadDefaults.concurrency * 4), ...overrides });
}
