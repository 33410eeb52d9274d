// What a worker process observes of the jobs it runs (per region and queue) and of the restores it ends. Counted
// in the process that runs them: with workers in processes of their own, each exposes these on METRICS_PORT.
import { Counter, Histogram } from "prom-client";
import { metricsRegistry } from "./registry.ts";

const registers = [metricsRegistry];

export const jobDuration = new Histogram({
  name: "mvg_job_duration_seconds",
  help: "Duration of job attempts, by region, queue, job name and outcome (completed or failed)",
  labelNames: ["region", "queue", "job", "outcome"] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
  registers,
});

export const jobsFailed = new Counter({
  name: "mvg_jobs_failed_total",
  help: "Failed job attempts, by region, queue and job name; final=true when no retry is left",
  labelNames: ["region", "queue", "job", "final"] as const,
  registers,
});

export const restoreDuration = new Histogram({
  name: "mvg_restore_duration_seconds",
  help: "Restores ended by this process: seconds from start to end, by mirror region and final status",
  labelNames: ["region", "status"] as const,
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200],
  registers,
});

export const restoreBytes = new Counter({
  name: "mvg_restore_bytes_total",
  help: "Bytes of backups restored by restores that completed in this process, by mirror region",
  labelNames: ["region"] as const,
  registers,
});

export const restoreThroughput = new Histogram({
  name: "mvg_restore_throughput_bytes_per_second",
  help: "Restores that completed in this process: plan bytes divided by the restore's duration, by mirror region",
  labelNames: ["region"] as const,
  buckets: [1e5, 1e6, 5e6, 1e7, 5e7, 1e8, 2.5e8, 5e8, 1e9],
  registers,
});

/** Records an ended restore's figures (COMPLETE and PARTIAL_COMPLETE count as restored bytes). */
export function observeRestore(figures: { regionId: string; status: string; seconds: number; bytes: number }) {
  restoreDuration.observe({ region: figures.regionId, status: figures.status }, figures.seconds);
  if (figures.status !== "COMPLETE" && figures.status !== "PARTIAL_COMPLETE") return;
  restoreBytes.inc({ region: figures.regionId }, figures.bytes);
  if (figures.seconds > 0) restoreThroughput.observe({ region: figures.regionId }, figures.bytes / figures.seconds);
}
