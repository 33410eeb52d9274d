// `<mirror region>.sync` / copy (R8): copies one completed source backup into its mirror's region. Idempotent: a
// rerun finds the manifest in place and only re-records; a mirror that is gone makes it a no-op.
import type { Job } from "bullmq";
import { copyToMirror } from "../src/domain/mirrors/copies.ts";
import type { Ports } from "../src/domain/ports.ts";

export async function mirrorCopy(
  ports: Pick<Ports, "db" | "storage" | "events" | "clock">,
  job: Job<{ backupId: string; mirrorVaultId: string }>,
) {
  return { copied: await copyToMirror(ports, job.data.backupId, job.data.mirrorVaultId) };
}
