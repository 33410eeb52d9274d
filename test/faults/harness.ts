// The fault suite: real worker processes SIGKILLed at random points of restores and historical syncs, queue flushes
// and PostgreSQL restarts, on a PostgreSQL cluster the suite starts itself (never the shared one). Each fault is
// followed by bounded waits on the rows' events; every promised job must end in its correct terminal state,
// restored digests must equal the source's, and the fence's record must show no two runs overlapping.
// Used by test/faults/faults.test.ts (N rounds in CI) and `npm run faults -- --rounds 20` (test/faults/main.ts).
import { flushRound, restartRound, restoreRound, syncRound } from "./rounds.ts";
import { type Backend, type FaultFigures, FaultWorld } from "./world.ts";

export type { Backend, FaultFigures };

export type FaultReport = Record<"restores" | "syncs" | "queueFlushes" | "postgresRestarts", FaultFigures>;

const empty = (): FaultFigures => ({ kills: 0, completions: 0, failures: 0, overlaps: 0, longestRecoveryMs: 0 });

/** Sets up a world on its own PostgreSQL cluster, runs every fault, tears it all down; returns the figures. */
export async function runFaultSuite(options: {
  backend: Backend;
  rounds: number;
  flushes: number;
  restarts: number;
  log?: (line: string) => void;
}): Promise<FaultReport> {
  const log = options.log ?? (() => {});
  const world = await FaultWorld.start(options.backend, log);
  const report: FaultReport = { restores: empty(), syncs: empty(), queueFlushes: empty(), postgresRestarts: empty() };
  try {
    // A round whose run ended before its kill landed kills nothing: up to 3 more rounds make up the N kills.
    const more = (figures: FaultFigures, round: number) =>
      figures.kills < options.rounds && round <= options.rounds + 3 && !figures.failures;
    for (let round = 1; more(report.restores, round); round++) await restoreRound(world, round, report.restores);
    for (let round = 1; more(report.syncs, round); round++) await syncRound(world, round, report.syncs);
    for (let round = 1; round <= options.flushes; round++) await flushRound(world, round, report.queueFlushes);
    for (let round = 1; round <= options.restarts; round++) await restartRound(world, round, report.postgresRestarts);
  } finally {
    await world.close();
  }
  return report;
}
