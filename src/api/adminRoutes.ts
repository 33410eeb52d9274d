// The platform admin's HTTP routes beside GraphQL: the queue dashboard (/admin/queues) and, unless METRICS_PORT
// serves them on a port of their own, the Prometheus metrics (/metrics). Both need the admin key: as a bearer
// token (`Authorization: Bearer <ADMIN_API_KEY>`, e.g. Prometheus' `authorization` setting) or, for a browser, as
// the password of HTTP basic authentication (any user name).
import type { IncomingMessage, ServerResponse } from "node:http";
import { isAdminKey } from "../domain/accounts.ts";
import { log } from "../log/index.ts";
import { CONTENT_TYPE, exposition, metricsRegistry } from "../metrics/registry.ts";
import type { Services } from "../services.ts";
import { createClusterRegistry } from "./clusterMetrics.ts";
import { createQueueDashboard, QUEUE_DASHBOARD_PATH } from "./queueDashboard.ts";

/** The key a request presents: a bearer token, or a basic-authentication password. */
function presentedKey(header: string | undefined): string | undefined {
  const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (bearer) return bearer;
  const basic = header?.match(/^Basic\s+([A-Za-z0-9+/=]+)$/i)?.[1];
  if (!basic) return undefined;
  const decoded = Buffer.from(basic, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(colon + 1) : undefined;
}

export function isAdminRequest(req: IncomingMessage, adminApiKey: string): boolean {
  const key = presentedKey(req.headers.authorization);
  return key !== undefined && isAdminKey(key, adminApiKey);
}

function refuse(res: ServerResponse) {
  res
    .writeHead(401, {
      "content-type": "application/json",
      "www-authenticate": 'Basic realm="Mirror Vault Gateway admin", charset="UTF-8"',
    })
    .end(JSON.stringify({ error: "the admin key is required (Authorization: Bearer <ADMIN_API_KEY>)" }));
}

/** Everything /metrics shows in a process that serves the API: its own figures plus the cluster's. */
export function apiMetrics(services: Services): () => Promise<string> {
  let cluster: ReturnType<typeof createClusterRegistry> | undefined;
  return () => {
    cluster ??= createClusterRegistry(services);
    return exposition([metricsRegistry, cluster]);
  };
}

/** Handles the admin routes; false for any other path. */
export function createAdminRoutes(services: Services): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const metrics = apiMetrics(services);
  // Built on first use: it opens a producer queue per region and kind.
  let dashboard: ReturnType<typeof createQueueDashboard> | undefined;
  return async (req, res) => {
    const path = req.url?.split("?")[0] ?? "";
    const isMetrics = path === "/metrics" && !services.config.metricsPort;
    const isDashboard = path === QUEUE_DASHBOARD_PATH || path.startsWith(`${QUEUE_DASHBOARD_PATH}/`);
    if (!isMetrics && !isDashboard) return false;
    if (!isAdminRequest(req, services.config.adminApiKey)) {
      refuse(res);
      return true;
    }
    if (isMetrics) {
      const text = await metrics().catch((error) => {
        log.error({ err: error }, "collecting metrics failed");
        return null;
      });
      if (text === null) res.writeHead(500, { "content-type": "text/plain" }).end("collecting metrics failed\n");
      else res.writeHead(200, { "content-type": CONTENT_TYPE }).end(text);
      return true;
    }
    dashboard ??= createQueueDashboard(services);
    await dashboard(req, res);
    return true;
  };
}
