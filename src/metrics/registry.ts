// The process's Prometheus registry: what this process itself observed (its jobs, its GraphQL operations, Node's own
// figures). Figures read from the database on scrape are added by the API (src/api/clusterMetrics.ts).
import { collectDefaultMetrics, Registry } from "prom-client";

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: "mvg_" });

/** The text exposition of several registries (their metric names never overlap). */
export async function exposition(registries: Registry[]): Promise<string> {
  const texts = await Promise.all(registries.map((registry) => registry.metrics()));
  return texts.filter(Boolean).join("\n");
}

export const CONTENT_TYPE = metricsRegistry.contentType;
