// `<region>.hana` / initialize: connects to a newly registered instance through the HANA connector and records
// what it found (INITIALIZED with its databases) or why it failed (INVALID_HANA_NODE / INITIALIZE_FAILED).
import type { Job } from "bullmq";
import { decryptSecret } from "../src/domain/secrets.ts";
import { HanaConnectError } from "../src/hana/connector.ts";
import type { Services } from "../src/services.ts";
import { scheduleLogBackups } from "./logBackup.ts";

export async function initializeInstance(services: Services, job: Job<{ instanceId: string }>) {
  const { db } = services;
  const instance = await db.hanaInstance.findUnique({ where: { id: job.data.instanceId } });
  if (!instance || instance.status !== "INITIALIZING") return;
  let update: { status: "INITIALIZED" | "INVALID_HANA_NODE" | "INITIALIZE_FAILED"; statusMessage: string | null };
  try {
    const databases = await services.hana.connect({
      instanceId: instance.id,
      sid: instance.sid,
      instanceNumber: instance.instanceNumber,
      host: instance.host,
      userName: instance.userName,
      password: decryptSecret(instance.passwordCipher, services.config.secretKey),
      useSsl: instance.useSsl,
      validateCertificate: instance.validateCertificate,
    });
    update = {
      status: "INITIALIZED",
      statusMessage: `connected; databases: ${databases.map((d) => d.name).join(", ")}`,
    };
  } catch (error) {
    if (!(error instanceof HanaConnectError)) throw error; // transient: BullMQ retries with backoff
    update = { status: error.reason, statusMessage: error.message };
  }
  await db.hanaInstance.update({ where: { id: instance.id }, data: update });
  if (update.status === "INITIALIZED") await scheduleLogBackups(services, instance);
  await services.events.publish("instance:updated", instance.id, { id: instance.id });
}

/** After the last retry of a transient failure (the connector kept throwing), the instance says why. */
export async function failInitialization(services: Services, job: Job<{ instanceId: string }>, error: Error) {
  await services.db.hanaInstance.updateMany({
    where: { id: job.data.instanceId, status: "INITIALIZING" },
    data: { status: "INITIALIZE_FAILED", statusMessage: `could not connect after several attempts: ${error.message}` },
  });
  await services.events.publish("instance:updated", job.data.instanceId, { id: job.data.instanceId });
}
