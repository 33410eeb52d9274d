// METRICS_PORT: /metrics on a port of its own, with no key (keep that port inside the scrapers' network). A worker
// process (`npm run worker`) has no other HTTP server; this is how Prometheus reaches its job figures.
import { createServer, type Server, type ServerResponse } from "node:http";
import { log } from "../log/index.ts";
import { CONTENT_TYPE } from "./registry.ts";

/** Answers a /metrics request: the exposition text, or 500 (and a log line) when collecting it fails. */
export async function serveMetrics(res: ServerResponse, metrics: () => Promise<string>): Promise<void> {
  try {
    res.writeHead(200, { "content-type": CONTENT_TYPE }).end(await metrics());
  } catch (error) {
    log.error({ err: error }, "collecting metrics failed");
    res.writeHead(500, { "content-type": "text/plain" }).end("collecting metrics failed\n");
  }
}

export async function startMetricsServer(port: number, metrics: () => Promise<string>): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url?.split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: metrics are at /metrics\n");
      return;
    }
    await serveMetrics(res, metrics);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => resolve());
  });
  const { port: bound } = server.address() as { port: number };
  log.info(`metrics at http://localhost:${bound}/metrics`);
  return server;
}
