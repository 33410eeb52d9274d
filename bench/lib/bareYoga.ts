// The floor for `{ __typename }`: a bare graphql-yoga server (one field, no auth, no context) on node:http in the
// same process, so the gateway's auth and plumbing can be measured against it in the same run.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createSchema, createYoga } from "graphql-yoga";

export async function startBareYoga() {
  const yoga = createYoga({
    schema: createSchema({ typeDefs: "type Query { hello: String }", resolvers: { Query: { hello: () => "hi" } } }),
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql: false,
    logging: false,
  });
  const server = createServer(yoga);
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
