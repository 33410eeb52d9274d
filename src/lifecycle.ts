// A clean stop on SIGTERM/SIGINT (README "Stopping"): the process turns unready at once, takes no new work, lets
// running requests and jobs finish, ends open subscriptions, and exits within SHUTDOWN_TIMEOUT_MS whatever happens;
// a second signal exits at once. Signal handling is close-with-grace's (it also covers an uncaught error).
import { setMaxListeners } from "node:events";
import closeWithGrace from "close-with-grace";
import { log } from "./log/index.ts";

/** Whether this process is stopping; `signal` aborts when it starts to (subscriptions listen to it). */
export type Drain = { readonly draining: boolean; readonly signal: AbortSignal; begin(): void };

export function createDrain(): Drain {
  const controller = new AbortController();
  // Every open subscription listens to it.
  setMaxListeners(0, controller.signal);
  return {
    get draining() {
      return controller.signal.aborted;
    },
    signal: controller.signal,
    begin: () => controller.abort(),
  };
}

export type Stopper = {
  /** Stop taking work and let running work finish (the HTTP server, the workers). */
  drain(): Promise<void>;
  /** Release what is left (connections, the embedded PostgreSQL); runs after `drain` or once its time is up. */
  release(): Promise<void>;
};

/** A signal this soon after the first is the same stop: Ctrl-C reaches npm and the service, and npm forwards it. */
const SAME_SIGNAL_MS = 1000;

/**
 * Installs the signal handlers. `drain` gets most of `timeoutMs`; `release` the rest (at least 1 s of it, at most
 * 3 s). Past `timeoutMs` the process exits with code 1; a job still running then is retaken from its queue by another
 * worker once its lock expires (LEASE_MS). A second signal (1 s or more after the first) exits at once.
 */
export function stopOnSignals(drain: Drain, timeoutMs: number, stopper: Stopper): void {
  const releaseShare = Math.min(3000, Math.max(1000, Math.floor(timeoutMs / 4)));
  let first: { signal: string; at: number } | null = null;
  // close-with-grace runs the stop (with its time limit, also after an uncaught error); the signals are ours, so a
  // duplicate of the first one is not taken for a second.
  const grace = closeWithGrace(
    {
      delay: timeoutMs,
      logger: false,
      skip: ["SIGINT", "SIGTERM"],
      onTimeout: (delay) => log.error(`not stopped within SHUTDOWN_TIMEOUT_MS (${delay} ms): exiting now`),
    },
    async ({ err }) => {
      if (err) log.fatal({ err }, "stopping after an unexpected error");
      else log.info(`${first?.signal ?? "exit"}: stopping (new work refused, running work finishing)`);
      drain.begin();
      const drainTime = Math.max(0, timeoutMs - releaseShare);
      const drained = await Promise.race([
        stopper.drain().then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), drainTime).unref()),
      ]);
      if (!drained) log.warn(`running work not finished after ${drainTime} ms: stopping anyway`);
      await stopper.release();
      log.info("stopped");
    },
  );
  const onSignal = (signal: NodeJS.Signals) => {
    if (!first) {
      first = { signal, at: Date.now() };
      grace.close();
    } else if (Date.now() - first.at >= SAME_SIGNAL_MS) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
