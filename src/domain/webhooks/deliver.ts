// One attempt of one delivery. A 2xx answer: DELIVERED. Anything else (another status, a timeout, a refused or
// dropped connection, an address the SSRF guard refuses now): the attempt is recorded and the next one is due after
// an exponential backoff with jitter; past the retry window (about 24 h) the delivery is FAILED. A receiver that
// just failed pauses its webhook's other deliveries until its next attempt, so a dead receiver costs one attempt
// per backoff step instead of one per event.
import { postWebhook } from "../../webhooks/send.ts";
import { HEADERS, sign } from "../../webhooks/signature.ts";
import type { Ports } from "../ports.ts";
import { decryptSecret } from "../secrets.ts";

type DeliverPorts = Pick<Ports, "db" | "clock" | "config">;

export type AttemptOutcome = { kind: "done" } | { kind: "later"; at: Date };

/** Attempts of one webhook running in this process; a webhook at its limit waits instead of taking more slots. */
export class WebhookSlots {
  private readonly running = new Map<string, number>();
  constructor(readonly perWebhook: number) {}
  take(webhookId: string): boolean {
    const count = this.running.get(webhookId) ?? 0;
    if (count >= this.perWebhook) return false;
    this.running.set(webhookId, count + 1);
    return true;
  }
  give(webhookId: string): void {
    const count = (this.running.get(webhookId) ?? 1) - 1;
    if (count <= 0) this.running.delete(webhookId);
    else this.running.set(webhookId, count);
  }
}

/** The wait before attempt `attempts + 1`: base · 2^(attempts-1), capped, with jitter in [½, 1] of it. */
export function retryDelayMs(config: DeliverPorts["config"]["webhooks"], attempts: number): number {
  const full = Math.min(config.retryBaseMs * 2 ** Math.min(attempts - 1, 40), config.retryMaxDelayMs);
  return Math.round(full / 2 + Math.random() * (full / 2));
}

const later = (ports: DeliverPorts, minMs: number, maxMs: number): AttemptOutcome => ({
  kind: "later",
  at: new Date(ports.clock.now().getTime() + minMs + Math.random() * (maxMs - minMs)),
});

export async function attemptDelivery(
  ports: DeliverPorts,
  deliveryId: string,
  slots: WebhookSlots,
): Promise<AttemptOutcome> {
  const { db, clock } = ports;
  const delivery = await db.webhookDelivery.findUnique({
    where: { id: deliveryId },
    include: { webhook: { select: { id: true, url: true, enabled: true, secretSealed: true, pausedUntil: true } } },
  });
  if (delivery?.status !== "PENDING") return { kind: "done" };
  const { webhook } = delivery;
  if (!webhook.enabled) {
    await db.webhookDelivery.updateMany({
      where: { id: deliveryId, status: "PENDING" },
      data: { status: "FAILED", lastError: "the webhook was disabled before this event was delivered" },
    });
    return { kind: "done" };
  }
  const now = clock.now();
  if (delivery.nextAttemptAt > now) return { kind: "later", at: delivery.nextAttemptAt };
  if (webhook.pausedUntil && webhook.pausedUntil > now) {
    // Spread out, so the paused webhook's deliveries don't all wake in the same millisecond.
    return later(
      ports,
      webhook.pausedUntil.getTime() - now.getTime(),
      webhook.pausedUntil.getTime() - now.getTime() + 1000,
    );
  }
  if (!slots.take(webhook.id)) return later(ports, 200, 1000);
  let result: Awaited<ReturnType<typeof postWebhook>>;
  try {
    const timestamp = Math.floor(now.getTime() / 1000);
    const secret = decryptSecret(webhook.secretSealed, ports.config.secretKey);
    result = await postWebhook(
      webhook.url,
      delivery.payload,
      {
        [HEADERS.eventId]: delivery.eventId,
        [HEADERS.timestamp]: String(timestamp),
        [HEADERS.signature]: sign(secret, timestamp, delivery.payload),
      },
      ports.config.webhooks,
    );
  } finally {
    slots.give(webhook.id);
  }
  const attempts = delivery.attempts + 1;
  const mine = { id: deliveryId, status: "PENDING" as const, attempts: delivery.attempts };
  if (result.ok) {
    await db.webhookDelivery.updateMany({
      where: mine,
      data: {
        status: "DELIVERED",
        attempts,
        lastResponseStatus: result.status,
        lastError: null,
        deliveredAt: clock.now(),
      },
    });
    // Only a webhook this attempt saw paused is unpaused: no second write per delivery in the common case.
    if (webhook.pausedUntil) {
      await db.webhook.updateMany({
        where: { id: webhook.id, pausedUntil: { not: null } },
        data: { pausedUntil: null },
      });
    }
    return { kind: "done" };
  }
  const failedAt = clock.now();
  const next = new Date(failedAt.getTime() + retryDelayMs(ports.config.webhooks, attempts));
  const giveUp = next.getTime() > delivery.createdAt.getTime() + ports.config.webhooks.retryWindowMs;
  const error = result.error.slice(0, 500);
  await db.webhookDelivery.updateMany({
    where: mine,
    data: giveUp
      ? { status: "FAILED", attempts, lastResponseStatus: result.status, lastError: error }
      : { attempts, lastResponseStatus: result.status, lastError: error, nextAttemptAt: next },
  });
  if (giveUp) return { kind: "done" };
  await db.webhook.updateMany({
    where: { id: webhook.id, OR: [{ pausedUntil: null }, { pausedUntil: { lt: next } }] },
    data: { pausedUntil: next },
  });
  return { kind: "later", at: next };
}
