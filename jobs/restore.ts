import type { Job } from "bullmq";
import type { Services } from "../src/services.ts";

// Filled in by the restore work (R12).
export async function runRestore(_services: Services, _job: Job<{ restoreId: string }>) {
  throw new Error("restore is not implemented yet");
}
