// What a request's inputs may not do. PostgreSQL text cannot hold a NUL character (U+0000): a NUL in any string
// would reach the database as an error, so such a request is refused up front, naming where. And an invalid
// variable (a password sent as an object, say) is never repeated in the error that refuses it.
import { type ExecutionResult, GraphQLError, type ValidationRule } from "graphql";
import { inspect } from "graphql/jsutils/inspect.js";
import { createGraphQLError, type Plugin } from "graphql-yoga";
import { redactValues } from "./errorMasking.ts";

/** The path of the first string holding a NUL ("variables.input.name"), or null. */
export function nulCharacterAt(value: unknown, path: string): string | null {
  if (typeof value === "string") return value.includes("\u0000") ? path : null;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = nulCharacterAt(item, `${path}.${index}`);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const found = nulCharacterAt(item, `${path}.${key}`) ?? nulCharacterAt(key, `${path}.${key}`);
      if (found) return found;
    }
  }
  return null;
}

/** A string literal in the query may spell a NUL as an escape ("\u0000"): refused in validation, at its place. */
const noNulLiterals: ValidationRule = (context) => ({
  StringValue(node) {
    if (node.value.includes("\u0000")) {
      context.reportError(
        new GraphQLError("a string literal contains a NUL character (U+0000), which no string here may hold", {
          nodes: [node],
          extensions: { code: "INVALID_INPUT" },
        }),
      );
    }
  },
});

export function refuseNulCharacters(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(noNulLiterals);
      // Validation errors are not masked: a literal of the wrong type (a password as a list) is printed back.
      return ({ valid, result, setResult }) => {
        if (valid) return;
        setResult(
          result.map((error) => {
            const message = redactValues(error.message, error.nodes);
            return message === error.message
              ? error
              : new GraphQLError(message, { nodes: error.nodes, extensions: error.extensions });
          }),
        );
      };
    },
    onParams({ params, setResult }) {
      const at =
        nulCharacterAt(params.query, "query") ??
        nulCharacterAt(params.operationName, "operationName") ??
        nulCharacterAt(params.variables, "variables") ??
        nulCharacterAt(params.extensions, "extensions");
      if (!at) return;
      const error = createGraphQLError(`${at} contains a NUL character (U+0000), which no string here may hold`, {
        extensions: { code: "INVALID_INPUT", http: { status: 400 } },
      });
      setResult({ errors: [error] });
    },
  };
}

/** The value at a coercion error's path ("input.password" or "input.ecsInstanceIds.2") inside the variables. */
function valueAt(variables: Record<string, unknown>, path: string[]): unknown {
  let value: unknown = variables;
  for (const key of path)
    value = value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** Every way a message may spell `value` (graphql-js's inspect, JSON, the bare text of a longer string). */
function spellings(value: unknown): string[] {
  const found = new Set([inspect(value)]);
  try {
    const json = JSON.stringify(value);
    if (json) found.add(json);
  } catch {}
  if (typeof value === "string" && value.length >= 3) found.add(value);
  return [...found].filter((text) => text.length > 0).sort((a, b) => b.length - a.length);
}

/**
 * graphql-js repeats an invalid variable in its message, whole and at the offending path (`Variable "$input" got
 * invalid value { ..., password: {...} } at "input.password"; String cannot represent a non string value: {...}`).
 * The variables are known here, so each spelling of those values is cut out exactly, whatever they contain.
 */
export function redactVariableValues(message: string, variables: Record<string, unknown> | undefined): string {
  const head = /^Variable "\$([^"]+)" got invalid value /.exec(message);
  if (!head || !variables) return message;
  const name = head[1];
  const whole = spellings(variables[name]).find((text) => message.startsWith(text, head[0].length));
  let rest = whole === undefined ? "" : message.slice(head[0].length + whole.length);
  const path = /^ at "([^"]+)"/.exec(rest)?.[1];
  const sub = path ? valueAt(variables, path.split(".")) : variables[name];
  for (const text of spellings(sub)) rest = rest.split(text).join("the value given");
  if (whole === undefined) return `Variable "$${name}" got an invalid value`;
  return `Variable "$${name}" got an invalid value${rest}`;
}

export function redactInvalidVariables(): Plugin {
  const redact =
    (args: { variableValues?: unknown }) =>
    ({ result, setResult }: { result: unknown; setResult: (result: ExecutionResult) => void }) => {
      const errors = (result as ExecutionResult).errors;
      if (!errors?.some((error) => error.message.startsWith('Variable "$'))) return;
      const variables = (args.variableValues ?? undefined) as Record<string, unknown> | undefined;
      setResult({
        ...(result as ExecutionResult),
        errors: errors.map((error) =>
          error.message.startsWith('Variable "$')
            ? createGraphQLError(redactVariableValues(error.message, variables), {
                nodes: error.nodes,
                extensions: { ...error.extensions },
              })
            : error,
        ),
      });
    };
  return {
    onExecute: ({ args }) => ({ onExecuteDone: redact(args) }),
    onSubscribe: ({ args }) => ({ onSubscribeResult: redact(args) }),
  };
}
