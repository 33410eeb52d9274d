// Scale check: 10,000 transactions × 10 rows commit in seconds, and a COMPLETE backup of the result streams and
// restores with flat memory. Timings are printed for the record.

import { afterAll, beforeAll, expect, it } from "vitest";
import type { SimDb } from "../../src/hana/pool.ts";
import type { HanaSimulator } from "../../src/hana/simulator.ts";
import { endpoint, openTestSimulator, readAll, replay } from "./helpers.ts";

let db: SimDb;
let hana: HanaSimulator;

beforeAll(async () => {
  ({ db, hana } = await openTestSimulator("hana_perf"));
});
afterAll(async () => {
  await db?.end();
});

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  console.log(`${label}: ${Math.round(performance.now() - started)} ms`);
  return result;
}

it("10,000 transactions × 10 rows, a COMPLETE backup of them, a LOG backup, and a restore", {
  timeout: 120_000,
}, async () => {
  const src = endpoint({ sid: "BIG" });
  const tgt = endpoint({ sid: "TGT" });
  await hana.connect(src);
  await hana.connect(tgt);
  const first = await timed("simulateWrites 10,000 × 10 (fresh)", () =>
    hana.simulateWrites(src.instanceId, "BIG", { transactions: 10_000, rowsPerTransaction: 10 }),
  );
  expect(first.logPosition).toBe(10_000n);
  const full = await hana.backup(src.instanceId, "BIG", "COMPLETE");
  const fullBytes = await timed("COMPLETE backup stream", () => readAll(full.stream));
  await full.commit();
  console.log(`COMPLETE backup: ${(fullBytes.length / 1e6).toFixed(1)} MB`);
  const second = await timed("simulateWrites 2,000 × 10 (30% updates)", () =>
    hana.simulateWrites(src.instanceId, "BIG", { transactions: 2_000, rowsPerTransaction: 10 }),
  );
  expect(second.logPosition).toBe(12_000n);
  const log = await hana.backup(src.instanceId, "BIG", "LOG");
  const logBytes = await timed("LOG backup stream (2,000 commits)", () => readAll(log.stream));
  await log.commit();
  console.log(`LOG backup: ${(logBytes.length / 1e6).toFixed(1)} MB`);
  const digest = await timed("computeDigest", () => hana.computeDigest(src.instanceId, "BIG"));
  expect(digest).toBe(second.contentDigest);
  const reached = await timed("recover COMPLETE + LOG", () =>
    hana.recover(
      tgt.instanceId,
      { databaseName: "BIG", recoverStatement: "(not parsed by the simulator)", target: {} },
      { data: replay(fullBytes), deltas: [], logs: [replay(logBytes)] },
    ),
  );
  expect(reached.reachedPosition).toBe(12_000n);
  expect(await hana.computeDigest(tgt.instanceId, "BIG")).toBe(second.contentDigest);
});
