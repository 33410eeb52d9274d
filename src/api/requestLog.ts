// Request ids and the request log. Every request gets an id (the caller's `x-request-id` when it is a plain token,
// else a new one), returned in the `x-request-id` header; everything the request causes, the jobs it queues included,
// logs with it. One line per request: method, path, status, duration and the operation's name (from the parsed
// document, never the query text or its variables).
import { randomUUID } from "node:crypto";
import { getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";
import { addLogFields, log, withLogFields } from "../log/index.ts";

export const REQUEST_ID_HEADER = "x-request-id";

/** The caller's id if it is a plain token (no spaces, quotes or control characters), else a new one. */
export function requestIdFrom(header: string | null | undefined): string {
  return header && /^[A-Za-z0-9._:@/+=-]{1,128}$/.test(header) ? header : randomUUID();
}

export function useRequestLog(): Plugin {
  const requests = new WeakMap<Request, { id: string; startedAt: number }>();
  const operationOf = ({
    args,
  }: {
    args: { document: Parameters<typeof getOperationAST>[0]; operationName?: string | null };
  }) => addLogFields({ operation: getOperationAST(args.document, args.operationName)?.name?.value ?? "Anonymous" });
  return {
    instrumentation: {
      // Wraps the whole request (context, resolvers, the domain below them), so every line it causes has the id.
      request({ request }, wrapped) {
        const id = requestIdFrom(request.headers.get(REQUEST_ID_HEADER));
        requests.set(request, { id, startedAt: performance.now() });
        return withLogFields({ requestId: id }, wrapped);
      },
    },
    onExecute: operationOf,
    onSubscribe: operationOf,
    onResponse({ request, response }) {
      const started = requests.get(request);
      if (!started) return;
      response.headers.set(REQUEST_ID_HEADER, started.id);
      const { pathname } = new URL(request.url, "http://localhost");
      log.info(
        {
          method: request.method,
          path: pathname,
          status: response.status,
          durationMs: Math.round((performance.now() - started.startedAt) * 10) / 10,
        },
        "request",
      );
    },
  };
}
