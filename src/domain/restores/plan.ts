// The restore planner: a pure function (no database, no I/O besides the injected catalog lookup) shared by the
// `restorePlan` dry run and `restoreFromMirror`. It picks the chain a restore from the mirror uses (one COMPLETE
// data backup, optional deltas, then a gap-free run of LOG backups) and the exact commit it reaches.
//
// Rules: only COMPLETE backups count; only mirrored ones may be used (R10); point in time / log position need a
// COMPLETE at or before the target and a gap-free log chain up to it (R14).
//
// How: plan with the mirrored backups only. When that fails, plan again with every backup of the source; if that
// succeeds, fail with R10 (which backups are not mirrored yet, when historical sync runs), otherwise with the
// mirror's own reason (gap, too early, ...).
import { FailedPrecondition, InvalidInput, NotFound } from "../errors.ts";
import { type Chain, ChainSearch, sortBackups } from "./chainSearch.ts";
import { label, listBackups, syncSentence } from "./messages.ts";
import { bounded, modeBound, mostRecent, type Outcome, specificBackup } from "./modes.ts";
import type { CatalogLookup, PlannerBackup, PlanRequest } from "./planInput.ts";
import { buildRecoverStatement, LOG_VOLUME_ID, type RecoverUntil } from "./recoverStatement.ts";

export type PlanAction = "LOAD_DATA" | "APPLY_DELTA" | "REPLAY_LOG";
export type PlanStep = { order: number; backupId: string; action: PlanAction };

export type RestorePlan = {
  steps: PlanStep[];
  /** Commit time of the last commit the restore reaches (null: the database had no commit at that position). */
  targetTime: Date | null;
  targetLogPosition: bigint;
  totalBytes: bigint;
  recoverStatement: string;
};

/**
 * Plans a restore from the mirror vault. `backups`: every backup of the source database (any status). Throws
 * InvalidInput (bad/missing target input), NotFound (unknown backupId) and FailedPrecondition (R10 not mirrored
 * yet, R14 gap, target outside the backups). RECOVERY_TO_SPECIFIC_BACKUP ignores `useDelta`: a delta backup always
 * needs its chain.
 */
export async function planRestore(
  backups: PlannerBackup[],
  request: PlanRequest,
  lookupCatalog: CatalogLookup,
): Promise<RestorePlan> {
  const bound = modeBound(request);
  if (request.mode === "RECOVERY_TO_SPECIFIC_BACKUP") checkSpecificBackup(backups, request);
  const all = sortBackups(backups.filter((b) => b.status === "COMPLETE"));
  const mirrored = all.filter((b) => b.mirrored);
  const search = new ChainSearch(request, lookupCatalog);
  const attempt = async (pool: PlannerBackup[], where: string): Promise<Outcome> => {
    switch (request.mode) {
      case "RECOVERY_TO_MOST_RECENT":
        return mostRecent(search, pool, where);
      case "RECOVERY_TO_SPECIFIC_BACKUP":
        return specificBackup(pool, where, request.backupId!);
      default:
        return bounded(search, pool, where, bound!);
    }
  };

  const outcome = await attempt(mirrored, "in the mirror vault");
  if (outcome.ok) return toPlan(outcome.chain, request);

  const sync = syncSentence(request);
  const fromSource = await attempt(all, "in the source vault");
  if (fromSource.ok) {
    // R10: the source's backups would do, but some are not mirrored yet.
    const chain = fromSource.chain;
    const missing = [chain.data, ...chain.deltas, ...chain.logs].filter((b) => !b.mirrored);
    throw new FailedPrecondition(
      `the restore needs backups that are not mirrored yet: ${listBackups(missing)}` +
        (sync ? `; ${sync}` : "") +
        `. With the mirror vault's backups only: ${outcome.failure.summary}. ` +
        `Retry when they are mirrored, or ${outcome.failure.advice}`,
    );
  }

  // Neither works: the mirror's reason, plus a note on newer backups that are not mirrored yet.
  const reached = outcome.position;
  const unmirroredNewer = reached === undefined ? [] : all.filter((b) => !b.mirrored && b.logPositionEnd > reached);
  const note =
    unmirroredNewer.length > 0
      ? `. Newer backups are not mirrored yet: ${listBackups(unmirroredNewer)}${sync ? ` (${sync})` : ""}`
      : "";
  const advice = outcome.failure.advice;
  throw new FailedPrecondition(`${outcome.failure.summary}${note}. ${advice[0]!.toUpperCase()}${advice.slice(1)}`);
}

/** The backup named for RECOVERY_TO_SPECIFIC_BACKUP exists, is a data backup, and completed. */
function checkSpecificBackup(backups: PlannerBackup[], request: PlanRequest) {
  const backupId = request.backupId!;
  const backup = backups.find((b) => b.id === backupId);
  if (!backup) throw new NotFound(`no backup with id "${backupId}" of ${request.sourceDatabaseName}`);
  if (backup.type === "LOG") {
    throw InvalidInput.field(
      ["input", "backupId"],
      `backup ${label(backup)} is a LOG backup; choose a data backup (COMPLETE, DIFFERENTIAL or INCREMENTAL), ` +
        "or use RECOVERY_TO_LOG_POSITION / RECOVERY_TO_POINT_IN_TIME to replay logs",
    );
  }
  if (backup.status !== "COMPLETE") {
    throw new FailedPrecondition(
      backup.status === "RUNNING"
        ? `backup ${label(backup)} is still running; wait until it completes and is mirrored`
        : `backup ${label(backup)} failed; choose another backup`,
    );
  }
}

function toPlan(chain: Chain, request: PlanRequest): RestorePlan {
  const steps: PlanStep[] = [
    { backup: chain.data, action: "LOAD_DATA" as const },
    ...chain.deltas.map((backup) => ({ backup, action: "APPLY_DELTA" as const })),
    ...chain.logs.map((backup) => ({ backup, action: "REPLAY_LOG" as const })),
  ].map((step, index) => ({ order: index + 1, backupId: step.backup.id, action: step.action }));
  const used = [chain.data, ...chain.deltas, ...chain.logs];
  const dataOnly = chain.logs.length === 0;
  let until: RecoverUntil;
  if (dataOnly) until = { kind: "DATA_ONLY" };
  else if (request.mode === "RECOVERY_TO_LOG_POSITION" || chain.time === null) {
    until = { kind: "LOG_POSITION", position: chain.position, volumeId: LOG_VOLUME_ID };
  } else until = { kind: "TIMESTAMP", time: chain.time };
  return {
    steps,
    targetTime: chain.time,
    targetLogPosition: chain.position,
    totalBytes: used.reduce((sum, b) => sum + b.sizeBytes, 0n),
    recoverStatement: buildRecoverStatement({
      targetDatabaseName: request.targetDatabaseName,
      sourceDatabaseName: request.sourceDatabaseName,
      sourceSid: request.sourceSid,
      crossSystem: request.crossSystem,
      checkAccess: request.checkAccess,
      useDelta: request.useDelta,
      hanaBackupId: (dataOnly ? (chain.deltas.at(-1) ?? chain.data) : chain.data).hanaBackupId,
      until,
    }),
  };
}
