// The SAP HANA simulator: one simulated cluster per registered instance, kept in the simulator's own PostgreSQL
// database (see migrations/) so it survives a restart. See DESIGN.md "The SAP HANA simulator" and connector.ts for
// the contract. This class only routes: each concern lives in its own file.
//   lifecycle.ts  provisioning on connect, listing, stop/start, digest, dropping an instance
//   writes.ts     simulated application writes (simulateHanaWrites)
//   backups.ts    backups streamed from a snapshot, and the bookkeeping of the backup chain
//   recover.ts    RECOVER DATABASE: loading a backup chain up to a target
//   store.ts      batched SQL over the tables; pool.ts the pg pool; migrate.ts creating and migrating the database
// Build it through `connectorFor` (index.ts), which creates and migrates the database first.

import { type BackupLimits, takeBackup } from "./backups.ts";
import type {
  BackupStreamResult,
  HanaBackupType,
  HanaConnector,
  HanaDatabaseState,
  HanaEndpoint,
  RecoverChain,
  RecoverOptions,
  RecoverRequest,
  RecoverResult,
} from "./connector.ts";
import { fencedWrite, fenceRecord } from "./fence.ts";
import * as lifecycle from "./lifecycle.ts";
import type { SimDb } from "./pool.ts";
import { type RecoverBatchLimits, recoverDatabase } from "./recover.ts";
import { type RowWrite, type SimulatedWrites, simulateWrites, writeTransactions } from "./writes.ts";

export type { RowWrite, SimulatedWrites } from "./writes.ts";

export type HanaSimulatorOptions = {
  /** Rows per SQL batch when streaming backups (default 1000) and at most per load statement when recovering. */
  batchSize?: number;
  /** Bytes of row data per load statement when recovering (default 4 MiB). */
  recoverBatchBytes?: number;
  /** Commits per SQL batch when streaming LOG backups (default 250). */
  logBatchSize?: number;
  /** A backup stream not pulled for this long is abandoned and its snapshot released (default 10 minutes). */
  backupIdleTimeoutMs?: number;
};

export class HanaSimulator implements HanaConnector {
  private readonly backupLimits: BackupLimits;
  private readonly recoverLimits: RecoverBatchLimits;

  /** `db`: the simulator's own database, migrated (see migrate.ts); the caller owns (and ends) the pool. */
  constructor(
    private readonly db: SimDb,
    options: HanaSimulatorOptions = {},
  ) {
    this.backupLimits = {
      batchSize: options.batchSize ?? 1000,
      logBatchSize: options.logBatchSize ?? 250,
      idleTimeoutMs: options.backupIdleTimeoutMs ?? 600_000,
    };
    this.recoverLimits = { rows: options.batchSize ?? 50_000, bytes: options.recoverBatchBytes ?? 4 * 1024 * 1024 };
  }

  connect(endpoint: HanaEndpoint): Promise<HanaDatabaseState[]> {
    return lifecycle.connectInstance(this.db, endpoint);
  }

  listDatabases(instanceId: string): Promise<HanaDatabaseState[]> {
    return lifecycle.listDatabases(this.db, instanceId);
  }

  getDatabase(instanceId: string, name: string): Promise<HanaDatabaseState | null> {
    return lifecycle.getDatabase(this.db, instanceId, name);
  }

  stopDatabase(instanceId: string, name: string, fence?: bigint): Promise<HanaDatabaseState> {
    if (fence === undefined) return lifecycle.setRunning(this.db, instanceId, name, false);
    return fencedWrite(this.db, instanceId, name, fence, (tx) => lifecycle.setRunning(tx, instanceId, name, false));
  }

  startDatabase(instanceId: string, name: string): Promise<HanaDatabaseState> {
    return lifecycle.setRunning(this.db, instanceId, name, true);
  }

  dropInstance(instanceId: string): Promise<void> {
    return lifecycle.dropInstance(this.db, instanceId);
  }

  computeDigest(instanceId: string, databaseName: string): Promise<string> {
    return lifecycle.computeDigest(this.db, instanceId, databaseName);
  }

  /** Simulator only: what the fence recorded for a database (accepted and refused restore writes, overlaps). */
  fenceRecord(instanceId: string, databaseName: string) {
    return fenceRecord(this.db, instanceId, databaseName);
  }

  /** Simulator only (what `simulateHanaWrites` drives): random transactions, see writes.ts. */
  simulateWrites(instanceId: string, databaseName: string, writes: SimulatedWrites): Promise<HanaDatabaseState> {
    return simulateWrites(this.db, instanceId, databaseName, writes);
  }

  /** Simulator only: exact transactions, in order (lets tests write known content). */
  writeTransactions(instanceId: string, databaseName: string, transactions: RowWrite[][]): Promise<HanaDatabaseState> {
    return writeTransactions(this.db, instanceId, databaseName, transactions);
  }

  backup(instanceId: string, databaseName: string, type: HanaBackupType): Promise<BackupStreamResult> {
    return takeBackup(this.db, this.backupLimits, instanceId, databaseName, type);
  }

  recover(
    instanceId: string,
    request: RecoverRequest,
    chain: RecoverChain,
    options: RecoverOptions = {},
  ): Promise<RecoverResult> {
    const { databaseName, target } = request;
    return recoverDatabase(this.db, instanceId, databaseName, chain, target, options, this.recoverLimits);
  }
}
