// Webhook delivery settings (README "Configuration"), parsed by the configuration schema (src/config.ts: WEBHOOK_*).

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
