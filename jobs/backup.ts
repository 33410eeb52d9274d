// `<region>.backup` / backup and logBackup: take a backup into the source vault's regional storage, and the
// scheduled LOG backups of an instance (src/domain/backups.ts, src/domain/logBackups.ts).
import { type Job, UnrecoverableError } from "bullmq";
import { failBackup, takeBackup } from "../src/domain/backups.ts";
import { runScheduledLogBackups } from "../src/domain/logBackups.ts";
import type { Ports } from "../src/domain/ports.ts";
import type { JobContext } from "./jobContext.ts";
import { leased } from "./leased.ts";

type Data = { backupId: string };

export async function backup(
  ports: Pick<Ports, "db" | "hana" | "storage" | "events" | "queues" | "clock" | "config">,
  job: Job<Data>,
  ctx: JobContext,
) {
  const outcome = await leased(job, ctx, () => takeBackup(ports, job.data.backupId));
  // The cluster refused (missing COMPLETE, stopped database...): retrying can't help; the row already says why.
  if (outcome === "refused") throw new UnrecoverableError("the cluster refused the backup");
  return { outcome };
}

export function failBackupJob(ports: Pick<Ports, "db" | "events" | "clock">, job: Job<Data>, error: Error) {
  return failBackup(ports, job.data.backupId, error.message);
}

export function logBackup(ports: Pick<Ports, "db" | "hana" | "queues" | "clock">, job: Job<{ instanceId: string }>) {
  return runScheduledLogBackups(ports, job.data.instanceId);
}
