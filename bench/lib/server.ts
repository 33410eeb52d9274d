// The real HTTP server (createHttpServer) on an ephemeral loopback port, and a small GraphQL client for it.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHttpServer } from "../../src/app.ts";
import type { Services } from "../../src/services.ts";

export async function startServer(services: Services) {
  return listenOnLoopback(createHttpServer(services));
}

/** Listens on an ephemeral loopback port; `close` also ends kept-alive connections. */
export async function listenOnLoopback(server: Server) {
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export type GraphQLResult<T> = { data?: T; errors?: { message: string }[] };

/** POSTs one operation; throws on an HTTP or GraphQL error. */
export async function graphql<T = any>(url: string, apiKey: string, query: string): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as GraphQLResult<T>;
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data as T;
}
