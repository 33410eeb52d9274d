// Webhook delivery settings from the environment (README "Configuration").

export type WebhookConfig = {
  /** Loopback, private, link-local and metadata addresses allowed as receivers (tests, private deployments). */
  allowPrivateNetworks: boolean;
  /** One attempt's whole time: connect, send, answer. */
  timeoutMs: number;
  /** The first retry's delay; each next one doubles (with jitter) up to `retryMaxDelayMs`. */
  retryBaseMs: number;
  retryMaxDelayMs: number;
  /** How long after the event a delivery is retried before it is FAILED. */
  retryWindowMs: number;
  /** Attempts one worker process runs at once, over all webhooks. */
  concurrency: number;
  /** Attempts one worker process runs at once for one webhook. */
  concurrencyPerWebhook: number;
  /** How often each worker process turns new outbox events into deliveries. */
  dispatchIntervalMs: number;
};

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number of at least ${min}`);
  return value;
}

export function webhookConfigFromEnv(env: NodeJS.ProcessEnv): WebhookConfig {
  const allow = env.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? "false";
  if (allow !== "true" && allow !== "false") throw new Error("WEBHOOK_ALLOW_PRIVATE_NETWORKS must be true or false");
  return {
    allowPrivateNetworks: allow === "true",
    timeoutMs: number(env, "WEBHOOK_TIMEOUT_MS", 10_000, 1),
    retryBaseMs: number(env, "WEBHOOK_RETRY_BASE_MS", 10_000, 1),
    retryMaxDelayMs: number(env, "WEBHOOK_RETRY_MAX_DELAY_MS", 3_600_000, 1),
    retryWindowMs: number(env, "WEBHOOK_RETRY_WINDOW_MS", 86_400_000, 0),
    concurrency: number(env, "WEBHOOK_CONCURRENCY", 16, 1),
    concurrencyPerWebhook: number(env, "WEBHOOK_CONCURRENCY_PER_WEBHOOK", 2, 1),
    dispatchIntervalMs: number(env, "WEBHOOK_DISPATCH_INTERVAL_MS", 1000, 10),
  };
}
