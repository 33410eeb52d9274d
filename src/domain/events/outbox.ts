// The outbox: events an on-call person acts on (the contract's EventType), written in the same transaction as the
// state change they report. Delivery (webhooks) reads the rows with no dispatchedAt; nothing here sends anything.
import type { EventType, Prisma } from "../../generated/prisma/client.ts";

export type { EventType };

/** The facts a receiver needs: ids and plain values, never a secret. */
export type EventFacts = { [fact: string]: string | number | boolean | null };

export interface DomainEventInput {
  accountId: string;
  type: EventType;
  data: EventFacts;
  occurredAt?: Date;
}

/** A transaction (interactive `tx`) or the client itself: whatever writes the state change. */
export type OutboxWriter = Pick<Prisma.TransactionClient, "domainEvent">;

/**
 * Writes one event. Returns Prisma's lazy promise, so it fits both transaction forms:
 * `await recordEvent(tx, e)` inside `db.$transaction(async (tx) => ...)`, or as an element of `db.$transaction([...])`.
 */
export function recordEvent(writer: OutboxWriter, event: DomainEventInput) {
  return writer.domainEvent.create({
    data: {
      accountId: event.accountId,
      type: event.type,
      data: event.data,
      ...(event.occurredAt ? { occurredAt: event.occurredAt } : {}),
    },
    select: { id: true },
  });
}

/** Events not yet turned into deliveries, oldest first. */
export function undispatchedEvents(db: OutboxWriter, limit: number) {
  return db.domainEvent.findMany({
    where: { dispatchedAt: null },
    orderBy: { occurredAt: "asc" },
    take: limit,
  });
}
