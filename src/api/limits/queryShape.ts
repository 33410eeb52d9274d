// The size of a query with its fragments expanded, computed once per fragment (memoised), so a "fragment bomb"
// (each fragment spreading the previous one twice) is measured in microseconds instead of being expanded: graphql-js'
// own validation and execution would expand it, exponentially. Cycles are found on the way. This is the one depth
// limit (GRAPHQL_MAX_DEPTH): graphql-armor's count, except that a relay connection's edges/node add no level.
import { type DocumentNode, type FragmentDefinitionNode, Kind, type SelectionSetNode } from "graphql";

export type QueryShapeProblem =
  | { kind: "cycle"; fragments: string[] }
  | { kind: "fields"; fields: number }
  | { kind: "depth"; depth: number };

/** Fields selected and levels of nesting, fragments expanded. */
type Size = { fields: number; depth: number };

type Within = "root" | "edges" | "field";

/**
 * A relay connection's `edges` and its `node` are one step of the graph, like the items of a list field, so they add
 * no level: `vaults { edges { node { id } } }` is 2 levels deep, as `vaults { id }` would be were it a plain list
 * (graphql-armor's count). The connection field itself is a level, so each hop through a connection still counts.
 * Every `edges` field of the schema is a connection's and every `node` under it an edge's (test/api/limits.test.ts);
 * the root `node(id:)` counts.
 */
function isConnectionStep(name: string, within: Within): boolean {
  return (name === "edges" && within !== "root") || (name === "node" && within === "edges");
}

class Stop extends Error {
  constructor(readonly problem: QueryShapeProblem) {
    super(problem.kind);
  }
}

/**
 * Field selections and depth of each operation and fragment, fragments expanded (the introspection field `__schema`
 * counts as one: GraphiQL's schema query is not limited). Returns the first problem, or null.
 */
export function queryShapeProblem(
  document: DocumentNode,
  limits: { maxFields: number; maxDepth: number },
): QueryShapeProblem | null {
  const { maxFields, maxDepth } = limits;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const sizes = new Map<string, Size>();
  const path: string[] = [];
  // Inside a fragment on an introspection type (GraphiQL's TypeRef nests `ofType` 8 deep) depth is not limited;
  // its fields still count, and a normal field that spreads it is measured with its whole depth.
  let introspectionFragments = 0;

  function fragmentSize(name: string): Size {
    const known = sizes.get(name);
    if (known !== undefined) return known;
    const definition = fragments.get(name);
    if (!definition) return { fields: 0, depth: 0 }; // validation reports the unknown fragment
    if (path.includes(name)) throw new Stop({ kind: "cycle", fragments: [...path.slice(path.indexOf(name)), name] });
    path.push(name);
    const introspection = definition.typeCondition.name.value.startsWith("__");
    if (introspection) introspectionFragments += 1;
    // A fragment on an edge type stands where `edges` does (its `node` is the connection's step too).
    const size = selectionSize(
      definition.selectionSet,
      definition.typeCondition.name.value.endsWith("Edge") ? "edges" : "field",
    );
    if (introspection) introspectionFragments -= 1;
    path.pop();
    sizes.set(name, size);
    return size;
  }

  /** `within`: where the selection set is: an operation's root, a connection's `edges`, or anywhere else. */
  function selectionSize(set: SelectionSetNode, within: Within): Size {
    let fields = 0;
    let depth = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const child =
          selection.selectionSet && name !== "__schema"
            ? selectionSize(selection.selectionSet, name === "edges" ? "edges" : "field")
            : { fields: 0, depth: 0 };
        fields += 1 + child.fields;
        depth = Math.max(depth, (isConnectionStep(name, within) ? 0 : 1) + child.depth);
      } else {
        const child =
          selection.kind === Kind.INLINE_FRAGMENT
            ? selectionSize(selection.selectionSet, within)
            : fragmentSize(selection.name.value);
        fields += child.fields;
        depth = Math.max(depth, child.depth);
      }
      if (fields > maxFields) throw new Stop({ kind: "fields", fields });
      if (depth > maxDepth && introspectionFragments === 0) throw new Stop({ kind: "depth", depth });
    }
    return { fields, depth };
  }

  try {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION) selectionSize(definition.selectionSet, "root");
      // Unused fragments are validated too, so they are measured too.
      else if (definition.kind === Kind.FRAGMENT_DEFINITION) fragmentSize(definition.name.value);
    }
  } catch (error) {
    if (error instanceof Stop) return error.problem;
    throw error;
  }
  return null;
}
