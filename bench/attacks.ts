// The attacks of issue 14 against the real HTTP server: what each gets and how long it takes (median of 5), with a
// `{ __typename }` sent at the same moment beside it. `npm run bench -- attacks`.
import type { Server } from "node:http";
import { performance } from "node:perf_hooks";
import { encodeId } from "../src/api/ids.ts";
import { createHttpServer } from "../src/app.ts";
import { startTestGateway } from "../test/support/gateway.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { ms, table } from "./lib/format.ts";

const ROUNDS = 5;

function attacks(): { name: string; body: () => string; key?: string }[] {
  const json = (query: string, variables?: unknown) => () => JSON.stringify({ query, variables });
  const wide = ["fragment F0 on Query { regions { id name } }"];
  for (let i = 1; i <= 20; i++) wide.push(`fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`);
  const deep = ["fragment D0 on Vault { id name }"];
  for (let i = 1; i <= 20; i++)
    deep.push(`fragment D${i} on Vault { a: sourceVault { ...D${i - 1} } b: mirror { ...D${i - 1} } }`);
  let nested = "id";
  for (let i = 0; i < 100; i++) nested = `mirror { sourceVault { ${nested} } }`;
  let fanOut = "id";
  for (let i = 0; i < 9; i++) fanOut = `backups(first: 100) { edges { node { vault { ${fanOut} } } } }`;
  const vaultAliases = Array.from({ length: 2000 }, (_, i) => `v${i}: vaults(first: 100) { totalCount }`).join(" ");
  const plans = Array.from({ length: 10_000 }, (_, i) => `p${i}: restorePlan(input: $input) { __typename }`).join(" ");
  const id = encodeId("Vault", "00000000-0000-4000-8000-000000000000");
  const instanceId = encodeId("HanaInstance", "00000000-0000-4000-8000-000000000000");
  return [
    {
      name: "fragment bomb (20 levels, each spreads the previous twice)",
      body: json(`{ ...F20 }\n${wide.join("\n")}`),
    },
    {
      name: "fragment bomb through aliased fields",
      body: json(`{ vaults(first: 1) { edges { node { ...D20 } } } }\n${deep.join("\n")}`),
    },
    {
      name: "fragment cycle",
      body: json(
        "{ vaults { edges { node { ...A } } } } fragment A on Vault { sourceVault { ...B } } fragment B on Vault { mirror { ...A } }",
      ),
    },
    {
      name: "batched JSON array (1,000 operations)",
      body: () => JSON.stringify(Array(1000).fill({ query: "{ __typename }" })),
    },
    { name: "5 MB query", body: json(`{ __typename ${" ".repeat(5 * 1024 * 1024)} }`) },
    { name: "10 MB variables", body: json("{ __typename }", { x: "x".repeat(10 * 1024 * 1024) }) },
    { name: "2,000 aliases of vaults(first: 100)", body: json(`{ ${vaultAliases} }`) },
    {
      name: "200 levels of mirror { sourceVault }",
      body: json(`{ vaults(first: 1) { edges { node { ${nested} } } } }`),
    },
    {
      name: "10,000 aliases of restorePlan",
      body: json(`query($input: RestoreFromMirrorInput!) { ${plans} }`, { input: {} }),
    },
    { name: "9-level fan-out of backups", body: json(`{ vaults(first: 100) { edges { node { ${fanOut} } } } }`) },
    {
      name: "nodes(ids:) with 101 ids",
      body: json("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", { ids: Array(101).fill(id) }),
    },
    {
      name: "simulateHanaWrites 10,000 tx × 1,000 rows × 64 KiB",
      body: json(
        `mutation($input: SimulateHanaWritesInput!) { simulateHanaWrites(input: $input) { __typename ... on Error { code } } }`,
        {
          input: {
            instanceId,
            databaseName: "PRD",
            transactions: 10_000,
            rowsPerTransaction: 1000,
            valueBytes: 65_536,
          },
        },
      ),
    },
  ];
}

async function send(base: string, key: string, body: string) {
  const started = performance.now();
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body,
  });
  const text = await response.text();
  const code = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? "";
  return { status: response.status, code, ms: performance.now() - started };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export const attackBench: Benchmark = {
  name: "attacks",
  description: "issue 14's attacks on the HTTP server: answer and time of each, with { __typename } beside it",
  async run() {
    const gw = await startTestGateway("bench_attacks");
    const server: Server = createHttpServer(gw.services).listen(0, "127.0.0.1");
    try {
      await new Promise((resolve) => server.once("listening", resolve));
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const { apiKey } = await gw.createAccount("bench");
      const typename = JSON.stringify({ query: "{ __typename }" });
      const rows = [["attack", "answer", "median ms", "{ __typename } beside it, ms"]];
      for (const attack of attacks()) {
        const body = attack.body();
        const times: number[] = [];
        const beside: number[] = [];
        let answer = "";
        for (let round = 0; round < ROUNDS; round++) {
          const [refused, plain] = await Promise.all([send(base, apiKey, body), send(base, apiKey, typename)]);
          if (refused.status >= 500) throw new BenchmarkFailure(`${attack.name}: HTTP ${refused.status}`);
          times.push(refused.ms);
          beside.push(plain.ms);
          answer = `${refused.status} ${refused.code}`;
        }
        rows.push([attack.name, answer, ms(median(times)), ms(median(beside))]);
      }
      // 11 wrong keys from one address: the 11th (and anything after it) is 429.
      const wrong: { status: number; ms: number }[] = [];
      for (let i = 0; i < 11; i++) wrong.push(await send(base, `mvg_wrong_${i}`, typename));
      rows.push(["11th wrong API key from one address", `${wrong[10].status} RATE_LIMITED`, ms(wrong[10].ms), ""]);
      console.log(table(rows));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gw.close();
    }
  },
};
