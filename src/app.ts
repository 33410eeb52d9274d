// The HTTP face of the gateway: GraphQL (with GraphiQL and SSE subscriptions) at /graphql, /health, /ready.
import { createServer, type Server, type ServerResponse } from "node:http";
import { createGraphQLError, createYoga } from "graphql-yoga";
import { createAdminRoutes } from "./api/adminRoutes.ts";
import { type ApiKeyCache, createApiKeyCache } from "./api/apiKeyCache.ts";
import type { Context, Viewer } from "./api/context.ts";
import { useDrain } from "./api/drainPlugin.ts";
import { maskGatewayError } from "./api/errorMasking.ts";
import { renderGatewayGraphiQL } from "./api/graphiql.ts";
import { useGraphQLMetrics } from "./api/graphqlMetrics.ts";
import { redactInvalidVariables, refuseNulCharacters } from "./api/inputGuards.ts";
import { type AuthGuard, clientAddress, createAuthGuard } from "./api/limits/authGuard.ts";
import { useAccountFairness } from "./api/limits/fairness.ts";
import { graphqlLimitPlugins } from "./api/limits/graphqlLimits.ts";
import { createLoaders } from "./api/loaders.ts";
import { REQUEST_ID_HEADER, requestIdFrom, useRequestLog } from "./api/requestLog.ts";
import { accountForApiKey, isAdminKey } from "./domain/accounts.ts";
import { createDrain, type Drain } from "./lifecycle.ts";
import { addLogFields } from "./log/index.ts";
import { schema } from "./schema/index.ts";
import type { Services } from "./services.ts";

function unauthorized(message: string) {
  return createGraphQLError(message, {
    extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } },
  });
}

async function viewerFor(
  services: Services,
  keys: ApiKeyCache,
  guard: AuthGuard,
  request: Request,
  address: string,
): Promise<Viewer> {
  const header = request.headers.get("authorization");
  const key = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!header) throw unauthorized("missing API key: send Authorization: Bearer <api key>");
  if (!key) throw unauthorized("malformed Authorization header: it must be Bearer <api key>");
  // A key this process found valid moments ago is no guess: it skips the failure check (a shared-backend round
  // trip). Any other client (or key) that failed too often is turned away before its key is even looked up.
  const trusted = keys.trusted(key);
  if (trusted) {
    addLogFields({ accountId: trusted });
    return { kind: "account", accountId: trusted };
  }
  await guard.check(address, key);
  if (isAdminKey(key, services.config.adminApiKey)) return { kind: "admin" };
  const accountId = await keys.accountFor(key);
  if (!accountId) {
    await guard.failed(address, key);
    throw unauthorized("invalid API key");
  }
  addLogFields({ accountId });
  return { kind: "account", accountId };
}

/**
 * `drain`: the process's stop state (src/lifecycle.ts); a gateway without one never drains. `guard`: the failed
 * authentication limit, shared with the admin routes of the same server.
 */
export type GatewayOptions = { drain?: Drain; guard?: AuthGuard };

export function createGateway(services: Services, options: GatewayOptions = {}) {
  const drain = options.drain ?? createDrain();
  const { config } = services;
  const guard = options.guard ?? createAuthGuard(services.authFailures, config.authFailureLimit);
  const keys = createApiKeyCache((key) => accountForApiKey(services.db, key), config.apiKeyCacheMs);
  return createYoga<{ req?: { socket?: { remoteAddress?: string } } }, Context>({
    schema,
    // Limits first: a refused request costs no more than the check that refused it (README "Limits").
    plugins: [
      useRequestLog(),
      useGraphQLMetrics(),
      useDrain(drain),
      ...graphqlLimitPlugins(config),
      useAccountFairness(config),
      // No NUL characters anywhere, and an invalid variable is never printed back (src/api/inputGuards.ts).
      refuseNulCharacters(),
      redactInvalidVariables(),
    ],
    // Off unless CORS_ORIGINS lists origins; keys travel in a header, so credentials (cookies) are never allowed.
    // Yoga's own limit: a declared Content-Length over it is refused unread, a chunked body once it passes it (413).
    maxRequestBodySize: config.requestBodyLimitBytes,
    cors: config.corsOrigins.length
      ? {
          origin: config.corsOrigins,
          credentials: false,
          methods: ["GET", "POST"],
          allowedHeaders: ["authorization", "content-type", "accept"],
        }
      : false,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    // Rendered from the installed package (GraphiQL works with no internet access); the page asks for an API key
    // before anything runs (src/api/graphiql.ts).
    renderGraphiQL: renderGatewayGraphiQL,
    graphiql: { title: "Mirror Vault Gateway", shouldPersistHeaders: true },
    context: async ({ request, req }) => ({
      services,
      viewer: await viewerFor(
        services,
        keys,
        guard,
        request,
        clientAddress(request.headers.get("x-forwarded-for"), req?.socket?.remoteAddress, config.trustProxy),
      ),
      loaders: createLoaders(services.db),
    }),
    // Unexpected errors reach the client as "Unexpected error." with no stack; the log keeps them, without inputs.
    maskedErrors: { maskError: maskGatewayError },
    logging: false,
  });
}

/**
 * `/health` answers while the process lives; `/ready` only when PostgreSQL and the queue backend answer, and not
 * once the process is stopping (a load balancer stops sending it requests at once).
 */
async function readiness(services: Services, drain: Drain) {
  if (drain.draining) return { ready: false, stopping: true };
  const checks = await services.ready();
  return { ready: Object.values(checks).every((state) => state === "ok"), ...checks };
}

/** The HTTP server; `idle()` resolves once no request (or subscription) is running. */
export type GatewayServer = Server & { idle(): Promise<void> };

export function createHttpServer(services: Services, drain: Drain = createDrain()): GatewayServer {
  const guard = createAuthGuard(services.authFailures, services.config.authFailureLimit);
  const yoga = createGateway(services, { drain, guard });
  const running = new RequestCount();
  const adminRoutes = createAdminRoutes(services, guard);
  // While stopping, every response ends its connection, so keep-alive clients move to another replica: those that
  // start then, and those running when the stop begins.
  drain.signal.addEventListener("abort", () => running.endConnections(), { once: true });
  const server = createServer(async (req, res) => {
    if (drain.draining) res.setHeader("connection", "close");
    // Every response names its request; GraphQL's request log (src/api/requestLog.ts) takes the same id.
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER] as string | undefined);
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const path = req.url?.split("?")[0];
    if (path === "/health") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok" }));
      return;
    }
    if (path === "/ready") {
      const state = await readiness(services, drain);
      res.writeHead(state.ready ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(state));
      return;
    }
    if (path === "/") {
      res.writeHead(302, { location: "/graphql" }).end();
      return;
    }
    running.track(res);
    // /metrics and /admin/queues (the admin key).
    if (await adminRoutes(req, res)) return;
    return yoga(req, res);
  });
  return Object.assign(server, { idle: () => running.idle() });
}

class RequestCount {
  private open = new Set<ServerResponse>();
  private waiters: (() => void)[] = [];
  track(res: ServerResponse) {
    this.open.add(res);
    res.once("close", () => {
      this.open.delete(res);
      if (this.open.size === 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }
  /** Running responses that have not sent their headers yet will close their connection once sent. */
  endConnections() {
    for (const res of this.open) if (!res.headersSent) res.setHeader("connection", "close");
  }
  idle(): Promise<void> {
    return this.open.size === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
