// The HANA connector: the only way the rest of the system talks to an SAP HANA cluster.
//
// The default implementation is the simulator (`simulator.ts`), whose clusters live in PostgreSQL. A real
// connector would implement the same interface with `@sap/hana-client`: `connect` opens a SYSTEMDB connection on
// port 3<NN>13 and reads M_DATABASES, `backup` runs `BACKUP DATA [DIFFERENTIAL|INCREMENTAL] FOR <db> USING BACKINT`
// (or streams log segments), and `recover` runs `RECOVER DATABASE FOR <db> UNTIL ... CLEAR LOG USING SOURCE ...`
// (the plan's statement, from `buildRecoverStatement` in src/domain/restores/recoverStatement.ts) with the chain's streams
// served through a Backint pipe. None of that is implemented here; `connectorFor` (index.ts) is where it plugs in.

export type HanaEndpoint = {
  /** The registered instance (cluster) id; the simulator keys its state by it (a UUID). */
  instanceId: string;
  sid: string;
  /** "00".."97"; the SYSTEMDB SQL port is 3<NN>13. */
  instanceNumber: string;
  host: string;
  userName: string;
  password: string;
  useSsl: boolean;
  validateCertificate: boolean;
};

export type HanaDatabaseKind = "SYSTEM" | "TENANT";

export type HanaDatabaseState = {
  name: string;
  kind: HanaDatabaseKind;
  running: boolean;
  /** Position of the last commit (0 = nothing committed yet). */
  logPosition: bigint;
  /** Commit time of the last commit (null = nothing committed yet). */
  lastCommitTime: Date | null;
  /** See digest.ts: equal content, equal digest, on every cluster. */
  contentDigest: string;
};

/** One point a backup can restore to, with the digest the database had there (what validation compares). */
export type CatalogPoint = { logPosition: bigint; commitTime: Date | null; digest: string };

export type HanaBackupType = "COMPLETE" | "DIFFERENTIAL" | "INCREMENTAL" | "LOG";
export type HanaDataBackupType = Exclude<HanaBackupType, "LOG">;

export type BackupStreamResult = {
  type: HanaBackupType;
  /** Data backups: the snapshot position. LOG: the first commit covered. */
  logPositionStart: bigint;
  /** Data backups: the snapshot position. LOG: the last commit covered. */
  logPositionEnd: bigint;
  /** Commit time at logPositionEnd (null for a data backup of a database that never committed). */
  coversUntil: Date | null;
  /** DIFFERENTIAL: the last COMPLETE's position; INCREMENTAL: the last data backup's position; else null. */
  basePosition: bigint | null;
  /** Data backups: one point (the snapshot). LOG: one point per commit covered, in position order. */
  catalog: CatalogPoint[];
  /** The backup's bytes (NDJSON, see ndjson.ts). Consume it fully, or `return()` it to release the snapshot. */
  stream: AsyncIterable<Uint8Array>;
  /**
   * Records the backup in the database's backup bookkeeping (last COMPLETE / last data backup / where the next
   * LOG backup starts). Call it once the bytes are safely stored; it throws if the stream was not fully consumed.
   * Until it is called, the backup does not count: the next DIFFERENTIAL/INCREMENTAL/LOG backup is computed as if
   * it had never been taken. Idempotent.
   */
  commit: () => Promise<void>;
};

/** The backups a recovery uses, oldest first: one COMPLETE, then deltas (DIFFERENTIAL/INCREMENTAL), then LOG backups. */
export type RecoverChain = {
  data: AsyncIterable<Uint8Array>;
  deltas: AsyncIterable<Uint8Array>[];
  logs: AsyncIterable<Uint8Array>[];
};

/**
 * Where to stop replaying the log (both may be given; the first commit beyond either stops the replay).
 * Neither = most recent in the chain. A target beyond the end of the chain reaches the end of the chain:
 * compare the returned reached position/time with what was asked.
 */
export type RecoverTarget = { untilPosition?: bigint; untilTime?: Date };

/**
 * What to recover: the plan's SAP HANA statement (what a real connector runs on the target's SYSTEMDB) and the
 * same request in structured form (what the simulator executes; it never parses SQL).
 */
export type RecoverRequest = { databaseName: string; recoverStatement: string; target: RecoverTarget };

export type RecoverPhase = "LOADING_DATA" | "APPLYING_DELTA" | "REPLAYING_LOG";

export type RecoverOptions = {
  /** Checked between batches; an abort throws `HanaRecoverAbortedError` and leaves the database stopped. */
  signal?: AbortSignal;
  /** Called after every batch and at the end of each phase, with the fraction (0..1) of that phase done. */
  onProgress?: (phase: RecoverPhase, fraction: number) => void | Promise<void>;
  /**
   * The restore run's fencing token (an epoch that only grows). Every write of the recovery carries it, and the
   * cluster refuses it (`HanaFencedError`) once a higher one was presented for the database: a run that lost its
   * lease can never write beside the one that took over. A real connector would keep the highest epoch in a table
   * of the target's SYSTEMDB and check it in the transaction of each load; the simulator does the same.
   */
  fence?: bigint;
};

export type RecoverResult = { reachedPosition: bigint; reachedTime: Date | null };

export interface HanaConnector {
  /**
   * Connects to the instance's SYSTEMDB and lists its databases. Throws `HanaConnectError` (reason
   * INVALID_HANA_NODE or INITIALIZE_FAILED, with a message that says why) when that fails.
   */
  connect(endpoint: HanaEndpoint): Promise<HanaDatabaseState[]>;
  /** SYSTEMDB first, then tenants by name. Empty when the instance was never connected (or was dropped). */
  listDatabases(instanceId: string): Promise<HanaDatabaseState[]>;
  getDatabase(instanceId: string, name: string): Promise<HanaDatabaseState | null>;
  /**
   * Takes a backup of a running database from a consistent snapshot. Throws `HanaPreconditionError` when the
   * database is missing or stopped, when a DIFFERENTIAL/INCREMENTAL/LOG backup has no COMPLETE backup before it,
   * and when a LOG backup would be empty.
   */
  backup(instanceId: string, databaseName: string, type: HanaBackupType): Promise<BackupStreamResult>;
  /**
   * The effect of `RECOVER DATABASE ... CLEAR LOG`: replaces the database's content (creating the database if it is
   * missing) with the chain's data backup, deltas and log commits up to the target. The database is stopped while
   * recovering and running afterwards; its backup bookkeeping is cleared (a new COMPLETE backup is needed).
   * Throws `HanaPreconditionError` on a broken chain (delta base mismatch, log gap, target before the data backup)
   * and `HanaBackupFormatError` on unreadable or truncated streams.
   */
  recover(
    instanceId: string,
    request: RecoverRequest,
    chain: RecoverChain,
    options?: RecoverOptions,
  ): Promise<RecoverResult>;
  /** Recomputes the digest from the rows themselves (never from bookkeeping). */
  computeDigest(instanceId: string, databaseName: string): Promise<string>;
  /** With `fence`: refused (`HanaFencedError`) when a newer restore run took the database over. */
  stopDatabase(instanceId: string, name: string, fence?: bigint): Promise<HanaDatabaseState>;
  startDatabase(instanceId: string, name: string): Promise<HanaDatabaseState>;
  /** Forgets the instance and everything in it (no-op when unknown). */
  dropInstance(instanceId: string): Promise<void>;
}

export type HanaConnectFailure = "INVALID_HANA_NODE" | "INITIALIZE_FAILED";

export class HanaConnectError extends Error {
  override name = "HanaConnectError";
  constructor(
    readonly reason: HanaConnectFailure,
    message: string,
  ) {
    super(message);
  }
}

export type HanaPreconditionCode =
  | "INSTANCE_NOT_CONNECTED"
  | "DATABASE_NOT_FOUND"
  | "DATABASE_STOPPED"
  | "NO_COMPLETE_BACKUP"
  | "NO_NEW_COMMITS"
  | "BACKUP_CHAIN_BROKEN"
  | "BACKUP_NOT_CONSUMED";

/** The cluster refused the request in its current state (the message says what is missing). */
export class HanaPreconditionError extends Error {
  override name = "HanaPreconditionError";
  constructor(
    readonly code: HanaPreconditionCode,
    message: string,
  ) {
    super(message);
  }
}

/** A backup stream that is not what it claims to be (bad NDJSON, wrong kind, truncated). */
export class HanaBackupFormatError extends Error {
  override name = "HanaBackupFormatError";
}

/** `recover` stopped at a safe point because its signal was aborted. `name` is "AbortError". */
export class HanaRecoverAbortedError extends Error {
  override name = "AbortError";
  constructor(
    message = "recovery aborted",
    readonly reason?: unknown,
  ) {
    super(message);
  }
}

/** A fenced write carried an epoch older than one already presented: the run lost its lease and must stop. */
export class HanaFencedError extends Error {
  override name = "HanaFencedError";
}
