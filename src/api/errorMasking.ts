// What errors may say to clients and to the log. Inputs can carry secrets (the HANA password), so neither a
// client message nor a log line ever repeats an input value.
import { PothosValidationError } from "@pothos/core";
import { type ASTNode, type GraphQLError, print } from "graphql";
import { createGraphQLError, maskError } from "graphql-yoga";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import { DomainError, errorCode } from "../domain/errors.ts";
import { log } from "../log/index.ts";

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

/**
 * graphql-js and scalar parsers repeat the offending value after the reason ("String cannot represent a non string
 * value: { secret: ... }", "Expected value of type \"String!\", found [...]"): keep the reason, drop the value.
 */
export function redactValues(message: string, nodes?: readonly ASTNode[]): string {
  // A literal in the query is printed back as it was written: cut that exact text.
  for (const node of nodes ?? []) {
    if (node.kind.endsWith("Value")) message = message.split(print(node)).join("the value given");
  }
  return message
    .replace(/(cannot represent [^:;]*?value)s?: .*?(?=(; |$))/g, "$1")
    .replace(/(Expected value of type "[^"]+"), found .*?(?=(; |$))/g, "$1")
    .replace(/(DateTime cannot represent (?:an invalid date-time-string|non string or Date type)).*?(?=(; |$))/g, "$1")
    .replace(/(Enum "[^"]+" cannot represent non-enum value)[^;]*?(?=(; |$))/g, "$1");
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
  // Yoga's own request errors (a body that is missing or not JSON) carry the parser's message, which quotes the body.
  if (graphqlError.extensions?.originalError !== undefined && original === undefined) {
    // Emptied in place (a JSON response leaves it out): Yoga picks the HTTP status from this very error.
    const extensions = graphqlError.extensions as Record<string, unknown> & { http?: { spec?: boolean } };
    extensions.originalError = undefined;
    // Yoga marks these `spec` (answer 200 to `Accept: application/json`) and relies on originalError to answer 400
    // anyway; without it, the request was still refused unread: 400 whatever the Accept (graphql-http A5BF, BCF8).
    if (extensions.http?.spec) extensions.http.spec = false;
  }
  if (typeof graphqlError.message === "string" && original === undefined) {
    const redacted = redactValues(redactVariableError(graphqlError.message), graphqlError.nodes);
    if (redacted !== graphqlError.message) {
      return createGraphQLError(redacted, {
        nodes: graphqlError.nodes,
        path: graphqlError.path,
        extensions: { ...graphqlError.extensions },
      });
    }
  }
  // PostgreSQL restarting or unreachable: a clear, retryable answer (HTTP 503), not a 500 with a driver message.
  if (isDatabaseUnavailable(original ?? error)) {
    log.warn({ err: original ?? error }, "the database is unavailable; answered 503");
    return createGraphQLError(
      "the database is unavailable right now (restarting or unreachable); retry in a few seconds",
      {
        extensions: { code: "UNAVAILABLE", retryable: true, http: { status: 503, headers: { "Retry-After": "5" } } },
      },
    );
  }
  if (original !== undefined || !(error as { extensions?: { http?: unknown } }).extensions?.http) {
    // The cause and stack stay in the log (src/log/errors.ts keeps no input value); the client sees none of it.
    log.error({ err: original ?? error }, "unexpected error in a GraphQL operation");
  }
  // Never development details (originalError, its message and stack), whatever NODE_ENV says: they carry parser
  // and database messages. The log line above keeps the cause.
  void isDev;
  return maskError(error, message, false);
}
