// Limits on what one GraphQL document may ask (README "Limits"): graphql-armor's aliases, tokens, directives and cost
// (its defaults, configurable), measured with fragments expanded, behind a guard that measures the expanded size and
// depth of every operation and fragment before graphql-js validates anything and refuses fragment cycles. Depth is
// graphql-armor's count and default (6) except that a relay connection's edges/node add no level (queryShape.ts).
// A refused query gets HTTP 400 with code QUERY_TOO_COMPLEX in milliseconds and runs nothing.
import { EnvelopArmor } from "@escape.tech/graphql-armor";
import type { GraphQLError } from "graphql";
import { createGraphQLError, type Plugin } from "graphql-yoga";
import { queryShapeProblem } from "./queryShape.ts";

export type GraphQLLimits = {
  graphqlMaxDepth: number;
  graphqlMaxAliases: number;
  graphqlMaxTokens: number;
  graphqlMaxDirectives: number;
  graphqlMaxCost: number;
};

/** HTTP 400 whatever the Accept header (`spec: false`): the server refused the request, it did not run it. */
export function limitError(message: string, code = "QUERY_TOO_COMPLEX"): GraphQLError {
  return createGraphQLError(message, { extensions: { code, http: { status: 400, spec: false } } });
}

/** Runs before graphql-js validation (which, like execution, would expand a fragment bomb). */
function useQueryShapeGuard(limits: GraphQLLimits): Plugin {
  const maxFields = limits.graphqlMaxCost;
  const maxDepth = limits.graphqlMaxDepth;
  return {
    onValidate({ params, setResult }) {
      const problem = queryShapeProblem(params.documentAST, { maxFields, maxDepth });
      if (!problem) return;
      if (problem.kind === "cycle") {
        setResult([limitError(`fragment cycle: ${problem.fragments.join(" → ")}`, "GRAPHQL_VALIDATION_FAILED")]);
      } else if (problem.kind === "depth") {
        setResult([limitError(`the query is nested deeper than ${maxDepth} levels (GRAPHQL_MAX_DEPTH)`)]);
      } else {
        const message = `the query selects more than ${maxFields} fields once its fragments are expanded (GRAPHQL_MAX_COST)`;
        setResult([limitError(message)]);
      }
    },
  };
}

/** graphql-armor's own message, without its "Syntax Error: " prefix, with our code and status. */
function rethrow(variable: string) {
  return (_context: unknown, error: GraphQLError) => {
    throw limitError(`${error.message.replace(/^Syntax Error: /, "")} (${variable})`);
  };
}

export function graphqlLimitPlugins(limits: GraphQLLimits): Plugin[] {
  const armor = new EnvelopArmor({
    // Depth is measured by the shape guard above (graphql-armor's count, a connection's edges/node as one step).
    maxDepth: { enabled: false },
    maxAliases: { n: limits.graphqlMaxAliases, onReject: [rethrow("GRAPHQL_MAX_ALIASES")] },
    maxDirectives: { n: limits.graphqlMaxDirectives, onReject: [rethrow("GRAPHQL_MAX_DIRECTIVES")] },
    costLimit: { maxCost: limits.graphqlMaxCost, flattenFragments: true, onReject: [rethrow("GRAPHQL_MAX_COST")] },
    maxTokens: { n: limits.graphqlMaxTokens, onReject: [rethrow("GRAPHQL_MAX_TOKENS")] },
    // "Did you mean ...?" would list fields a caller did not ask about.
    blockFieldSuggestion: { enabled: true },
  });
  return [useQueryShapeGuard(limits), ...(armor.protect().plugins as Plugin[])];
}
