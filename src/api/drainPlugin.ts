// While the process stops: new GraphQL requests get 503 (with Connection: close, so the client reconnects to another
// replica) and open subscriptions complete.
import { createGraphQLError, isAsyncIterable, type Plugin } from "graphql-yoga";
import type { Drain } from "../lifecycle.ts";
import { endingStream } from "./streams.ts";

export function useDrain(drain: Drain): Plugin {
  return {
    onRequest({ endResponse, fetchAPI }) {
      if (!drain.draining) return;
      const error = createGraphQLError("the server is stopping; retry on another replica or once it is back", {
        extensions: { code: "SHUTTING_DOWN" },
      });
      endResponse(
        new fetchAPI.Response(JSON.stringify({ errors: [error.toJSON()] }), {
          status: 503,
          headers: { "content-type": "application/json", connection: "close", "retry-after": "1" },
        }),
      );
    },
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(endingStream(result, drain.signal));
        },
      };
    },
  };
}
