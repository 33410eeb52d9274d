// Failed authentication is rate-limited per client address and per presented API key (README "Limits"), on GraphQL
// and on the admin routes (/metrics, /admin/queues) alike: after AUTH_FAILURE_LIMIT failures within
// AUTH_FAILURE_WINDOW_MS, that address or key gets HTTP 429 with Retry-After until the window ends, before its key is
// even looked up. Counts live in the shared backend (failureCounter.ts).
import { createHash } from "node:crypto";
import { createGraphQLError } from "graphql-yoga";
import { log } from "../../log/index.ts";
import type { FailureCounter } from "./failureCounter.ts";

export type AuthGuard = {
  /** Seconds until the address and the key may try again; null while neither has used up its failures. */
  retryAfter(address: string, key: string | undefined): Promise<number | null>;
  /** Throws HTTP 429 while the address or the key has used up its failures. */
  check(address: string, key: string | undefined): Promise<void>;
  /** Counts a failed authentication of the address (and of the key, if one was presented). */
  failed(address: string, key: string | undefined): Promise<void>;
};

const UNKNOWN = "unknown";

function counterKeys(address: string, key: string | undefined): string[] {
  // Only a hash of a presented key is kept, never the key.
  // No address (a request made in-process, not over a socket): only the key is counted.
  const keys = address === UNKNOWN ? [] : [`address:${address}`];
  if (key) keys.push(`key:${createHash("sha256").update(key).digest("hex").slice(0, 32)}`);
  return keys;
}

/** The shared backend not answering does not lock everyone out: the request goes on uncounted (and says so in the log). */
async function orNothing<T>(work: Promise<T>): Promise<T | null> {
  try {
    return await work;
  } catch (error) {
    log.warn({ err: error, component: "auth" }, "failed-authentication counter unavailable");
    return null;
  }
}

export function createAuthGuard(counter: FailureCounter, limit: number): AuthGuard {
  const retryAfter = async (address: string, key: string | undefined) => {
    const counts = (await orNothing(counter.read(counterKeys(address, key)))) ?? [];
    const blocked = counts.filter((c) => c.count >= limit);
    if (!blocked.length) return null;
    return Math.max(1, Math.ceil(Math.max(...blocked.map((c) => c.resetInMs)) / 1000));
  };
  return {
    retryAfter,
    async check(address, key) {
      const seconds = await retryAfter(address, key);
      if (seconds === null) return;
      throw createGraphQLError(
        `too many failed authentications from this client or with this key; retry in ${seconds} s`,
        { extensions: { code: "RATE_LIMITED", http: { status: 429, headers: { "Retry-After": String(seconds) } } } },
      );
    },
    async failed(address, key) {
      await orNothing(counter.hit(counterKeys(address, key)));
    },
  };
}

/** The caller's address: the socket's, or with TRUST_PROXY the first X-Forwarded-For entry (set by the proxy). */
export function clientAddress(
  forwardedFor: string | string[] | null | undefined,
  socketAddress: string | undefined,
  trustProxy: boolean,
): string {
  const header = Array.isArray(forwardedFor) ? forwardedFor[0] : forwardedFor;
  const forwarded = trustProxy ? header?.split(",")[0]?.trim() : undefined;
  return forwarded || socketAddress || UNKNOWN;
}
