// Vault listing and the gateway's floor, on the real HTTP server, each against a baseline in the same run:
// - `vaults(first: 20) { id name kind region }` rps vs `{ __typename }` on the same server (goal ≥ 0.6x);
// - the full listing (+ totalCount, backupCount, storedBytes, replication, mirror) rps vs `{ __typename }`
//   (goal ≥ 0.3x), and its SQL statements per request for page sizes 1, 20 and 100 (goal ≤ 3, constant);
// - `{ __typename }` on the gateway vs a bare graphql-yoga server in this process (goal ≥ 0.7x);
// - beside them, each query's CPU time per request in process (bench/lib/cpuPerRequest.ts), which noise moves less.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";

import { createSchema, createYoga } from "graphql-yoga";
import { createGateway } from "../src/app.ts";
import { createCountingDb } from "../test/support/countingDb.ts";
import { startBareYoga } from "./lib/bareYoga.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { cpuPerRequest } from "./lib/cpuPerRequest.ts";
import { dropBenchDatabase, freshBenchDatabase, withClient } from "./lib/database.ts";
import { int, ms, table } from "./lib/format.ts";
import { loadDefaults } from "./lib/load.ts";
import { ratioGoal, recordGoal } from "./lib/report.ts";
import { loadInRounds, median, medianRatio } from "./lib/rounds.ts";
import { graphql, startServer } from "./lib/server.ts";
import { benchServices } from "./lib/services.ts";
import { seedVaults, VAULTS } from "./lib/vaultSeed.ts";

const DATABASE = "mvg_bench_vaults";
const PAGE_SIZES = [1, 20, 100];
const MAX_STATEMENTS = 3;

const listingQuery = "{ vaults(first: 20) { edges { node { id name kind region { id name } } } } }";
const fullQuery = (first: number) =>
  `{ vaults(first: ${first}) { totalCount edges { cursor node { id name kind status createdAt region { id name }
     backupCount storedBytes mirror { id }
     replication { sourceRegion { id name } targetRegion { id name } historicalSyncStatus historicalSyncScheduledAt
       historicalSyncStartedAt historicalSyncCompletedAt historicalProgress latestReplicationTime
       replicatedBackupCount pendingBackupCount } } } } }`;
const baselineQuery = "{ __typename }";

type FullPage = {
  vaults: {
    totalCount: number;
    edges: { node: { kind: string; replication: unknown; mirror: unknown; backupCount: number } }[];
  };
};

export const vaultListing: Benchmark = {
  name: "vaults",
  description:
    "vaults(first: 20) and the full listing vs { __typename } (rps); SQL statements per listing; { __typename } vs bare yoga",
  async run() {
    const started = performance.now();
    const databaseUrl = await freshBenchDatabase(DATABASE);
    const apiKey = `mvg_bench_${randomBytes(24).toString("base64url")}`;
    // The full listing of 100 vaults costs ~16,000 by the query-cost limit (default 5,000): raised here so the
    // statements can be counted at that page size too; the load runs the 20-vault page, within the default.
    const services = await benchServices({
      databaseUrl,
      queuePrefix: `mvg-bench-vaults-${process.pid}`,
      graphqlMaxCost: 50_000,
    });
    const counting = createCountingDb(databaseUrl);
    const originalDb = services.db;
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    let bare: Awaited<ReturnType<typeof startBareYoga>> | undefined;
    try {
      const seeded = await withClient(databaseUrl, (client) => seedVaults(client, apiKey));
      console.log(
        `  seeded: ${int(seeded.vaults)} vaults (${int(VAULTS)} listed), ${int(seeded.backups)} backups, ` +
          `${int(seeded.copies)} copies in ${((performance.now() - started) / 1000).toFixed(1)} s (incl. migrations)`,
      );
      server = await startServer(services);
      bare = await startBareYoga();
      const page = await graphql<FullPage>(server.url, apiKey, fullQuery(20));
      const mirrorNode = page.vaults.edges.find((e) => e.node.kind === "MIRROR")?.node;
      if (page.vaults.totalCount !== VAULTS || page.vaults.edges.length !== 20 || !mirrorNode?.replication) {
        throw new BenchmarkFailure(`the full listing does not show what was seeded: ${JSON.stringify(page)}`);
      }

      const auth = { authorization: `Bearer ${apiKey}` };
      const { concurrency } = loadDefaults;
      console.log(`  load: ${concurrency} keep-alive connections per case; cases take turns, round after round`);
      const results = await loadInRounds([
        { name: "bare", url: bare.url, body: { query: baselineQuery } },
        { name: "typename", url: server.url, headers: auth, body: { query: baselineQuery } },
        { name: "listing", url: server.url, headers: auth, body: { query: listingQuery } },
        { name: "full", url: server.url, headers: auth, body: { query: fullQuery(20) } },
      ]);
      const of = (name: string) => results.get(name) ?? [];
      const rps = (name: string) => median(of(name).map((r) => r.rps));
      const p50 = (name: string) => median(of(name).map((r) => r.p50Ms));
      const p99 = (name: string) => median(of(name).map((r) => r.p99Ms));

      // CPU per request in process (no HTTP, no load generator): what each query costs the gateway itself.
      const inProcess = createGateway(services);
      const bareYoga = createYoga({
        schema: createSchema({ typeDefs: "type Query { hello: String }" }),
        logging: false,
        landingPage: false,
      });
      const cpu = await cpuPerRequest([
        { name: "bare", yoga: bareYoga, query: baselineQuery },
        { name: "typename", yoga: inProcess, query: baselineQuery, headers: auth },
        { name: "listing", yoga: inProcess, query: listingQuery, headers: auth },
        { name: "full", yoga: inProcess, query: fullQuery(20), headers: auth },
      ]);
      const cpuOf = (name: string) => ms(cpu.get(name) ?? Number.NaN);

      // SQL statements per request, counted on the pg connections of a Prisma client swapped into the services.
      services.db = counting.db;
      const counts: number[] = [];
      const statements: string[][] = [];
      for (const first of PAGE_SIZES) {
        await graphql(server.url, apiKey, fullQuery(first)); // warm the pool and Prisma's caches first
        counting.counter.reset();
        const data = await graphql<FullPage>(server.url, apiKey, fullQuery(first));
        counts.push(counting.counter.count);
        statements.push([...counting.counter.statements]);
        if (data.vaults.edges.length !== first) {
          throw new BenchmarkFailure(`vaults(first: ${first}) returned ${data.vaults.edges.length} edges`);
        }
      }
      services.db = originalDb;

      console.log();
      console.log(`vault listing (${int(VAULTS)} vaults of the caller's; medians over rounds)`);
      const line = (label: string, name: string) => [
        label,
        int(rps(name)),
        ms(p50(name)),
        ms(p99(name)),
        int(of(name).reduce((n, r) => n + r.requests, 0)),
        cpuOf(name),
      ];
      console.log(
        table([
          ["query", "rps", "p50 ms", "p99 ms", "requests", "CPU ms/request in process"],
          line("bare graphql-yoga { __typename }", "bare"),
          line("{ __typename }", "typename"),
          line("vaults(first: 20) id name kind region", "listing"),
          line("vaults(first: 20) full listing", "full"),
        ]),
      );
      const statementsLine = PAGE_SIZES.map((first, i) => `first ${first} → ${counts[i]}`).join(", ");
      console.log(`SQL statements per full listing: ${statementsLine}`);
      if (process.env.BENCH_VERBOSE) {
        PAGE_SIZES.forEach((first, i) => {
          console.log(`  statements for first ${first}:`);
          for (const sql of statements[i]) console.log(`    ${sql.replace(/\s+/g, " ").slice(0, 200)}`);
        });
      }
      const typename = `{ __typename } ${int(rps("typename"))} rps`;
      ratioGoal(
        "vaults(first: 20) rps",
        `${int(rps("listing"))} rps`,
        typename,
        medianRatio(of("listing"), of("typename"), (r) => r.rps),
        0.6,
      );
      ratioGoal(
        "full listing rps",
        `${int(rps("full"))} rps`,
        typename,
        medianRatio(of("full"), of("typename"), (r) => r.rps),
        0.3,
      );
      const constant = counts.every((count) => count === counts[0]);
      recordGoal({
        row: "full listing SQL statements",
        figure: statementsLine,
        baseline: "",
        ratio: Number.NaN,
        goal: `≤ ${MAX_STATEMENTS}, constant`,
        met: constant && Math.max(...counts) <= MAX_STATEMENTS,
      });
      ratioGoal(
        "{ __typename } rps",
        typename,
        `bare yoga ${int(rps("bare"))} rps`,
        medianRatio(of("typename"), of("bare"), (r) => r.rps),
        0.7,
      );
      console.log(
        `  (ratios: medians of each round's ratio; took ${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
    } finally {
      services.db = originalDb;
      await server?.close();
      await bare?.close();
      await counting.close();
      await services.close();
      await dropBenchDatabase(DATABASE);
    }
  },
};
