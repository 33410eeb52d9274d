// `<region>.hana` / initialize: the connection check of a newly registered instance (src/domain/hanaInstances.ts).
import type { Job } from "bullmq";
import { failInitialization, initializeInstance } from "../src/domain/hanaInstances.ts";
import type { Ports } from "../src/domain/ports.ts";

type Data = { instanceId: string };

export function initialize(ports: Pick<Ports, "db" | "hana" | "queues" | "events" | "config">, job: Job<Data>) {
  return initializeInstance(ports, job.data.instanceId);
}

export function failInitializeJob(ports: Pick<Ports, "db" | "events">, job: Job<Data>, error: Error) {
  return failInitialization(ports, job.data.instanceId, error.message);
}
