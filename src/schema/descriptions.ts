// What GraphiQL's Docs and schema.graphql say about each type, field, argument and enum value that its own
// definition leaves undescribed. A description written at the definition wins; generated types (connections,
// edges, result unions) and their arguments are described by rule. test/schema/descriptions.test.ts counts the
// schema's undescribed items (zero) and the entries here that name nothing.
import { type GraphQLSchema, isEnumType, isInputObjectType, isInterfaceType, isObjectType, isUnionType } from "graphql";
import { catalogue } from "./descriptionCatalogue.ts";

const PAGE_ARGS: Record<string, string> = {
  first: "at most this many items from the start (after `after`); the page size is capped",
  after: "a cursor from this connection's edges: the page starts after it",
  last: "at most this many items from the end (before `before`); the page size is capped",
  before: "a cursor from this connection's edges: the page ends before it",
};

const ERROR_FIELDS: Record<string, string> = {
  message: "what went wrong, in words for people (never repeats a secret)",
  code: "the kind of error, for programs",
};

/** The rule-made description of `key` ("Type", "Type.field", "Type.field(arg)"), if a rule covers it. */
function byRule(schema: GraphQLSchema, key: string): string | undefined {
  const [typeName, rest] = key.split(/\.(.*)/s);
  const type = schema.getType(typeName);
  const edge = /^(\w+)Edge$/.exec(typeName)?.[1];
  const connection = /^(\w+)Connection$/.exec(typeName)?.[1];
  if (!rest) {
    if (edge) return `One ${edge} of a page, with its cursor`;
    if (connection) return `A page of ${edge ?? connection}s (a Relay cursor connection)`;
    if (isUnionType(type) && typeName.endsWith("Result")) {
      const payload = type.getTypes().find((member) => !member.getInterfaces().some((i) => i.name === "Error"));
      return `${payload?.name ?? "The result"} on success, otherwise the error that says why (ask for \`... on Error { code message }\`)`;
    }
    return undefined;
  }
  const field = rest.replace(/\(.*$/, "");
  const arg = /\((\w+)\)$/.exec(rest)?.[1];
  if (arg && PAGE_ARGS[arg]) return PAGE_ARGS[arg];
  if (arg === "input" && typeName === "Mutation") return `what to do: see ${field}'s input type`;
  if (arg === "filter") return "only the items that match every field set here";
  if (edge && field === "node") return `the ${edge}`;
  if (edge && field === "cursor") return "this edge's position: pass it as `after` or `before` to page from here";
  if (connection && field === "pageInfo") return "whether more pages follow or precede, and their cursors";
  if (connection && field === "edges") return `the ${connection}s of this page, in order`;
  if (connection && field === "totalCount") return `how many ${connection}s match, across all pages`;
  if (!arg && field === "id" && isObjectType(type) && type.getInterfaces().some((i) => i.name === "Node")) {
    return `the ${typeName}'s global id (Relay): opaque, pass it back as it is`;
  }
  if (isObjectType(type) && type.getInterfaces().some((i) => i.name === "Error") && ERROR_FIELDS[field]) {
    return ERROR_FIELDS[field];
  }
  return undefined;
}

/** Fills in the missing descriptions from the catalogue and the rules; returns the catalogue keys that name nothing. */
export function describeSchema(schema: GraphQLSchema): string[] {
  const used = new Set<string>();
  const fill = (key: string, item: { description?: string | null }) => {
    if (key in catalogue) used.add(key);
    if (item.description?.trim()) return;
    const text = catalogue[key] ?? byRule(schema, key);
    if (text) item.description = text;
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__")) continue;
    fill(type.name, type);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        fill(`${type.name}.${field.name}`, field);
        for (const arg of field.args) fill(`${type.name}.${field.name}(${arg.name})`, arg);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) fill(`${type.name}.${field.name}`, field);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) fill(`${type.name}.${value.name}`, value);
    }
  }
  return Object.keys(catalogue).filter((key) => !used.has(key));
}
