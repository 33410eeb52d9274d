// A restore request, resolved: the mirror, the source and target instances (R11, R17), the database names (R15)
// and the plan from the mirrored backups (R10, R14). Shared by the `restorePlan` dry run and `restoreFromMirror`.
import type { Db } from "../../db/types.ts";
import { FailedPrecondition, InvalidInput, NotFound } from "../errors.ts";
import type { Ports } from "../ports.ts";
import { findVault } from "../vaults.ts";
import { planRestore, type RestorePlan } from "./plan.ts";
import type { CatalogRow, RestoreModeName } from "./planInput.ts";
import { checkTargetDatabaseName, checkTargetInstance, databaseName } from "./targetRules.ts";

/** Ids are the rows' UUIDs (the API decodes its global ids before calling). */
export type RestoreInput = {
  mirrorVaultId: string;
  sourceInstanceId: string;
  sourceDatabaseName: string;
  targetInstanceId: string;
  targetDatabaseName?: string | null;
  mode: RestoreModeName;
  pointInTime?: Date | null;
  backupId?: string | null;
  logPosition?: bigint | null;
  useDelta?: boolean | null;
  checkAccess?: boolean | null;
  overwrite?: boolean | null;
  idempotencyKey?: string | null;
};

export type PlanPorts = Pick<Ports, "db" | "clock">;

async function findInstance(db: Db, accountId: string, instanceId: string) {
  const instance = await db.hanaInstance.findFirst({ where: { id: instanceId, accountId } });
  if (!instance) throw new NotFound(`no SAP HANA instance with id "${instanceId}"`);
  return instance;
}

/** Resolves the request and plans it; throws the rule's error on the first rule it breaks. */
export async function resolveRestore(ports: PlanPorts, accountId: string, input: RestoreInput) {
  const { db } = ports;
  const mirror = await findVault(db, accountId, input.mirrorVaultId);
  if (mirror.kind !== "MIRROR" || !mirror.sourceVaultId) {
    throw InvalidInput.field(["input", "mirrorVaultId"], "restores read from a mirror vault; this is a source vault");
  }
  if (mirror.status !== "CREATED") {
    throw new FailedPrecondition(`the mirror vault is ${mirror.status}; it can't be restored from now`);
  }
  const source = await findInstance(db, accountId, input.sourceInstanceId);
  if (source.vaultId !== mirror.sourceVaultId) {
    throw InvalidInput.field(
      ["input", "sourceInstanceId"],
      "this instance does not back up into the mirror's source vault",
    );
  }
  const target = await findInstance(db, accountId, input.targetInstanceId);
  checkTargetInstance(target, mirror);
  const sourceDatabaseName = databaseName(input.sourceDatabaseName);
  const targetDatabaseName = databaseName(input.targetDatabaseName ?? input.sourceDatabaseName);
  checkTargetDatabaseName(sourceDatabaseName, targetDatabaseName);
  const plan = await planFromMirror(ports, input, { mirror, source, sourceDatabaseName, targetDatabaseName });
  return { mirror, source, target, sourceDatabaseName, targetDatabaseName, plan };
}

async function planFromMirror(
  { db, clock }: PlanPorts,
  input: RestoreInput,
  resolved: {
    mirror: { id: string; sourceVaultId: string | null };
    source: { id: string; sid: string };
    sourceDatabaseName: string;
    targetDatabaseName: string;
  },
): Promise<RestorePlan> {
  const { mirror, source, sourceDatabaseName } = resolved;
  const replication = await db.replication.findUnique({ where: { mirrorVaultId: mirror.id } });
  const backups = await db.backup.findMany({
    where: { instanceId: source.id, databaseName: sourceDatabaseName, vaultId: mirror.sourceVaultId! },
    include: { copies: { where: { mirrorVaultId: mirror.id }, select: { copiedAt: true } } },
  });
  if (!backups.length) {
    throw InvalidInput.field(
      ["input", "sourceDatabaseName"],
      `there are no backups of ${sourceDatabaseName} from instance ${source.sid}`,
    );
  }
  return planRestore(
    backups.map((b) => ({ ...b, mirrored: b.copies.length > 0 })),
    {
      mode: input.mode,
      pointInTime: input.pointInTime,
      backupId: input.backupId,
      logPosition: input.logPosition,
      useDelta: input.useDelta ?? true,
      sourceDatabaseName,
      sourceSid: source.sid,
      targetDatabaseName: resolved.targetDatabaseName,
      crossSystem: true,
      checkAccess: input.checkAccess ?? true,
      historicalSyncScheduledAt: replication?.historicalSyncScheduledAt ?? null,
      historicalSyncStatus: replication?.historicalSyncStatus ?? null,
      now: clock.now(),
    },
    async (ids) => {
      const rows = await db.catalogEntry.findMany({
        where: { backupId: { in: ids } },
        orderBy: { logPosition: "asc" },
      });
      const byBackup = new Map<string, CatalogRow[]>();
      for (const row of rows) byBackup.set(row.backupId, [...(byBackup.get(row.backupId) ?? []), row]);
      return byBackup;
    },
  );
}

/** The `restorePlan` dry run: what `restoreFromMirror` would do, without creating or queueing anything. */
export async function planRestoreFor(
  ports: PlanPorts,
  accountId: string,
  input: RestoreInput,
): Promise<RestorePlan & { regionId: string }> {
  const { plan, mirror } = await resolveRestore(ports, accountId, input);
  return { ...plan, regionId: mirror.regionId };
}
