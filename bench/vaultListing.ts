// Vault listing: throughput and latency of `vaults(first: 20)` against `{ __typename }` on the real HTTP server,
// and the number of SQL statements one listing request issues for page sizes 1, 20 and 100 (must be constant).
import { createHash, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type pg from "pg";
import { config } from "../src/config.ts";
import { hashApiKey } from "../src/domain/accounts.ts";
import { createServices } from "../src/services.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { createCountingDb } from "./lib/countingDb.ts";
import { freshBenchDatabase, withClient } from "./lib/database.ts";
import { int, ms, ratio, table } from "./lib/format.ts";
import { type LoadResult, loadDefaults, runLoad } from "./lib/load.ts";
import { graphql, startServer } from "./lib/server.ts";

const DATABASE = "mvg_bench";
const VAULTS = 10_000;
const OTHER_ACCOUNTS = 3;
const OTHER_VAULTS_EACH = 1_000;
const BACKUPS_PER_SOURCE = 3;
const PAGE_SIZES = [1, 20, 100];

const listingQuery = "{ vaults(first: 20) { totalCount edges { node { id name kind region { id name } } } } }";
const baselineQuery = "{ __typename }";
const countingQuery = (first: number) =>
  `{ vaults(first: ${first}) { totalCount edges { node { id name region { id } backupCount storedBytes mirror { id } } } } }`;

/**
 * One account (the one the benchmark calls as) with VAULTS vaults spread over the configured regions, every
 * fourth a MIRROR of the vault before it; SOURCE vaults hold a few completed backups and mirrors their copies.
 * Other accounts own vaults interleaved in time, so the account filter has rows to skip.
 */
async function seed(client: pg.Client, apiKey: string) {
  const regions = config.regions.map((region) => region.id);
  await client.query("begin");
  await client.query(
    `insert into "Account" (id, name)
     select md5('bench-account-' || a)::uuid, 'bench account ' || a from generate_series(0, $1::int) a`,
    [OTHER_ACCOUNTS],
  );
  await client.query(`insert into "ApiKey" (id, "accountId", "keyHash") values (md5('bench-key')::uuid, $1, $2)`, [
    accountId(0),
    hashApiKey(apiKey),
  ]);
  // Account 0 gets VAULTS vaults, the others OTHER_VAULTS_EACH each; created one second apart, interleaved.
  await client.query(
    `insert into "Vault" (id, "accountId", name, description, kind, status, "regionId", "createdAt", "sourceVaultId")
     select md5('bench-vault-' || a || '-' || i)::uuid,
            md5('bench-account-' || a)::uuid,
            'vault-' || lpad(i::text, 5, '0'),
            case when i % 3 = 0 then 'benchmark vault ' || i end,
            (case when i % 4 = 0 then 'MIRROR' else 'SOURCE' end)::"VaultKind",
            'CREATED'::"VaultStatus",
            ($3::text[])[1 + (i % cardinality($3::text[]))],
            timestamp '2026-01-01' + (i * ($4::int + 1) + a) * interval '1 second',
            case when i % 4 = 0 then md5('bench-vault-' || a || '-' || (i - 1))::uuid end
     from generate_series(0, $4::int) a
     cross join lateral generate_series(1, case when a = 0 then $1::int else $2::int end) i`,
    [VAULTS, OTHER_VAULTS_EACH, regions, OTHER_ACCOUNTS],
  );
  await client.query(
    `insert into "HanaInstance" (id, "accountId", "regionId", "vaultId", name, sid, "instanceNumber", host,
                                 "ecsInstanceIds", "userName", "passwordCipher", status)
     values (md5('bench-instance')::uuid, $1, $2, md5('bench-vault-0-1')::uuid, 'bench', 'HDB', '00', 'hana.bench',
             array['i-bench'], 'SYSTEM', 'x', 'INITIALIZED')`,
    [accountId(0), regions[1 % regions.length]],
  );
  await client.query(
    `insert into "Backup" (id, "accountId", "vaultId", "instanceId", "databaseName", type, status, "hanaBackupId",
                           prefix, "startedAt", "completedAt", "sizeBytes")
     select md5('bench-backup-' || i || '-' || b)::uuid, v."accountId", v.id, md5('bench-instance')::uuid, 'HDB',
            (case when b = 1 then 'COMPLETE' else 'LOG' end)::"BackupType", 'COMPLETE'::"BackupStatus",
            i * 10 + b, 'bench/' || i || '/' || b, v."createdAt" + b * interval '1 minute',
            v."createdAt" + b * interval '2 minutes', (i * 1000 + b)::bigint * 1024
     from generate_series(1, $1::int) i
     join "Vault" v on v.id = md5('bench-vault-0-' || i)::uuid and v.kind = 'SOURCE'
     cross join generate_series(1, $2::int) b`,
    [VAULTS, BACKUPS_PER_SOURCE],
  );
  await client.query(
    `insert into "BackupCopy" ("backupId", "mirrorVaultId", "sizeBytes")
     select b.id, m.id, b."sizeBytes"
     from "Vault" m join "Backup" b on b."vaultId" = m."sourceVaultId"
     where m."accountId" = $1 and m.kind = 'MIRROR'`,
    [accountId(0)],
  );
  await client.query("commit");
  await client.query("analyze");
  const counts = await client.query<{ vaults: string; backups: string; copies: string }>(
    `select (select count(*) from "Vault") as vaults, (select count(*) from "Backup") as backups,
            (select count(*) from "BackupCopy") as copies`,
  );
  return counts.rows[0];
}

/** md5(text)::uuid, as the seed SQL computes ids. */
function uuidOf(text: string) {
  const hex = createHash("md5").update(text).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const accountId = (index: number) => uuidOf(`bench-account-${index}`);

async function measure(url: string, apiKey: string, query: string): Promise<LoadResult> {
  const result = await runLoad({ url, headers: { authorization: `Bearer ${apiKey}` }, body: { query } });
  if (result.errors > 0) {
    throw new BenchmarkFailure(`${result.errors} failed requests for ${query}; first: ${result.firstError}`);
  }
  return result;
}

export const vaultListing: Benchmark = {
  name: "vaults",
  description: "vaults(first: 20) vs { __typename }: rps, p50/p99; SQL statements per request for page sizes 1/20/100",
  async run() {
    const started = performance.now();
    const databaseUrl = await freshBenchDatabase(DATABASE);
    const apiKey = `mvg_bench_${randomBytes(24).toString("base64url")}`;
    const seeded = await withClient(databaseUrl, (client) => seed(client, apiKey));
    const seededAt = performance.now();
    console.log(
      `  seeded ${DATABASE}: ${int(Number(seeded.vaults))} vaults (${int(VAULTS)} listed), ` +
        `${int(Number(seeded.backups))} backups, ${int(Number(seeded.copies))} copies ` +
        `in ${((seededAt - started) / 1000).toFixed(1)} s (incl. migrations)`,
    );

    const services = await createServices({ databaseUrl, queuePrefix: "mvg-bench" });
    const server = await startServer(services);
    const originalDb = services.db;
    const counting = createCountingDb(databaseUrl);
    try {
      // Sanity: the query answers what was seeded.
      const check = await graphql<{ vaults: { totalCount: number; edges: unknown[] } }>(
        server.url,
        apiKey,
        listingQuery,
      );
      if (check.vaults.totalCount !== VAULTS || check.vaults.edges.length !== 20) {
        throw new BenchmarkFailure(
          `expected totalCount ${VAULTS} and 20 edges, got ${check.vaults.totalCount} and ${check.vaults.edges.length}`,
        );
      }

      const { concurrency, warmupMs, durationMs } = loadDefaults;
      console.log(
        `  load: ${concurrency} keep-alive connections, ${warmupMs} ms warm-up, ${durationMs} ms measured per query`,
      );
      const listing = await measure(server.url, apiKey, listingQuery);
      const baseline = await measure(server.url, apiKey, baselineQuery);

      // SQL statements per request, counted on the pg connections of a Prisma client swapped into the services.
      services.db = counting.db;
      const counts: number[] = [];
      const statements: string[][] = [];
      for (const first of PAGE_SIZES) {
        const query = countingQuery(first);
        await graphql(server.url, apiKey, query); // connect the pool and warm Prisma's caches first
        counting.counter.reset();
        const data = await graphql<{ vaults: { edges: unknown[] } }>(server.url, apiKey, query);
        counts.push(counting.counter.count);
        statements.push([...counting.counter.statements]);
        if (data.vaults.edges.length !== first) {
          throw new BenchmarkFailure(`vaults(first: ${first}) returned ${data.vaults.edges.length} edges`);
        }
      }
      services.db = originalDb;

      const constant = counts.every((count) => count === counts[0]);
      console.log();
      console.log(`vault listing (${int(VAULTS)} vaults seeded)`);
      console.log(
        table([
          ["query", "rps", "p50 ms", "p99 ms", "requests"],
          ["vaults(first: 20)", int(listing.rps), ms(listing.p50Ms), ms(listing.p99Ms), int(listing.requests)],
          [
            "{ __typename } (baseline)",
            int(baseline.rps),
            ms(baseline.p50Ms),
            ms(baseline.p99Ms),
            int(baseline.requests),
          ],
          [
            "ratio vaults/baseline",
            ratio(listing.rps / baseline.rps),
            ratio(listing.p50Ms / baseline.p50Ms),
            ratio(listing.p99Ms / baseline.p99Ms),
            "",
          ],
        ]),
      );
      console.log(
        `SQL statements per request: ${PAGE_SIZES.map((first, i) => `first ${first} → ${counts[i]}`).join(", ")} ` +
          `(constant: ${constant ? "PASS" : "FAIL"})`,
      );
      if (!constant || process.env.BENCH_VERBOSE) {
        PAGE_SIZES.forEach((first, i) => {
          console.log(`  statements for first ${first}:`);
          for (const sql of statements[i])
            console.log(`    ${sql.replace(/\s+/g, " ").slice(0, Number(process.env.BENCH_SQL_WIDTH) || 160)}`);
        });
      }
      console.log(`  (took ${((performance.now() - started) / 1000).toFixed(1)} s)`);
      if (!constant) {
        throw new BenchmarkFailure(`SQL statements per request grow with the page size: ${counts.join(", ")}`);
      }
    } finally {
      services.db = originalDb;
      await server.close();
      await counting.close();
      await services.close();
    }
  },
};
