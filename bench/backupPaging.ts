// Deep paging: `backups(first: 20, after: <cursor>)` of a vault holding 1,000,000 backups (plus another vault's
// 200,000 interleaved in time), through the real HTTP server: the first, middle and last page, each also with
// totalCount; p95 latency of one request at a time, against `{ __typename }` measured the same way in the same run.
// The middle and last cursors are built as the API builds them (checked against a cursor the API returned).
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { encodeBase64, encodeCursorTuple } from "@pothos/core";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { hashApiKey } from "../src/domain/accounts.ts";

import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { dropBenchDatabase, freshBenchDatabase, withClient } from "./lib/database.ts";
import { int, ms, table } from "./lib/format.ts";
import { recordGoal } from "./lib/report.ts";
import { loadInRounds, median } from "./lib/rounds.ts";
import { startServer } from "./lib/server.ts";
import { benchServices } from "./lib/services.ts";

const DATABASE = "mvg_bench_backups";
const BACKUPS = Number(process.env.BENCH_BACKUPS) || 1_000_000;
const OTHER_BACKUPS = Math.round(BACKUPS / 5);
const GOAL_P95_MS = 50;
const VAULT = "00000000-0000-4000-8000-00000000b001";
const OTHER_VAULT = "00000000-0000-4000-8000-00000000b002";

const pageQuery = (withTotal: boolean) =>
  `query($id: ID!, $after: String) { node(id: $id) { ... on Vault { backups(first: 20, after: $after) {
    ${withTotal ? "totalCount" : ""} pageInfo { hasNextPage endCursor }
    edges { cursor node { id type status startedAt completedAt sizeBytes } } } } } }`;

/** The API's cursor for a backup: Pothos's compound cursor over (startedAt, id). */
const cursorOf = (startedAt: Date, id: string) => encodeBase64(`GPC:${encodeCursorTuple([startedAt, id])}`);

async function seed(databaseUrl: string, apiKey: string) {
  return withClient(databaseUrl, async (client) => {
    await client.query("begin");
    await client.query(`insert into "Account" (id, name) values (md5('bench-paging')::uuid, 'paging')`);
    await client.query(
      `insert into "ApiKey" (id, "accountId", "keyHash") values (gen_random_uuid(), md5('bench-paging')::uuid, $1)`,
      [hashApiKey(apiKey)],
    );
    await client.query(
      `insert into "Vault" (id, "accountId", name, kind, "regionId") values
       ($1, md5('bench-paging')::uuid, 'deep', 'SOURCE', 'cn-hangzhou'),
       ($2, md5('bench-paging')::uuid, 'other', 'SOURCE', 'cn-hangzhou')`,
      [VAULT, OTHER_VAULT],
    );
    await client.query(
      `insert into "HanaInstance" (id, "accountId", "regionId", "vaultId", name, sid, "instanceNumber", host,
                                   "ecsInstanceIds", "userName", "passwordCipher", status)
       values (md5('bench-paging-instance')::uuid, md5('bench-paging')::uuid, 'cn-hangzhou', $1, 'deep', 'DP1', '00',
               'hana.bench', array['i-bench'], 'SYSTEM', 'x', 'INITIALIZED')`,
      [VAULT],
    );
    // Every 10th start time is shared by two backups, so the id breaks ties; the other vault's backups interleave.
    await client.query(
      `insert into "Backup" (id, "accountId", "vaultId", "instanceId", "databaseName", type, status, "hanaBackupId",
                             prefix, "startedAt", "completedAt", "sizeBytes")
       select gen_random_uuid(), md5('bench-paging')::uuid, case when i % 6 = 0 then $2::uuid else $1::uuid end,
              md5('bench-paging-instance')::uuid, 'DP1',
              (case when i % 50 = 0 then 'COMPLETE' else 'LOG' end)::"BackupType", 'COMPLETE'::"BackupStatus",
              i, 'deep/' || i, timestamp '2020-01-01' + (i - i % 10 / 9) * interval '1 second',
              timestamp '2020-01-01' + (i + 30) * interval '1 second', 4096
       from generate_series(1, $3::int) i`,
      [VAULT, OTHER_VAULT, BACKUPS + OTHER_BACKUPS],
    );
    await client.query("commit");
    await client.query("analyze");
    const { rows } = await client.query<{ n: string }>(`select count(*) as n from "Backup" where "vaultId" = $1`, [
      VAULT,
    ]);
    const total = Number(rows[0].n);
    const at = async (offset: number) => {
      const r = await client.query<{ startedAt: Date; id: string }>(
        `select "startedAt", id from "Backup" where "vaultId" = $1 order by "startedAt", id offset $2 limit 1`,
        [VAULT, offset],
      );
      return cursorOf(r.rows[0].startedAt, r.rows[0].id);
    };
    return { total, first: await at(0), middle: await at(Math.floor(total / 2)), last: await at(total - 21) };
  });
}

export const backupPaging: Benchmark = {
  name: "backups",
  description: `backups(first: 20, after) of a vault with ${int(BACKUPS)} backups: first/middle/last page ± totalCount, p95 (goal < ${GOAL_P95_MS} ms)`,
  async run() {
    const started = performance.now();
    const databaseUrl = await freshBenchDatabase(DATABASE);
    const services = await benchServices({ databaseUrl, queuePrefix: `mvg-bench-backups-${process.pid}` });
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      const apiKey = `mvg_bench_${randomBytes(24).toString("base64url")}`;
      const cursors = await seed(databaseUrl, apiKey);
      console.log(
        `  seeded ${int(cursors.total)} backups in one vault (+${int(OTHER_BACKUPS)} in another) in ` +
          `${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      server = await startServer(services);
      const id = encodeGlobalID("Vault", VAULT);
      const check = await fetchPage(server.url, apiKey, id, null, true);
      if (check.totalCount !== cursors.total || check.edges.length !== 20) {
        throw new BenchmarkFailure(`first page: totalCount ${check.totalCount}, ${check.edges.length} edges`);
      }
      if (check.edges[0].cursor !== cursors.first) {
        throw new BenchmarkFailure("the bench's cursor encoding differs from the API's: fix cursorOf");
      }
      const last = await fetchPage(server.url, apiKey, id, cursors.last, false);
      if (last.edges.length !== 20 || last.pageInfo.hasNextPage) {
        throw new BenchmarkFailure(`last page: ${last.edges.length} edges, hasNextPage ${last.pageInfo.hasNextPage}`);
      }

      const auth = { authorization: `Bearer ${apiKey}` };
      const one = { concurrency: 1 };
      const pages = [
        ["first page", null],
        ["middle page", cursors.middle],
        ["last page", cursors.last],
      ] as const;
      const cases = pages.flatMap(([name, after]) =>
        [false, true].map((withTotal) => ({
          name: `${name}${withTotal ? " + totalCount" : ""}`,
          url: server?.url as string,
          headers: auth,
          body: { query: pageQuery(withTotal), variables: { id, after } },
          ...one,
        })),
      );
      // One request at a time: 1 s a round gives each case a few hundred requests, enough for a p95.
      const results = await loadInRounds(
        [
          { name: "{ __typename }", url: server.url, headers: auth, body: { query: "{ __typename }" }, ...one },
          ...cases,
        ],
        1_000,
      );
      const p95 = (name: string) => median((results.get(name) ?? []).map((r) => r.p95Ms));
      const p50 = (name: string) => median((results.get(name) ?? []).map((r) => r.p50Ms));
      console.log();
      console.log(
        `backups(first: 20) of a vault with ${int(cursors.total)} backups, one request at a time (medians over rounds)`,
      );
      console.log(
        table([
          ["page", "p50 ms", "p95 ms"],
          ...["{ __typename }", ...cases.map((c) => c.name)].map((name) => [name, ms(p50(name)), ms(p95(name))]),
        ]),
      );
      const baseline = p95("{ __typename }");
      for (const { name } of cases) {
        recordGoal({
          row: `backups ${name} p95`,
          figure: `${ms(p95(name))} ms`,
          baseline: `{ __typename } ${ms(baseline)} ms`,
          ratio: baseline / p95(name),
          goal: `< ${GOAL_P95_MS} ms`,
          met: p95(name) < GOAL_P95_MS,
        });
      }
    } finally {
      await server?.close();
      await services.close();
      await dropBenchDatabase(DATABASE);
    }
  },
};

type Page = {
  totalCount?: number;
  pageInfo: { hasNextPage: boolean; endCursor: string };
  edges: { cursor: string; node: { id: string } }[];
};

async function fetchPage(url: string, apiKey: string, id: string, after: string | null, withTotal: boolean) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query: pageQuery(withTotal), variables: { id, after } }),
  });
  const body = (await response.json()) as { data?: { node: { backups: Page } }; errors?: unknown };
  if (!body.data) throw new BenchmarkFailure(`page query failed: ${JSON.stringify(body.errors)}`);
  return body.data.node.backups;
}
