// Fairness between accounts inside one API process (README "Limits"): an account (or the admin key) runs at most
// ACCOUNT_MAX_CONCURRENT_REQUESTS operations and holds at most ACCOUNT_MAX_SUBSCRIPTIONS subscriptions at once, so
// one account can't take the whole database pool. Over the cap: HTTP 429 with Retry-After, code RATE_LIMITED.
import { createGraphQLError, isAsyncIterable, type Plugin } from "graphql-yoga";
import type { Context, Viewer } from "../context.ts";
import { endingStream } from "../streams.ts";

export type FairnessLimits = { accountMaxConcurrentRequests: number; accountMaxSubscriptions: number };

function tooMany(message: string) {
  return createGraphQLError(message, {
    extensions: { code: "RATE_LIMITED", http: { status: 429, headers: { "Retry-After": "1" } } },
  });
}

class Counts {
  private counts = new Map<string, number>();
  /** Takes a slot of `who` if it has one left; the returned function gives it back (once). */
  take(who: string, max: number): (() => void) | null {
    const count = this.counts.get(who) ?? 0;
    if (count >= max) return null;
    this.counts.set(who, count + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.counts.get(who) ?? 1) - 1;
      if (left > 0) this.counts.set(who, left);
      else this.counts.delete(who);
    };
  }
}

const whoIs = (viewer: Viewer) => (viewer.kind === "account" ? viewer.accountId : "admin");
const never = new AbortController().signal;

export function useAccountFairness(limits: FairnessLimits): Plugin<Context> {
  const operations = new Counts();
  const subscriptions = new Counts();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const release = operations.take(whoIs(args.contextValue.viewer), limits.accountMaxConcurrentRequests);
      if (!release) {
        const max = limits.accountMaxConcurrentRequests;
        setResultAndStopExecution({ errors: [tooMany(`this account already runs ${max} requests at once; retry`)] });
        return;
      }
      return { onExecuteDone: release };
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const release = subscriptions.take(whoIs(args.contextValue.viewer), limits.accountMaxSubscriptions);
      if (!release) {
        const max = limits.accountMaxSubscriptions;
        setResultAndStopExecution({ errors: [tooMany(`this account already holds ${max} subscriptions`)] });
        return;
      }
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(endingStream(result, never, release));
          else release();
        },
        onSubscribeError: release,
      };
    },
  };
}
