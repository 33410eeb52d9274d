// Dedupe that survives inserts (issue 9 part 7): new bytes stored in the source region and sent to the mirror by a
// COMPLETE backup of a ~92 MB simulated database (rows of ~100 bytes), (1) after one 100-byte row was written since
// the previous COMPLETE, (2) after 0.1% of the rows, picked uniformly at random, were changed. "Stored" is the growth
// of the source store's deduplicated bytes; "sent" is what copyBackup (the mirror copy's own code) transferred to a
// second region's store that already held the earlier backups. Goal: both ≤ 5% of the backup's size.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { simulatorDatabaseUrl } from "../src/hana/index.ts";
import type { HanaSimulator } from "../src/hana/simulator.ts";
import { copyBackup, RegionalStorage } from "../src/storage/index.ts";
import { testDatabaseUrl } from "../test/support/database.ts";
import { createSourceVault, registerInstance, takeBackup, uuidOf } from "../test/support/fixtures.ts";
import { startTestGateway } from "../test/support/gateway.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { table } from "./lib/format.ts";
import { recordGoal } from "./lib/report.ts";

const A = "cn-hangzhou";
const SID = "DD1";
const GOAL = 0.05;
/** ~92 MB of NDJSON: rows of a 64-character value, ~120 bytes per line. */
const ROWS = Number(process.env.BENCH_DEDUPE_ROWS ?? 760_000);
const MB = 1024 * 1024;
const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(2)}%`;

export const dedupe: Benchmark = {
  name: "dedupe",
  description: `new bytes stored and sent after 1 inserted row / 0.1% changed rows, ~92 MB database (goal ≤ ${GOAL * 100}%)`,
  async run() {
    const gw = await startTestGateway("bench_dedupe", {}, { workerRegions: [A] });
    const mirror = new RegionalStorage(path.join(gw.storageDir, "mirror-side"));
    // The simulator's own database, to pick rows uniformly at random.
    const sql = new pg.Client({ connectionString: simulatorDatabaseUrl(testDatabaseUrl("bench_dedupe")) });
    await sql.connect();
    try {
      const { apiKey: key } = await gw.createAccount("bench");
      const vault = await createSourceVault(gw, key, A, "bench-dedupe");
      const instance = await registerInstance(gw, key, A, vault, { sid: SID });
      const simulator = gw.services.hana as unknown as HanaSimulator;
      const started = performance.now();
      // Seeded in transactions of fresh keys (the simulator's random writes would also update some).
      for (let written = 0; written < ROWS; ) {
        const batch: { key: string; value: string }[][] = [];
        for (let t = 0; t < 100 && written < ROWS; t++) {
          const rows = Array.from({ length: Math.min(1000, ROWS - written) }, () => ({
            key: `k${randomBytes(8).toString("hex")}`,
            value: randomBytes(48).toString("base64url"),
          }));
          written += rows.length;
          batch.push(rows);
        }
        await simulator.writeTransactions(uuidOf(instance), SID, batch);
      }
      console.log(`  seeded ${ROWS} rows in ${((performance.now() - started) / 1000).toFixed(0)} s`);

      const source = gw.services.storage.region(A);
      const target = mirror.region("cn-shanghai");
      const backup = async () => {
        const before = await source.totalBytes!();
        const taken = await takeBackup(gw, key, A, instance, SID, "COMPLETE");
        if (taken.status !== "COMPLETE") throw new BenchmarkFailure(`COMPLETE backup ended ${taken.status}`);
        const stored = (await source.totalBytes!()) - before;
        const sent = (await copyBackup(source, target, uuidOf(taken.id))).transferredBytes;
        return { size: Number(taken.sizeBytes), stored, sent };
      };
      const first = await backup();

      // One 100-byte row.
      await simulator.writeTransactions(uuidOf(instance), SID, [
        [{ key: `k${randomBytes(8).toString("hex")}`, value: randomBytes(60).toString("base64url").slice(0, 80) }],
      ]);
      const inserted = await backup();

      // 0.1% of the rows, uniformly at random, get new values of the same length.
      const picked = await sql.query<{ key: string }>(
        `SELECT "key" FROM "SimRow" WHERE "instanceId" = $1::uuid AND "database" = $2 ORDER BY random() LIMIT $3`,
        [uuidOf(instance), SID, Math.round(ROWS / 1000)],
      );
      await simulator.writeTransactions(uuidOf(instance), SID, [
        picked.rows.map(({ key: row }) => ({ key: row, value: randomBytes(48).toString("base64url") })),
      ]);
      const changed = await backup();

      console.log(
        table([
          ["COMPLETE backup", "size MB", "new bytes stored", "new bytes sent to mirror", "goal"],
          [
            "first (all new)",
            (first.size / MB).toFixed(1),
            pct(first.stored, first.size),
            pct(first.sent, first.size),
            "",
          ],
          ...[
            ["after 1 inserted row", inserted],
            [`after ${picked.rowCount} changed rows (0.1%)`, changed],
          ].map(([label, r]) => {
            const { size, stored, sent } = r as typeof first;
            return [label as string, (size / MB).toFixed(1), pct(stored, size), pct(sent, size), `≤ ${GOAL * 100}%`];
          }),
        ]),
      );
      for (const [label, r] of [
        ["new bytes after 1 inserted row", inserted],
        ["new bytes after 0.1% rows changed", changed],
      ] as const) {
        const worst = Math.max(r.stored, r.sent);
        recordGoal({
          row: `${label} (${(r.size / MB).toFixed(0)} MB database)`,
          figure: `stored ${pct(r.stored, r.size)}, sent ${pct(r.sent, r.size)}`,
          baseline: "",
          ratio: Number.NaN,
          goal: `≤ ${GOAL * 100}%`,
          met: worst <= GOAL * r.size,
        });
      }
      const misses = [
        ["1 inserted row", inserted],
        ["0.1% changed rows", changed],
      ].filter(([, r]) => {
        const { size, stored, sent } = r as typeof first;
        return Math.max(stored, sent) > GOAL * size;
      });
      if (misses.length > 0)
        throw new BenchmarkFailure(`over ${GOAL * 100}% new bytes: ${misses.map(([n]) => n).join(", ")}`);
    } finally {
      await sql.end();
      mirror.close();
      await gw.close();
    }
  },
};
