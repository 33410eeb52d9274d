// The SAP HANA recover statement a restore runs on the target cluster's SYSTEMDB (pure text building).
//
// Shapes (see shared/reference/domain.md):
//   with log replay: RECOVER DATABASE FOR <TARGET_DB> UNTIL TIMESTAMP '<ts>' | UNTIL LOG POSITION <n>
//                    [CLEAR LOG USING SOURCE '<SRC_DB>@<SID>'] USING CATALOG PATH ('…') USING LOG PATH ('…')
//                    USING DATA PATH ('…') [USING DELTA DATA] [CHECK ACCESS USING FILE]
//   data only:       RECOVER DATA FOR <TARGET_DB> USING BACKUP_ID <hanaBackupId> [USING SOURCE '<SRC_DB>@<SID>']
//                    USING CATALOG PATH ('…') USING DATA PATH ('…') [CHECK ACCESS USING FILE] CLEAR LOG
// USING SOURCE (and, for RECOVER DATABASE, CLEAR LOG) are written for cross-system restores, which every restore
// from a mirror is. RECOVER DATA always ends with CLEAR LOG: HANA requires it for a data-only recovery.
// For a data-only recovery that ends with a delta backup, BACKUP_ID is the delta's id (HANA finds its full backup
// and the deltas in between through the catalog).
//
// Paths: the restore worker stages the chain's backups from the mirror region's storage under
// `/hana/mirror/<SOURCE_SID>/{catalog,log,data}` on the target cluster (see `mirrorPaths`).
// Timestamps are UTC with milliseconds (`'2026-11-24 10:15:03.123'`): commits carry millisecond commit times and
// HANA accepts fractional seconds in UNTIL TIMESTAMP.

export type RecoverUntil =
  | { kind: "TIMESTAMP"; time: Date }
  | { kind: "LOG_POSITION"; position: bigint }
  | { kind: "BACKUP_ID"; hanaBackupId: bigint };

export type RecoverStatementInput = {
  targetDatabaseName: string;
  sourceDatabaseName: string;
  sourceSid: string;
  /** Restoring into another system (always true for a restore from a mirror): adds USING SOURCE and CLEAR LOG. */
  crossSystem: boolean;
  checkAccess: boolean;
  /** The chain contains a DIFFERENTIAL or INCREMENTAL backup (adds USING DELTA DATA to RECOVER DATABASE). */
  useDelta: boolean;
  /** TIMESTAMP / LOG_POSITION: RECOVER DATABASE with log replay; BACKUP_ID: data-only RECOVER DATA. */
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
  if (input.until.kind === "BACKUP_ID") {
    return [
      `RECOVER DATA FOR ${input.targetDatabaseName} USING BACKUP_ID ${input.until.hanaBackupId}`,
      input.crossSystem ? source : "",
      `USING CATALOG PATH ('${paths.catalog}')`,
      `USING DATA PATH ('${paths.data}')`,
      checkAccess,
      "CLEAR LOG",
    ]
      .filter(Boolean)
      .join(" ");
  }
  const until =
    input.until.kind === "TIMESTAMP"
      ? `UNTIL TIMESTAMP '${hanaTimestamp(input.until.time)}'`
      : `UNTIL LOG POSITION ${input.until.position}`;
  return [
    `RECOVER DATABASE FOR ${input.targetDatabaseName} ${until}`,
    input.crossSystem ? `CLEAR LOG ${source}` : "",
    `USING CATALOG PATH ('${paths.catalog}')`,
    `USING LOG PATH ('${paths.log}')`,
    `USING DATA PATH ('${paths.data}')`,
    input.useDelta ? "USING DELTA DATA" : "",
    checkAccess,
  ]
    .filter(Boolean)
    .join(" ");
}
