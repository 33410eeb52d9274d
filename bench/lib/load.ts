// A small bounded HTTP load generator (autocannon isn't installed): runs loadWorker.ts in a worker thread,
// then turns its latencies into requests per second and percentiles.
import { Worker } from "node:worker_threads";

export type LoadOptions = {
  /** The endpoint, e.g. http://127.0.0.1:PORT/graphql (POSTed to). */
  url: string;
  headers?: Record<string, string>;
  /** The JSON request body. */
  body: unknown;
  /** Requests in flight at once (one keep-alive connection each). */
  concurrency?: number;
  /** Warm-up phase: bounded by time and by count; not measured. */
  warmupMs?: number;
  warmupRequests?: number;
  /** Measured phase: bounded by time and by count. */
  durationMs?: number;
  maxRequests?: number;
  requestTimeoutMs?: number;
};

export type LoadJob = Required<Omit<LoadOptions, "body" | "headers">> & {
  headers: Record<string, string>;
  body: string;
};

export type PhaseResult = { latencies: Float64Array; errors: number; elapsedMs: number; firstError?: string };

export type LoadResult = {
  requests: number;
  errors: number;
  elapsedMs: number;
  rps: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  firstError?: string;
};

/** A positive number from the environment, else `fallback`. */
export const envNumber = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

/** Defaults, overridable with BENCH_CONCURRENCY, BENCH_WARMUP_MS and BENCH_DURATION_MS. */
export const loadDefaults = {
  concurrency: envNumber("BENCH_CONCURRENCY", 16),
  warmupMs: envNumber("BENCH_WARMUP_MS", 1_500),
  warmupRequests: 2_000,
  durationMs: envNumber("BENCH_DURATION_MS", 5_000),
  maxRequests: 200_000,
  requestTimeoutMs: 10_000,
};

/** Nearest-rank percentile of ascending `sorted` (p in 0..100). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

// tsx's loader isn't inherited by worker threads, so the worker registers it before importing the .ts file.
function startWorker(job: LoadJob): Worker {
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./loadWorker.ts", import.meta.url).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: job });
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const job: LoadJob = {
    ...loadDefaults,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    url: options.url,
    headers: options.headers ?? {},
    body: JSON.stringify(options.body),
  } as LoadJob;
  const worker = startWorker(job);
  // Hard bound on the whole run: warm-up + measurement + time for the last requests to answer.
  const limitMs = job.warmupMs + job.durationMs + 2 * job.requestTimeoutMs + 10_000;
  const message = await new Promise<{ warmupErrors: number; warmupFirstError?: string; measured: PhaseResult }>(
    (resolve, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new Error(`load generator did not finish within ${limitMs} ms`));
      }, limitMs);
      worker.once("message", (value) => {
        clearTimeout(timer);
        resolve(value);
      });
      worker.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      worker.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`load generator exited with code ${code} before reporting`));
      });
    },
  );
  await worker.terminate();
  const { measured } = message;
  const sorted = measured.latencies.sort();
  const requests = sorted.length;
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    requests,
    errors: measured.errors + message.warmupErrors,
    elapsedMs: measured.elapsedMs,
    rps: requests / (measured.elapsedMs / 1000),
    meanMs: requests ? sum / requests : Number.NaN,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p95Ms: percentile(sorted, 95),
    p99Ms: percentile(sorted, 99),
    maxMs: requests ? sorted[requests - 1] : Number.NaN,
    firstError: message.warmupFirstError ?? measured.firstError,
  };
}
