// Where a restore may write: R11 (the target instance is in the mirror's region and INITIALIZED) and R15 (SYSTEMDB
// is never renamed, tenant names are valid, an existing database is replaced only with overwrite, one active
// restore per target database).
import type { HanaConnector } from "../../hana/connector.ts";
import { Conflict, FailedPrecondition, InvalidInput } from "../errors.ts";

type Instance = { id: string; sid: string; regionId: string; status: string };

/** R11: restores read the mirror region's storage and write a cluster of that same region. */
export function checkTargetInstance(target: Instance, mirror: { regionId: string }): void {
  if (target.regionId !== mirror.regionId) {
    throw InvalidInput.field(
      ["input", "targetInstanceId"],
      `the target instance is in ${target.regionId}; register a target instance in the mirror's region ${mirror.regionId}`,
    );
  }
  if (target.status !== "INITIALIZED") {
    throw new FailedPrecondition(`the target instance is ${target.status}; wait until it is INITIALIZED`);
  }
}

/** SAP HANA folds unquoted database names to upper case: "pr1" and "PR1" are one database (R15 depends on it). */
export const databaseName = (name: string) => name.toUpperCase();

const TENANT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * R15: SYSTEMDB is restored only as SYSTEMDB, a tenant never into SYSTEMDB; tenant names start with a letter,
 * then letters, digits or `_`, at most 127 characters, never `_SYS_…`. InvalidInput on targetDatabaseName.
 */
export function checkTargetDatabaseName(sourceDatabaseName: string, targetDatabaseName: string): void {
  const path = ["input", "targetDatabaseName"];
  const sourceIsSystem = sourceDatabaseName.toUpperCase() === "SYSTEMDB";
  const targetIsSystem = targetDatabaseName.toUpperCase() === "SYSTEMDB";
  if (sourceIsSystem && !targetIsSystem) {
    throw InvalidInput.field(
      path,
      "SYSTEMDB can only be restored as SYSTEMDB (it is never renamed); set targetDatabaseName to SYSTEMDB or leave it out",
    );
  }
  if (!sourceIsSystem && targetIsSystem) {
    throw InvalidInput.field(
      path,
      `tenant database ${sourceDatabaseName} can not be restored into SYSTEMDB; choose a tenant database name`,
    );
  }
  if (targetIsSystem) return;
  if (targetDatabaseName.length === 0 || targetDatabaseName.length > 127) {
    throw InvalidInput.field(path, "a tenant database name must be 1 to 127 characters long");
  }
  if (targetDatabaseName.toUpperCase().startsWith("_SYS_")) {
    throw InvalidInput.field(path, `tenant database name "${targetDatabaseName}" must not start with _SYS_`);
  }
  if (!TENANT_NAME.test(targetDatabaseName)) {
    throw InvalidInput.field(
      path,
      `tenant database name "${targetDatabaseName}" is invalid: it must start with a letter and contain only ` +
        "letters, digits and _",
    );
  }
}

/** R15: an existing database on the target is replaced only when the request says overwrite. */
export async function checkOverwrite(
  hana: HanaConnector,
  target: Instance,
  targetDatabaseName: string,
  overwrite: boolean,
): Promise<void> {
  if (overwrite || !(await hana.getDatabase(target.id, targetDatabaseName))) return;
  throw new Conflict(
    `database ${targetDatabaseName} already exists on ${target.sid}; pass overwrite: true to replace it, or choose another targetDatabaseName`,
  );
}

/**
 * R15: the key an active restore holds on its target database (a unique column, so two concurrent requests can't
 * both get it); cleared when the restore ends, which frees the target.
 */
export const activeTargetKey = (targetInstanceId: string, targetDatabaseName: string) =>
  `${targetInstanceId}/${targetDatabaseName}`;

export function targetBusy(target: Instance, targetDatabaseName: string): Conflict {
  return new Conflict(
    `a restore into ${targetDatabaseName} on ${target.sid} is already active; wait for it or cancel it`,
  );
}
