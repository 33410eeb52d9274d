// Starts the workers of the given regions plus the reconciler; closes them gracefully.
import type { Services } from "../src/services.ts";
import { startReconciler } from "./reconciler.ts";
import { type RegionWorkers, startRegionWorkers } from "./regionWorkers.ts";

export async function startWorkers(services: Services, regionIds: string[]) {
  const regions: RegionWorkers[] = regionIds.map((regionId) => startRegionWorkers(services, regionId));
  const reconciler = await startReconciler(services, regionIds);
  return {
    async close() {
      reconciler.stop();
      await Promise.all(regions.map((region) => region.close()));
    },
  };
}
