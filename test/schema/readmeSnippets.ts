// The GraphQL the README shows, as documents to validate: ```graphql blocks, the queries inside curl commands, and
// inline code spans that are GraphQL (an operation, a root field call, a selection on a Node type, `... on T`).
// Operations and root field calls must paste as they are; selections are checked in a query that holds them.
// A quoted "<placeholder>" becomes a variable of whatever type its position needs.
import {
  type DocumentNode,
  type GraphQLSchema,
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  parse,
  parseType,
  print,
  TypeInfo,
  type VariableDefinitionNode,
  visit,
  visitWithTypeInfo,
} from "graphql";

export type Snippet = { line: number; source: string; text: string };

/** Every GraphQL snippet of the README with its line number. */
export function extractSnippets(readme: string): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = readme.split("\n");
  let fence: { lang: string; start: number; body: string[] } | null = null;
  lines.forEach((line, index) => {
    const open = /^\s*```(\w*)\s*$/.exec(line);
    if (fence) {
      if (/^\s*```\s*$/.test(line)) {
        const body = fence.body.join("\n");
        if (fence.lang === "graphql") snippets.push({ line: fence.start, source: "graphql block", text: body });
        if (fence.lang === "sh") {
          for (const match of body.matchAll(/"query":"((?:[^"\\]|\\.)*)"/g)) {
            snippets.push({ line: fence.start, source: "curl", text: JSON.parse(`"${match[1]}"`) });
          }
        }
        fence = null;
      } else fence.body.push(line);
      return;
    }
    if (open) {
      fence = { lang: open[1], start: index + 1, body: [] };
      return;
    }
    for (const match of line.matchAll(/`([^`]+)`/g)) {
      snippets.push({ line: index + 1, source: "inline", text: match[1] });
    }
  });
  return snippets;
}

const OPERATION = /^\s*(query|mutation|subscription)\b|^\s*\{\s*[_a-z]/i;

/** The documents to validate for a snippet, or null when the code span is not GraphQL (a command, a variable). */
export function documentsFor(schema: GraphQLSchema, snippet: Snippet): string[] | null {
  const text = snippet.text.trim();
  if (snippet.source !== "inline" || OPERATION.test(text)) return [text];
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
  // A root field call must be a whole operation, to paste into GraphiQL as it is: validated as written, it fails.
  // A field named in prose (`nodes(ids:)`, `{ ... }` elisions) has no selection to check: not a snippet.
  if (/\{ \.\.\. \}/.test(text)) return null;
  const call = /^(\w+)\s*\(.*\)\s*\{/.exec(text)?.[1];
  if (call) return roots.some((type) => type?.getFields()[call]) ? [text] : null;
  const inline = /^\.\.\. on (\w+)\b/.exec(text)?.[1];
  if (inline) {
    // Inside the first mutation whose result is a union that can hold that type.
    const target = schema.getType(inline);
    const field = Object.values(schema.getMutationType()?.getFields() ?? {}).find((f) => {
      const type = getNamedType(f.type);
      return (
        target &&
        isAbstractType(type) &&
        schema.getPossibleTypes(type).some((t) => t === target || t.getInterfaces().some((i) => i === target))
      );
    });
    return field ? [`mutation { ${field.name}(input: "<input>") { ${text} } }`] : null;
  }
  const selection = /^(\w+)\s*\{/.exec(text)?.[1];
  if (selection) {
    // A selection on one of the Node types that has that field: valid if it is valid on any of them.
    const nodeTypes = Object.values(schema.getTypeMap()).filter(
      (type) =>
        isObjectType(type) && type.getInterfaces().some((i) => i.name === "Node") && type.getFields()[selection],
    );
    return nodeTypes.length
      ? nodeTypes.map((type) => `query { node(id: "<id>") { ... on ${type.name} { ${text} } } }`)
      : null;
  }
  return null;
}

/** Each operation of `text` as a document of its own, placeholders turned into typed variables. */
export function withPlaceholderVariables(schema: GraphQLSchema, text: string): DocumentNode[] {
  let count = 0;
  const replaced = text.replace(/"<[^"<>]+>"/g, () => `$placeholder${count++}`);
  const parsed = parse(replaced);
  return parsed.definitions.map((definition) => {
    const single: DocumentNode = { kind: Kind.DOCUMENT, definitions: [definition] };
    const typeInfo = new TypeInfo(schema);
    const types = new Map<string, string>();
    visit(
      single,
      visitWithTypeInfo(typeInfo, {
        Variable(node) {
          const type = typeInfo.getInputType();
          if (node.name.value.startsWith("placeholder") && type) types.set(node.name.value, String(type));
        },
      }),
    );
    if (!types.size || definition.kind !== Kind.OPERATION_DEFINITION) return single;
    const declared: VariableDefinitionNode[] = [...types].map(([name, type]) => ({
      kind: Kind.VARIABLE_DEFINITION,
      variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } },
      type: parseType(type),
    }));
    return parse(
      print({
        ...single,
        definitions: [{ ...definition, variableDefinitions: [...(definition.variableDefinitions ?? []), ...declared] }],
      }),
    );
  });
}
