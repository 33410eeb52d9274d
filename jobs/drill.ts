// `<mirror region>.restore` / drill: a drill's scheduled run (its job scheduler fires it). Starts the run and its
// restore, then returns: the restore job does the work, and its end settles the run (settleDrillRun).
import type { Job } from "bullmq";
import { startDrillRun } from "../src/domain/assurance/drillRuns.ts";
import { Conflict } from "../src/domain/errors.ts";
import type { Ports } from "../src/domain/ports.ts";

export async function drill(
  ports: Pick<Ports, "db" | "hana" | "queues" | "clock" | "config">,
  job: Job<{ drillId: string }>,
) {
  const found = await ports.db.restoreDrill.findUnique({
    where: { id: job.data.drillId },
    include: { mirrorVault: true },
  });
  // Deleted or disabled since the scheduler fired: the reconciler removes a stray scheduler.
  if (!found?.enabled) return { started: false };
  try {
    const run = await startDrillRun(ports, found);
    return { started: true, runId: run.id, status: run.status };
  } catch (error) {
    // The previous run is still going (a long restore, a short interval): this turn is skipped, not failed.
    if (error instanceof Conflict) return { started: false, reason: error.message };
    throw error;
  }
}
