// The floor for `{ __typename }`: a bare graphql-yoga server (one field, no auth, no context) on node:http in the
// same process, so the gateway's auth and plumbing can be measured against it in the same run.
import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";
import { listenOnLoopback } from "./server.ts";

export async function startBareYoga() {
  const yoga = createYoga({
    schema: createSchema({ typeDefs: "type Query { hello: String }", resolvers: { Query: { hello: () => "hi" } } }),
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql: false,
    logging: false,
  });
  return listenOnLoopback(createServer(yoga));
}
