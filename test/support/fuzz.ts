// Malformed requests for the fuzz test, generated from the served schema with a seeded generator: one valid-looking
// call of a root field, then one thing broken (an argument's value, the body, the content type or the key).
import {
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from "graphql";

/** mulberry32: small, fast and the same sequence for the same seed on every machine. */
export function seeded(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(items: readonly T[]): T => items[int(items.length)] };
}
export type Random = ReturnType<typeof seeded>;

export type FuzzIds = Record<"vault" | "mirror" | "instance" | "backup" | "restore" | "account", string[]>;
export type FuzzSecrets = { password: string; keys: string[] };

export type FuzzRequest = {
  kind: string;
  field: string;
  method: "POST" | "GET";
  headers: Record<string, string>;
  body?: string;
  query?: string;
};

const b64 = (text: string) => Buffer.from(text).toString("base64");

/** Values that break a leaf whatever its type. */
function badValues(random: Random, ids: FuzzIds, secrets: FuzzSecrets): unknown[] {
  const foreign = [...ids.vault, ...ids.instance].slice(-2);
  return [
    null,
    0,
    -1,
    1.5,
    2 ** 31,
    2 ** 53 + 1,
    1e308,
    -1e308,
    "9".repeat(400),
    true,
    "",
    "   ",
    "x".repeat(20_000 + random.int(80_000)),
    "\u0000",
    `a\u0000b${random.int(9)}`,
    "🙂".repeat(1 + random.int(2000)),
    "\u202eevil\u0301\u200d",
    "\ud800",
    "' or 1=1 --",
    "$(reboot)",
    "../../etc/passwd",
    {},
    { value: secrets.password },
    [],
    [secrets.password],
    [[{ nested: secrets.password }]],
    b64("Vault:not-a-uuid"),
    b64("Vault:"),
    b64(`Restore:${"f".repeat(36)}`),
    b64("HanaInstance:00000000-0000-0000-0000-00000000000g"),
    b64("Nope:6a1e2f0c-3b5d-4c7e-9f80-1a2b3c4d5e6f"),
    "VmF1bHQ6",
    "%%%",
    random.pick(foreign),
    random.pick([...ids.vault, ...ids.instance, ...ids.mirror, ...ids.account]),
  ];
}

/** A value that fits `type`, chosen by the argument's name where the name says which thing it is. */
function goodValue(type: GraphQLInputType, name: string, random: Random, ids: FuzzIds, secrets: FuzzSecrets): unknown {
  if (isNonNullType(type)) return goodValue(type.ofType, name, random, ids, secrets);
  if (isListType(type)) return [goodValue(type.ofType, name, random, ids, secrets)];
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      if (isNonNullType(field.type) || random.next() < 0.5) {
        value[field.name] = goodValue(field.type, field.name, random, ids, secrets);
      }
    }
    return value;
  }
  if (isEnumType(type)) return random.pick(type.getValues()).name;
  const lower = name.toLowerCase();
  if (type.name === "ID") {
    if (lower.includes("mirror")) return random.pick(ids.mirror);
    if (lower.includes("vault")) return random.pick(ids.vault);
    if (lower.includes("instance")) return random.pick(ids.instance);
    if (lower.includes("backup")) return random.pick(ids.backup);
    if (lower.includes("restore")) return random.pick(ids.restore);
    return random.pick([...ids.vault, ...ids.instance]);
  }
  if (type.name === "Int") return 1 + random.int(5);
  if (type.name === "Float") return 1.5;
  if (type.name === "Boolean") return random.next() < 0.5;
  if (type.name === "BigInt") return String(random.int(1000));
  if (type.name === "DateTime") return new Date(Date.UTC(2026, 10, 25)).toISOString();
  if (lower === "password") return secrets.password;
  if (lower.includes("region")) return random.pick(["cn-hangzhou", "cn-shanghai"]);
  if (lower === "sid" || lower.includes("databasename")) return "FZ1";
  if (lower === "instancenumber") return "00";
  if (lower === "host") return "10.0.0.9";
  return `fuzz-${random.int(1_000_000)}`;
}

/** Replaces one leaf (or the whole value) of `value` with a bad one. */
function breakOne(value: unknown, random: Random, bad: unknown[]): unknown {
  if (value && typeof value === "object" && random.next() < 0.85) {
    const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...value };
    const keys = Object.keys(copy);
    if (keys.length) {
      const key = random.pick(keys);
      (copy as Record<string, unknown>)[key] = breakOne((copy as Record<string, unknown>)[key], random, bad);
      if (random.next() < 0.1) (copy as Record<string, unknown>).unknownField = random.pick(bad);
      return copy;
    }
  }
  return random.pick(bad);
}

/** The selection a root field needs, so that the request is valid but for what was broken. */
function selectionFor(field: GraphQLField<unknown, unknown>): string {
  const type = getNamedType(field.type);
  if (isScalarType(type) || isEnumType(type)) return "";
  if (isAbstractType(type)) return "{ __typename ... on Error { code message } }";
  if (isObjectType(type) && type.getFields().totalCount) return "{ totalCount edges { cursor } }";
  return "{ __typename }";
}

/** GraphQL literal of a JSON value (enum-looking strings stay strings: a wrong-type literal is the point). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map(literal).join(", ")}]`;
  if (typeof value === "object") {
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${k}: ${literal(v)}`)
      .join(", ")} }`;
  }
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

export function generateRequests(
  schema: GraphQLSchema,
  count: number,
  seed: number,
  ids: FuzzIds,
  secrets: FuzzSecrets & { accountKey: string; adminKey: string },
): FuzzRequest[] {
  const random = seeded(seed);
  const roots = [
    ...Object.values(schema.getQueryType()?.getFields() ?? {}).map((f) => ({ op: "query", field: f })),
    ...Object.values(schema.getMutationType()?.getFields() ?? {}).map((f) => ({ op: "mutation", field: f })),
  ];
  const requests: FuzzRequest[] = [];
  for (let i = 0; i < count; i++) {
    // Every root field in turn, so each gets its share whatever the count.
    const { op, field } = roots[i % roots.length];
    const bad = badValues(random, ids, secrets);
    const args: Record<string, unknown> = {};
    for (const arg of field.args) args[arg.name] = goodValue(arg.type, arg.name, random, ids, secrets);
    const how = random.next();
    const broken = field.args.length && how < 0.75 ? breakOne(args, random, bad) : args;
    const key = field.name === "createAccount" && random.next() < 0.7 ? secrets.adminKey : secrets.accountKey;
    const headers: Record<string, string> = { "content-type": "application/json", authorization: `Bearer ${key}` };
    const selection = selectionFor(field);
    let kind = "argument";
    let text: string;
    let variables: Record<string, unknown> | undefined;
    const asObject = broken && typeof broken === "object" && !Array.isArray(broken);
    if (asObject && field.args.length && random.next() < 0.25) {
      kind = "literal";
      const argText = Object.entries(broken as Record<string, unknown>)
        .map(([k, v]) => `${k}: ${literal(v)}`)
        .join(", ");
      text = `${op} { ${field.name}(${argText}) ${selection} }`;
    } else {
      const declared = field.args.map((arg) => `$${arg.name}: ${arg.type}`).join(", ");
      const passed = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(", ");
      text = `${op}${declared ? `(${declared})` : ""} { ${field.name}${passed ? `(${passed})` : ""} ${selection} }`;
      variables = broken as Record<string, unknown>;
    }
    let body = JSON.stringify({ query: text, variables });
    const transport = random.next();
    if (transport < 0.08) {
      kind = "broken JSON";
      body = random.pick([
        body.slice(0, random.int(body.length)),
        `${body}}`,
        body.replace(/"/, "'"),
        "\u0000",
        "[",
        "",
      ]);
    } else if (transport < 0.15) {
      kind = "content type";
      headers["content-type"] = random.pick([
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin1",
        "",
      ]);
    } else if (transport < 0.25) {
      kind = "auth";
      const flipped = `${key.slice(0, -1)}${key.endsWith("a") ? "b" : "a"}`;
      headers.authorization = random.pick([
        "",
        "Bearer",
        "Bearer ",
        `Basic ${b64(`admin:${secrets.password}`)}`,
        `Bearer ${flipped}`,
        `Bearer ${key}${key}`,
        `Bearer ${key} extra`,
        `Token ${key}`,
        `Bearer ${"k".repeat(5000)}`,
        `Bearer ${b64(key)}`,
        `Bearer ${key.slice(0, 8)}`,
      ]);
      if (!headers.authorization) delete headers.authorization;
    } else if (transport < 0.28) {
      kind = "GET";
      requests.push({ kind, field: field.name, method: "GET", headers, query: text });
      continue;
    }
    requests.push({ kind, field: field.name, method: "POST", headers, body });
  }
  return requests;
}
