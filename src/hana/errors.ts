// The simulator's refusals, worded once (the contract's error classes are in connector.ts).
import { type HanaBackupType, HanaPreconditionError } from "./connector.ts";

export function notFound(instanceId: string, name: string): HanaPreconditionError {
  return new HanaPreconditionError("DATABASE_NOT_FOUND", `database ${name} does not exist on instance ${instanceId}`);
}

export function stopped(name: string, verb: string): HanaPreconditionError {
  return new HanaPreconditionError("DATABASE_STOPPED", `database ${name} is stopped; cannot ${verb} it`);
}

export function noComplete(name: string, type: HanaBackupType): HanaPreconditionError {
  return new HanaPreconditionError(
    "NO_COMPLETE_BACKUP",
    `a ${type} backup of ${name} needs a COMPLETE data backup first (none since the database was created or recovered)`,
  );
}
