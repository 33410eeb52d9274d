// Webhook deliveries have a queue of their own, outside the regions: a slow or failing receiver never takes a slot
// from backups, copies or restores. Every worker process consumes it (README "Webhooks").
import type { Ports } from "../ports.ts";

export const WEBHOOK_QUEUE = "webhooks.delivery";
export const DELIVERY_JOB = "deliver";

/** One job per delivery, moved to "delayed" between attempts; the same id while the delivery is PENDING. */
export const deliveryJobId = (deliveryId: string) => `webhook-delivery-${deliveryId}`;

/** Makes sure the delivery has a live job, due at `at` (a no-op while its job exists). */
export async function ensureDeliveryJob(ports: Pick<Ports, "queues" | "clock">, deliveryId: string, at?: Date) {
  const delay = at ? Math.max(0, at.getTime() - ports.clock.now().getTime()) : 0;
  await ports.queues.ensureIn(
    ports.queues.named(WEBHOOK_QUEUE),
    DELIVERY_JOB,
    { deliveryId },
    { jobId: deliveryJobId(deliveryId), delay, removeOnComplete: true },
  );
}

/**
 * Reconciler step: every PENDING delivery has its job (after a queue loss, or a crash between a dispatch's commit
 * and its enqueue). Not regional: every worker process runs it, and the job ids make that harmless.
 */
export async function reconcileWebhookDeliveries(ports: Pick<Ports, "db" | "queues" | "clock">) {
  let cursor: string | undefined;
  for (;;) {
    const page = await ports.db.webhookDelivery.findMany({
      where: { status: "PENDING" },
      select: { id: true, nextAttemptAt: true },
      orderBy: { id: "asc" },
      take: 500,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    });
    for (const delivery of page) await ensureDeliveryJob(ports, delivery.id, delivery.nextAttemptAt);
    if (page.length < 500) return;
    cursor = page[page.length - 1].id;
  }
}
