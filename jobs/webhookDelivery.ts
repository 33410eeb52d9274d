// `webhooks.delivery`: the webhook deliveries' own queue, consumed by every worker process (not by region: an event
// is account-wide, and a lost region must not stop the others' notifications). Also the dispatcher that turns the
// outbox into deliveries every WEBHOOK_DISPATCH_INTERVAL_MS.
import { DelayedError, type Job } from "bullmq";
import type { Ports } from "../src/domain/ports.ts";
import { attemptDelivery, WebhookSlots } from "../src/domain/webhooks/deliver.ts";
import { reconcileWebhookDeliveries, WEBHOOK_QUEUE } from "../src/domain/webhooks/deliveryQueue.ts";
import { dispatchAll } from "../src/domain/webhooks/dispatch.ts";
import { log } from "../src/log/index.ts";
import { jobDuration, jobsFailed } from "../src/metrics/jobMetrics.ts";
import { createQueueWorker } from "../src/queue/regionWorker.ts";

type WebhookPorts = Pick<Ports, "db" | "queues" | "clock" | "config">;

/** One attempt; between attempts the job waits in "delayed" until the delivery's next attempt is due. */
export async function deliverWebhook(
  ports: WebhookPorts,
  job: Job<{ deliveryId: string }>,
  token: string | undefined,
  slots: WebhookSlots,
) {
  // Not a region's queue: its series carry region="" (README "Metrics").
  const timer = jobDuration.startTimer({ region: "", queue: WEBHOOK_QUEUE, job: job.name });
  let outcome: Awaited<ReturnType<typeof attemptDelivery>>;
  try {
    outcome = await attemptDelivery(ports, job.data.deliveryId, slots);
  } catch (error) {
    timer({ outcome: "failed" });
    throw error;
  }
  // "later": the receiver failed (or the webhook's slots were busy) and the delivery waits for its next attempt.
  timer({ outcome: outcome.kind === "done" ? "completed" : "later" });
  if (outcome.kind === "done") return;
  await job.moveToDelayed(outcome.at.getTime(), token);
  throw new DelayedError();
}

export function startWebhookDelivery(ports: WebhookPorts, settings: { leaseMs: number }) {
  const config = ports.config.webhooks;
  const slots = new WebhookSlots(config.concurrencyPerWebhook);
  const worker = createQueueWorker(
    ports.queues.backend,
    WEBHOOK_QUEUE,
    (job, token) => deliverWebhook(ports, job, token, slots),
    {
      concurrency: config.concurrency,
      // The lock is renewed while an attempt runs; a killed worker's attempt is retaken once it expires.
      lockDuration: settings.leaseMs,
      stalledInterval: Math.max(1000, Math.floor(settings.leaseMs / 2)),
    },
  );
  worker.on("failed", (job, error) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    jobsFailed.inc({ region: "", queue: WEBHOOK_QUEUE, job: job.name, final: String(final) });
    log.warn({ err: error, jobId: job.id, queue: WEBHOOK_QUEUE }, "webhook delivery job failed");
  });
  worker.on("error", (error) => log.error({ err: error, queue: WEBHOOK_QUEUE }, "worker error"));
  let pass: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    pass = dispatchAll(ports)
      .catch((error) => log.error({ err: error }, "webhook dispatch failed"))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, config.dispatchIntervalMs);
      });
  };
  let timer = setTimeout(tick, 0);
  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      await pass;
      await worker.close();
    },
  };
}

/** Reconciler step (not regional): the outbox dispatched, and every PENDING delivery with its job again. */
export async function reconcileWebhooks(ports: Pick<Ports, "db" | "queues" | "clock">) {
  await dispatchAll(ports);
  await reconcileWebhookDeliveries(ports);
}
