// The signature scheme of Stripe and GitHub: HMAC-SHA256 over "<timestamp>.<body>" with the webhook's secret.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const HEADERS = {
  eventId: "webhook-id",
  timestamp: "webhook-timestamp",
  signature: "webhook-signature",
} as const;

/** A new signing secret: 32 random bytes, prefixed so a leaked one is recognisable. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

/** The signature header's value: `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`. */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** What a receiver does (README "Webhooks"): recompute, compare in constant time, refuse old timestamps. */
export function verify(
  secret: string,
  headers: { timestamp: string; signature: string },
  body: string,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(sign(secret, timestamp, body));
  return headers.signature
    .split(" ")
    .map((candidate) => Buffer.from(candidate))
    .some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected));
}
