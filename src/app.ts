// The HTTP face of the gateway: GraphQL (with GraphiQL and SSE subscriptions) at /graphql, /health, /ready.
import { createServer, type Server } from "node:http";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { createGraphQLError, createYoga } from "graphql-yoga";
import { createAdminRoutes } from "./api/adminRoutes.ts";
import type { Context, Viewer } from "./api/context.ts";
import { maskGatewayError } from "./api/errorMasking.ts";
import { useGraphQLMetrics } from "./api/graphqlMetrics.ts";
import { createLoaders } from "./api/loaders.ts";
import { REQUEST_ID_HEADER, requestIdFrom, useRequestLog } from "./api/requestLog.ts";
import { accountForApiKey, isAdminKey } from "./domain/accounts.ts";
import { addLogFields } from "./log/index.ts";
import { schema } from "./schema/index.ts";
import type { Services } from "./services.ts";

function unauthorized(message: string) {
  return createGraphQLError(message, {
    extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } },
  });
}

async function viewerFor(services: Services, request: Request): Promise<Viewer> {
  const header = request.headers.get("authorization");
  const key = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!header) throw unauthorized("missing API key: send Authorization: Bearer <api key>");
  if (!key) throw unauthorized("malformed Authorization header: it must be Bearer <api key>");
  if (isAdminKey(key, services.config.adminApiKey)) return { kind: "admin" };
  const accountId = await accountForApiKey(services.db, key);
  if (!accountId) throw unauthorized("invalid API key");
  addLogFields({ accountId });
  return { kind: "account", accountId };
}

export function createGateway(services: Services) {
  return createYoga<object, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    // Rendered from the installed package: GraphiQL works with no internet access.
    renderGraphiQL,
    graphiql: {
      title: "Mirror Vault Gateway",
      // Every request needs a key: put yours in the Headers tab (it stays in this browser only).
      headers: JSON.stringify({ Authorization: "Bearer <your API key>" }, null, 2),
      shouldPersistHeaders: true,
      defaultQuery: [
        "# Mirror Vault Gateway: set your API key in the Headers tab below, then run this.",
        "# The platform admin (ADMIN_API_KEY) creates accounts with createAccount; an account's key does the rest.",
        "{ viewer { id name } regions { id name } }",
        "",
      ].join("\n"),
    },
    context: async ({ request }) => ({
      services,
      viewer: await viewerFor(services, request),
      loaders: createLoaders(services.db),
    }),
    // Unexpected errors reach the client as "Unexpected error." with no stack; the log keeps them, without inputs.
    maskedErrors: { maskError: maskGatewayError },
    logging: false,
    plugins: [useRequestLog(), useGraphQLMetrics()],
  });
}

/** `/health` answers while the process lives; `/ready` only when PostgreSQL and the queue backend answer. */
async function readiness(services: Services) {
  const checks = await services.ready();
  return { ready: Object.values(checks).every((state) => state === "ok"), ...checks };
}

export function createHttpServer(services: Services): Server {
  const yoga = createGateway(services);
  const adminRoutes = createAdminRoutes(services);
  return createServer(async (req, res) => {
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
      const state = await readiness(services);
      res.writeHead(state.ready ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(state));
      return;
    }
    if (path === "/") {
      res.writeHead(302, { location: "/graphql" }).end();
      return;
    }
    // /metrics and /admin/queues (the admin key).
    if (await adminRoutes(req, res)) return;
    return yoga(req, res);
  });
}
