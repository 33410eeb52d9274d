// The SAP HANA recover statement a restore runs on the target cluster's SYSTEMDB (pure text building).
//
// Shapes (shared/reference/domain.md; the order of the USING clauses is free in HANA, fixed here):
//   log replay: RECOVER DATABASE FOR <DB> UNTIL TIMESTAMP '<ts>' | UNTIL LOG POSITION <n> AT VOLUME <id>
//               [CLEAR LOG USING SOURCE '<SRC_DB>@<SID>'] USING CATALOG PATH ('…') USING LOG PATH ('…')
//               USING DATA PATH ('…') USING BACKUP_ID <full backup id> [IGNORE DELTA DATA] [CHECK ACCESS USING FILE]
//   data only:  RECOVER DATA FOR <DB> USING BACKUP_ID <id> [USING SOURCE '<SRC_DB>@<SID>'] USING CATALOG PATH ('…')
//               USING DATA PATH ('…') [CHECK ACCESS USING FILE] CLEAR LOG
// HANA applies delta backups by default; IGNORE DELTA DATA turns that off (there is no USING DELTA DATA).
// USING BACKUP_ID names the plan's COMPLETE backup, so HANA starts from the same full backup the plan chose.
// A data-only recovery that ends with a delta names the delta (HANA finds its full backup through the catalog)
// and always ends with CLEAR LOG, which HANA requires there. USING SOURCE (and CLEAR LOG) are written for
// cross-system restores, which every restore from a mirror is.
// Timestamps are UTC with milliseconds: commits carry millisecond commit times.

/**
 * The log volume a position refers to. Backups here carry one log stream per database (the simulator's one
 * volume); a real connector would take the volume from the backup catalog (M_BACKUP_CATALOG_FILES.VOLUME_ID).
 */
export const LOG_VOLUME_ID = 1;

export type RecoverUntil =
  | { kind: "TIMESTAMP"; time: Date }
  | { kind: "LOG_POSITION"; position: bigint; volumeId: number }
  /** No log replay: RECOVER DATA of the backup `backupId` names. */
  | { kind: "DATA_ONLY" };

export type RecoverStatementInput = {
  targetDatabaseName: string;
  sourceDatabaseName: string;
  sourceSid: string;
  /** Restoring into another system (always true for a restore from a mirror): adds USING SOURCE and CLEAR LOG. */
  crossSystem: boolean;
  checkAccess: boolean;
  /** false: IGNORE DELTA DATA (log replay only; a data-only recovery of a delta needs its deltas anyway). */
  useDelta: boolean;
  /** HANA's backup id: the COMPLETE backup for a log replay, the last data backup for DATA_ONLY. */
  hanaBackupId: bigint;
  until: RecoverUntil;
};

export type MirrorPaths = { catalog: string; log: string; data: string };

/** Where the restore worker stages the backups of source system `sid` on the target cluster. */
export function mirrorPaths(sid: string): MirrorPaths {
  const base = `/hana/mirror/${sid}`;
  return { catalog: `${base}/catalog`, log: `${base}/log`, data: `${base}/data` };
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC. */
export function hanaTimestamp(date: Date): string {
  return date.toISOString().replace("T", " ").replace("Z", "");
}

export function buildRecoverStatement(input: RecoverStatementInput): string {
  const paths = mirrorPaths(input.sourceSid);
  const source = `USING SOURCE '${input.sourceDatabaseName}@${input.sourceSid}'`;
  const checkAccess = input.checkAccess ? "CHECK ACCESS USING FILE" : "";
  const until = input.until;
  if (until.kind === "DATA_ONLY") {
    return clauses(
      `RECOVER DATA FOR ${input.targetDatabaseName} USING BACKUP_ID ${input.hanaBackupId}`,
      input.crossSystem ? source : "",
      `USING CATALOG PATH ('${paths.catalog}')`,
      `USING DATA PATH ('${paths.data}')`,
      checkAccess,
      "CLEAR LOG",
    );
  }
  const untilClause =
    until.kind === "TIMESTAMP"
      ? `UNTIL TIMESTAMP '${hanaTimestamp(until.time)}'`
      : `UNTIL LOG POSITION ${until.position} AT VOLUME ${until.volumeId}`;
  return clauses(
    `RECOVER DATABASE FOR ${input.targetDatabaseName} ${untilClause}`,
    input.crossSystem ? `CLEAR LOG ${source}` : "",
    `USING CATALOG PATH ('${paths.catalog}')`,
    `USING LOG PATH ('${paths.log}')`,
    `USING DATA PATH ('${paths.data}')`,
    `USING BACKUP_ID ${input.hanaBackupId}`,
    input.useDelta ? "" : "IGNORE DELTA DATA",
    checkAccess,
  );
}

const clauses = (...parts: string[]) => parts.filter(Boolean).join(" ");
