// Every attack of issue 14 through the real API (Yoga's fetch, and the HTTP server where bytes on the wire matter):
// each gets a clear error, never a 500, and `{ __typename }` answers beside it.
import type { Server } from "node:http";
import { getIntrospectionQuery, isInterfaceType, isObjectType } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeId } from "../../src/api/ids.ts";
import { createHttpServer } from "../../src/app.ts";
import { schema } from "../../src/schema/index.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../support/gateway.ts";

let gw: TestGateway;
let apiKey: string;
let server: Server;
let base: string;

beforeAll(async () => {
  gw = await startTestGateway("limits");
  ({ apiKey } = await gw.createAccount("limits"));
  server = createHttpServer(gw.services).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await gw?.close();
});

/** Posts a raw body through the in-process API; status, body and how long it took. */
async function post(body: string, key = apiKey, headers: Record<string, string> = {}) {
  const started = performance.now();
  const response = await gw.yoga.fetch("http://gateway.test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, text, json: safeJson(text), ms: performance.now() - started, response };
}

function safeJson(text: string) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const query = (q: string, variables?: unknown) => post(JSON.stringify({ query: q, variables }));

/** The attack is refused with `code` and a message matching `message`, and `{ __typename }` answers beside it. */
async function refusedBesideTypename(attack: () => Promise<Awaited<ReturnType<typeof post>>>, code: string) {
  const [refused, typename] = await Promise.all([attack(), query("{ __typename }")]);
  // 400 (413 for the body); a token-limit refusal comes from the parser, which answers 200 like any syntax error.
  const status = code === "REQUEST_ENTITY_TOO_LARGE" ? [413] : code === "PARSE" ? [200] : [400];
  expect(status, refused.text.slice(0, 300)).toContain(refused.status);
  expect(refused.json?.errors?.[0]?.extensions?.code, refused.text.slice(0, 300)).toBe(
    code === "PARSE" ? "QUERY_TOO_COMPLEX" : code,
  );
  expect(refused.json.data ?? null).toBeNull();
  expect(typename.json).toEqual({ data: { __typename: "Query" } });
  // Milliseconds in fact (see the README's table); the bound only catches a return of the old seconds-to-minutes.
  expect(refused.ms).toBeLessThan(2000);
  expect(typename.ms).toBeLessThan(2000);
  return refused.json.errors[0].message as string;
}

describe("GraphQL limits: each attack of issue 14 gets a clear error in milliseconds, never a 500", () => {
  it("a fragment bomb (20 fragments, each spreading the previous one twice) is refused before it is expanded", async () => {
    const wide = ["fragment F0 on Query { regions { id name } }"];
    for (let i = 1; i <= 20; i++) wide.push(`fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`);
    const bomb = `{ ...F20 }\n${wide.join("\n")}`;
    expect(bomb.length).toBeLessThan(2000);
    const message = await refusedBesideTypename(() => query(bomb), "QUERY_TOO_COMPLEX");
    expect(message).toBe("the query selects more than 5000 fields once its fragments are expanded (GRAPHQL_MAX_COST)");
    // The same with the fragments before the operation, and a bomb that also nests (aliases at each level).
    await refusedBesideTypename(() => query(`${wide.join("\n")}\n{ ...F20 }`), "QUERY_TOO_COMPLEX");
    const deep = ["fragment D0 on Vault { id name }"];
    for (let i = 1; i <= 20; i++)
      deep.push(`fragment D${i} on Vault { a: sourceVault { ...D${i - 1} } b: mirror { ...D${i - 1} } }`);
    const nested = await refusedBesideTypename(
      () => query(`{ vaults(first: 1) { edges { node { ...D20 } } } }\n${deep.join("\n")}`),
      "QUERY_TOO_COMPLEX",
    );
    expect(nested).toBe("the query is nested deeper than 6 levels (GRAPHQL_MAX_DEPTH)");
  });

  it("fragment cycles are refused, naming the cycle", async () => {
    const cycle = `{ vaults { edges { node { ...A } } } }
      fragment A on Vault { sourceVault { ...B } } fragment B on Vault { mirror { ...A } }`;
    const message = await refusedBesideTypename(() => query(cycle), "GRAPHQL_VALIDATION_FAILED");
    expect(message).toBe("fragment cycle: A → B → A");
    await refusedBesideTypename(() => query("{ ...Q } fragment Q on Query { ...Q }"), "GRAPHQL_VALIDATION_FAILED");
  });

  it("GraphiQL's schema query (TypeRef nests ofType 8 deep) passes the default limits; __type spreading it does not", async () => {
    const introspection = getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, oneOf: true });
    const res = await gw.request({ query: introspection }, apiKey);
    expect(res.status).toBe(200);
    expect(
      ((await res.json()) as { data: { __schema: { queryType: { name: string } } } }).data.__schema.queryType.name,
    ).toBe("Query");
    const deep = `{ __type(name: "Vault") { ...T } } fragment T on __Type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } }`;
    const refused = await gw.request({ query: deep }, apiKey);
    expect(JSON.stringify(await refused.json())).toContain("GRAPHQL_MAX_DEPTH");
  });

  it("a batched JSON array is refused", async () => {
    const batch = JSON.stringify(
      Array.from({ length: 1000 }, () => ({ query: "{ vaults(first: 100) { totalCount } }" })),
    );
    const [refused, typename] = await Promise.all([post(batch), query("{ __typename }")]);
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/batching is not supported/i);
    expect(typename.json).toEqual({ data: { __typename: "Query" } });
  });

  it("2,000 aliases of vaults(first: 100) and 10,000 aliases of restorePlan: the token limit", async () => {
    const aliases = Array.from({ length: 2000 }, (_, i) => `v${i}: vaults(first: 100) { totalCount }`).join(" ");
    const message = await refusedBesideTypename(() => query(`{ ${aliases} }`), "PARSE");
    expect(message).toBe("Token limit of 1000 exceeded. (GRAPHQL_MAX_TOKENS)");
    const plans = Array.from({ length: 10_000 }, (_, i) => `p${i}: restorePlan(input: $input) { __typename }`).join(
      " ",
    );
    const restorePlans = `query($input: RestoreFromMirrorInput!) { ${plans} }`;
    // 10,000 aliases are ~560 KB: over the body limit before the token limit is even reached.
    const refused = await query(restorePlans, { input: {} });
    expect(refused.status).toBe(413);
    expect(refused.json.errors[0].extensions.code).toBe("REQUEST_ENTITY_TOO_LARGE");
    // Within the body limit, aliases are counted with fragments expanded.
    const few = Array.from({ length: 16 }, (_, i) => `p${i}: restorePlan(input: $input) { __typename }`).join(" ");
    const aliased = await refusedBesideTypename(
      () => query(`query($input: RestoreFromMirrorInput!) { ...P } fragment P on Query { ${few} }`, { input: {} }),
      "QUERY_TOO_COMPLEX",
    );
    expect(aliased).toBe("Aliases limit of 15 exceeded, found 16. (GRAPHQL_MAX_ALIASES)");
  });

  it("200 levels of mirror { sourceVault { ... } } and a 9-level fan-out of backups: the depth limit", async () => {
    let nested = "id";
    for (let i = 0; i < 100; i++) nested = `mirror { sourceVault { ${nested} } }`;
    const deep = await refusedBesideTypename(
      () => query(`{ vaults(first: 1) { edges { node { ${nested} } } } }`),
      "QUERY_TOO_COMPLEX",
    );
    expect(deep).toBe("the query is nested deeper than 6 levels (GRAPHQL_MAX_DEPTH)");
    let fanOut = "id";
    for (let i = 0; i < 9; i++) fanOut = `backups(first: 100) { edges { node { vault { ${fanOut} } } } }`;
    await refusedBesideTypename(
      () => query(`{ vaults(first: 100) { edges { node { ${fanOut} } } } }`),
      "QUERY_TOO_COMPLEX",
    );
  });

  it("depth counts a connection's edges/node as one step with the connection field (as graphql-armor counts a list)", async () => {
    // webhooks → deliveries: 7 fields deep, 3 levels as counted (the contract's natural read passes the default).
    const natural = await query(`{ webhooks(first: 5) { edges { node { id
      deliveries(first: 5) { edges { node { id status } } } } } } }`);
    expect(natural.json).toEqual({ data: { webhooks: { edges: [] } } });
    // Each hop through a connection is still a level: 6 levels pass, 7 are refused at the default of 6.
    const hops = (leaf: string) =>
      `{ vaults(first: 1) { edges { node { backups(first: 1) { edges { node { vault {
        backups(first: 1) { edges { node { vault { ${leaf} } } } } } } } } } } } }`;
    expect((await query(hops("id"))).json).toEqual({ data: { vaults: { edges: [] } } });
    const seven = await refusedBesideTypename(() => query(hops("mirror { id }")), "QUERY_TOO_COMPLEX");
    expect(seven).toBe("the query is nested deeper than 6 levels (GRAPHQL_MAX_DEPTH)");
    // The same through fragments on the connection and edge types, and with the root node(id:) (a level).
    const fragments = `{ node(id: "x") { ... on Vault { backups(first: 1) { ...C } } } }
      fragment C on BackupConnection { edges { ...E } }
      fragment E on BackupEdge { node { vault { backups(first: 1) { edges { node { vault { mirror { id } } } } } } } }`;
    expect(await refusedBesideTypename(() => query(fragments), "QUERY_TOO_COMPLEX")).toBe(
      "the query is nested deeper than 6 levels (GRAPHQL_MAX_DEPTH)",
    );
  });

  it("every `edges` field of the schema is a connection's and every `node` under it an edge's (the depth rule's names)", () => {
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) && !isInterfaceType(type)) continue;
      const fields = type.getFields();
      if (fields.edges) {
        expect(type.name, type.name).toMatch(/Connection$/);
        expect(String(fields.edges.type), type.name).toMatch(/^\[\w+Edge!?\]!?$/);
      }
      if (type.name.endsWith("Edge")) expect(Object.keys(fields), type.name).toContain("node");
    }
  });

  it("a wide query within the depth limit: the cost limit (page sizes count)", async () => {
    const wide = `{ vaults(first: 100) { edges { node { backups(first: 100) { totalCount } } } } }`;
    const message = await refusedBesideTypename(() => query(wide), "QUERY_TOO_COMPLEX");
    expect(message).toMatch(/^Query Cost limit of 5000 exceeded, found [\d.]+\. \(GRAPHQL_MAX_COST\)$/);
  });

  it("51 directives: the directive limit", async () => {
    const directives = Array.from({ length: 51 }, () => "@include(if: true)").join(" ");
    const message = await refusedBesideTypename(() => query(`{ __typename ${directives} }`), "QUERY_TOO_COMPLEX");
    expect(message).toBe("Directives limit of 50 exceeded, found 51. (GRAPHQL_MAX_DIRECTIVES)");
  });

  it("a 5 MB query and 10 MB of variables: the body limit (413), in-process and over HTTP", async () => {
    const hugeQuery = JSON.stringify({ query: `{ __typename ${" ".repeat(5 * 1024 * 1024)} }` });
    const hugeVariables = JSON.stringify({ query: "{ __typename }", variables: { x: "x".repeat(10 * 1024 * 1024) } });
    for (const body of [hugeQuery, hugeVariables]) {
      const refused = await refusedBesideTypename(() => post(body), "REQUEST_ENTITY_TOO_LARGE");
      expect(refused).toBe("Request body too large");
      const started = performance.now();
      const response = await fetch(`${base}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body,
      });
      expect(response.status).toBe(413);
      expect((await response.json()).errors[0].extensions.code).toBe("REQUEST_ENTITY_TOO_LARGE");
      expect(performance.now() - started).toBeLessThan(5000);
    }
  });

  it("nodes(ids:) takes at most 100 ids", async () => {
    const id = encodeId("Vault", "00000000-0000-4000-8000-000000000000");
    const ok = await query("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", { ids: Array(100).fill(id) });
    expect(ok.json).toEqual({ data: { nodes: Array(100).fill(null) } });
    const refused = await query("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", { ids: Array(101).fill(id) });
    expect(refused.status).toBeLessThan(500);
    expect(refused.json.errors[0]).toMatchObject({
      message: "nodes takes at most 100 ids (got 101)",
      extensions: { code: "INVALID_INPUT" },
    });
  });

  it("a well-formed global id that is no UUID finds nothing, for every node type", async () => {
    const types = ["Account", "Vault", "BackupClient", "HanaInstance", "Backup", "Restore"] as const;
    const more = ["Webhook", "WebhookDelivery", "RestoreDrill", "DrillRun"] as const;
    const ids = [...types, ...more].map((type) => encodeId(type, "not-a-uuid"));
    const found = await query("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", { ids });
    expect(found.json).toEqual({ data: { nodes: ids.map(() => null) } });
  });

  it("simulateHanaWrites: the volume of one call is bounded as a whole, not only each argument", async () => {
    const instanceId = encodeId("HanaInstance", "00000000-0000-4000-8000-000000000000");
    const writes = (transactions: number, rowsPerTransaction: number, valueBytes: number) =>
      query(
        `mutation($input: SimulateHanaWritesInput!) { simulateHanaWrites(input: $input) {
          __typename ... on Error { code message } ... on InvalidInputError { issues { path message } } } }`,
        { input: { instanceId, databaseName: "PRD", transactions, rowsPerTransaction, valueBytes } },
      );
    const all = await writes(10_000, 1000, 65_536);
    expect(all.ms).toBeLessThan(2000);
    expect(all.json.data.simulateHanaWrites).toMatchObject({
      code: "INVALID_INPUT",
      message:
        "one call writes at most 100000 rows (transactions × rowsPerTransaction) and 67108864 bytes (× valueBytes); this one would write 10000000 rows and 655360000000 bytes",
    });
    expect(all.json.data.simulateHanaWrites.issues[0].path).toEqual(["input"]);
    // In range as a whole: it goes on to look for the instance.
    expect((await writes(1000, 10, 64)).json.data.simulateHanaWrites.code).toBe("NOT_FOUND");
  });
});

describe("CORS", () => {
  it("is off by default: no Origin is echoed, credentials never allowed", async () => {
    const preflight = await gw.yoga.fetch("http://gateway.test/graphql", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const simple = await post(JSON.stringify({ query: "{ __typename }" }), apiKey, { origin: "https://evil.example" });
    expect(simple.response.headers.get("access-control-allow-origin")).toBeNull();
    expect(simple.response.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("CORS_ORIGINS allows exactly the listed origins", async () => {
    const allowed = await startTestGateway("limits_cors", { corsOrigins: ["https://ops.example"] });
    try {
      const ask = (origin: string) =>
        allowed.yoga.fetch("http://gateway.test/graphql", {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization",
          },
        });
      const ops = await ask("https://ops.example");
      expect(ops.headers.get("access-control-allow-origin")).toBe("https://ops.example");
      expect(ops.headers.get("access-control-allow-credentials")).toBeNull();
      const evil = await ask("https://evil.example");
      expect(evil.headers.get("access-control-allow-origin")).not.toBe("https://evil.example");
    } finally {
      await allowed.close();
    }
  });
});

it("the admin key is limited too", async () => {
  const aliases = Array.from({ length: 16 }, (_, i) => `r${i}: regions { id }`).join(" ");
  const refused = await post(JSON.stringify({ query: `{ ${aliases} }` }), ADMIN_KEY);
  expect(refused.json.errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
});
