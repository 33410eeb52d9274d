// A drill's schedule: one BullMQ job scheduler per enabled drill on its mirror region's restore queue (job `drill`),
// every `intervalMinutes` minutes (DRILL_MINUTE_MS long, one minute outside tests). The database is the truth: the
// reconciler re-creates the schedulers of enabled drills after a queue loss and removes those of gone drills.
import type { Ports } from "../ports.ts";

export const drillSchedulerId = (drillId: string) => `drill-${drillId}`;
const SCHEDULER_PREFIX = "drill-";

type ScheduledDrill = { id: string; enabled: boolean; intervalMinutes: number; mirrorVault: { regionId: string } };
type SchedulePorts = Pick<Ports, "queues" | "config">;

/** Installs, updates or (disabled) removes the drill's scheduler; a failure is left to the reconciler. */
export async function scheduleDrill(ports: SchedulePorts, drill: ScheduledDrill): Promise<void> {
  const regionId = drill.mirrorVault.regionId;
  const id = drillSchedulerId(drill.id);
  try {
    if (!drill.enabled) return await ports.queues.removeScheduler(regionId, "restore", id);
    await ports.queues.upsertScheduler(regionId, "restore", id, drill.intervalMinutes * ports.config.drillMinuteMs, {
      name: "drill",
      data: { drillId: drill.id },
    });
  } catch (error) {
    console.error(`[drill] could not schedule ${drill.id}; the reconciler will:`, (error as Error).message);
  }
}

export async function removeDrillSchedule(ports: SchedulePorts, drill: ScheduledDrill): Promise<void> {
  await ports.queues
    .removeScheduler(drill.mirrorVault.regionId, "restore", drillSchedulerId(drill.id))
    .catch((error) => console.error(`[drill] scheduler of ${drill.id} stays until the reconciler:`, error.message));
}

/** When the scheduler runs the drill next (null: disabled or not scheduled). */
export async function drillNextRunAt(ports: Pick<Ports, "queues">, drill: ScheduledDrill): Promise<Date | null> {
  if (!drill.enabled) return null;
  const scheduler = await ports.queues
    .get(drill.mirrorVault.regionId, "restore")
    .getJobScheduler(drillSchedulerId(drill.id));
  return scheduler?.next ? new Date(scheduler.next) : null;
}

/** Reconciler step: every enabled drill of the regions has its scheduler; no scheduler outlives its drill. */
export async function reconcileDrillSchedules(
  ports: Pick<Ports, "db" | "queues" | "config">,
  regionIds: string[],
): Promise<void> {
  const drills = await ports.db.restoreDrill.findMany({
    where: { mirrorVault: { regionId: { in: regionIds } } },
    select: { id: true, enabled: true, intervalMinutes: true, mirrorVault: { select: { regionId: true } } },
  });
  const wanted = new Set<string>();
  for (const drill of drills) {
    if (drill.enabled) wanted.add(drillSchedulerId(drill.id));
    // Keeps the next run's time when nothing changed, so this never makes a drill fire early.
    await scheduleDrill(ports, drill);
  }
  for (const regionId of regionIds) {
    const schedulers = await ports.queues.get(regionId, "restore").getJobSchedulers();
    for (const scheduler of schedulers) {
      const id = scheduler.key ?? scheduler.id;
      if (id?.startsWith(SCHEDULER_PREFIX) && !wanted.has(id)) {
        await ports.queues.removeScheduler(regionId, "restore", id);
      }
    }
  }
}
