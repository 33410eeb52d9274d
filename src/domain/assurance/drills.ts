// Restore drills: a restore from a mirror into a scratch tenant the drill owns, on a schedule. Creation checks the
// mirror (R17), the target (R11 plus: never SYSTEMDB, never a database the drill did not create), the name and the
// interval; nothing is written on bad input. The schedule is one BullMQ job scheduler per drill (drillSchedule.ts).
import type { Db } from "../../db/types.ts";
import type { DrillMode } from "../../generated/prisma/client.ts";
import { Conflict, FailedPrecondition, InvalidInput, NotFound } from "../errors.ts";
import type { Ports } from "../ports.ts";
import { checkTargetDatabaseName, checkTargetInstance, databaseName } from "../restores/targetRules.ts";
import { findVault, isUniqueViolation } from "../vaults.ts";
import { removeDrillSchedule, scheduleDrill } from "./drillSchedule.ts";

export const DRILL_INTERVAL_MINUTES = { min: 15, max: 10_080 } as const;
export const DRILL_NAME_LENGTH = 64;

export type DrillInput = {
  name: string;
  mirrorVaultId: string;
  sourceInstanceId: string;
  sourceDatabaseName: string;
  targetInstanceId: string;
  targetDatabaseName: string;
  mode?: DrillMode | null;
  intervalMinutes?: number | null;
  enabled?: boolean | null;
};

export type DrillChanges = {
  name?: string | null;
  mode?: DrillMode | null;
  intervalMinutes?: number | null;
  enabled?: boolean | null;
};

type DrillPorts = Pick<Ports, "db" | "hana" | "queues" | "config">;

/** The caller's drill, or NOT_FOUND (R17). */
export async function findDrill(db: Db, accountId: string, drillId: string) {
  const drill = await db.restoreDrill.findFirst({ where: { id: drillId, accountId }, include: { mirrorVault: true } });
  if (!drill) throw new NotFound(`no restore drill with id "${drillId}"`);
  return drill;
}

function checkName(name: string | null | undefined): string | undefined {
  if (name === undefined || name === null) return undefined;
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > DRILL_NAME_LENGTH) {
    throw InvalidInput.field(
      ["input", "name"],
      `name must be 1 to ${DRILL_NAME_LENGTH} characters (after trimming); it has ${trimmed.length}`,
    );
  }
  return trimmed;
}

function checkInterval(minutes: number | null | undefined): void {
  if (minutes === undefined || minutes === null) return;
  const { min, max } = DRILL_INTERVAL_MINUTES;
  if (!Number.isInteger(minutes) || minutes < min || minutes > max) {
    throw InvalidInput.field(
      ["input", "intervalMinutes"],
      `intervalMinutes must be a whole number from ${min} to ${max} (7 days); it is ${minutes}`,
    );
  }
}

async function findInstance(db: Db, accountId: string, instanceId: string) {
  const instance = await db.hanaInstance.findFirst({ where: { id: instanceId, accountId } });
  if (!instance) throw new NotFound(`no SAP HANA instance with id "${instanceId}"`);
  return instance;
}

export async function createRestoreDrill(ports: DrillPorts, accountId: string, input: DrillInput) {
  const { db, hana } = ports;
  const name = checkName(input.name)!;
  checkInterval(input.intervalMinutes);
  const mirror = await findVault(db, accountId, input.mirrorVaultId);
  if (mirror.kind !== "MIRROR" || !mirror.sourceVaultId) {
    throw InvalidInput.field(["input", "mirrorVaultId"], "drills restore from a mirror vault; this is a source vault");
  }
  if (mirror.status !== "CREATED") throw new FailedPrecondition(`the mirror vault is ${mirror.status}`);
  const source = await findInstance(db, accountId, input.sourceInstanceId);
  if (source.vaultId !== mirror.sourceVaultId) {
    throw InvalidInput.field(["input", "sourceInstanceId"], "this instance does not back up into the mirror's source");
  }
  const target = await findInstance(db, accountId, input.targetInstanceId);
  checkTargetInstance(target, mirror);
  const sourceDatabaseName = databaseName(input.sourceDatabaseName);
  const targetDatabaseName = databaseName(input.targetDatabaseName);
  const targetPath = ["input", "targetDatabaseName"];
  if (targetDatabaseName === "SYSTEMDB") {
    throw InvalidInput.field(targetPath, "a drill restores into a scratch tenant of its own, never into SYSTEMDB");
  }
  checkTargetDatabaseName(sourceDatabaseName, targetDatabaseName);
  if (await hana.getDatabase(target.id, targetDatabaseName)) {
    throw InvalidInput.field(
      targetPath,
      `database ${targetDatabaseName} exists on ${target.sid} and this drill did not create it; a drill replaces only ` +
        "the scratch tenant it creates: choose a name no database of the target has",
    );
  }
  const drill = await db.restoreDrill
    .create({
      data: {
        accountId,
        name,
        mirrorVaultId: mirror.id,
        sourceInstanceId: source.id,
        sourceDatabaseName,
        targetInstanceId: target.id,
        targetDatabaseName,
        mode: input.mode ?? "MOST_RECENT",
        intervalMinutes: input.intervalMinutes ?? 1440,
        enabled: input.enabled ?? true,
      },
      include: { mirrorVault: true },
    })
    .catch((error) => {
      if (!isUniqueViolation(error)) throw error;
      throw new Conflict(
        `another restore drill already uses ${targetDatabaseName} on ${target.sid} as its scratch tenant`,
      );
    });
  await scheduleDrill(ports, drill);
  return drill;
}

export async function updateRestoreDrill(ports: DrillPorts, accountId: string, drillId: string, changes: DrillChanges) {
  const { db } = ports;
  const drill = await findDrill(db, accountId, drillId);
  const name = checkName(changes.name);
  checkInterval(changes.intervalMinutes);
  const updated = await db.restoreDrill.update({
    where: { id: drill.id },
    data: {
      ...(name !== undefined ? { name } : {}),
      ...(changes.mode ? { mode: changes.mode } : {}),
      ...(changes.intervalMinutes != null ? { intervalMinutes: changes.intervalMinutes } : {}),
      ...(changes.enabled != null ? { enabled: changes.enabled } : {}),
    },
    include: { mirrorVault: true },
  });
  await scheduleDrill(ports, updated);
  return updated;
}

/** A drill with a run in progress stays until the run ends (its restore holds the scratch tenant). */
export async function deleteRestoreDrill(ports: DrillPorts, accountId: string, drillId: string) {
  const { db } = ports;
  const drill = await findDrill(db, accountId, drillId);
  const { count } = await db.restoreDrill.deleteMany({
    where: { id: drill.id, runs: { none: { status: "RUNNING" } } },
  });
  if (!count) throw new FailedPrecondition("a run of this drill is in progress; wait until it ends, then delete it");
  await removeDrillSchedule(ports, drill);
}

/** R15 for drills: a restore into a drill's scratch tenant is refused while the drill exists (unless it is the drill's). */
export async function scratchOwner(db: Db, targetInstanceId: string, targetDatabaseName: string) {
  return db.restoreDrill.findUnique({
    where: { targetInstanceId_targetDatabaseName: { targetInstanceId, targetDatabaseName } },
    select: { id: true, name: true },
  });
}
