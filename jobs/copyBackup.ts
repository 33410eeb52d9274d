// `<mirror region>.sync` / copy (R8): copies one completed source backup into its mirror's region (only the chunks
// that region lacks, each verified), records the BackupCopy and the mirror's latest replication time. Idempotent:
// a rerun finds the manifest in place and only re-records; a mirror that is gone makes it a no-op.
import type { Job } from "bullmq";
import { copyToMirror } from "../src/domain/replication.ts";
import type { Services } from "../src/services.ts";

export async function runCopy(services: Services, job: Job<{ backupId: string; mirrorVaultId: string }>) {
  const copied = await copyToMirror(services, job.data.backupId, job.data.mirrorVaultId);
  return { copied };
}
