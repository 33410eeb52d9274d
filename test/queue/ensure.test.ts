// RegionQueues.ensure: work the database says is due gets a live job even when the queue still keeps the old id.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { QueueBackend } from "../../src/queue/queueBackend.ts";
import { RegionQueues } from "../../src/queue/queues.ts";
import { createRegionQueueEvents, createRegionWorker, type RegionQueueEvents } from "../../src/queue/regionWorker.ts";
import { BACKEND_KINDS, disposeQueueBackend, testQueueBackend } from "../support/backends.ts";

const region = "cn-hangzhou";

describe.each(BACKEND_KINDS)("RegionQueues.ensure on %s", (kind) => {
  let backend: QueueBackend;
  let queues: RegionQueues;
  let events: RegionQueueEvents;

  beforeAll(async () => {
    backend = await testQueueBackend(kind, "ensure");
    queues = new RegionQueues(backend);
    events = createRegionQueueEvents(backend, region, "backup");
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await events?.close();
    await queues?.close();
    if (backend) await disposeQueueBackend(backend);
  });

  /** Runs the queue's jobs once with the given outcome, then stops. */
  async function runOnce(jobId: string, outcome: "complete" | "fail") {
    const worker = createRegionWorker(
      backend,
      region,
      "backup",
      async () => {
        if (outcome === "fail") throw new Error("boom");
      },
      { concurrency: 1, lockDuration: 30_000, stalledInterval: 30_000 },
    );
    const job = await queues.get(region, "backup").getJob(jobId);
    await job!.waitUntilFinished(events, 10_000).catch(() => {});
    await worker.close();
  }

  it("adds a missing job, leaves a waiting one alone, replaces a completed one and retries a failed one", async () => {
    const queue = queues.get(region, "backup");
    const options = { jobId: "backup-ensure-1", attempts: 1 };
    await queues.ensure(region, "backup", "backup", { n: 1 }, options);
    await queues.ensure(region, "backup", "backup", { n: 2 }, options);
    expect(await queue.getWaitingCount()).toBe(1);
    expect((await queue.getJob("backup-ensure-1"))!.data).toEqual({ n: 1 });

    await runOnce("backup-ensure-1", "complete");
    expect(await (await queue.getJob("backup-ensure-1"))!.getState()).toBe("completed");
    await queues.add(region, "backup", "backup", { n: 3 }, options); // a plain add is a silent no-op here
    expect(await queue.getWaitingCount()).toBe(0);
    await queues.ensure(region, "backup", "backup", { n: 3 }, options);
    expect(await (await queue.getJob("backup-ensure-1"))!.getState()).toBe("waiting");

    await runOnce("backup-ensure-1", "fail");
    expect(await (await queue.getJob("backup-ensure-1"))!.getState()).toBe("failed");
    await queues.ensure(region, "backup", "backup", { n: 4 }, options);
    expect(await (await queue.getJob("backup-ensure-1"))!.getState()).toBe("waiting");
  });
});
