// The HTTP face of the gateway: GraphQL (with GraphiQL and SSE subscriptions) at /graphql, /health, /ready.
import { createServer, type Server } from "node:http";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { createGraphQLError, createYoga } from "graphql-yoga";
import { type ApiKeyCache, createApiKeyCache } from "./api/apiKeyCache.ts";
import type { Context, Viewer } from "./api/context.ts";
import { maskGatewayError } from "./api/errorMasking.ts";
import { createLoaders } from "./api/loaders.ts";
import { accountForApiKey, isAdminKey } from "./domain/accounts.ts";
import { schema } from "./schema/index.ts";
import type { Services } from "./services.ts";

function unauthorized(message: string) {
  return createGraphQLError(message, {
    extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } },
  });
}

async function viewerFor(services: Services, keys: ApiKeyCache, request: Request): Promise<Viewer> {
  const header = request.headers.get("authorization");
  const key = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!header) throw unauthorized("missing API key: send Authorization: Bearer <api key>");
  if (!key) throw unauthorized("malformed Authorization header: it must be Bearer <api key>");
  if (isAdminKey(key, services.config.adminApiKey)) return { kind: "admin" };
  const accountId = await keys.accountFor(key);
  if (!accountId) throw unauthorized("invalid API key");
  return { kind: "account", accountId };
}

export function createGateway(services: Services) {
  const keys = createApiKeyCache((key) => accountForApiKey(services.db, key), services.config.apiKeyCacheMs);
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
      viewer: await viewerFor(services, keys, request),
      loaders: createLoaders(services.db),
    }),
    // Unexpected errors reach the client as "Unexpected error." with no stack; the log keeps them, without inputs.
    maskedErrors: { maskError: maskGatewayError },
    logging: false,
  });
}

/** `/health` answers while the process lives; `/ready` only when PostgreSQL and the queue backend answer. */
async function readiness(services: Services) {
  const checks = await services.ready();
  return { ready: Object.values(checks).every((state) => state === "ok"), ...checks };
}

export function createHttpServer(services: Services): Server {
  const yoga = createGateway(services);
  return createServer(async (req, res) => {
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
    return yoga(req, res);
  });
}
