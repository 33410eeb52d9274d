import type { Job } from "bullmq";
import type { Services } from "../src/services.ts";

// Filled in by the mirror-vault work (R8).
export async function runCopy(_services: Services, _job: Job<{ backupId: string; mirrorVaultId: string }>) {
  throw new Error("real-time sync is not implemented yet");
}
