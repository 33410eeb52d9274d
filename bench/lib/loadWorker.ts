// Runs in a worker thread (see load.ts) so the load generator doesn't share the server's event loop.
// Closed-loop load: `concurrency` keep-alive connections, each sending its next request when the last answered.
import http from "node:http";
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import type { LoadJob, PhaseResult } from "./load.ts";

const job = workerData as LoadJob;
const url = new URL(job.url);
const body = Buffer.from(job.body);
const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
const headers = { ...job.headers, "content-type": "application/json", "content-length": String(body.length) };

type Outcome = { ok: true } | { ok: false; error: string };

function once(): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", agent, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (error) => resolve({ ok: false, error: String(error) }));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) resolve({ ok: false, error: `HTTP ${res.statusCode}: ${text.slice(0, 300)}` });
          else if (text.includes('"errors"')) resolve({ ok: false, error: text.slice(0, 300) });
          else resolve({ ok: true });
        });
      },
    );
    req.on("error", (error) => resolve({ ok: false, error: String(error) }));
    req.setTimeout(job.requestTimeoutMs, () => req.destroy(new Error(`no answer within ${job.requestTimeoutMs} ms`)));
    req.end(body);
  });
}

async function phase(durationMs: number, maxRequests: number): Promise<PhaseResult> {
  const latencies = new Float64Array(maxRequests);
  let issued = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + durationMs;
  async function connection() {
    while (issued < maxRequests && performance.now() < deadline) {
      issued += 1;
      const sent = performance.now();
      const outcome = await once();
      const took = performance.now() - sent;
      if (outcome.ok) latencies[ok++] = took;
      else {
        errors += 1;
        firstError ??= outcome.error;
      }
    }
  }
  await Promise.all(Array.from({ length: job.concurrency }, connection));
  const elapsedMs = performance.now() - start;
  return { latencies: latencies.slice(0, ok), errors, elapsedMs, firstError };
}

const warmup = await phase(job.warmupMs, job.warmupRequests);
const measured = await phase(job.durationMs, job.maxRequests);
agent.destroy();
parentPort!.postMessage({ warmupErrors: warmup.errors, warmupFirstError: warmup.firstError, measured }, [
  measured.latencies.buffer as ArrayBuffer,
]);
