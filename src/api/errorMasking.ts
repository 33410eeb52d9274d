// What errors may say to clients and to the log. Inputs can carry secrets (the HANA password), so neither a
// client message nor a log line ever repeats an input value.
import { PothosValidationError } from "@pothos/core";
import type { GraphQLError } from "graphql";
import { createGraphQLError, maskError } from "graphql-yoga";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import { DomainError, errorCode } from "../domain/errors.ts";
import { Prisma } from "../generated/prisma/client.ts";

/**
 * graphql-js repeats a whole invalid variable in its message (`Variable "$input" got invalid value { ...,
 * password: "..." }; Field "host" ... was not provided.`): keep the variable, the path and the reason only.
 */
export function redactVariableError(message: string): string {
  const match = /^Variable "(\$[^"]+)" got invalid value /.exec(message);
  if (!match) return message;
  const reasonAt = message.lastIndexOf("; ");
  const reason = reasonAt >= 0 ? message.slice(reasonAt + 2) : "";
  const head = message.slice(0, reasonAt >= 0 ? reasonAt : message.length);
  const path = / at "([^"]+)"$/.exec(head)?.[1];
  return `Variable "${match[1]}" got an invalid value${path ? ` at "${path}"` : ""}${reason ? `; ${reason}` : ""}`;
}

/** One log line per unexpected error, without the query arguments Prisma errors embed. */
function describeForLog(error: unknown): string {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    return `${error.name} ${error.code} ${JSON.stringify(error.meta ?? {})}`;
  }
  if (error instanceof Prisma.PrismaClientValidationError) return `${error.name} (invalid query arguments)`;
  if (error instanceof Error)
    return `${error.name}: ${error.message.split("\n")[0]}\n${error.stack?.split("\n").slice(1, 6).join("\n")}`;
  return String(error);
}

export function maskGatewayError(error: unknown, message: string, isDev?: boolean) {
  const original = (error as { originalError?: unknown }).originalError;
  // A domain error outside a result union (e.g. a subscription's NOT_FOUND) is meant for the user.
  if (original instanceof DomainError) {
    return createGraphQLError(original.message, { extensions: { code: errorCode(original) } });
  }
  // Pothos' own input checks (malformed cursors, bad paging arguments) are about the request, not the server.
  if (original instanceof PothosValidationError) {
    return createGraphQLError(original.message, { extensions: { code: "INVALID_INPUT" } });
  }
  const graphqlError = error as GraphQLError;
  if (typeof graphqlError.message === "string" && graphqlError.message.startsWith('Variable "$')) {
    return createGraphQLError(redactVariableError(graphqlError.message), {
      nodes: graphqlError.nodes,
      extensions: { ...graphqlError.extensions },
    });
  }
  // PostgreSQL restarting or unreachable: a clear, retryable answer (HTTP 503), not a 500 with a driver message.
  if (isDatabaseUnavailable(original ?? error)) {
    console.error("[graphql] the database is unavailable:", (original as Error | undefined)?.name ?? "error");
    return createGraphQLError(
      "the database is unavailable right now (restarting or unreachable); retry in a few seconds",
      {
        extensions: { code: "UNAVAILABLE", retryable: true, http: { status: 503, headers: { "Retry-After": "5" } } },
      },
    );
  }
  if (original !== undefined || !(error as { extensions?: { http?: unknown } }).extensions?.http) {
    console.error("[graphql]", describeForLog(original ?? error));
  }
  return maskError(error, message, isDev);
}
