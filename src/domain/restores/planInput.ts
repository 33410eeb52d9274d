// What the restore planner is given: the source database's backups (with whether each is in the mirror vault),
// the request, and a way to read the commit times inside a log backup.

export type PlannerBackup = {
  id: string;
  type: "COMPLETE" | "DIFFERENTIAL" | "INCREMENTAL" | "LOG";
  status: "RUNNING" | "COMPLETE" | "FAILED";
  hanaBackupId: bigint;
  prefix: string;
  sizeBytes: bigint;
  /** Data backups: both = the snapshot position; LOG: first..last commit position covered. */
  logPositionStart: bigint;
  logPositionEnd: bigint;
  /** DIFFERENTIAL: position of its COMPLETE; INCREMENTAL: position of the data backup it is based on. */
  basePosition: bigint | null;
  /** Commit time of `logPositionEnd` (null: nothing committed yet). */
  coversUntil: Date | null;
  completedAt: Date | null;
  /** Its copy is in the mirror vault (R10). */
  mirrored: boolean;
};

export type RestoreModeName =
  | "RECOVERY_TO_MOST_RECENT"
  | "RECOVERY_TO_POINT_IN_TIME"
  | "RECOVERY_TO_SPECIFIC_BACKUP"
  | "RECOVERY_TO_LOG_POSITION";

export type HistoricalSyncStatus = "SCHEDULED" | "RUNNING" | "COMPLETED" | "FAILED";

export type PlanRequest = {
  mode: RestoreModeName;
  pointInTime?: Date | null;
  /** RECOVERY_TO_SPECIFIC_BACKUP: a `PlannerBackup.id`. */
  backupId?: string | null;
  logPosition?: bigint | null;
  /** false: replay logs instead of applying delta backups (`IGNORE DELTA DATA`). */
  useDelta: boolean;
  sourceDatabaseName: string;
  sourceSid: string;
  targetDatabaseName: string;
  crossSystem: boolean;
  checkAccess: boolean;
  /** When the mirror's historical sync is (or was) scheduled, for error messages. */
  historicalSyncScheduledAt: Date | null;
  historicalSyncStatus: HistoricalSyncStatus | null;
  now: Date;
};

/** A `CatalogEntry` row: the commit time of each log position a backup covers. */
export type CatalogRow = { logPosition: bigint; commitTime: Date | null };

/**
 * Returns the catalog rows of the given backups, by backup id. The planner calls it only for the LOG backup a
 * point in time / log position falls into.
 */
export type CatalogLookup = (backupIds: string[]) => Promise<Map<string, CatalogRow[]>>;
