// Copy lag (issue 10): how long after a backup completes in region A its copy has landed in the mirror in region B,
// over BENCH_COPY_LAG_BACKUPS (50) backups in a row, through the gateway with in-process workers of both regions.
// Lag = BackupCopy.copiedAt (recorded once the mirror's store shows the whole backup) − Backup.completedAt, both
// stamped by the gateway's clock. The baseline is the backup itself (startedAt → completedAt) in the same run.
import { performance } from "node:perf_hooks";
import {
  createMirror,
  createSourceVault,
  registerInstance,
  takeBackup,
  uuidOf,
  writeRows,
} from "../test/support/fixtures.ts";
import { startTestGateway } from "../test/support/gateway.ts";
import { closeJobListeners, waitForSync } from "../test/support/jobs.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { ms, table } from "./lib/format.ts";
import { recordGoal } from "./lib/report.ts";

const A = "cn-hangzhou";
const B = "cn-shanghai";
const SID = "CL1";
const BACKUPS = Number(process.env.BENCH_COPY_LAG_BACKUPS ?? 50);
const GOAL_P99_MS = 500;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

export const copyLag: Benchmark = {
  name: "copy-lag",
  description: `copy landed − backup completed over ${BACKUPS} backups in a row (goal p99 < ${GOAL_P99_MS} ms)`,
  async run() {
    const started = performance.now();
    const gw = await startTestGateway("bench_copy_lag", { historicalSyncDelayMs: 200 }, { workerRegions: [A, B] });
    try {
      const { apiKey: key } = await gw.createAccount("bench");
      const vault = await createSourceVault(gw, key, A, "bench-lag");
      const instance = await registerInstance(gw, key, A, vault, { sid: SID });
      await writeRows(gw, key, instance, SID, 200);
      const mirror = uuidOf(await createMirror(gw, key, vault, B, "bench-lag-mirror"));
      const ids: string[] = [];
      for (let i = 0; i < BACKUPS; i++) {
        await writeRows(gw, key, instance, SID, 20);
        const backup = await takeBackup(gw, key, A, instance, SID, "COMPLETE");
        if (backup.status !== "COMPLETE") throw new BenchmarkFailure(`backup ${i + 1} ended ${backup.status}`);
        const id = uuidOf(backup.id);
        await waitForSync.copy(gw.services, B, id, mirror, 30_000);
        ids.push(id);
      }
      const { db } = gw.services;
      const backups = await db.backup.findMany({
        where: { id: { in: ids } },
        select: { id: true, startedAt: true, completedAt: true, sizeBytes: true },
      });
      const copies = await db.backupCopy.findMany({
        where: { backupId: { in: ids }, mirrorVaultId: mirror },
        select: { backupId: true, copiedAt: true },
      });
      const copiedAt = new Map(copies.map((c) => [c.backupId, c.copiedAt.getTime()]));
      const lags: number[] = [];
      const durations: number[] = [];
      for (const b of backups) {
        const landed = copiedAt.get(b.id);
        if (!landed || !b.completedAt) throw new BenchmarkFailure(`backup ${b.id} has no copy or no completion time`);
        lags.push(landed - b.completedAt.getTime());
        durations.push(b.completedAt.getTime() - b.startedAt.getTime());
      }
      lags.sort((a, b) => a - b);
      durations.sort((a, b) => a - b);
      const size = Number(backups[0]?.sizeBytes ?? 0);
      console.log(
        `  ${BACKUPS} COMPLETE backups of a ${(size / 1024).toFixed(0)} KiB database in region A, each copied to its ` +
          `mirror in region B (in-process workers of both regions):`,
      );
      console.log(
        table([
          ["ms", "p50", "p90", "p99", "max"],
          ["copy lag (copiedAt − completedAt)", ...[50, 90, 99, 100].map((p) => ms(percentile(lags, p)))],
          ["backup (startedAt → completedAt)", ...[50, 90, 99, 100].map((p) => ms(percentile(durations, p)))],
        ]),
      );
      const p99 = percentile(lags, 99);
      recordGoal({
        row: `copy lag, ${BACKUPS} backups in a row`,
        figure: `p99 ${ms(p99)} ms (p50 ${ms(percentile(lags, 50))})`,
        baseline: `backup itself p50 ${ms(percentile(durations, 50))} ms`,
        ratio: Number.NaN,
        goal: `p99 < ${GOAL_P99_MS} ms`,
        met: p99 < GOAL_P99_MS,
      });
      console.log(`  (took ${((performance.now() - started) / 1000).toFixed(1)} s)`);
      if (p99 >= GOAL_P99_MS) throw new BenchmarkFailure(`copy lag p99 ${ms(p99)} ms misses ${GOAL_P99_MS} ms`);
    } finally {
      await closeJobListeners();
      await gw.close();
    }
  },
};
