// The queue behaviour the product relies on, on both backends: deterministic ids, delayed jobs, job schedulers
// and a crashed worker's job being taken over by another worker.
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QueueBackend } from "../../src/queue/queueBackend.ts";
import { RegionQueues } from "../../src/queue/queues.ts";
import { createRegionWorker, type RegionWorker } from "../../src/queue/regionWorker.ts";
import { BACKEND_KINDS, disposeQueueBackend, testQueueBackend } from "../support/backends.ts";
import { signal, within } from "../support/within.ts";

const region = "cn-hangzhou";
const relaxed = { concurrency: 1, lockDuration: 30_000, stalledInterval: 30_000 };

describe.each(BACKEND_KINDS)("queues on %s", (kind) => {
  let backend: QueueBackend;
  let queues: RegionQueues;
  const workers: RegionWorker[] = [];

  beforeAll(async () => {
    backend = await testQueueBackend(kind, "queues");
    queues = new RegionQueues(backend);
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.close(true)));
    await queues?.close();
    if (backend) await disposeQueueBackend(backend);
  });

  function startWorker(...args: Parameters<typeof createRegionWorker> extends [unknown, ...infer R] ? R : never) {
    const worker = createRegionWorker(backend, ...args);
    worker.on("error", () => {}); // a force-closed worker may report its lost connection
    workers.push(worker);
    return worker;
  }

  it("queues the same deterministic job id once", async () => {
    const options = { jobId: "backup-dedup-1" };
    await queues.add(region, "hana", "backup", { n: 1 }, options);
    await queues.add(region, "hana", "backup", { n: 2 }, options);
    const queue = queues.get(region, "hana");
    expect(await queue.getWaitingCount()).toBe(1);
    expect((await queue.getJob("backup-dedup-1"))!.data).toEqual({ n: 1 });
  });

  it("runs a delayed job after its delay, not before", async () => {
    const ran = signal<{ job: Job; at: number }>();
    startWorker(region, "backup", async (job) => ran.resolve({ job, at: Date.now() }), relaxed);
    const delay = 1000;
    const added = await queues.add(region, "backup", "delayed", {}, { jobId: "delayed-1", delay });
    const { job, at } = await within(ran.promise, delay + 10_000, "delayed job");
    const due = added.timestamp + delay;
    expect(job.id).toBe("delayed-1");
    expect(at).toBeGreaterThanOrEqual(due);
    const lateness = at - due;
    console.log(`[${kind}] delayed job lateness: ${lateness} ms`);
    expect(lateness).toBeLessThan(2000);
  });

  it("fires a job scheduler repeatedly until it is removed", async () => {
    const runs: number[] = [];
    const third = signal();
    startWorker(
      region,
      "maintenance",
      async (job) => {
        runs.push(Date.now());
        expect(job.name).toBe("tick");
        if (runs.length === 3) third.resolve();
      },
      relaxed,
    );
    await queues.upsertScheduler(region, "maintenance", "tick-every-300", 300, { name: "tick", data: { n: 1 } });
    await within(third.promise, 10_000, "three scheduler runs");
    await queues.removeScheduler(region, "maintenance", "tick-every-300");
    const queue = queues.get(region, "maintenance");
    expect(await queue.getJobSchedulersCount()).toBe(0);
    expect(await queue.getDelayedCount()).toBe(0); // its next run went with it
  });

  it("keeps a scheduler's next run when it is upserted again with the same interval", async () => {
    // No worker on this queue: the first run stays queued, so `next` only moves if the upsert moves it.
    await queues.upsertScheduler(region, "sync", "hourly", 3_600_000, { name: "tick", data: {} });
    const queue = queues.get(region, "sync");
    const first = await queue.getJobScheduler("hourly");
    await queues.upsertScheduler(region, "sync", "hourly", 3_600_000, { name: "tick", data: {} });
    const second = await queue.getJobScheduler("hourly");
    expect(second?.next).toBeDefined();
    expect(second?.next).toBe(first?.next);
    await queues.removeScheduler(region, "sync", "hourly");
  });

  it("hands a crashed worker's job to another worker once its lock expires", async () => {
    const crashy = { concurrency: 1, lockDuration: 1000, stalledInterval: 500 };
    const started = signal<string>();
    const first = startWorker(
      region,
      "restore",
      async (job) => {
        started.resolve(job.id!);
        await new Promise(() => {}); // never finishes: the worker "dies" with the job
      },
      crashy,
    );
    await queues.add(region, "restore", "restore", { n: 1 }, { jobId: "restore-crash-1" });
    expect(await within(started.promise, 10_000, "first worker takes the job")).toBe("restore-crash-1");
    // Force-close: no graceful finish, no more lock renewals, as if the process had been killed.
    await first.close(true);

    const retaken = signal<Job>();
    startWorker(region, "restore", async (job) => retaken.resolve(job), crashy);
    const job = await within(retaken.promise, 15_000, "second worker retakes the job");
    expect(job.id).toBe("restore-crash-1");
    expect(job.data).toEqual({ n: 1 });
  });
});
