import type { Job } from "bullmq";
import type { Services } from "../src/services.ts";

// Filled in by the mirror-vault work (R9).
export async function runHistoricalSync(_services: Services, _job: Job<{ mirrorVaultId: string }>) {
  throw new Error("historical sync is not implemented yet");
}
