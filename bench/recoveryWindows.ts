// Recovery windows on a listing page: `vaults(first: 20)` of MIRROR vaults with `recoveryWindows` against the same
// page without it, on the real HTTP server (target: at least 0.7x the requests per second), plus the number of SQL
// statements the windows add to one request (constant in the page size: no query per backup or per mirror).
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type pg from "pg";
import { hashApiKey } from "../src/domain/accounts.ts";

import { createCountingDb } from "../test/support/countingDb.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { dropBenchDatabase, freshBenchDatabase, withClient } from "./lib/database.ts";
import { int, ms, ratio, table } from "./lib/format.ts";
import { type LoadResult, runLoad } from "./lib/load.ts";
import { recordGoal } from "./lib/report.ts";
import { graphql, startServer } from "./lib/server.ts";
import { benchServices } from "./lib/services.ts";

const DATABASE = "mvg_bench_windows";
const MIRRORS = 40;
const DAYS = 7;
const LOGS_PER_DAY = 24; // a LOG backup every hour, a COMPLETE every day: 175 backups per source database
const TARGET_RATIO = 0.7;

const page = (windows: boolean) =>
  `{ vaults(first: 20, filter: { kind: MIRROR }) { edges { node { id name kind region { id } ${
    windows
      ? "recoveryWindows { databaseName sourceInstance { id sid } earliestTime latestTime latestLogPosition gaps { fromPosition toPosition } sourceLatestTime rpoSeconds rpoBreached }"
      : ""
  } } } } }`;

/**
 * One account with MIRRORS source vaults in cn-hangzhou, each with one SAP HANA instance whose database has DAYS
 * days of backups (a COMPLETE a day, LOG backups in between, positions continuous), and a mirror in cn-shanghai
 * holding their copies; every fifth mirror lacks one LOG copy (a gap).
 */
export async function seed(client: pg.Client, apiKey: string) {
  await client.query("begin");
  await client.query(`insert into "Account" (id, name) values (md5('w-account')::uuid, 'windows bench')`);
  await client.query(
    `insert into "ApiKey" (id, "accountId", "keyHash") values (md5('w-key')::uuid, md5('w-account')::uuid, $1)`,
    [hashApiKey(apiKey)],
  );
  await client.query(
    `insert into "Vault" (id, "accountId", name, kind, status, "regionId", "createdAt", "sourceVaultId")
     select md5('w-source-' || i)::uuid, md5('w-account')::uuid, 'prod-' || i, 'SOURCE'::"VaultKind",
            'CREATED'::"VaultStatus", 'cn-hangzhou',
            timestamp '2026-01-01' + i * interval '1 second', null
     from generate_series(1, $1::int) i
     union all
     select md5('w-mirror-' || i)::uuid, md5('w-account')::uuid, 'prod-' || i || '-dr', 'MIRROR'::"VaultKind",
            'CREATED'::"VaultStatus",
            'cn-shanghai', timestamp '2026-01-01' + i * interval '1 second' + interval '1 hour', md5('w-source-' || i)::uuid
     from generate_series(1, $1::int) i`,
    [MIRRORS],
  );
  await client.query(
    `insert into "HanaInstance" (id, "accountId", "regionId", "vaultId", name, sid, "instanceNumber", host,
                                 "ecsInstanceIds", "userName", "passwordCipher", status)
     select md5('w-instance-' || i)::uuid, md5('w-account')::uuid, 'cn-hangzhou', md5('w-source-' || i)::uuid,
            'hana-' || i, 'P' || lpad(i::text, 2, '0'), '00', 'hana.bench', array['i-bench'], 'SYSTEM', 'x',
            'INITIALIZED'::"HanaInstanceStatus"
     from generate_series(1, $1::int) i`,
    [MIRRORS],
  );
  // Hour s of the history: a LOG backup of positions (s-1)*100+1..s*100; every LOGS_PER_DAY hours a COMPLETE at s*100.
  await client.query(
    `insert into "Backup" (id, "accountId", "vaultId", "instanceId", "databaseName", type, status, "hanaBackupId",
                           prefix, "startedAt", "completedAt", "sizeBytes", "logPositionStart", "logPositionEnd",
                           "coversUntil", "basePosition")
     select md5('w-backup-' || i || '-' || s || '-' || k)::uuid, md5('w-account')::uuid, md5('w-source-' || i)::uuid,
            md5('w-instance-' || i)::uuid, 'P' || lpad(i::text, 2, '0'), k::"BackupType", 'COMPLETE'::"BackupStatus",
            case when k = 'LOG' then s else 100000 + s end, 'bench/' || i || '/' || s || '/' || k, t, t, 1048576,
            case when k = 'LOG' then (s - 1) * 100 + 1 else s * 100 end, s * 100, t, null
     from generate_series(1, $1::int) i
     cross join generate_series(1, $2::int * $3::int) s
     cross join lateral (select timestamp '2026-01-01' + s * interval '1 hour' as t) at
     cross join lateral (select unnest(case when s % $3::int = 1 then array['COMPLETE', 'LOG'] else array['LOG'] end) as k) kinds`,
    [MIRRORS, DAYS, LOGS_PER_DAY],
  );
  await client.query(
    `insert into "BackupCopy" ("backupId", "mirrorVaultId", "sizeBytes")
     select b.id, m.id, b."sizeBytes" from "Vault" m join "Backup" b on b."vaultId" = m."sourceVaultId"
     where m.kind = 'MIRROR' and not (b."hanaBackupId" = $1 and (m.name like '%5-dr' or m.name like '%0-dr'))`,
    [LOGS_PER_DAY * 2 + 5],
  );
  await client.query("commit");
  await client.query("analyze");
  const { rows } = await client.query<{ backups: string }>(`select count(*) as backups from "Backup"`);
  return Number(rows[0]!.backups);
}

async function measure(url: string, apiKey: string, query: string): Promise<LoadResult> {
  const result = await runLoad({ url, headers: { authorization: `Bearer ${apiKey}` }, body: { query } });
  if (result.errors > 0) throw new BenchmarkFailure(`${result.errors} failed requests; first: ${result.firstError}`);
  return result;
}

export const recoveryWindowsBench: Benchmark = {
  name: "windows",
  description: "vaults(first: 20) of mirrors with recoveryWindows vs without: rps ratio (target ≥ 0.7x), SQL count",
  async run() {
    const started = performance.now();
    const databaseUrl = await freshBenchDatabase(DATABASE);
    const apiKey = `mvg_bench_${randomBytes(24).toString("base64url")}`;
    const backups = await withClient(databaseUrl, (client) => seed(client, apiKey));
    console.log(
      `  seeded ${int(MIRRORS)} mirrors, ${int(backups)} backups (${int(backups / MIRRORS)} per source database) ` +
        `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const services = await benchServices({ databaseUrl, queuePrefix: `mvg-bench-windows-${process.pid}` });
    const server = await startServer(services);
    const counting = createCountingDb(databaseUrl);
    const originalDb = services.db;
    try {
      const check = await graphql<{ vaults: { edges: { node: { recoveryWindows: any[] } }[] } }>(
        server.url,
        apiKey,
        page(true),
      );
      const windows = check.vaults.edges.map((e) => e.node.recoveryWindows);
      if (windows.length !== 20 || windows.some((w) => w.length !== 1 || w[0].latestTime === null)) {
        throw new BenchmarkFailure(`expected 20 mirrors with one window each: ${JSON.stringify(windows[0])}`);
      }
      if (!windows.some((w) => w[0].gaps.length > 0)) throw new BenchmarkFailure("no seeded gap shows in a window");

      const without = await measure(server.url, apiKey, page(false));
      const withWindows = await measure(server.url, apiKey, page(true));

      services.db = counting.db;
      const statements: number[] = [];
      for (const windowsToo of [false, true]) {
        await graphql(server.url, apiKey, page(windowsToo));
        counting.counter.reset();
        await graphql(server.url, apiKey, page(windowsToo));
        statements.push(counting.counter.count);
      }
      services.db = originalDb;

      const rpsRatio = withWindows.rps / without.rps;
      console.log();
      console.log(
        table([
          ["vaults(first: 20) of mirrors", "rps", "p50 ms", "p99 ms", "SQL statements"],
          ["without recoveryWindows", int(without.rps), ms(without.p50Ms), ms(without.p99Ms), String(statements[0])],
          [
            "with recoveryWindows",
            int(withWindows.rps),
            ms(withWindows.p50Ms),
            ms(withWindows.p99Ms),
            String(statements[1]),
          ],
          [
            "ratio with/without",
            ratio(rpsRatio),
            ratio(withWindows.p50Ms / without.p50Ms),
            ratio(withWindows.p99Ms / without.p99Ms),
            "",
          ],
        ]),
      );
      // The row goes in the goals table; a missed goal then reports FAIL, as in every benchmark with a goal.
      recordGoal({
        row: "mirrors page with recoveryWindows, rps",
        figure: `${Math.round(withWindows.rps)} rps`,
        baseline: `without ${Math.round(without.rps)} rps`,
        ratio: rpsRatio,
        goal: `≥ ${TARGET_RATIO}x`,
        met: rpsRatio >= TARGET_RATIO,
      });
      if (rpsRatio < TARGET_RATIO) {
        throw new BenchmarkFailure(
          `recoveryWindows page at ${ratio(rpsRatio)} of the plain page (target ${TARGET_RATIO}x)`,
        );
      }
    } finally {
      services.db = originalDb;
      await server.close();
      await counting.close();
      await services.close();
      await dropBenchDatabase(DATABASE);
    }
  },
};
