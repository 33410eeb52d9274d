// SAP HANA instances (R13, R16, R18): registration, the connection check on the region's worker, deletion, and
// simulated writes.
import { HanaConnectError, HanaPreconditionError } from "../hana/connector.ts";
import { jobIds } from "../queue/queues.ts";
import { cleanupRecords, runCleanups } from "./cleanups.ts";
import { Conflict, FailedPrecondition, InvalidInput, NotFound } from "./errors.ts";
import { scheduleLogBackups } from "./logBackups.ts";
import type { Ports } from "./ports.ts";
import { decryptSecret, encryptSecret } from "./secrets.ts";
import { ACTIVE_RESTORE_STATUSES, findVault, isUniqueViolation } from "./vaults.ts";

export type RegisterHanaInstance = {
  regionId: string;
  vaultId: string;
  name: string;
  sid: string;
  instanceNumber: string;
  host: string;
  ecsInstanceIds: string[];
  userName: string;
  password: string;
  useSsl?: boolean | null;
  validateCertificate?: boolean | null;
};

export async function findInstance(ports: Pick<Ports, "db">, accountId: string, instanceId: string) {
  const instance = await ports.db.hanaInstance.findFirst({ where: { id: instanceId, accountId } });
  if (!instance) throw new NotFound(`no SAP HANA instance with id "${instanceId}"`);
  return instance;
}

/** R13/R16: validates, stores the password encrypted, and queues the connection check on the region's worker. */
export async function registerHanaInstance(
  ports: Pick<Ports, "db" | "queues" | "regions" | "config">,
  accountId: string,
  input: RegisterHanaInstance,
) {
  const { db, regions, config } = ports;
  regions.require(input.regionId, ["input", "regionId"]);
  const vault = await findVault(db, accountId, input.vaultId);
  if (vault.kind !== "SOURCE") {
    throw InvalidInput.field(
      ["input", "vaultId"],
      "an SAP HANA instance can not be registered on a mirror vault; use a source vault",
    );
  }
  if (vault.regionId !== input.regionId) {
    throw InvalidInput.field(
      ["input", "vaultId"],
      `the vault is in ${vault.regionId}; the instance's vault must be in ${input.regionId}`,
    );
  }
  if (vault.status !== "CREATED") throw new FailedPrecondition(`the vault is ${vault.status}; it must be CREATED`);
  const instance = await db.hanaInstance
    .create({
      data: {
        accountId,
        regionId: input.regionId,
        vaultId: vault.id,
        name: input.name,
        sid: input.sid,
        instanceNumber: input.instanceNumber,
        host: input.host,
        ecsInstanceIds: input.ecsInstanceIds,
        userName: input.userName,
        passwordCipher: encryptSecret(input.password, config.secretKey),
        useSsl: input.useSsl ?? false,
        validateCertificate: input.validateCertificate ?? false,
      },
    })
    .catch((error) => {
      if (!isUniqueViolation(error)) throw error;
      throw new Conflict(`SID ${input.sid} is already registered in ${input.regionId}; delete that instance first`);
    });
  // If Redis is down now, the reconciler queues it later: the row says INITIALIZING.
  await ports.queues
    .add(
      instance.regionId,
      "hana",
      "initialize",
      { instanceId: instance.id },
      { jobId: jobIds.initialize(instance.id) },
    )
    .catch((error) => console.error("[register] could not queue initialization", error.message));
  return instance;
}

/** R18: an instance an active restore reads from or writes to stays. */
export async function deleteHanaInstance(
  ports: Pick<Ports, "db" | "queues" | "storage" | "hana">,
  accountId: string,
  instanceId: string,
) {
  const { db } = ports;
  const instance = await findInstance(ports, accountId, instanceId);
  const [active, mirrored] = await Promise.all([
    db.restore.count({
      where: {
        OR: [{ sourceInstanceId: instanceId }, { targetInstanceId: instanceId }],
        status: { in: [...ACTIVE_RESTORE_STATUSES] },
      },
    }),
    db.backupCopy.count({ where: { backup: { instanceId } } }),
  ]);
  if (active) throw new FailedPrecondition("an active restore uses this instance; wait for it or cancel it first");
  // Its backups' copies are what a disaster recovery restores from: never drop them as a side effect.
  if (mirrored) {
    throw new FailedPrecondition(
      `${mirrored} of this instance's backups are copied to a mirror vault; delete the mirror first, or keep the instance`,
    );
  }
  const backups = await db.backup.findMany({
    where: { instanceId },
    select: { id: true, status: true, vault: { select: { regionId: true } } },
  });
  // The manifests and the simulated cluster go after the rows; the record of that debt commits with the rows, so
  // a crash in between is finished by the reconciler (no orphan object or cluster row).
  const records = cleanupRecords([
    ...backups.map((b) => ({ regionId: b.vault.regionId, backupIds: [b.id] })),
    { regionId: instance.regionId, backupIds: [], hanaInstanceId: instanceId },
  ]);
  let cleanupIds: string[];
  try {
    cleanupIds = await db.$transaction(async (tx) => {
      await tx.restore.deleteMany({
        where: {
          OR: [{ sourceInstanceId: instanceId }, { targetInstanceId: instanceId }],
          status: { notIn: [...ACTIVE_RESTORE_STATUSES] },
        },
      });
      await tx.hanaInstance.delete({ where: { id: instanceId } });
      return (await tx.pendingCleanup.createManyAndReturn({ data: records, select: { id: true } })).map((r) => r.id);
    });
  } catch (error) {
    if ((error as { code?: string }).code === "P2003") {
      throw new FailedPrecondition("a restore started using this instance meanwhile; wait for it or cancel it first");
    }
    throw error;
  }
  // A backup job left behind finds its row gone; the LOG backup schedule goes with the clean-up.
  for (const backup of backups.filter((b) => b.status === "RUNNING")) {
    await ports.queues.remove(backup.vault.regionId, "backup", jobIds.backup(backup.id)).catch(() => {});
  }
  await runCleanups(ports, cleanupIds);
}

/** Maps the cluster's refusals onto contract errors: a missing database is bad input, a stopped one a precondition. */
export function fromHanaPrecondition(error: unknown): never {
  if (error instanceof HanaPreconditionError) {
    if (error.code === "DATABASE_NOT_FOUND") throw InvalidInput.field(["input", "databaseName"], error.message);
    throw new FailedPrecondition(error.message);
  }
  throw error;
}

/** simulateHanaWrites: commits simulated transactions on an INITIALIZED instance's database (simulator only). */
export async function simulateWrites(
  ports: Pick<Ports, "db" | "simulator" | "config">,
  accountId: string,
  input: {
    instanceId: string;
    databaseName: string;
    transactions: number;
    rowsPerTransaction?: number | null;
    valueBytes?: number | null;
  },
) {
  const simulator = ports.simulator;
  if (!simulator) throw new FailedPrecondition("simulateHanaWrites needs the simulator connector");
  // Each argument is in range on its own; their product is what the call writes (and holds in memory).
  const rows = input.transactions * (input.rowsPerTransaction ?? 10);
  const bytes = rows * (input.valueBytes ?? 64);
  const { simulateWritesMaxRows: maxRows, simulateWritesMaxBytes: maxBytes } = ports.config;
  if (rows > maxRows || bytes > maxBytes) {
    throw InvalidInput.field(
      ["input"],
      `one call writes at most ${maxRows} rows (transactions × rowsPerTransaction) and ${maxBytes} bytes (× valueBytes); this one would write ${rows} rows and ${bytes} bytes`,
    );
  }
  const instance = await findInstance(ports, accountId, input.instanceId);
  if (instance.status !== "INITIALIZED")
    throw new FailedPrecondition(`the instance is ${instance.status}; wait for INITIALIZED`);
  return simulator
    .simulateWrites(instance.id, input.databaseName, {
      transactions: input.transactions,
      rowsPerTransaction: input.rowsPerTransaction ?? 10,
      valueBytes: input.valueBytes ?? 64,
    })
    .catch(fromHanaPrecondition);
}

/**
 * The connection check a region's worker runs for a newly registered instance: INITIALIZED with its databases (and
 * its LOG backup schedule), or why it failed (INVALID_HANA_NODE / INITIALIZE_FAILED). A transient error throws, for
 * the job's retries.
 */
export async function initializeInstance(
  ports: Pick<Ports, "db" | "hana" | "queues" | "events" | "config">,
  instanceId: string,
) {
  const { db } = ports;
  const instance = await db.hanaInstance.findUnique({ where: { id: instanceId } });
  if (instance?.status !== "INITIALIZING") return;
  let update: { status: "INITIALIZED" | "INVALID_HANA_NODE" | "INITIALIZE_FAILED"; statusMessage: string | null };
  try {
    const databases = await ports.hana.connect({
      instanceId: instance.id,
      sid: instance.sid,
      instanceNumber: instance.instanceNumber,
      host: instance.host,
      userName: instance.userName,
      password: decryptSecret(instance.passwordCipher, ports.config.secretKey),
      useSsl: instance.useSsl,
      validateCertificate: instance.validateCertificate,
    });
    update = {
      status: "INITIALIZED",
      statusMessage: `connected; databases: ${databases.map((d) => d.name).join(", ")}`,
    };
  } catch (error) {
    if (!(error instanceof HanaConnectError)) throw error; // transient: the job retries with backoff
    update = { status: error.reason, statusMessage: error.message };
  }
  await db.hanaInstance.update({ where: { id: instance.id }, data: update });
  if (update.status === "INITIALIZED") await scheduleLogBackups(ports, instance);
  await ports.events.publish("instance:updated", instance.id);
}

/** After the last retry of a transient failure (the connector kept throwing), the instance says why. */
export async function failInitialization(ports: Pick<Ports, "db" | "events">, instanceId: string, message: string) {
  await ports.db.hanaInstance.updateMany({
    where: { id: instanceId, status: "INITIALIZING" },
    data: { status: "INITIALIZE_FAILED", statusMessage: `could not connect after several attempts: ${message}` },
  });
  await ports.events.publish("instance:updated", instanceId);
}

/** Reconciler step: re-queues the connection check of INITIALIZING instances and the LOG backup schedule of the rest. */
export async function reconcileInstances(ports: Pick<Ports, "db" | "queues">, regionIds: string[]) {
  const instances = await ports.db.hanaInstance.findMany({
    where: { regionId: { in: regionIds }, status: { in: ["INITIALIZING", "INITIALIZED"] } },
    select: { id: true, regionId: true, status: true, logBackupIntervalSeconds: true },
  });
  for (const instance of instances) {
    if (instance.status === "INITIALIZING") {
      const jobId = jobIds.initialize(instance.id);
      await ports.queues.ensure(instance.regionId, "hana", "initialize", { instanceId: instance.id }, { jobId });
    } else {
      await scheduleLogBackups(ports, instance);
    }
  }
}
