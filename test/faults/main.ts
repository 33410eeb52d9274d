// `npm run faults -- --rounds 20 [--backend redis|postgres|both] [--flushes 5] [--restarts 3]`: the long form of
// the fault suite, printing for restores, syncs, queue flushes and PostgreSQL restarts: kills made, completions,
// failures, overlaps and the longest recovery time. Needs Redis for the redis backend (TEST_REDIS_URL).
import { parseArgs } from "node:util";
import { dropCreatedDatabases } from "../support/database.ts";
import { type Backend, runFaultSuite } from "./harness.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "20" },
    flushes: { type: "string", default: "5" },
    restarts: { type: "string", default: "3" },
    backend: { type: "string", default: "both" },
    quiet: { type: "boolean", default: false },
  },
});
const backends: Backend[] = values.backend === "both" ? ["redis", "postgres"] : [values.backend as Backend];
let failed = false;
for (const backend of backends) {
  const started = Date.now();
  const report = await runFaultSuite({
    backend,
    rounds: Number(values.rounds),
    flushes: Number(values.flushes),
    restarts: Number(values.restarts),
    log: values.quiet ? undefined : (line) => console.log(`[${backend}] ${line}`),
  });
  console.log(`\nqueue backend: ${backend} (${Math.round((Date.now() - started) / 1000)} s)`);
  console.log("fault              kills  completions  failures  overlaps  longest recovery  fenced writes refused");
  for (const [kind, f] of Object.entries(report)) {
    console.log(
      `${kind.padEnd(18)} ${String(f.kills).padStart(5)}  ${String(f.completions).padStart(11)}  ${String(f.failures).padStart(8)}  ${String(f.overlaps).padStart(8)}  ${(f.longestRecoveryMs / 1000).toFixed(1).padStart(14)} s  ${String(f.refusedWrites ?? "-").padStart(21)}`,
    );
    if (f.failures || f.overlaps) failed = true;
  }
}
await dropCreatedDatabases();
process.exit(failed ? 1 : 0);
