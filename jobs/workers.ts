// Starts the workers of the given regions plus the reconciler; closes them gracefully.
import type { Ports } from "../src/domain/ports.ts";
import { startReconciler } from "./reconciler.ts";
import type { WorkerSettings } from "./regionWorkers.ts";
import { type RegionWorkers, startRegionWorkers } from "./regionWorkers.ts";
import { startWebhookDelivery } from "./webhookDelivery.ts";

export async function startWorkers(
  ports: Ports,
  settings: WorkerSettings & { reconcileIntervalMs: number },
  regionIds: string[],
) {
  const regions: RegionWorkers[] = regionIds.map((regionId) => startRegionWorkers(ports, settings, regionId));
  // Webhooks are not regional: every worker process delivers them (README "Webhooks").
  const webhooks = startWebhookDelivery(ports, settings);
  const reconciler = await startReconciler(ports, regionIds, settings.reconcileIntervalMs);
  return {
    async close() {
      await reconciler.stop();
      await webhooks.close();
      await Promise.all(regions.map((region) => region.close()));
    },
  };
}
