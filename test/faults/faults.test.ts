// Issue 13's fault suite in CI: N ≥ 5 SIGKILLs of the worker running a restore (every third one frozen with
// SIGSTOP past its lease and woken instead) and of the one running a historical sync, a queue flush (with a cancel
// across it) and a PostgreSQL restart, on a cluster this file starts itself (never the shared one). One queue
// backend per run (TEST_QUEUE_BACKEND); the long form on both, with figures, is `npm run faults -- --rounds 20`.
import { describe, expect, it } from "vitest";
import { runFaultSuite } from "./harness.ts";

const backend = process.env.TEST_QUEUE_BACKEND === "postgres" ? "postgres" : "redis";
const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 5);

describe(`faults on the ${backend} queue backend`, () => {
  it(`${ROUNDS} kills mid-restore and mid-sync, a queue flush and a PostgreSQL restart: every promised job ends as promised, digests hold, no run overlaps another, no chunk written twice, no temp object left`, async () => {
    const log = process.env.FAULT_LOG === "1" ? console.log : undefined;
    const report = await runFaultSuite({ backend, rounds: ROUNDS, flushes: 1, restarts: 1, log });
    console.log(`fault suite (${backend}): ${JSON.stringify(report)}`);
    for (const kind of ["restores", "syncs"] as const) {
      expect(report[kind].failures, kind).toBe(0);
      expect(report[kind].overlaps, kind).toBe(0);
      expect(report[kind].kills, kind).toBeGreaterThanOrEqual(ROUNDS);
      expect(report[kind].completions, kind).toBeGreaterThanOrEqual(ROUNDS);
    }
    expect(report.queueFlushes).toMatchObject({ kills: 1, completions: 1, failures: 0, overlaps: 0 });
    expect(report.postgresRestarts).toMatchObject({ kills: 1, completions: 1, failures: 0, overlaps: 0 });
  }, 480_000);
});
