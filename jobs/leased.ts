// The queue's side of WorkLease (src/domain/workLease.ts): work another run holds is looked at again when that
// run's claim would lapse, spending no attempt; a run that lost its claim ends quietly (the run that took over
// owns the outcome).
import { DelayedError, type Job } from "bullmq";
import { WorkBusy, WorkLeaseLost } from "../src/domain/workLease.ts";
import type { JobContext } from "./jobContext.ts";

export async function leased<T>(job: Job, ctx: JobContext, run: () => Promise<T>): Promise<T | { leaseLost: true }> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof WorkLeaseLost) {
      console.error(`[${ctx.regionId}] ${job.name} ${job.id}: ${error.message}; the run that took over finishes it`);
      return { leaseLost: true };
    }
    if (!(error instanceof WorkBusy)) throw error;
    await job.moveToDelayed(error.retryAt.getTime() + 100, ctx.token);
    throw new DelayedError();
  }
}
