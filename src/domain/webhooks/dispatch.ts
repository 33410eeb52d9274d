// From the outbox to deliveries: each undispatched event becomes one delivery per enabled webhook of the event's
// own account (R17) subscribed to its type, and is marked dispatched in the same transaction. The delivery's body
// is fixed here, so every attempt sends the same bytes with the same event id.
import { undispatchedEvents } from "../events/outbox.ts";
import { OUTBOX_TRANSACTION } from "../events/transaction.ts";
import type { Ports } from "../ports.ts";
import { ensureDeliveryJob } from "./deliveryQueue.ts";

type DispatchPorts = Pick<Ports, "db" | "queues" | "clock">;

/** The JSON body receivers get: `{ id, type, occurredAt, data }`. */
export function deliveryBody(event: { id: string; type: string; occurredAt: Date; data: unknown }): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    occurredAt: event.occurredAt.toISOString(),
    data: event.data,
  });
}

const DISPATCH_BATCH = 100;

/** One batch of the outbox; returns how many events it dispatched (call again while it returns `limit`). */
export async function dispatchEvents(ports: DispatchPorts, limit = DISPATCH_BATCH): Promise<number> {
  const { db } = ports;
  const events = await undispatchedEvents(db, limit);
  if (!events.length) return 0;
  await db.$transaction(async (tx) => {
    // The batch's subscribers in one read (not one per event); each event keeps those of its account and type.
    const subscribers = await tx.webhook.findMany({
      where: { accountId: { in: [...new Set(events.map((event) => event.accountId))] }, enabled: true },
      select: { id: true, accountId: true, events: true },
    });
    for (const event of events) {
      const webhooks = subscribers.filter((w) => w.accountId === event.accountId && w.events.includes(event.type));
      // Another process dispatching the same event at once makes the same rows: the unique key keeps one.
      await tx.webhookDelivery.createMany({
        data: webhooks.map((webhook) => ({
          webhookId: webhook.id,
          accountId: event.accountId,
          eventId: event.id,
          eventType: event.type,
          payload: deliveryBody(event),
        })),
        skipDuplicates: true,
      });
      await tx.domainEvent.updateMany({
        where: { id: event.id, dispatchedAt: null },
        data: { dispatchedAt: ports.clock.now() },
      });
    }
  }, OUTBOX_TRANSACTION);
  // After the commit: a crash before these jobs exist leaves the rows PENDING for the reconciler.
  const deliveries = await db.webhookDelivery.findMany({
    where: { eventId: { in: events.map((event) => event.id) }, status: "PENDING", attempts: 0 },
    select: { id: true },
  });
  for (const delivery of deliveries) await ensureDeliveryJob(ports, delivery.id);
  return events.length;
}

/** Dispatches until the outbox is empty (or `maxBatches` batches), e.g. once per tick of the dispatcher. */
export async function dispatchAll(ports: DispatchPorts, maxBatches = 10): Promise<void> {
  for (let batch = 0; batch < maxBatches; batch++) {
    if ((await dispatchEvents(ports)) < DISPATCH_BATCH) return;
  }
}
