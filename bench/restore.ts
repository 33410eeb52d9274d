// Restore throughput and backup/restore memory flatness, end to end through the API with in-process workers:
// a ~100 MB COMPLETE backup (plus a LOG backup) in region A, mirrored to region B, restored onto an instance in B.
// Restore MB/s (plan totalBytes / time from restoreFromMirror to its job finishing) is compared with a baseline that
// reads (verify: true) and sha256-hashes the same backups from the mirror region's store. While the COMPLETE backup
// and the restore run, process rss/heapUsed are sampled every 50 ms ("raw"), and every 250 ms right after a full GC
// ("live"); the peak live heap rise must stay well below the backup's size (the worker streams instead of
// buffering). Raw heapUsed also counts garbage V8 has not collected yet: rows that survived two scavenges are
// promoted and stay in the old generation until the next mark-compact, whose timing depends on the heap's size
// before the work started, so the raw peak of the very same run swung between 25 and 80 MB for a 70 MB backup whose
// live rise was 0. The live samples see exactly what is retained mid-run: a worker that buffered the backup (or
// kept its rows, batches or SQL parameters) would show it in them.
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";
import { jobIds } from "../src/queue/queues.ts";
import { createSourceVault, registerInstance, takeBackup, uuidOf } from "../test/support/fixtures.ts";
import { startTestGateway, type TestGateway } from "../test/support/gateway.ts";
import { closeJobListeners, waitForJob } from "../test/support/jobs.ts";
import { type Benchmark, BenchmarkFailure } from "./lib/benchmark.ts";
import { discardRecoveredRows } from "./lib/discardingConnector.ts";
import { ratio, table } from "./lib/format.ts";
import { envNumber } from "./lib/load.ts";
import { ratioGoal } from "./lib/report.ts";

const A = "cn-beijing";
const B = "ap-southeast-1";
const SID = "RB1";
/** Rows are written in CALLS × TRANSACTIONS × ROWS × VALUE_BYTES (≈100 MB by default). */
const CALLS = envNumber("BENCH_RESTORE_CALLS", 2);
const TRANSACTIONS = envNumber("BENCH_RESTORE_TRANSACTIONS", 5_000);
const ROWS = 10;
const VALUE_BYTES = 1_000;
/** The peak heap rise allowed while a backup or restore runs, as a fraction of the COMPLETE backup's size. */
const MAX_HEAP_RISE = 0.5;
const SAMPLE_MS = 50;
const LIVE_SAMPLE_MS = 250;

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);

type MemoryPeak = {
  rssRise: number;
  /** Peak heapUsed rise, garbage included. */
  heapRise: number;
  /** Peak heapUsed rise right after a full GC: what the work keeps alive. */
  liveHeapRise: number;
  retainedHeapRise: number;
  samples: number;
  liveSamples: number;
};

// A full GC without --expose-gc, so start and "retained after the work" figures aren't inflated by garbage.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/**
 * Samples rss and heapUsed every SAMPLE_MS, and heapUsed after a full GC every LIVE_SAMPLE_MS, while `work` runs;
 * returns the peak rises above the starting values.
 */
async function sampleMemory<T>(work: () => Promise<T>): Promise<{ result: T; peak: MemoryPeak }> {
  gc();
  const start = process.memoryUsage();
  const peak: MemoryPeak = {
    rssRise: 0,
    heapRise: 0,
    liveHeapRise: 0,
    retainedHeapRise: 0,
    samples: 0,
    liveSamples: 0,
  };
  const sample = () => {
    const now = process.memoryUsage();
    peak.rssRise = Math.max(peak.rssRise, now.rss - start.rss);
    peak.heapRise = Math.max(peak.heapRise, now.heapUsed - start.heapUsed);
    peak.samples += 1;
  };
  const liveSample = () => {
    sample();
    gc();
    peak.liveHeapRise = Math.max(peak.liveHeapRise, process.memoryUsage().heapUsed - start.heapUsed);
    peak.liveSamples += 1;
  };
  const timer = setInterval(sample, SAMPLE_MS);
  const liveTimer = setInterval(liveSample, LIVE_SAMPLE_MS);
  try {
    const result = await work();
    sample();
    gc();
    peak.retainedHeapRise = process.memoryUsage().heapUsed - start.heapUsed;
    return { result, peak };
  } finally {
    clearInterval(timer);
    clearInterval(liveTimer);
  }
}

async function simulateWrites(gw: TestGateway, key: string, instanceId: string) {
  const data = await gw.gql(
    key,
    `mutation($input: SimulateHanaWritesInput!) { simulateHanaWrites(input: $input) { __typename
      ... on SimulateHanaWritesPayload { database { logPosition contentDigest } } ... on Error { code message } } }`,
    {
      input: {
        instanceId,
        databaseName: SID,
        transactions: TRANSACTIONS,
        rowsPerTransaction: ROWS,
        valueBytes: VALUE_BYTES,
      },
    },
  );
  if (!data.simulateHanaWrites.database) throw new Error(`simulateHanaWrites: ${JSON.stringify(data)}`);
  return data.simulateHanaWrites.database as { logPosition: string; contentDigest: string };
}

const RESTORE = `mutation($input: RestoreFromMirrorInput!) { restoreFromMirror(input: $input) {
  ... on RestorePayload { restore { id plan { totalBytes steps { order action backup { id type sizeBytes } } } } }
  ... on Error { code message } } }`;

export const restore: Benchmark = {
  name: "restore",
  description: "restore from a mirror: MB/s vs reading+hashing the same chunks; backup/restore peak memory rise",
  async run() {
    const started = performance.now();
    const gw = await startTestGateway("bench_restore", { historicalSyncDelayMs: 200 }, { workerRegions: [A, B] });
    try {
      const { apiKey: key } = await gw.createAccount("bench");
      const vault = await createSourceVault(gw, key, A, "bench-source");
      const source = await registerInstance(gw, key, A, vault, { sid: SID });

      const writeStart = performance.now();
      for (let call = 0; call < CALLS; call++) await simulateWrites(gw, key, source);
      const writeSeconds = (performance.now() - writeStart) / 1000;
      console.log(
        `  wrote ${CALLS} × ${TRANSACTIONS} tx × ${ROWS} rows × ${VALUE_BYTES} B in ${writeSeconds.toFixed(1)} s`,
      );

      const backupStart = performance.now();
      const { result: complete, peak: backupPeak } = await sampleMemory(() =>
        takeBackup(gw, key, A, source, SID, "COMPLETE"),
      );
      const backupSeconds = (performance.now() - backupStart) / 1000;
      if (complete.status !== "COMPLETE") throw new BenchmarkFailure(`COMPLETE backup ended ${complete.status}`);
      const backupBytes = Number(complete.sizeBytes);

      // A few more writes and a LOG backup covering them.
      await gw.gql(
        key,
        `mutation($input: SimulateHanaWritesInput!) { simulateHanaWrites(input: $input) { __typename } }`,
        { input: { instanceId: source, databaseName: SID, transactions: 500, rowsPerTransaction: ROWS } },
      );
      const expected = await simulateWritesSmall(gw, key, source);
      const log = await takeBackup(gw, key, A, source, SID, "LOG");
      if (log.status !== "COMPLETE") throw new BenchmarkFailure(`LOG backup ended ${log.status}`);

      const created = await gw.gql(
        key,
        `mutation($s: ID!) { createMirrorVault(input: {sourceVaultId: $s, regionId: "${B}", name: "bench-mirror"}) {
        ... on VaultPayload { vault { id } } ... on Error { code message } } }`,
        { s: vault },
      );
      const mirrorVault = created.createMirrorVault.vault?.id;
      if (!mirrorVault) throw new Error(`createMirrorVault: ${JSON.stringify(created)}`);
      const syncStart = performance.now();
      await waitForJob(gw.services, B, "sync", jobIds.historicalSync(uuidOf(mirrorVault)), 120_000);
      const syncSeconds = (performance.now() - syncStart) / 1000;
      const targetVault = await createSourceVault(gw, key, B, "bench-dr");
      const target = await registerInstance(gw, key, B, targetVault, { sid: "RB2" });

      // A restore, timed from the mutation to its job finishing; it must end validated at the expected position.
      const restoreOnce = async () => {
        const data = await gw.gql(key, RESTORE, {
          input: {
            mirrorVaultId: mirrorVault,
            sourceInstanceId: source,
            sourceDatabaseName: SID,
            targetInstanceId: target,
            mode: "RECOVERY_TO_MOST_RECENT",
            overwrite: true,
          },
        });
        const created = data.restoreFromMirror.restore;
        if (!created) throw new Error(`restoreFromMirror: ${JSON.stringify(data)}`);
        await waitForJob(gw.services, B, "restore", jobIds.restore(uuidOf(created.id)), 120_000);
        const done = await gw.services.db.restore.findUniqueOrThrow({ where: { id: uuidOf(created.id) } });
        if (done.status !== "COMPLETE" || done.validationStatus !== "SUCCESSFUL") {
          throw new BenchmarkFailure(
            `restore ended ${done.status} with validation ${done.validationStatus}: ${done.message ?? ""}`,
          );
        }
        if (done.reachedLogPosition?.toString() !== expected.logPosition) {
          throw new BenchmarkFailure(
            `restore reached log position ${done.reachedLogPosition}, expected ${expected.logPosition}`,
          );
        }
        return created as {
          id: string;
          plan: {
            totalBytes: string;
            steps: { order: number; action: string; backup: { id: string; type: string } }[];
          };
        };
      };
      // End to end into the simulator, memory sampled throughout.
      const restoreStart = performance.now();
      const { result: restoreRow, peak: restorePeak } = await sampleMemory(restoreOnce);
      const restoreSeconds = (performance.now() - restoreStart) / 1000;
      const totalBytes = Number(restoreRow.plan.totalBytes);
      // The gateway's own path (staging, verify, parse every row) into a connector that discards the rows.
      const putBack = discardRecoveredRows(gw.services.hana);
      const sinkStart = performance.now();
      try {
        await restoreOnce();
      } finally {
        putBack();
      }
      const sinkSeconds = (performance.now() - sinkStart) / 1000;

      // Baseline: read (verify: true) and sha256-hash every step's backup from the mirror region's store.
      const store = gw.services.storage.region(B);
      const baselineStart = performance.now();
      let baselineBytes = 0;
      for (const step of restoreRow.plan.steps) {
        const hash = createHash("sha256");
        for await (const chunk of store.readBackup(uuidOf(step.backup.id), { verify: true })) {
          hash.update(chunk);
          baselineBytes += chunk.length;
        }
        hash.digest();
      }
      const baselineSeconds = (performance.now() - baselineStart) / 1000;

      const restoreRate = totalBytes / MB / restoreSeconds;
      const sinkRate = totalBytes / MB / sinkSeconds;
      const baselineRate = baselineBytes / MB / baselineSeconds;
      console.log();
      console.log(
        `setup: COMPLETE backup ${mb(backupBytes)} MB in ${backupSeconds.toFixed(1)} s, LOG backup ` +
          `${mb(Number(log.sizeBytes))} MB, historical sync ${syncSeconds.toFixed(1)} s; plan ` +
          restoreRow.plan.steps.map((s) => `${s.order}:${s.action}`).join(" "),
      );
      console.log(
        table([
          ["", "MB", "seconds", "MB/s"],
          ["restore (mutation → job done)", mb(totalBytes), restoreSeconds.toFixed(2), restoreRate.toFixed(1)],
          ["restore into a discarding connector", mb(totalBytes), sinkSeconds.toFixed(2), sinkRate.toFixed(1)],
          ["baseline (read verify + sha256)", mb(baselineBytes), baselineSeconds.toFixed(2), baselineRate.toFixed(1)],
          ["ratio restore/baseline", "", "", ratio(restoreRate / baselineRate)],
          ["ratio discarding/baseline", "", "", ratio(sinkRate / baselineRate)],
        ]),
      );
      const baselineFigure = `read+verify+hash ${baselineRate.toFixed(0)} MB/s`;
      ratioGoal(
        `restore, gateway's path into a discarding connector (${mb(totalBytes)} MB)`,
        `${sinkRate.toFixed(0)} MB/s`,
        baselineFigure,
        sinkRate / baselineRate,
        0.6,
      );
      ratioGoal(
        `restore end to end into the simulator (${mb(totalBytes)} MB)`,
        `${restoreRate.toFixed(0)} MB/s`,
        baselineFigure,
        restoreRate / baselineRate,
        0.3,
      );
      const memoryRow = (label: string, peak: MemoryPeak) => [
        label,
        mb(peak.liveHeapRise),
        mb(peak.heapRise),
        mb(peak.rssRise),
        mb(peak.retainedHeapRise),
        `${peak.samples}/${peak.liveSamples}`,
      ];
      console.log(
        table([
          [
            "memory (peak rise over start)",
            "live heap MB",
            "raw heapUsed MB",
            "rss MB",
            "heap retained after GC MB",
            "samples raw/live",
          ],
          memoryRow(`COMPLETE backup (${mb(backupBytes)} MB)`, backupPeak),
          memoryRow(`restore (${mb(totalBytes)} MB)`, restorePeak),
        ]),
      );
      console.log(`  (took ${((performance.now() - started) / 1000).toFixed(1)} s)`);

      const limit = MAX_HEAP_RISE * backupBytes;
      const failures: string[] = [];
      if (backupBytes < 50 * MB) failures.push(`the COMPLETE backup is only ${mb(backupBytes)} MB (want ≥ 50 MB)`);
      if (backupPeak.liveHeapRise > limit) {
        failures.push(`backup peak live heap rise ${mb(backupPeak.liveHeapRise)} MB > ${mb(limit)} MB`);
      }
      if (restorePeak.liveHeapRise > limit) {
        failures.push(`restore peak live heap rise ${mb(restorePeak.liveHeapRise)} MB > ${mb(limit)} MB`);
      }
      if (backupPeak.liveSamples < 2 || restorePeak.liveSamples < 2) {
        failures.push("too few live heap samples to judge memory (the work took under 0.5 s?)");
      }
      if (failures.length) throw new BenchmarkFailure(failures.join("; "));
    } finally {
      await closeJobListeners();
      await gw.close();
    }
  },
};

/** A small final batch whose log position the restore must reach. */
async function simulateWritesSmall(gw: TestGateway, key: string, instanceId: string) {
  const data = await gw.gql(
    key,
    `mutation($input: SimulateHanaWritesInput!) { simulateHanaWrites(input: $input) { __typename
      ... on SimulateHanaWritesPayload { database { logPosition contentDigest } } ... on Error { code message } } }`,
    { input: { instanceId, databaseName: SID, transactions: 100, rowsPerTransaction: 5 } },
  );
  if (!data.simulateHanaWrites.database) throw new Error(`simulateHanaWrites: ${JSON.stringify(data)}`);
  return data.simulateHanaWrites.database as { logPosition: string; contentDigest: string };
}
