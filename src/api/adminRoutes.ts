// The platform admin's HTTP routes beside GraphQL: the queue dashboard (/admin/queues) and, unless METRICS_PORT
// serves them on a port of their own, the Prometheus metrics (/metrics). Both need the admin key: as a bearer
// token (`Authorization: Bearer <ADMIN_API_KEY>`, e.g. Prometheus' `authorization` setting) or, for a browser, as
// the password of HTTP basic authentication (any user name). A wrong key counts as a failed authentication, like
// one sent to GraphQL (src/api/limits/authGuard.ts): past the limit, 429 with Retry-After.
import type { IncomingMessage, ServerResponse } from "node:http";
import { isAdminKey } from "../domain/accounts.ts";
import { exposition, metricsRegistry } from "../metrics/registry.ts";
import { serveMetrics } from "../metrics/server.ts";
import type { Services } from "../services.ts";
import { createClusterRegistry } from "./clusterMetrics.ts";
import { type AuthGuard, clientAddress } from "./limits/authGuard.ts";
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

function tooMany(res: ServerResponse, seconds: number) {
  res.writeHead(429, { "content-type": "application/json", "retry-after": String(seconds) }).end(
    JSON.stringify({
      error: `too many failed authentications from this client or with this key; retry in ${seconds} s`,
    }),
  );
}

/**
 * The admin key, checked under the failed-authentication limit: true when the request may go on, else the answer
 * (401, or 429 once the address or the key has used up its failures) is sent. No key at all (a browser's first
 * visit, asked for it by the 401) is not a failure.
 */
async function admitted(req: IncomingMessage, res: ServerResponse, services: Services, guard: AuthGuard) {
  const { config } = services;
  const key = presentedKey(req.headers.authorization);
  const address = clientAddress(req.headers["x-forwarded-for"], req.socket.remoteAddress, config.trustProxy);
  // Counted apart from the same key's GraphQL failures (an account key is wrong here, not there); the address is
  // one count for both.
  const counted = key === undefined ? undefined : `admin:${key}`;
  const seconds = await guard.retryAfter(address, counted);
  if (seconds !== null) {
    tooMany(res, seconds);
    return false;
  }
  if (key !== undefined && isAdminKey(key, config.adminApiKey)) return true;
  if (key !== undefined) await guard.failed(address, counted);
  refuse(res);
  return false;
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
    cluster ??= createClusterRegistry(services, { cacheMs: services.config.metricsCacheMs });
    return exposition([metricsRegistry, cluster]);
  };
}

/** Handles the admin routes; false for any other path. */
export function createAdminRoutes(
  services: Services,
  guard: AuthGuard,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const metrics = apiMetrics(services);
  // Built on first use: it opens a producer queue per region and kind.
  let dashboard: ReturnType<typeof createQueueDashboard> | undefined;
  return async (req, res) => {
    const path = req.url?.split("?")[0] ?? "";
    const isMetrics = path === "/metrics" && !services.config.metricsPort;
    const isDashboard = path === QUEUE_DASHBOARD_PATH || path.startsWith(`${QUEUE_DASHBOARD_PATH}/`);
    if (!isMetrics && !isDashboard) return false;
    if (!(await admitted(req, res, services, guard))) return true;
    if (isMetrics) {
      await serveMetrics(res, metrics);
      return true;
    }
    dashboard ??= createQueueDashboard(services);
    await dashboard(req, res);
    return true;
  };
}
