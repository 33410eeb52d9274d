// The words of planning failures: what is wrong (summary) and what to do (advice), naming backups and times.
import type { PlannerBackup, PlanRequest } from "./planInput.ts";

/** Why planning with one set of backups failed. */
export type Failure = { summary: string; advice: string };

const MAX_LISTED = 10;

export const iso = (date: Date) => date.toISOString();
export const label = (b: PlannerBackup) => `${b.prefix} (${b.id})`;

export function noComplete(request: PlanRequest, where: string): Failure {
  return {
    summary: `there is no COMPLETE data backup of ${request.sourceDatabaseName}@${request.sourceSid} ${where}`,
    advice: "take a COMPLETE data backup of the source database and wait until it is mirrored",
  };
}

/** R10: when the backups the mirror lacks will get there. */
export function syncSentence(request: PlanRequest): string {
  const at = request.historicalSyncScheduledAt;
  switch (request.historicalSyncStatus) {
    case "SCHEDULED":
      return at && at.getTime() <= request.now.getTime()
        ? `historical sync of the mirror vault was scheduled for ${iso(at)} and starts shortly`
        : `historical sync of the mirror vault is scheduled for ${at ? iso(at) : "later"}`;
    case "RUNNING":
      return `historical sync of the mirror vault is running (scheduled for ${at ? iso(at) : "now"})`;
    case "COMPLETED":
      return "historical sync of the mirror vault has completed; newer backups are copied as they finish";
    case "FAILED":
      return "historical sync of the mirror vault failed; the backups it did not copy are not in the mirror";
    default:
      return "";
  }
}

export function listBackups(backups: PlannerBackup[]): string {
  const shown = backups.slice(0, MAX_LISTED).map(label).join(", ");
  return backups.length > MAX_LISTED ? `${shown} and ${backups.length - MAX_LISTED} more` : shown;
}
