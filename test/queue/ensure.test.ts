// RegionQueues.ensure: work the database says is due gets a live job even when Redis still keeps the old id.
import { QueueEvents, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueName, RegionQueues } from "../../src/queue/queues.ts";
import { createRedis } from "../../src/redis.ts";

const prefix = `mvg-test-ensure-${process.pid}`;
const region = "cn-hangzhou";
const redis = createRedis("redis://127.0.0.1:6379", "worker");
const queues = new RegionQueues(redis, prefix);
let events: QueueEvents;

beforeAll(async () => {
  events = new QueueEvents(queueName(region, "backup"), { connection: { host: "127.0.0.1", port: 6379 }, prefix });
  await events.waitUntilReady();
});
afterAll(async () => {
  await events.close();
  await queues.get(region, "backup").obliterate({ force: true });
  await queues.close();
  redis.disconnect();
});

/** Runs the queue's jobs once with the given outcome, then stops. */
async function runOnce(jobId: string, outcome: "complete" | "fail") {
  const connection = createRedis("redis://127.0.0.1:6379", "worker");
  const worker = new Worker(
    queueName(region, "backup"),
    async () => {
      if (outcome === "fail") throw new Error("boom");
    },
    { connection, prefix },
  );
  const job = await queues.get(region, "backup").getJob(jobId);
  await job!.waitUntilFinished(events, 10_000).catch(() => {});
  await worker.close();
  connection.disconnect();
}

describe("RegionQueues.ensure", () => {
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
